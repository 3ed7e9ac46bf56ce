// Command pool-mcp mirrors the tutorial "Use MCP with dynamic sessions
// (shell)": it turns on the platform-managed MCP server of the shell session
// pool through Azure Resource Manager, fetches the server's API key, and
// calls the pool's two MCP tools with the MCP Go SDK's client: launchShell,
// then runShellCommandInRemoteEnvironment with a shellCommand and with an
// execCommandAndArgs array. The key is sent in the x-ms-apikey header and
// never printed.
//
// The MCP server is a preview feature: it needs a Microsoft.App api-version
// that has it (pool.SupportsMCPServer; the default, the tutorial's
// 2025-02-02-preview, does).
//
// Against Azure, after deploying the pool (examples/deploy-pool):
//
//	AZURE_SUBSCRIPTION_ID=<id> go run ./examples/pool-mcp
//
// or against the local emulator (see emulator.go, which you leave out when
// copying this program):
//
//	go run ./examples/pool-mcp -emulator
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/shellpool/shellpool/identity"
	"github.com/shellpool/shellpool/pool"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, loadSettings()); err != nil {
		fmt.Fprintln(os.Stderr, "pool-mcp:", err)
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
	armOpts.APIVersion = s.armAPIVersion // needs one with the MCP server, e.g. 2025-02-02-preview
	pools, err := pool.NewClient(s.subscription, cred, &pool.ClientOptions{ClientOptions: armOpts})
	if err != nil {
		return err
	}

	// Turn the MCP server on: mcpServerSettings cannot be patched, so PUT
	// the pool as it is, with the setting added.
	current, err := pools.Get(ctx, s.group, s.pool, nil)
	if err != nil {
		return err
	}
	p := current.SessionPool
	pool.WithMCPServer()(&p)
	poller, err := pools.BeginCreateOrUpdate(ctx, s.group, s.pool, p, nil)
	if err != nil {
		return err
	}
	if _, err := poller.PollUntilDone(ctx, nil); err != nil {
		return err
	}
	updated, err := pools.Get(ctx, s.group, s.pool, nil)
	if err != nil {
		return err
	}
	endpoint := updated.MCPEndpoint()
	if endpoint == "" {
		return fmt.Errorf("pool %s reports no MCP endpoint; check that it is a Shell pool", s.pool)
	}
	fmt.Println("MCP endpoint:", endpoint)

	creds, err := pools.FetchMCPServerCredentials(ctx, s.group, s.pool, nil)
	if err != nil {
		return err
	}
	fmt.Println("API key:", creds.APIKey) // prints REDACTED: the key never shows

	// The MCP client sends the key in x-ms-apikey on every request.
	base := http.DefaultTransport
	if hc, ok := opts.Transport.(*http.Client); ok && hc.Transport != nil {
		base = hc.Transport // the emulator's certificate (emulator.go)
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return err
	}
	httpClient := &http.Client{Transport: apiKeyTransport{key: creds.APIKey, host: u.Host, base: base}}
	client := mcp.NewClient(&mcp.Implementation{Name: "shellpool-pool-mcp", Version: "v0.1.0"}, nil)
	session, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: endpoint, HTTPClient: httpClient}, nil)
	if err != nil {
		return err
	}
	defer session.Close()
	init := session.InitializeResult()
	fmt.Printf("Server: %s (MCP %s)\n", init.ServerInfo.Name, init.ProtocolVersion)
	tools, err := session.ListTools(ctx, nil)
	if err != nil {
		return err
	}
	var names []string
	for _, t := range tools.Tools {
		names = append(names, t.Name)
	}
	fmt.Println("Tools:", strings.Join(names, ", "))

	launched, err := callTool(ctx, session, "launchShell", map[string]any{})
	if err != nil {
		return err
	}
	envID, _ := launched["environmentId"].(string)
	if envID == "" {
		return errors.New("launchShell returned no environmentId")
	}
	fmt.Println("Launched a shell environment") // its id is a secret, like a session identifier

	for _, args := range []map[string]any{
		{"shellCommand": "echo Hello from Azure Container Apps Shell Session!"},
		{"execCommandAndArgs": []string{"printf", "%s\n", "an argument with spaces and $(no expansion)"}},
	} {
		args["environmentId"] = envID
		out, err := callTool(ctx, session, "runShellCommandInRemoteEnvironment", args)
		if err != nil {
			return err
		}
		stdout, _ := out["stdout"].(string)
		fmt.Print(stdout)
	}
	return nil
}

// callTool calls a tool and returns its structured result; a tool error is
// an error.
func callTool(ctx context.Context, session *mcp.ClientSession, name string, args map[string]any) (map[string]any, error) {
	res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if res.IsError {
		var msg []string
		for _, c := range res.Content {
			if t, ok := c.(*mcp.TextContent); ok {
				msg = append(msg, t.Text)
			}
		}
		return nil, fmt.Errorf("%s failed: %s", name, strings.Join(msg, "; "))
	}
	out, ok := res.StructuredContent.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s returned no structured content", name)
	}
	return out, nil
}

// apiKeyTransport adds the MCP server's key to every request to its host,
// and refuses to send requests anywhere else (a redirect, say), so the key
// goes nowhere but the pool.
type apiKeyTransport struct {
	key  pool.MCPAPIKey
	host string
	base http.RoundTripper
}

func (t apiKeyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host != t.host {
		return nil, fmt.Errorf("refusing to send the MCP key to %s: the pool's MCP server is at %s", r.URL.Host, t.host)
	}
	r = r.Clone(r.Context())
	r.Header.Set("x-ms-apikey", t.key.Reveal())
	return t.base.RoundTrip(r)
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
	armAPIVersion                       string
}

func loadSettings() settings {
	var s settings
	flag.StringVar(&s.subscription, "subscription", os.Getenv("AZURE_SUBSCRIPTION_ID"), "Azure subscription ID ($AZURE_SUBSCRIPTION_ID)")
	flag.StringVar(&s.group, "resource-group", env("SHELLPOOL_RESOURCE_GROUP", "my-shell-session-rg"), "resource group ($SHELLPOOL_RESOURCE_GROUP)")
	flag.StringVar(&s.pool, "pool", env("SHELLPOOL_POOL", "myshellpool"), "session pool name ($SHELLPOOL_POOL)")
	flag.StringVar(&s.location, "location", env("SHELLPOOL_LOCATION", "northcentralus"), "Azure region ($SHELLPOOL_LOCATION)")
	flag.StringVar(&s.armAPIVersion, "arm-api-version", env("SHELLPOOL_ARM_API_VERSION", pool.DefaultARMAPIVersion), "Microsoft.App (Azure Resource Manager) api-version, one with the MCP server ($SHELLPOOL_ARM_API_VERSION)")
	flag.Parse()
	return s
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
