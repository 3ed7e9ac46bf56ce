// Command emulator serves the shellpool emulator (sessions/sessionstest) until
// it gets SIGINT (Ctrl+C) or SIGTERM, so that separate programs share one
// emulator: the tutorial's step programs run one after another against it
// (each sees what the earlier ones made), and tools outside Go, such as the
// tutorial's curl step, can use it. It serves Azure Resource Manager, the
// sessions data plane and a managed identity endpoint.
//
// Once it listens it writes shell export lines to -env-file:
// SHELLPOOL_EMULATOR=1 (the step programs then use the emulator),
// SHELLPOOL_ENDPOINT (base URL), SHELLPOOL_CA_CERT (the PEM file to trust),
// SHELLPOOL_PRINCIPAL_ID (the principal azidentity signs in as),
// SHELLPOOL_ARM_TOKEN and SHELLPOOL_SESSIONS_TOKEN (bearer tokens for Azure
// Resource Manager and the sessions API, for SHELLPOOL_PRINCIPAL_ID),
// AZURE_SUBSCRIPTION_ID, IDENTITY_ENDPOINT and IDENTITY_HEADER (its managed
// identity endpoint, which azidentity uses), SHELLPOOL_TENANT_ID,
// SHELLPOOL_CLIENT_ID and SHELLPOOL_CLIENT_SECRET (its Entra ID service
// principal), SHELLPOOL_RESOURCE_GROUP, SHELLPOOL_POOL and SHELLPOOL_LOCATION,
// and the tutorial's SUBSCRIPTION, RG, POOL, LOCATION, API_VERSION and EXEC_ID
// (a fresh session identifier), naming the pool it serves from the start.
// -pid-file gets its process ID. It removes both files when it stops. It
// prints where it listens, never the tokens or the secret. The tokens are
// valid for an hour, like Entra ID's; restart the emulator for fresh ones.
//
// -rbac demands the Session Executor role, as Azure does; -grant gives it to
// SHELLPOOL_PRINCIPAL_ID on the whole subscription at the start (or run
// examples/assign-role -assignee me). -strict refuses the tutorial's request
// body as some live pools do.
//
// The tutorial, step by step, against one emulator:
//
//	go run ./examples/emulator -env-file /tmp/shellpool.env -pid-file /tmp/shellpool.pid &
//	until [ -s /tmp/shellpool.env ]; do sleep 0.2; done   # written once it listens
//	. /tmp/shellpool.env
//	go run ./examples/setup
//	go run ./examples/execute   # ... and the other steps
//	kill $(cat /tmp/shellpool.pid)   # stops it cleanly
//
// The tutorial's "Execute shell commands" step with curl:
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
	"syscall"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/shellpool/shellpool/identity"
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
	addr := fs.String("addr", "127.0.0.1:8443", "address to listen on")
	envFile := fs.String("env-file", "", "write shell export lines for the emulator to this file")
	rbac := fs.Bool("rbac", false, "demand the Session Executor role on the pool")
	strict := fs.Bool("strict", false, "refuse the tutorial's request body (codeInputType, executionType)")
	sub := fs.String("subscription", sessionstest.DefaultSubscriptionID, "subscription ID")
	rg := fs.String("resource-group", "my-shell-session-rg", "resource group of the pool")
	poolName := fs.String("pool", "myshellpool", "name of the pool served from the start")
	location := fs.String("location", "northcentralus", "location of the pool")
	grant := fs.Bool("grant", false, "with -rbac: give SHELLPOOL_PRINCIPAL_ID the Session Executor role on the subscription")
	pidFile := fs.String("pid-file", "", "write the process ID to this file (stop the emulator with kill $(cat FILE))")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *grant && !*rbac {
		return errors.New("-grant needs -rbac: without -rbac every principal may run commands")
	}

	srv, err := sessionstest.Start(&sessionstest.Options{
		Addr: *addr, SubscriptionID: *sub, ResourceGroup: *rg, Location: *location,
		Pools: []sessionstest.Pool{{Name: *poolName, EgressEnabled: true}},
		RBAC:  *rbac, Behavior: sessionstest.Behavior{RejectTutorialBody: *strict},
	})
	if err != nil {
		return err
	}
	defer srv.Close()
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
	fmt.Fprintf(stdout, "shellpool emulator listening on %s (pool %s in resource group %s); press Ctrl+C to stop\n", srv.URL(), *poolName, *rg)
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
		vars := [][2]string{
			{"SHELLPOOL_ENDPOINT", srv.URL()},
			{"SHELLPOOL_CA_CERT", caFile},
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
