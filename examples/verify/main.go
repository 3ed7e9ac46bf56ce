// Command verify mirrors the tutorial's "Verify your deployment" step: it reads
// the session pool (az resource show: name, location, provisioningState) and
// lists the role assignments at the pool's scope as a table (az role
// assignment list --scope $POOL_ID --output table).
//
// Against Azure, after the earlier steps:
//
//	AZURE_SUBSCRIPTION_ID=<id> go run ./examples/verify
//
// or against the local emulator (see emulator.go, which you leave out when
// copying this program):
//
//	go run ./examples/verify -emulator
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"text/tabwriter"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/shellpool/shellpool/identity"
	"github.com/shellpool/shellpool/pool"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, loadSettings()); err != nil {
		fmt.Fprintln(os.Stderr, "verify:", err)
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
	poolOpts := armOpts
	poolOpts.APIVersion = s.armAPIVersion // azcore's api-version knob: Microsoft.App's
	pools, err := pool.NewClient(s.subscription, cred, &pool.ClientOptions{ClientOptions: poolOpts})
	if err != nil {
		return err
	}
	ids, err := identity.NewClient(s.subscription, cred, &identity.ClientOptions{ClientOptions: armOpts})
	if err != nil {
		return err
	}

	p, err := pools.Get(ctx, s.group, s.pool, nil)
	if err != nil {
		return err
	}
	fmt.Printf("Name: %s\nLocation: %s\nProvisioningState: %s\n\n", p.Name, p.Location, p.Properties.ProvisioningState)

	table := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(table, "Principal\tPrincipalType\tRole\tScope")
	pager := ids.NewListRoleAssignmentsPager(p.ID, nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, ra := range page.Value {
			role := ra.RoleDefinitionID
			if identity.SameRoleDefinition(role, identity.SessionExecutorRoleID) {
				role = "Azure ContainerApps Session Executor"
			}
			fmt.Fprintf(table, "%s\t%s\t%s\t%s\n", ra.PrincipalID, ra.PrincipalType, role, ra.Scope)
		}
	}
	return table.Flush()
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
