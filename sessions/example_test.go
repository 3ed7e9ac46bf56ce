// The examples run real commands in the emulator, which needs bash; on
// Windows, where bash may be missing, they are not built (the tests skip
// there instead).

//go:build !windows

package sessions_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/shellpool/shellpool/sessions"
)

// Create a client for a shell session pool. The credential's principal needs
// the "Azure ContainerApps Session Executor" role on the pool; tokens are
// requested for https://dynamicsessions.io/.default.
func ExampleNewClient() {
	cred, err := azidentity.NewDefaultAzureCredential(nil)
	if err != nil {
		log.Fatal(err)
	}
	endpoint := sessions.PoolEndpoint("North Central US", "00000000-0000-0000-0000-000000000000", "my-rg", "myshellpool")
	client, err := sessions.NewClient(endpoint, cred, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(client.Endpoint())
}

// Run a shell command and read its exit code and output. A command that
// exits non-zero is a result, not an error. This example runs against the
// emulator in sessions/sessionstest; against Azure, build the client as in
// ExampleNewClient.
func ExampleClient_Execute() {
	client, done := exampleClient()
	defer done()
	ctx := context.Background()
	sessionID := sessions.NewSessionID() // one per user or conversation; keep it secret
	defer client.DeleteSession(ctx, sessionID, nil)

	resp, err := client.Execute(ctx, sessionID, sessions.Command{
		Shell:   "echo hello; exit 3",
		Timeout: time.Minute,
	}, nil)
	var respErr *azcore.ResponseError
	switch {
	case errors.As(err, &respErr):
		log.Fatalf("the service refused (HTTP %d, %s): %v", respErr.StatusCode, respErr.ErrorCode, err)
	case err != nil:
		log.Fatal(err)
	}
	fmt.Print(resp.Stdout)
	fmt.Println("exit code:", *resp.ExitCode)
	// Output:
	// hello
	// exit code: 3
}

// Start a command asynchronously and poll until it finishes.
func ExampleClient_BeginExecute() {
	client, done := exampleClient()
	defer done()
	ctx := context.Background()
	sessionID := sessions.NewSessionID()
	defer client.DeleteSession(ctx, sessionID, nil)

	poller, err := client.BeginExecute(ctx, sessionID, sessions.ExecCommand("sh", "-c", "sleep 1; echo done"), nil)
	if err != nil {
		log.Fatal(err)
	}
	resp, err := poller.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: time.Second}) // Retry-After, when sent, wins
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("status %s: %s", resp.Status, resp.Stdout)
	// Output:
	// status 0: done
}

// Build the regional endpoint of a pool from its location, which may be a
// display name.
func ExamplePoolEndpoint() {
	fmt.Println(sessions.PoolEndpoint("North Central US", "my-subscription", "my-rg", "myshellpool"))
	// Output:
	// https://northcentralus.dynamicsessions.io/subscriptions/my-subscription/resourceGroups/my-rg/sessionPools/myshellpool
}

// Session identifiers are random UUIDs that satisfy every documented rule.
// Errors and logs show only a redacted prefix.
func ExampleNewSessionID() {
	id := sessions.NewSessionID()
	fmt.Println(len(id), sessions.ValidateSessionID(id))
	fmt.Println(sessions.ValidateSessionID("a b"))
	fmt.Println(sessions.RedactSessionID("8c1b54a5-54b4-4bf4-a0a4-4a8e0ac3bd52"))
	// Output:
	// 36 <nil>
	// sessions: invalid sessionID: … has 3 characters; identifiers must have 4 to 128 (use NewSessionID)
	// 8c1b…
}
