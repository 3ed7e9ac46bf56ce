// Command run goes beyond the tutorial: it runs commands with package
// sessions/proc (shaped like os/exec), which returns their true result (exit code, stdout and stderr byte for byte,
// never cut at 4,096 bytes), with environment variables and a working
// directory, and streams a large output to a local writer. Then it deletes
// the session. The signed-in principal needs the Session Executor role on
// the pool (examples/assign-role -assignee me).
//
// Against Azure, after the tutorial's steps:
//
//	AZURE_SUBSCRIPTION_ID=<id> go run ./examples/run
//
// or against the local emulator (see emulator.go, which you leave out when
// copying this program):
//
//	go run ./examples/run -emulator
package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/shellpool/shellpool/identity"
	"github.com/shellpool/shellpool/pool"
	"github.com/shellpool/shellpool/sessions"
	"github.com/shellpool/shellpool/sessions/proc"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, loadSettings()); err != nil {
		fmt.Fprintln(os.Stderr, "run:", err)
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
	defer session.Close(context.WithoutCancel(ctx)) // frees the session's place in the pool

	// Env values and the directory reach the command unchanged: no quoting.
	if err := proc.Command(session, "mkdir", "-p", "work").Run(ctx); err != nil {
		return err
	}
	cmd := proc.Script(session, `echo "greeting: $GREETING"; echo "in: $(basename "$PWD")"; exit 3`)
	cmd.Env = []string{`GREETING=it's "$(not run)"`}
	cmd.Dir = "work"
	out, err := cmd.Output(ctx)
	var exit *proc.ExitError
	if err != nil && !errors.As(err, &exit) {
		return err // the result could not be read; a non-zero exit is an *ExitError
	}
	fmt.Print(string(out))
	fmt.Println("Exit code:", cmd.ProcessState.ExitCode())

	// 10 MiB of output, streamed to a local writer (here a hash).
	h := sha256.New()
	cmd = proc.Script(session, "head -c 10485760 /dev/zero")
	cmd.Stdout = h
	if err := cmd.Run(ctx); err != nil {
		return err
	}
	fmt.Printf("Large output: exit code %d, sha256 %x\n", cmd.ProcessState.ExitCode(), h.Sum(nil))
	return session.Close(ctx)
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
