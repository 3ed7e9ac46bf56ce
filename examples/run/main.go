// Command run goes beyond the tutorial: it runs commands with Run, which
// returns their true result (exit code, stdout and stderr byte for byte,
// never cut at 4,096 bytes), with environment variables and a working
// directory, and streams a large output to a local writer. Then it deletes
// the session. The signed-in principal needs the Session Executor role on
// the pool (examples/assign-role -assignee me).
//
// Run it against the built-in emulator (no Azure account needed):
//
//	go run ./examples/run
//
// or against Azure, after the tutorial's steps:
//
//	AZURE_SUBSCRIPTION_ID=<id> go run ./examples/run
package main

import (
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
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
		fmt.Fprintln(os.Stderr, "run:", err)
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
	client, err := sessions.NewClient(p.Endpoint(), cred, &sessions.ClientOptions{ClientOptions: opts.ClientOptions, APIVersion: s.apiVersion})
	if err != nil {
		return err
	}
	session := client.NewSession()
	defer session.Close(context.WithoutCancel(ctx)) // frees the session's place in the pool

	// Env values and the directory reach the command unchanged: no quoting.
	if _, err := session.Run(ctx, sessions.ShellCommand("mkdir -p work"), nil); err != nil {
		return err
	}
	cmd := sessions.ShellCommand(`echo "greeting: $GREETING"; echo "in: $(basename "$PWD")"; exit 3`)
	cmd.Env = map[string]string{"GREETING": `it's "$(not run)"`}
	cmd.Dir = "work"
	res, err := session.Run(ctx, cmd, nil)
	if err != nil {
		return err
	}
	fmt.Print(string(res.Stdout))
	fmt.Println("Exit code:", res.ExitCode)

	// 10 MiB of output, streamed to a local writer (here a hash).
	h := sha256.New()
	res, err = session.Run(ctx, sessions.ShellCommand("head -c 10485760 /dev/zero"), &sessions.RunOptions{Stdout: h})
	if err != nil {
		return err
	}
	fmt.Printf("Large output: exit code %d, sha256 %x\n", res.ExitCode, h.Sum(nil))
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
