// Command async-execute goes beyond the tutorial: it starts a longer command
// as an asynchronous execution (BeginExecute) and waits for the result with
// the poller (PollUntilDone), then deletes the session. Use it for commands
// that may outlast an HTTP request. The signed-in principal needs the Session
// Executor role on the pool (examples/assign-role -assignee me).
//
// Against Azure, after the tutorial's steps:
//
//	AZURE_SUBSCRIPTION_ID=<id> go run ./examples/async-execute
//
// or against the local emulator (see emulator.go, which you leave out when
// copying this program):
//
//	go run ./examples/async-execute -emulator
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/shellpool/shellpool/identity"
	"github.com/shellpool/shellpool/pool"
	"github.com/shellpool/shellpool/sessions"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, loadSettings()); err != nil {
		fmt.Fprintln(os.Stderr, "async-execute:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, s settings) error {
	opts, stop, err := connect(&s) // Azure, or the emulator with -emulator (emulator.go)
	if err != nil {
		return err
	}
	defer stop()
	cred, err := identity.NewCredential(nil) // az login or a managed identity
	if err != nil {
		return err
	}
	armOpts := arm.ClientOptions{ClientOptions: opts}
	armOpts.APIVersion = s.armAPIVersion // azcore's api-version knob: Microsoft.App's
	pools, err := pool.NewClient(s.subscription, cred, &pool.ClientOptions{ClientOptions: armOpts})
	if err != nil {
		return err
	}

	p, err := pools.Get(ctx, s.group, s.pool, nil)
	if err != nil {
		return err
	}
	dataOpts := opts // the data-plane api-version is azcore's APIVersion option
	dataOpts.APIVersion = s.sessionsAPIVersion
	client, err := sessions.NewClient(p.Endpoint(), cred, &sessions.ClientOptions{ClientOptions: dataOpts})
	if err != nil {
		return err
	}
	session := client.NewSessionClient(sessions.NewSessionID())
	cmd := sessions.ShellCommand("for i in 1 2 3; do echo step $i; sleep 0.2; done")
	cmd.Timeout = 10 * time.Minute
	poller, err := session.BeginExecute(ctx, cmd, nil)
	if err != nil {
		return err
	}
	fmt.Println("Started; waiting for the result ...")
	resp, err := poller.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: time.Second})
	if err != nil {
		return err
	}
	fmt.Print(resp.Stdout)
	if resp.ExitCode != nil {
		fmt.Println("Exit code:", *resp.ExitCode)
	}
	return session.Close(ctx) // frees the session's place in the pool
}

// connect returns the client options for Azure and a function to call when
// done; without a subscription it refuses to run. The examples' emulator.go,
// which you leave out when you copy this program, replaces it to run against
// the local emulator when asked (-emulator).
var connect = func(s *settings) (opts azcore.ClientOptions, stop func(), err error) {
	if s.subscription == "" {
		return opts, nil, errors.New("set AZURE_SUBSCRIPTION_ID (or -subscription) to use Azure")
	}
	return opts, func() {}, nil
}

// settings are the tutorial's variables, from flags or environment variables.
type settings struct {
	subscription, group, pool, location string
	armAPIVersion, sessionsAPIVersion   string
}

func loadSettings() settings {
	var s settings
	flag.StringVar(&s.subscription, "subscription", os.Getenv("AZURE_SUBSCRIPTION_ID"), "Azure subscription ID ($AZURE_SUBSCRIPTION_ID)")
	flag.StringVar(&s.group, "resource-group", env("SHELLPOOL_RESOURCE_GROUP", "my-shell-session-rg"), "resource group ($SHELLPOOL_RESOURCE_GROUP)")
	flag.StringVar(&s.pool, "pool", env("SHELLPOOL_POOL", "myshellpool"), "session pool name ($SHELLPOOL_POOL)")
	flag.StringVar(&s.location, "location", env("SHELLPOOL_LOCATION", "northcentralus"), "Azure region ($SHELLPOOL_LOCATION)")
	flag.StringVar(&s.armAPIVersion, "arm-api-version", env("SHELLPOOL_ARM_API_VERSION", pool.DefaultARMAPIVersion), "Microsoft.App (Azure Resource Manager) api-version ($SHELLPOOL_ARM_API_VERSION)")
	flag.StringVar(&s.sessionsAPIVersion, "sessions-api-version", env("SHELLPOOL_SESSIONS_API_VERSION", sessions.DefaultDataPlaneAPIVersion), "sessions data-plane api-version ($SHELLPOOL_SESSIONS_API_VERSION)")
	flag.Parse()
	return s
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
