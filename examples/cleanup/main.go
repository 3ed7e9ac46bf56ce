// Command cleanup mirrors the tutorial's "Clean up resources" step: it deletes
// the resource group and everything in it (az group delete) and waits until
// the deletion has finished.
//
// Run it against the built-in emulator (no Azure account needed):
//
//	go run ./examples/cleanup
//
// or against Azure (this deletes the whole resource group):
//
//	AZURE_SUBSCRIPTION_ID=<id> go run ./examples/cleanup -resource-group my-shell-session-rg
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/shellpool/shellpool/identity"
	"github.com/shellpool/shellpool/pool"
	"github.com/shellpool/shellpool/sessions/sessionstest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, loadSettings()); err != nil {
		fmt.Fprintln(os.Stderr, "cleanup:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, s settings) error {
	var opts arm.ClientOptions
	if s.emulator {
		srv, err := startEmulator(&s, false)
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
	if s.emulator { // the earlier steps: a resource group with a pool in it
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
	}

	fmt.Println("Deleting resource group", s.group, "...")
	poller, err := pools.BeginDeleteResourceGroup(ctx, s.group, nil)
	if err != nil {
		return err
	}
	if _, err := poller.PollUntilDone(ctx, nil); err != nil {
		return err
	}
	_, err = pools.GetResourceGroup(ctx, s.group, nil)
	var respErr *azcore.ResponseError
	if !errors.As(err, &respErr) || respErr.StatusCode != http.StatusNotFound {
		return fmt.Errorf("resource group %s still exists after deletion (%v)", s.group, err)
	}
	fmt.Println("Resource group", s.group, "deleted")
	return nil
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
