// Command cleanup mirrors the tutorial's "Clean up resources" step: it deletes
// the resource group and everything in it (az group delete) and waits until
// the deletion has finished.
//
// Against Azure (this deletes the whole resource group):
//
//	AZURE_SUBSCRIPTION_ID=<id> go run ./examples/cleanup -resource-group my-shell-session-rg
//
// or against the local emulator (see emulator.go, which you leave out when
// copying this program):
//
//	go run ./examples/cleanup -emulator
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/shellpool/shellpool/identity"
	"github.com/shellpool/shellpool/pool"
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

	fmt.Println("Deleting resource group", s.group, "...")
	poller, err := pools.BeginDeleteResourceGroup(ctx, s.group, nil)
	if err != nil {
		return err
	}
	// Azure's Retry-After header, when sent, overrides the one-second default.
	if _, err := poller.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: time.Second}); err != nil {
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
	subscription, group, pool, location, armAPIVersion string
}

func loadSettings() settings {
	var s settings
	flag.StringVar(&s.subscription, "subscription", os.Getenv("AZURE_SUBSCRIPTION_ID"), "Azure subscription ID ($AZURE_SUBSCRIPTION_ID)")
	flag.StringVar(&s.group, "resource-group", env("SHELLPOOL_RESOURCE_GROUP", "my-shell-session-rg"), "resource group ($SHELLPOOL_RESOURCE_GROUP)")
	flag.StringVar(&s.pool, "pool", env("SHELLPOOL_POOL", "myshellpool"), "session pool name ($SHELLPOOL_POOL)")
	flag.StringVar(&s.location, "location", env("SHELLPOOL_LOCATION", "northcentralus"), "Azure region ($SHELLPOOL_LOCATION)")
	flag.StringVar(&s.armAPIVersion, "arm-api-version", env("SHELLPOOL_ARM_API_VERSION", pool.DefaultARMAPIVersion), "Microsoft.App (Azure Resource Manager) api-version ($SHELLPOOL_ARM_API_VERSION)")
	flag.Parse()
	return s
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
