// Command setup mirrors the tutorial's "Setup" section: it registers the
// Microsoft.App resource provider (az provider register --namespace
// Microsoft.App) and creates the resource group (az group create).
//
// Against Azure, signed in with az login:
//
//	AZURE_SUBSCRIPTION_ID=<id> go run ./examples/setup -resource-group my-shell-session-rg -location northcentralus
//
// or against the local emulator (see emulator.go, which you leave out when
// copying this program):
//
//	go run ./examples/setup -emulator
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
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/shellpool/shellpool/identity"
	"github.com/shellpool/shellpool/pool"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, loadSettings()); err != nil {
		fmt.Fprintln(os.Stderr, "setup:", err)
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

	poller, err := pools.BeginRegisterProvider(ctx, pool.ProviderNamespace, nil)
	if err != nil {
		return err
	}
	// Registration is a poll of the provider's state; check it every second.
	provider, err := poller.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: time.Second})
	if err != nil {
		return err
	}
	fmt.Printf("Provider %s: %s\n", provider.Namespace, provider.RegistrationState)

	group, err := pools.CreateOrUpdateResourceGroup(ctx, s.group, pool.ResourceGroup{Location: s.location}, nil)
	if err != nil {
		return err
	}
	state := ""
	if group.Properties != nil {
		state = group.Properties.ProvisioningState
	}
	fmt.Printf("Resource group %s in %s: %s\n", group.Name, group.Location, state)
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
