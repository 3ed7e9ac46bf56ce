// Command quickstart runs the whole tutorial in one process, printing each
// step as it goes: register Microsoft.App and create the resource group, write
// deploy.json and deploy the shell session pool, create the managed identity
// "$POOL-uami", assign it the Session Executor role on the pool, verify, get a
// token for https://dynamicsessions.io, run `echo 'hello world'; echo 'hi'` in
// a session and print its output and exit code, and delete the resource
// group (unless -keep). Once the resource group exists it is deleted on every
// way out, failures and Ctrl+C included, so nothing is left behind (against
// Azure: nothing is billed) unless you pass -keep.
//
// Without AZURE_SUBSCRIPTION_ID it runs locally, against the emulator (see
// emulator.go, which you leave out when copying this program), and says so in
// its first line; it finishes in about a second:
//
//	go run ./examples/quickstart
//
// Against Azure from a laptop (the role goes to you instead of the managed
// identity, whose tokens only code running in Azure can get):
//
//	AZURE_SUBSCRIPTION_ID=<id> go run ./examples/quickstart -assignee me
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
	"github.com/shellpool/shellpool/sessions"
)

var (
	assignee = flag.String("assignee", "identity", "who gets the role and runs the command: identity ($POOL-uami) or me (the signed-in principal)")
	keep     = flag.Bool("keep", false, "keep the resource group instead of deleting it at the end")
	out      = flag.String("out", "", "also save the ARM template (deploy.json) to this path")
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, loadSettings()); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, s settings) (err error) {
	if *assignee != "identity" && *assignee != "me" {
		return fmt.Errorf("-assignee must be identity or me, not %q", *assignee)
	}
	opts, stop, err := connect(&s) // Azure; emulator.go runs it locally without AZURE_SUBSCRIPTION_ID
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
	every := &runtime.PollUntilDoneOptions{Frequency: time.Second} // Azure's Retry-After, when sent, wins

	fmt.Println("1. Register Microsoft.App and create resource group", s.group)
	reg, err := pools.BeginRegisterProvider(ctx, pool.ProviderNamespace, nil)
	if err != nil {
		return err
	}
	if _, err := reg.PollUntilDone(ctx, every); err != nil {
		return err
	}
	if _, err := pools.CreateOrUpdateResourceGroup(ctx, s.group, pool.ResourceGroup{Location: s.location}, nil); err != nil {
		return err
	}
	defer func() { // from here on, every way out deletes what was made
		if *keep {
			fmt.Println("8. Keep resource group", s.group, "(-keep); delete it with examples/cleanup")
			return
		}
		fmt.Println("8. Clean up: delete resource group", s.group)
		err = errors.Join(err, deleteGroup(context.WithoutCancel(ctx), pools, s.group, every))
	}()

	fmt.Println("2. Render deploy.json and deploy session pool", s.pool)
	template := pool.NewTemplate(pool.NewShellPool(s.pool, s.location))
	template.APIVersion = s.armAPIVersion
	deployJSON, err := template.Render()
	if err != nil {
		return err
	}
	if *out != "" {
		if err := os.WriteFile(*out, deployJSON, 0o644); err != nil {
			return err
		}
	}
	deploy, err := pools.BeginDeployJSON(ctx, s.group, "", deployJSON, nil)
	if err != nil {
		return err
	}
	if _, err := deploy.PollUntilDone(ctx, every); err != nil {
		return err
	}
	p, err := pools.Get(ctx, s.group, s.pool, nil)
	if err != nil {
		return err
	}
	fmt.Println("   provisioningState:", p.Properties.ProvisioningState)

	fmt.Println("3. Create managed identity", s.pool+"-uami")
	uami, err := ids.CreateOrUpdateIdentity(ctx, s.group, s.pool+"-uami", s.location, nil)
	if err != nil {
		return err
	}
	fmt.Println("   principal ID:", uami.PrincipalID)

	runAs, principalID, principalType := cred, uami.PrincipalID, identity.PrincipalTypeServicePrincipal
	if *assignee == "identity" { // the identity's own tokens, as code running in Azure with it gets them
		if runAs, err = identity.NewCredential(&identity.CredentialOptions{ClientID: uami.ClientID}); err != nil {
			return err
		}
	} else if principalID, err = signedInObjectID(ctx, cred); err != nil {
		return err
	} else {
		principalType = identity.PrincipalTypeUser
	}
	fmt.Println("4. Assign Session Executor on the pool to", principalType, principalID)
	roleCtx, cancel := context.WithTimeout(ctx, 5*time.Minute) // PrincipalNotFound is retried until then
	defer cancel()
	if _, err := ids.AssignSessionExecutor(roleCtx, p.ID, principalID, &identity.AssignRoleOptions{PrincipalType: principalType}); err != nil {
		return err
	}

	fmt.Println("5. Verify: role assignments at the pool's scope")
	pager := ids.NewListRoleAssignmentsPager(p.ID, nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, ra := range page.Value {
			fmt.Printf("   %s %s %s\n", ra.PrincipalType, ra.PrincipalID, ra.RoleDefinitionID)
		}
	}

	fmt.Println("6. Get a bearer token for", sessions.Audience)
	token, err := identity.GetToken(ctx, runAs, sessions.Audience, nil)
	if err != nil {
		return err
	}
	claims, err := token.Claims()
	if err != nil {
		return err
	}
	fmt.Printf("   audience %s, object ID %s, expires %s\n", claims.Audience, claims.ObjectID, claims.ExpiresAt.Format(time.RFC3339))

	fmt.Println("7. Execute: echo 'hello world'; echo 'hi'")
	dataOpts := opts // the data-plane api-version is azcore's APIVersion option
	dataOpts.APIVersion = s.sessionsAPIVersion
	client, err := sessions.NewClient(p.Endpoint(), runAs, &sessions.ClientOptions{ClientOptions: dataOpts})
	if err != nil {
		return err
	}
	session := client.NewSessionClient(sessions.NewSessionID())
	resp, err := session.Execute(ctx, sessions.ShellCommand("echo 'hello world'; echo 'hi'"), nil)
	if err != nil {
		return err
	}
	fmt.Print(resp.Stdout)
	if resp.ExitCode != nil {
		fmt.Println("Exit code:", *resp.ExitCode)
	}
	return session.Close(ctx) // frees the session's place in the pool
}

// deleteGroup deletes the resource group and waits until it is gone. It
// gets its own time limit: it also runs after Ctrl+C ended the other steps.
func deleteGroup(ctx context.Context, pools *pool.Client, group string, every *runtime.PollUntilDoneOptions) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	del, err := pools.BeginDeleteResourceGroup(ctx, group, nil)
	if err != nil {
		return fmt.Errorf("delete resource group %s (delete it yourself with examples/cleanup): %w", group, err)
	}
	if _, err := del.PollUntilDone(ctx, every); err != nil {
		return fmt.Errorf("delete resource group %s (delete it yourself with examples/cleanup): %w", group, err)
	}
	return nil
}

// signedInObjectID returns the object ID (oid) of the principal cred signs in as.
func signedInObjectID(ctx context.Context, cred azcore.TokenCredential) (string, error) {
	token, err := identity.GetToken(ctx, cred, identity.ARMAudience, nil)
	if err != nil {
		return "", err
	}
	claims, err := token.Claims()
	return claims.ObjectID, err
}

// connect returns the client options for Azure and a function to call when
// done; without a subscription it refuses to run. The examples' emulator.go,
// which you leave out when you copy this program, replaces it to run locally
// against the emulator instead.
var connect = func(s *settings) (opts azcore.ClientOptions, stop func(), err error) {
	if s.subscription == "" {
		return opts, nil, errors.New("set AZURE_SUBSCRIPTION_ID (or -subscription) to use Azure")
	}
	return opts, func() {}, nil
}

// settings are the tutorial's variables, from flags or environment variables.
type settings struct {
	subscription, group, pool, location string
	armAPIVersion, sessionsAPIVersion   string
}

func loadSettings() settings {
	var s settings
	flag.StringVar(&s.subscription, "subscription", os.Getenv("AZURE_SUBSCRIPTION_ID"), "Azure subscription ID ($AZURE_SUBSCRIPTION_ID)")
	flag.StringVar(&s.group, "resource-group", env("SHELLPOOL_RESOURCE_GROUP", "my-shell-session-rg"), "resource group ($SHELLPOOL_RESOURCE_GROUP)")
	flag.StringVar(&s.pool, "pool", env("SHELLPOOL_POOL", "myshellpool"), "session pool name ($SHELLPOOL_POOL)")
	flag.StringVar(&s.location, "location", env("SHELLPOOL_LOCATION", "northcentralus"), "Azure region ($SHELLPOOL_LOCATION)")
	flag.StringVar(&s.armAPIVersion, "arm-api-version", env("SHELLPOOL_ARM_API_VERSION", pool.DefaultARMAPIVersion), "Microsoft.App (Azure Resource Manager) api-version ($SHELLPOOL_ARM_API_VERSION)")
	flag.StringVar(&s.sessionsAPIVersion, "sessions-api-version", env("SHELLPOOL_SESSIONS_API_VERSION", sessions.DefaultDataPlaneAPIVersion), "sessions data-plane api-version ($SHELLPOOL_SESSIONS_API_VERSION)")
	flag.Parse()
	return s
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
