// Command background goes beyond the tutorial: it starts a job in the
// background with Start, streams its output while it runs, re-attaches to
// it by ID with a second client (as another program would after a restart),
// waits for its exit code, and deletes the session. The signed-in principal
// needs the Session Executor role on the pool (examples/assign-role
// -assignee me).
//
// Run it against the built-in emulator (no Azure account needed):
//
//	go run ./examples/background
//
// or against Azure, after the tutorial's steps:
//
//	AZURE_SUBSCRIPTION_ID=<id> go run ./examples/background
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

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
		fmt.Fprintln(os.Stderr, "background:", err)
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
	newClient := func() (*sessions.Client, error) {
		return sessions.NewClient(p.Endpoint(), cred, &sessions.ClientOptions{ClientOptions: opts.ClientOptions, APIVersion: s.apiVersion})
	}
	client, err := newClient()
	if err != nil {
		return err
	}
	session := client.NewSession()
	defer session.Close(context.WithoutCancel(ctx)) // frees the session's place in the pool

	job, err := session.Start(ctx, sessions.ShellCommand(`for i in 1 2 3 4 5; do echo "tick $i"; sleep 0.5; done; exit 4`), nil)
	if err != nil {
		return err
	}
	fmt.Println("Started process", job.ID())

	// Read the first two lines while the job runs.
	out := job.Stdout(ctx)
	lines := bufio.NewReader(out)
	for range 2 {
		line, err := lines.ReadString('\n')
		if err != nil {
			return err
		}
		fmt.Print("live: ", line)
	}
	out.Close()

	// Another client (or program) needs only the session ID and process ID.
	other, err := newClient()
	if err != nil {
		return err
	}
	again, err := other.AttachProcess(session.ID(), job.ID())
	if err != nil {
		return err
	}
	all, err := io.ReadAll(again.Stdout(ctx)) // from the start, to the end
	if err != nil {
		return err
	}
	fmt.Printf("re-attached, whole output:\n%s", all)
	res, err := again.Wait(ctx)
	if err != nil {
		return err
	}
	fmt.Println("Exit code:", res.ExitCode)
	return session.Close(ctx)
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
