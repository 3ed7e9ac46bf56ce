// Command emulator serves the shellpool emulator (sessions/sessionstest) until
// it gets SIGINT (Ctrl+C) or SIGTERM, so that separate programs share one
// emulator: the tutorial's step programs run one after another against it
// (each sees what the earlier ones made), and tools outside Go, such as the
// tutorial's curl step and the Azure CLI, can use it. It serves Azure
// Resource Manager, the sessions data plane and a managed identity endpoint.
//
// It listens on a free loopback port unless -addr says otherwise, and starts
// with nothing of the tutorial deployed: run the tutorial's steps
// (examples/setup, examples/deploy-pool, ...) against it, or pass
// -tutorial-pool to start with the tutorial's resource group and pool
// (-resource-group, -pool) already there.
//
// Once it listens it writes shell export lines to -env-file:
// SHELLPOOL_EMULATOR=1 (the step programs then use the emulator),
// SHELLPOOL_ENDPOINT (base URL), SHELLPOOL_CA_CERT (the PEM file of its
// certificate), SSL_CERT_FILE (that certificate plus the machine's trusted
// roots, so that a Go program on Linux, curl and other OpenSSL tools trust the
// emulator and public sites alike), SHELLPOOL_PRINCIPAL_ID (the principal
// azidentity signs in as), SHELLPOOL_ARM_TOKEN and SHELLPOOL_SESSIONS_TOKEN
// (bearer tokens for Azure Resource Manager and the sessions API, for
// SHELLPOOL_PRINCIPAL_ID), AZURE_SUBSCRIPTION_ID, IDENTITY_ENDPOINT and
// IDENTITY_HEADER (its managed identity endpoint, which azidentity uses),
// SHELLPOOL_TENANT_ID, SHELLPOOL_CLIENT_ID and SHELLPOOL_CLIENT_SECRET (its
// Entra ID service principal), SHELLPOOL_RESOURCE_GROUP, SHELLPOOL_POOL and
// SHELLPOOL_LOCATION, and the tutorial's SUBSCRIPTION, RG, POOL, LOCATION,
// API_VERSION and EXEC_ID (a fresh session identifier). -pid-file gets its
// process ID. It removes both files when it stops. It prints where it
// listens, never the tokens or the secret. The tokens are valid for an hour,
// like Entra ID's; restart the emulator for fresh ones.
//
// -v prints one line per request: method, path with identifiers replaced by
// {id} or {name}, status and duration. -rbac demands the Session Executor
// role, as Azure does; -grant gives it to SHELLPOOL_PRINCIPAL_ID on the
// whole subscription at the start (or run examples/assign-role -assignee
// me). -strict refuses the tutorial's request body as some live pools do.
//
// The tutorial, step by step, against one emulator:
//
//	env_file=$(mktemp -u) pid_file=$(mktemp -u)
//	go run ./examples/emulator -env-file "$env_file" -pid-file "$pid_file" &
//	until [ -s "$env_file" ]; do kill -0 $! 2>/dev/null || break; sleep 0.2; done
//	. "$env_file"
//	go run ./examples/setup
//	go run ./examples/deploy-pool   # ... and the other steps
//	kill $(cat "$pid_file")          # stops it cleanly
//
// The tutorial's "Execute shell commands" step with curl, once the pool is
// deployed (or with -tutorial-pool):
//
//	URL="$SHELLPOOL_ENDPOINT/subscriptions/$SUBSCRIPTION/resourceGroups/$RG/sessionPools/$POOL/executions?api-version=$API_VERSION&identifier=$EXEC_ID"
//	curl --cacert "$SHELLPOOL_CA_CERT" --request POST --url "$URL" \
//	  --header "authorization: Bearer $SHELLPOOL_SESSIONS_TOKEN" --header "content-type: application/json" \
//	  --data '{"codeInputType":"inline","executionType":"synchronous","command":["/bin/bash","-c","echo '"'hello world'; echo 'hi'"'"],"timeoutInSeconds":600}'
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/shellpool/shellpool/identity"
	"github.com/shellpool/shellpool/pool"
	"github.com/shellpool/shellpool/sessions"
	"github.com/shellpool/shellpool/sessions/sessionstest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "emulator:", err)
		os.Exit(1)
	}
}

// run serves the emulator until ctx ends.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("emulator", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on (default: a free port on loopback)")
	envFile := fs.String("env-file", "", "write shell export lines for the emulator to this file")
	rbac := fs.Bool("rbac", false, "demand the Session Executor role on the pool")
	strict := fs.Bool("strict", false, "refuse the tutorial's request body (codeInputType, executionType)")
	sub := fs.String("subscription", sessionstest.DefaultSubscriptionID, "subscription ID")
	rg := fs.String("resource-group", sessionstest.TutorialResourceGroup, "the tutorial's resource group (created with -tutorial-pool)")
	poolName := fs.String("pool", sessionstest.TutorialPool, "the tutorial's session pool (deployed with -tutorial-pool)")
	location := fs.String("location", "northcentralus", "location of the tutorial's resource group and pool")
	tutorialPool := fs.Bool("tutorial-pool", false, "start with the tutorial's resource group and pool deployed, instead of empty")
	grant := fs.Bool("grant", false, "with -rbac: give SHELLPOOL_PRINCIPAL_ID the Session Executor role on the subscription")
	pidFile := fs.String("pid-file", "", "write the process ID to this file (stop the emulator with kill $(cat FILE))")
	verbose := fs.Bool("v", false, "print one line per request: method, path without identifiers, status, duration")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: the emulator takes flags only (see -help)", fs.Arg(0))
	}
	if *grant && !*rbac {
		return errors.New("-grant needs -rbac: without -rbac every principal may run commands")
	}
	if err := pool.ValidateName(*poolName); err != nil {
		return fmt.Errorf("-pool: %w", err)
	}

	opts := &sessionstest.Options{
		Addr: *addr, SubscriptionID: *sub, Location: *location,
		RBAC: *rbac, Behavior: sessionstest.Behavior{RejectTutorialDialect: *strict},
	}
	if *tutorialPool {
		opts.ResourceGroup = *rg
		opts.Pools = []sessionstest.Pool{{Name: *poolName, EgressEnabled: true}}
	}
	if *verbose {
		var mu sync.Mutex
		opts.RequestLog = func(l sessionstest.LoggedRequest) {
			mu.Lock()
			defer mu.Unlock()
			status := fmt.Sprint(l.Status)
			if l.Status == 0 {
				status = "dropped"
			}
			fmt.Fprintf(stdout, "%s %s %s %s\n", l.Method, l.Path, status, l.Duration.Round(time.Microsecond))
		}
	}
	srv, err := sessionstest.Start(opts)
	if err != nil {
		return err
	}
	defer srv.Close()
	if !*tutorialPool {
		srv.RemovePool(sessionstest.DefaultPoolName) // start with no pool
	}
	idEndpoint, idHeader, err := srv.IdentityEndpoint()
	if err != nil {
		return err
	}

	if *grant {
		if err := grantSessionExecutor(ctx, srv); err != nil {
			return err
		}
	}
	if *pidFile != "" {
		if err := writeFile(*pidFile, fmt.Sprintln(os.Getpid()), 0o644); err != nil {
			return err
		}
		defer os.Remove(*pidFile)
	}
	// Printed before the env file appears, so whoever waits for the file
	// has seen them.
	if *tutorialPool {
		fmt.Fprintf(stdout, "shellpool emulator listening on %s with pool %s in resource group %s; press Ctrl+C to stop\n", srv.URL(), *poolName, *rg)
	} else {
		fmt.Fprintf(stdout, "shellpool emulator listening on %s with nothing deployed (run the tutorial's steps, or start it with -tutorial-pool); press Ctrl+C to stop\n", srv.URL())
	}
	// Whether sessions are sandboxes (sessionstest.Options.Isolation; set
	// SHELLPOOL_EMULATOR_ISOLATION=required to refuse to run unisolated).
	fmt.Fprintln(stdout, srv.IsolationStatus())
	if *rbac && !*grant {
		fmt.Fprintln(stdout, "RBAC is on: to run commands, source the env file and run go run ./examples/assign-role -assignee me, or restart with -grant")
	}
	if *envFile != "" {
		dir, err := os.MkdirTemp("", "shellpool-emulator-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		clientID, clientSecret := srv.ServicePrincipal()
		caFile := filepath.Join(dir, "ca.pem")
		if err := os.WriteFile(caFile, srv.CACertPEM(), 0o644); err != nil {
			return err
		}
		bundle := filepath.Join(dir, "trust.pem")
		if err := os.WriteFile(bundle, append(systemRoots(), srv.CACertPEM()...), 0o644); err != nil {
			return err
		}
		vars := [][2]string{
			{"SHELLPOOL_ENDPOINT", srv.URL()},
			{"SHELLPOOL_CA_CERT", caFile},
			{"SSL_CERT_FILE", bundle},
			{"SHELLPOOL_PRINCIPAL_ID", srv.PrincipalID()},
			{"SHELLPOOL_ARM_TOKEN", srv.Token(identity.ARMAudience, srv.PrincipalID())},
			{"SHELLPOOL_SESSIONS_TOKEN", srv.Token(sessions.Audience, srv.PrincipalID())},
			{"SHELLPOOL_EMULATOR", "1"},
			{"AZURE_SUBSCRIPTION_ID", *sub},
			{"SHELLPOOL_RESOURCE_GROUP", *rg},
			{"SHELLPOOL_POOL", *poolName},
			{"SHELLPOOL_LOCATION", *location},
			{"IDENTITY_ENDPOINT", idEndpoint},
			{"IDENTITY_HEADER", idHeader},
			{"SHELLPOOL_TENANT_ID", srv.TenantID()},
			{"SHELLPOOL_CLIENT_ID", clientID},
			{"SHELLPOOL_CLIENT_SECRET", clientSecret},
			{"SUBSCRIPTION", *sub},
			{"RG", *rg},
			{"POOL", *poolName},
			{"LOCATION", *location},
			{"API_VERSION", sessions.DefaultDataPlaneAPIVersion},
			{"EXEC_ID", sessions.NewSessionID()},
		}
		var b strings.Builder
		for _, v := range vars {
			fmt.Fprintf(&b, "export %s='%s'\n", v[0], strings.ReplaceAll(v[1], "'", `'\''`))
		}
		if err := writeFile(*envFile, b.String(), 0o600); err != nil {
			return err
		}
		// A stale file would name a CA file and tokens that no longer exist.
		defer os.Remove(*envFile)
	}
	<-ctx.Done()
	return nil
}

// systemRoots returns the PEM bundle of trusted roots this machine's
// OpenSSL and Go read by default (or the one SSL_CERT_FILE names), so that
// SSL_CERT_FILE in the env file adds the emulator's certificate to them
// instead of replacing them: go get and other TLS clients in the same shell
// keep working. It returns nothing where there is no such file (macOS and
// Windows, whose Go ignores SSL_CERT_FILE).
func systemRoots() []byte {
	files := []string{
		os.Getenv("SSL_CERT_FILE"),
		"/etc/ssl/certs/ca-certificates.crt",                // Debian, Ubuntu, Alpine
		"/etc/pki/tls/certs/ca-bundle.crt",                  // Fedora, RHEL
		"/etc/ssl/ca-bundle.pem",                            // openSUSE
		"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", // CentOS, RHEL 7
		"/etc/ssl/cert.pem",                                 // FreeBSD, OpenBSD
	}
	for _, f := range files {
		if f == "" {
			continue
		}
		if b, err := os.ReadFile(f); err == nil && len(b) > 0 {
			if b[len(b)-1] != '\n' {
				b = append(b, '\n')
			}
			return b
		}
	}
	return nil
}

// writeFile writes a file and then renames it into place, so a reader never
// sees half a file.
func writeFile(name, content string, perm os.FileMode) error {
	if err := os.WriteFile(name+".tmp", []byte(content), perm); err != nil {
		return err
	}
	return os.Rename(name+".tmp", name)
}

// grantSessionExecutor gives the emulator's principal the Session Executor
// role on the subscription, through ARM as az role assignment create does,
// so it outlives the deletion of the tutorial's resource group.
func grantSessionExecutor(ctx context.Context, srv *sessionstest.Server) error {
	ids, err := identity.NewClient(srv.SubscriptionID(), srv.Credential(), &identity.ClientOptions{ClientOptions: arm.ClientOptions{ClientOptions: srv.ClientOptions()}})
	if err != nil {
		return err
	}
	_, err = ids.AssignRole(ctx, "/subscriptions/"+srv.SubscriptionID(), identity.SessionExecutorRoleID, srv.PrincipalID(),
		&identity.AssignRoleOptions{PrincipalType: identity.PrincipalTypeServicePrincipal})
	return err
}
