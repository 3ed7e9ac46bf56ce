// Command emulator serves the shellpool emulator (sessions/sessionstest) until
// interrupted, so that tools outside Go, such as the tutorial's curl step,
// can use it. Once it listens it writes shell export lines to -env-file:
// SHELLPOOL_ENDPOINT (base URL), SHELLPOOL_CA_CERT (the PEM file to trust),
// SHELLPOOL_ARM_TOKEN and SHELLPOOL_SESSIONS_TOKEN (bearer tokens for Azure
// Resource Manager and the sessions API, for SHELLPOOL_PRINCIPAL_ID),
// AZURE_SUBSCRIPTION_ID, IDENTITY_ENDPOINT and IDENTITY_HEADER (its managed
// identity endpoint), SHELLPOOL_TENANT_ID, SHELLPOOL_CLIENT_ID and
// SHELLPOOL_CLIENT_SECRET (its Entra ID service principal), and the tutorial's SUBSCRIPTION, RG, POOL, LOCATION,
// API_VERSION and EXEC_ID (a fresh session identifier), naming the pool it
// serves from the start. It removes the file when it stops. It prints where
// it listens, never the tokens. The tokens are valid for an hour, like Entra
// ID's; restart the emulator for fresh ones. -rbac demands the Session Executor role (assign it
// to SHELLPOOL_PRINCIPAL_ID through ARM); -strict refuses the tutorial's
// request body as some live pools do.
//
// This mirrors the tutorial's "Execute shell commands" step with curl:
//
//	go run ./examples/emulator -addr 127.0.0.1:8443 -env-file /tmp/shellpool.env &
//	until [ -s /tmp/shellpool.env ]; do sleep 0.2; done   # written once it listens
//	. /tmp/shellpool.env
//	URL="$SHELLPOOL_ENDPOINT/subscriptions/$SUBSCRIPTION/resourceGroups/$RG/sessionPools/$POOL/executions?api-version=$API_VERSION&identifier=$EXEC_ID"
//	curl --cacert "$SHELLPOOL_CA_CERT" --request POST --url "$URL" \
//	  --header "authorization: Bearer $SHELLPOOL_SESSIONS_TOKEN" --header "content-type: application/json" \
//	  --data '{"codeInputType":"inline","executionType":"synchronous","command":["/bin/bash","-c","echo '"'hello world'; echo 'hi'"'"],"timeoutInSeconds":600}'
//
// The env file sets AZURE_SUBSCRIPTION_ID for tools that need one; the other
// examples still start their own emulator when given -emulator.
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
	if err := fs.Parse(args); err != nil {
		return err
	}

	srv, err := sessionstest.Start(&sessionstest.Options{
		Addr: *addr, SubscriptionID: *sub, ResourceGroup: *rg, Location: *location,
		Pools: []sessionstest.Pool{{Name: *poolName, EgressEnabled: true}},
		RBAC:  *rbac, Strict: *strict,
	})
	if err != nil {
		return err
	}
	defer srv.Close()
	idEndpoint, idHeader, err := srv.IdentityEndpoint()
	if err != nil {
		return err
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
			{"SHELLPOOL_ARM_TOKEN", srv.Token(sessionstest.ResourceManagerAudience, srv.PrincipalID())},
			{"SHELLPOOL_SESSIONS_TOKEN", srv.Token(sessionstest.DataPlaneAudience, srv.PrincipalID())},
			{"AZURE_SUBSCRIPTION_ID", *sub},
			{"IDENTITY_ENDPOINT", idEndpoint},
			{"IDENTITY_HEADER", idHeader},
			{"SHELLPOOL_TENANT_ID", srv.TenantID()},
			{"SHELLPOOL_CLIENT_ID", clientID},
			{"SHELLPOOL_CLIENT_SECRET", clientSecret},
			{"SUBSCRIPTION", *sub},
			{"RG", *rg},
			{"POOL", *poolName},
			{"LOCATION", *location},
			{"API_VERSION", sessions.DefaultAPIVersion},
			{"EXEC_ID", sessions.NewSessionID()},
		}
		var b strings.Builder
		for _, v := range vars {
			fmt.Fprintf(&b, "export %s='%s'\n", v[0], strings.ReplaceAll(v[1], "'", `'\''`))
		}
		// Write then rename, so a reader never sees half a file.
		if err := os.WriteFile(*envFile+".tmp", []byte(b.String()), 0o600); err != nil {
			return err
		}
		if err := os.Rename(*envFile+".tmp", *envFile); err != nil {
			return err
		}
		// A stale file would name a CA file and tokens that no longer exist.
		defer os.Remove(*envFile)
	}
	fmt.Fprintf(stdout, "shellpool emulator listening on %s (pool %s in resource group %s); press Ctrl+C to stop\n", srv.URL(), *poolName, *rg)
	<-ctx.Done()
	return nil
}
