// Command get-token mirrors the tutorial's "Get a bearer token" step, with the
// audience the data plane needs: the tutorial's `az account get-access-token`
// returns an Azure Resource Manager token, which the sessions API refuses with
// 401. This program requests a token for https://dynamicsessions.io and prints
// its audience, object ID and expiry. It never prints the token itself: anyone
// holding it can run commands in the pool. (The sessions client gets and
// refreshes tokens by itself; you need this only for curl.)
//
// Against Azure, signed in with az login:
//
//	AZURE_SUBSCRIPTION_ID=<id> go run ./examples/get-token
//
// or against the local emulator (see emulator.go, which you leave out when
// copying this program):
//
//	go run ./examples/get-token -emulator
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
	"github.com/shellpool/shellpool/identity"
	"github.com/shellpool/shellpool/sessions"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, loadSettings()); err != nil {
		fmt.Fprintln(os.Stderr, "get-token:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, s settings) error {
	_, stop, err := connect(&s) // Azure, or the emulator with -emulator (emulator.go)
	if err != nil {
		return err
	}
	defer stop()
	cred, err := identity.NewCredential(nil) // az login or a managed identity
	if err != nil {
		return err
	}

	token, err := identity.GetToken(ctx, cred, sessions.Audience, nil)
	if err != nil {
		return err
	}
	claims, err := token.Claims()
	if err != nil {
		return err
	}
	if err := claims.Check(sessions.Audience); err != nil {
		return err
	}
	fmt.Println("Audience:", claims.Audience)
	fmt.Println("Object ID:", claims.ObjectID)
	fmt.Println("Expires:", claims.ExpiresAt.Format(time.RFC3339))
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
