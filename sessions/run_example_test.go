// The examples run real commands in the emulator, which needs bash; on
// Windows, where bash may be missing, they are not built (the tests skip
// there instead).

//go:build !windows

package sessions_test

import (
	"bufio"
	"context"
	"fmt"
	"log"
	"time"

	"github.com/shellpool/shellpool/sessions"
)

// Run a command and get its true result: the exit code, and stdout and
// stderr byte for byte at any size, with environment variables (values
// need no quoting) and a working directory. This example runs against the
// emulator in sessions/sessionstest.
func ExampleClient_Run() {
	client, done := exampleClient()
	defer done()
	ctx := context.Background()
	s := client.NewSessionClient(sessions.NewSessionID())
	defer s.Close(ctx)

	cmd := sessions.ShellCommand(`mkdir -p out && cd out && printf '%s\n' "$GREETING" && head -c 100000 /dev/zero | wc -c; exit 2`)
	cmd.Env = map[string]string{"GREETING": `it's "$(not run)"`}
	res, err := s.Run(ctx, cmd, nil)
	if err != nil {
		log.Fatal(err) // the layer failed; a non-zero exit code is not an error
	}
	fmt.Print(string(res.Stdout))
	fmt.Println("exit code:", res.ExitCode)

	// A timeout kills the command and keeps what it wrote.
	cmd = sessions.ShellCommand("echo start; sleep 30")
	cmd.Timeout = time.Second
	res, err = s.Run(ctx, cmd, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%q timed out: %v, exit code %d\n", res.Stdout, res.TimedOut, res.ExitCode)
	// Output:
	// it's "$(not run)"
	// 100000
	// exit code: 2
	// "start\n" timed out: true, exit code 124
}

// Start a job in the background, read its output while it runs, find it
// again by ID (as another program would) and wait for its exit code.
func ExampleClient_Start() {
	client, done := exampleClient()
	defer done()
	ctx := context.Background()
	s := client.NewSessionClient(sessions.NewSessionID())
	defer s.Close(ctx)

	p, err := s.Start(ctx, sessions.ShellCommand("for i in 1 2 3; do echo tick $i; sleep 0.2; done"), nil)
	if err != nil {
		log.Fatal(err)
	}
	out := p.Stdout(ctx)
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		log.Fatal(err)
	}
	out.Close()
	fmt.Print("first line: ", line)

	again, err := client.AttachProcess(s.ID(), p.ID()) // both IDs are all it takes
	if err != nil {
		log.Fatal(err)
	}
	res, err := again.Wait(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("exit code %d, output %q\n", res.ExitCode, res.Stdout)
	// Output:
	// first line: tick 1
	// exit code 0, output "tick 1\ntick 2\ntick 3\n"
}
