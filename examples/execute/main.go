// Command execute mirrors the tutorial's "Execute shell commands in your
// session" step: it runs `echo 'hello world'; echo 'hi'` in a new session of
// the pool, prints the output and the exit code, and deletes the session.
// The sessions client requests the https://dynamicsessions.io token itself.
// The signed-in principal needs the Session Executor role on the pool
// (examples/assign-role -assignee me).
//
// Run it against the built-in emulator (no Azure account needed):
//
//	go run ./examples/execute
//
// or against Azure, after the earlier steps:
//
//	AZURE_SUBSCRIPTION_ID=<id> go run ./examples/execute
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/shellpool/shellpool/identity"
	"github.com/shellpool/shellpool/pool"
	"github.com/shellpool/shellpool/sessions"
	"github.com/shellpool/shellpool/sessions/sessionstest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, loadSettings()); err != nil {
		fmt.Fprintln(os.Stderr, "execute:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, s settings) error {
	var opts arm.ClientOptions
	if s.emulator {
		srv, err := startEmulator(&s)
		if err != nil {
			return err
		}
		defer srv.Close()
		opts.ClientOptions = srv.ClientOptions()
	}
	cred, err := identity.NewCredential(nil) // az login, a managed identity, or the emulator's
	if err != nil {
		return err
	}
	pools, err := pool.NewClient(s.subscription, cred, &pool.ClientOptions{ClientOptions: opts, APIVersion: s.apiVersion})
	if err != nil {
		return err
	}

	p, err := pools.Get(ctx, s.group, s.pool, nil)
	if err != nil {
		return err
	}
	dataOpts := opts.ClientOptions // the data-plane api-version is azcore's APIVersion option
	dataOpts.APIVersion = s.apiVersion
	client, err := sessions.NewClient(p.Endpoint(), cred, &sessions.ClientOptions{ClientOptions: dataOpts})
	if err != nil {
		return err
	}
	session := client.NewSession()
	cmd := sessions.ShellCommand("echo 'hello world'; echo 'hi'")
	cmd.Timeout = 600 * time.Second
	resp, err := session.Execute(ctx, cmd, nil)
	if err != nil {
		return err
	}
	fmt.Print(resp.Stdout)
	if resp.ExitCode != nil {
		fmt.Println("Exit code:", *resp.ExitCode)
	}
	return session.Close(ctx) // frees the session's place in the pool
}

// settings are the tutorial's variables, from flags or environment variables.
type settings struct {
	subscription, group, pool, location, apiVersion string
	emulator                                        bool
}

func loadSettings() settings {
	var s settings
	flag.StringVar(&s.subscription, "subscription", os.Getenv("AZURE_SUBSCRIPTION_ID"), "Azure subscription ID ($AZURE_SUBSCRIPTION_ID); empty runs against the built-in emulator")
	flag.StringVar(&s.group, "resource-group", env("SHELLPOOL_RESOURCE_GROUP", "my-shell-session-rg"), "resource group ($SHELLPOOL_RESOURCE_GROUP)")
	flag.StringVar(&s.pool, "pool", env("SHELLPOOL_POOL", "myshellpool"), "session pool name ($SHELLPOOL_POOL)")
	flag.StringVar(&s.location, "location", env("SHELLPOOL_LOCATION", "northcentralus"), "Azure region ($SHELLPOOL_LOCATION)")
	flag.StringVar(&s.apiVersion, "api-version", env("SHELLPOOL_API_VERSION", pool.DefaultAPIVersion), "Microsoft.App api-version ($SHELLPOOL_API_VERSION)")
	flag.BoolVar(&s.emulator, "emulator", false, "use the built-in emulator even when AZURE_SUBSCRIPTION_ID is set")
	flag.Parse()
	s.emulator = s.emulator || s.subscription == ""
	return s
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// startEmulator starts the emulator in this process with the earlier steps
// done (the pool deployed, the Session Executor role granted to the
// emulator's principal, whom DefaultAzureCredential signs in as) and points
// azidentity at its managed identity endpoint, so the code above runs
// unchanged against it.
func startEmulator(s *settings) (*sessionstest.Server, error) {
	if s.subscription == "" {
		s.subscription = sessionstest.DefaultSubscriptionID
	}
	srv, err := sessionstest.Start(&sessionstest.Options{
		SubscriptionID: s.subscription, ResourceGroup: s.group, Location: s.location, RBAC: true,
		Pools: []sessionstest.Pool{{Name: s.pool, EgressEnabled: true}},
	})
	if err != nil {
		return nil, err
	}
	srv.GrantSessionExecutor(srv.PrincipalID(), s.pool)
	endpoint, header, err := srv.IdentityEndpoint()
	if err != nil {
		srv.Close()
		return nil, err
	}
	os.Setenv("IDENTITY_ENDPOINT", endpoint)
	os.Setenv("IDENTITY_HEADER", header)
	for _, name := range []string{"AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_TOKEN_CREDENTIALS"} {
		os.Unsetenv(name) // sign in only as the emulator's managed identity
	}
	fmt.Println("Using the built-in emulator at", srv.URL(), "(set AZURE_SUBSCRIPTION_ID to use Azure)")
	return srv, nil
}
