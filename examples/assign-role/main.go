// Command assign-role mirrors the tutorial's "Set role assignments for session
// execution APIs" step: it assigns the "Azure ContainerApps Session Executor"
// role on the session pool (az role assignment create --role 0fb8eba5-...
// --scope $POOL_ID). With -assignee identity (the default) the assignee is the
// managed identity "$POOL-uami" (principalType ServicePrincipal); with
// -assignee me it is the signed-in principal (principalType User), so the
// following steps work from a laptop. A just-created identity may not be
// visible yet: the assignment is retried until it is, instead of sleeping 30 s.
//
// Run it against the built-in emulator (no Azure account needed):
//
//	go run ./examples/assign-role
//
// or against Azure, after examples/deploy-pool and examples/create-identity:
//
//	AZURE_SUBSCRIPTION_ID=<id> go run ./examples/assign-role -assignee me
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/shellpool/shellpool/identity"
	"github.com/shellpool/shellpool/pool"
	"github.com/shellpool/shellpool/sessions/sessionstest"
)

var assignee = flag.String("assignee", "identity", "who gets the role: identity ($POOL-uami) or me (the signed-in principal)")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, loadSettings()); err != nil {
		fmt.Fprintln(os.Stderr, "assign-role:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, s settings) error {
	if *assignee != "identity" && *assignee != "me" {
		return fmt.Errorf("-assignee must be identity or me, not %q", *assignee)
	}
	var opts arm.ClientOptions
	if s.emulator {
		srv, err := startEmulator(&s, true)
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
	ids, err := identity.NewClient(s.subscription, cred, &identity.ClientOptions{ClientOptions: opts})
	if err != nil {
		return err
	}
	if s.emulator {
		if err := prepare(ctx, s, cred, opts, ids); err != nil {
			return err
		}
	}

	poolID, err := pool.PoolID(s.subscription, s.group, s.pool)
	if err != nil {
		return err
	}
	var principalID string
	principalType := identity.PrincipalTypeServicePrincipal
	if *assignee == "identity" {
		uami, err := ids.GetIdentity(ctx, s.group, s.pool+"-uami", nil)
		if err != nil {
			return err
		}
		principalID = uami.PrincipalID
	} else { // the object ID (oid) of the signed-in principal, from an ARM token
		token, err := identity.GetToken(ctx, cred, identity.ARMAudience, nil)
		if err != nil {
			return err
		}
		claims, err := token.Claims()
		if err != nil {
			return err
		}
		principalID, principalType = claims.ObjectID, identity.PrincipalTypeUser
	}

	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute) // PrincipalNotFound is retried until then
	defer cancel()
	ra, err := ids.AssignSessionExecutor(ctx, poolID.String(), principalID, &identity.AssignRoleOptions{PrincipalType: principalType})
	if err != nil {
		return err
	}
	fmt.Printf("Assigned Session Executor on %s to %s %s (assignment %s, %d attempt(s))\n",
		s.pool, ra.PrincipalType, ra.PrincipalID, ra.Name, ra.Attempts)
	return nil
}

// prepare runs the earlier steps in the emulator: resource group, pool, identity.
func prepare(ctx context.Context, s settings, cred azcore.TokenCredential, opts arm.ClientOptions, ids *identity.Client) error {
	pools, err := pool.NewClient(s.subscription, cred, &pool.ClientOptions{ClientOptions: opts, APIVersion: s.apiVersion})
	if err != nil {
		return err
	}
	if _, err := pools.CreateOrUpdateResourceGroup(ctx, s.group, pool.ResourceGroup{Location: s.location}, nil); err != nil {
		return err
	}
	poller, err := pools.BeginCreateOrUpdate(ctx, s.group, s.pool, *pool.NewShellPool(s.pool, s.location), nil)
	if err != nil {
		return err
	}
	if _, err := poller.PollUntilDone(ctx, nil); err != nil {
		return err
	}
	_, err = ids.CreateOrUpdateIdentity(ctx, s.group, s.pool+"-uami", s.location, nil)
	return err
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

// startEmulator starts the emulator in this process and points azidentity at
// its managed identity endpoint, so the code above runs unchanged against it.
func startEmulator(s *settings, rbac bool) (*sessionstest.Server, error) {
	if s.subscription == "" {
		s.subscription = sessionstest.DefaultSubscriptionID
	}
	srv, err := sessionstest.Start(&sessionstest.Options{SubscriptionID: s.subscription, ResourceGroup: s.group, Location: s.location, RBAC: rbac})
	if err != nil {
		return nil, err
	}
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
