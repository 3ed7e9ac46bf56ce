// The examples run real commands with bash and print their output; on
// Windows, where bash may be missing, they are not built (the tests skip
// there instead).

//go:build !windows

package sessionstest_test

import (
	"context"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/shellpool/shellpool/sessions"
	"github.com/shellpool/shellpool/sessions/sessionstest"
)

// Start the emulator, point the real sessions client at it and run a
// command: it really runs, in the session's own directory.
func ExampleNewServer() {
	srv := sessionstest.NewServer(nil)
	defer srv.Close()

	client, err := sessions.NewClient(srv.PoolEndpoint(), srv.Credential(),
		&sessions.ClientOptions{ClientOptions: srv.ClientOptions()})
	if err != nil {
		log.Fatal(err)
	}
	resp, err := client.Execute(context.Background(), sessions.NewSessionID(),
		sessions.ShellCommand("echo hello; exit 3"), nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(resp.Stdout)
	fmt.Println("exit code:", *resp.ExitCode)
	// Output:
	// hello
	// exit code: 3
}

// Answer executions with a function instead of running processes.
func ExampleOptions_scripted() {
	srv := sessionstest.NewServer(&sessionstest.Options{
		Scripted: func(_ context.Context, req sessionstest.ExecRequest) sessionstest.ExecResult {
			return sessionstest.ExecResult{Stdout: "you asked for: " + strings.Join(req.Args, " ") + "\n"}
		},
	})
	defer srv.Close()

	client, err := sessions.NewClient(srv.PoolEndpoint(), srv.Credential(),
		&sessions.ClientOptions{ClientOptions: srv.ClientOptions()})
	if err != nil {
		log.Fatal(err)
	}
	resp, err := client.Execute(context.Background(), sessions.NewSessionID(),
		sessions.ExecCommand("rm", "-rf", "/"), nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(resp.Stdout)
	// Output:
	// you asked for: rm -rf /
}

// Make the next execution fail with 503 and Retry-After: the client's retry
// policy retries it and the command runs once.
func ExampleServer_InjectFault() {
	srv := sessionstest.NewServer(nil)
	defer srv.Close()
	srv.InjectFault(sessionstest.Fault{Method: "POST", Path: "/executions", Status: 503, RetryAfter: time.Millisecond})

	client, err := sessions.NewClient(srv.PoolEndpoint(), srv.Credential(),
		&sessions.ClientOptions{ClientOptions: srv.ClientOptions()})
	if err != nil {
		log.Fatal(err)
	}
	resp, err := client.Execute(context.Background(), sessions.NewSessionID(), sessions.ShellCommand("echo ran"), nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(resp.Stdout)
	fmt.Println("requests:", len(srv.Requests()))
	// Output:
	// ran
	// requests: 2
}
