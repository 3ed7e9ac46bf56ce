// The examples run real commands in the emulator, which needs bash; on
// Windows, where bash may be missing, they are not built (the tests skip
// there instead).

//go:build !windows

package proc_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/shellpool/shellpool/sessions"
	"github.com/shellpool/shellpool/sessions/proc"
	"github.com/shellpool/shellpool/sessions/sessionstest"
)

// exampleSession returns a session of an emulator, and a function that
// deletes it and stops the emulator.
func exampleSession() (*sessions.SessionClient, func()) {
	srv := sessionstest.NewServer(nil)
	client, err := sessions.NewClient(srv.PoolEndpoint(), srv.Credential(), &sessions.ClientOptions{ClientOptions: srv.ClientOptions()})
	if err != nil {
		log.Fatal(err)
	}
	s := client.NewSessionClient(sessions.NewSessionID())
	return s, func() {
		_ = s.Close(context.Background())
		srv.Close()
	}
}

// Run a command and get its true result, as with os/exec: the output byte
// for byte at any size, environment variables (values need no quoting), a
// working directory, and an *ExitError for a non-zero exit code.
func ExampleCmd_Output() {
	s, done := exampleSession()
	defer done()
	ctx := context.Background()

	if err := proc.Command(s, "mkdir", "-p", "out").Run(ctx); err != nil {
		log.Fatal(err)
	}
	cmd := proc.Script(s, `printf '%s\n' "$GREETING" "$(basename "$PWD")"; head -c 100000 /dev/zero | wc -c; exit 2`)
	cmd.Env = []string{`GREETING=it's "$(not run)"`}
	cmd.Dir = "out"
	out, err := cmd.Output(ctx)
	fmt.Print(string(out))
	var ee *proc.ExitError
	if errors.As(err, &ee) {
		fmt.Println("exit code:", ee.ExitCode())
	} else if err != nil {
		log.Fatal(err) // the command's result could not be read
	}

	// A timeout kills the command and keeps what it wrote.
	cmd = proc.Script(s, "echo start; sleep 30")
	cmd.Timeout = time.Second
	out, err = cmd.Output(ctx)
	fmt.Printf("%q timed out: %v, %v\n", out, cmd.ProcessState.TimedOut(), err)
	// Output:
	// it's "$(not run)"
	// out
	// 100000
	// exit code: 2
	// "start\n" timed out: true, proc: timed out (exit status 124)
}

// Stream a command's output to a writer while it runs.
func ExampleCmd_Run() {
	s, done := exampleSession()
	defer done()

	cmd := proc.Command(s, "seq", "3")
	cmd.Stdout = os.Stdout
	if err := cmd.Run(context.Background()); err != nil {
		log.Fatal(err)
	}
	// Output:
	// 1
	// 2
	// 3
}

// Start a job in the background, read its output while it runs, find it
// again by ID (as another program would) and wait for its exit code.
func ExampleAttach() {
	s, done := exampleSession()
	defer done()
	ctx := context.Background()

	cmd := proc.Script(s, "for i in 1 2 3; do echo tick $i; sleep 0.2; done")
	if err := cmd.Start(ctx); err != nil {
		log.Fatal(err)
	}
	out := cmd.Process.Stdout(ctx)
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		log.Fatal(err)
	}
	out.Close()
	fmt.Print("first line: ", line)

	again, err := proc.Attach(ctx, s, cmd.Process.ID()) // the session and the ID are all it takes
	if err != nil {
		log.Fatal(err)
	}
	st, err := again.Wait(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("exit code", st.ExitCode())
	// Output:
	// first line: tick 1
	// exit code 0
}
