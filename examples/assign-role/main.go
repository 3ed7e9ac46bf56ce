// Command assign-role mirrors the tutorial's "Set role assignments for session
// execution APIs" step: it assigns the "Azure ContainerApps Session Executor"
// role on the session pool (az role assignment create --role 0fb8eba5-...
// --scope $POOL_ID). With -assignee identity (the default) the assignee is the
// managed identity "$POOL-uami" (principalType ServicePrincipal); with
// -assignee me it is the signed-in principal (principalType User), so the
// following steps work from a laptop. A just-created identity may not be
// visible yet: the assignment is retried until it is, instead of sleeping 30 s.
//
// Against Azure, after examples/deploy-pool and examples/create-identity:
//
//	AZURE_SUBSCRIPTION_ID=<id> go run ./examples/assign-role -assignee me
//
// or against the local emulator (see emulator.go, which you leave out when
// copying this program):
//
//	go run ./examples/assign-role -emulator
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
	"github.com/shellpool/shellpool/identity"
	"github.com/shellpool/shellpool/pool"
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
	opts, stop, err := connect(&s) // Azure, or the emulator with -emulator (emulator.go)
	if err != nil {
		return err
	}
	defer stop()
	cred, err := identity.NewCredential(nil) // az login or a managed identity
	if err != nil {
		return err
	}
	ids, err := identity.NewClient(s.subscription, cred, &identity.ClientOptions{ClientOptions: arm.ClientOptions{ClientOptions: opts}})
	if err != nil {
		return err
	}
	poolID, err := pool.ResourceID(s.subscription, s.group, s.pool)
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
}

func loadSettings() settings {
	var s settings
	flag.StringVar(&s.subscription, "subscription", os.Getenv("AZURE_SUBSCRIPTION_ID"), "Azure subscription ID ($AZURE_SUBSCRIPTION_ID)")
	flag.StringVar(&s.group, "resource-group", env("SHELLPOOL_RESOURCE_GROUP", "my-shell-session-rg"), "resource group ($SHELLPOOL_RESOURCE_GROUP)")
	flag.StringVar(&s.pool, "pool", env("SHELLPOOL_POOL", "myshellpool"), "session pool name ($SHELLPOOL_POOL)")
	flag.StringVar(&s.location, "location", env("SHELLPOOL_LOCATION", "northcentralus"), "Azure region ($SHELLPOOL_LOCATION)")
	flag.Parse()
	return s
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
