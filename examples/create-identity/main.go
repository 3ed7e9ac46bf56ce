// Command create-identity mirrors the tutorial's "Create user-assigned managed
// identity" step: it creates the identity "$POOL-uami" (az identity create)
// and prints its principal ID, which the role assignment names.
//
// Against Azure, after examples/setup:
//
//	AZURE_SUBSCRIPTION_ID=<id> go run ./examples/create-identity
//
// or against the local emulator (see emulator.go, which you leave out when
// copying this program):
//
//	go run ./examples/create-identity -emulator
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/shellpool/shellpool/identity"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, loadSettings()); err != nil {
		fmt.Fprintln(os.Stderr, "create-identity:", err)
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
	ids, err := identity.NewClient(s.subscription, cred, &identity.ClientOptions{ClientOptions: arm.ClientOptions{ClientOptions: opts}})
	if err != nil {
		return err
	}

	uami, err := ids.CreateOrUpdateIdentity(ctx, s.group, s.pool+"-uami", s.location, nil)
	if err != nil {
		return err
	}
	fmt.Println("Identity:", uami.ID)
	fmt.Println("Principal ID:", uami.PrincipalID)
	fmt.Println("Client ID:", uami.ClientID)
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
