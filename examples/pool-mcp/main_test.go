package main

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/pool"
	"github.com/shellpool/shellpool/sessions/sessionstest"
)

// The key goes to the pool's MCP host only, never to another host (such as
// the target of a redirect).
func TestAPIKeyTransportSendsTheKeyToThePoolOnly(t *testing.T) {
	t.Parallel()
	var got []string
	pool1 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Header.Get("x-ms-apikey"))
	}))
	defer pool1.Close()
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, "other:"+r.Header.Get("x-ms-apikey"))
	}))
	defer other.Close()
	host := strings.TrimPrefix(pool1.URL, "http://")
	c := &http.Client{Transport: apiKeyTransport{key: pool.NewMCPAPIKey("the-key"), host: host, base: http.DefaultTransport}}

	resp, err := c.Post(pool1.URL+"/mcp", "application/json", strings.NewReader("{}"))
	require.NoError(t, err)
	resp.Body.Close()
	_, err = c.Post(other.URL+"/mcp", "application/json", strings.NewReader("{}"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "refusing to send the MCP key")
	assert.NotContains(t, err.Error(), "the-key")
	assert.Equal(t, []string{"the-key"}, got, "only the pool's host got a request, with the key")
}

// The emulator's MCP endpoint, driven by the MCP Go SDK's client directly:
// the tools, their results, a JSON-RPC error for an unknown tool, and a
// connection refused with a wrong key.
func TestEmulatorMCPWithTheSDKClient(t *testing.T) {
	t.Parallel()
	srv := sessionstest.NewServer(&sessionstest.Options{TB: t})
	ctx := t.Context()
	pools, err := pool.NewClient(srv.SubscriptionID(), srv.Credential(), &pool.ClientOptions{ClientOptions: arm.ClientOptions{ClientOptions: srv.ClientOptions()}})
	require.NoError(t, err)
	poller, err := pools.BeginCreateOrUpdate(ctx, srv.ResourceGroup(), "sdkpool", *pool.NewShellPool("sdkpool", "eastus", pool.WithMCPServer()), nil)
	require.NoError(t, err)
	_, err = poller.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: time.Millisecond})
	require.NoError(t, err)
	got, err := pools.Get(ctx, srv.ResourceGroup(), "sdkpool", nil)
	require.NoError(t, err)
	creds, err := pools.FetchMCPServerCredentials(ctx, srv.ResourceGroup(), "sdkpool", nil)
	require.NoError(t, err)
	u, err := url.Parse(got.MCPEndpoint())
	require.NoError(t, err)
	connect := func(key pool.MCPAPIKey) (*mcp.ClientSession, error) {
		hc := &http.Client{Transport: apiKeyTransport{key: key, host: u.Host, base: srv.Client().Transport}}
		c := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "v0"}, nil)
		return c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: got.MCPEndpoint(), HTTPClient: hc, MaxRetries: -1}, nil)
	}

	session, err := connect(creds.APIKey)
	require.NoError(t, err)
	defer session.Close()
	assert.Equal(t, "Microsoft Container Apps MCP Server", session.InitializeResult().ServerInfo.Name)
	assert.Equal(t, "2025-03-26", session.InitializeResult().ProtocolVersion)
	tools, err := session.ListTools(ctx, nil)
	require.NoError(t, err)
	require.Len(t, tools.Tools, 2)
	assert.Equal(t, "launchShell", tools.Tools[0].Name)
	assert.Equal(t, "runShellCommandInRemoteEnvironment", tools.Tools[1].Name)
	launched, err := callTool(ctx, session, "launchShell", map[string]any{})
	require.NoError(t, err)
	env := launched["environmentId"].(string)
	out, err := callTool(ctx, session, "runShellCommandInRemoteEnvironment", map[string]any{"environmentId": env, "shellCommand": "echo $((6*7)); exit 5"})
	require.NoError(t, err)
	assert.Equal(t, "42\n", out["stdout"])
	assert.Equal(t, float64(5), out["exitCode"])

	_, err = session.CallTool(ctx, &mcp.CallToolParams{Name: "rm", Arguments: map[string]any{}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "unknown tool")
	_, err = session.CallTool(ctx, &mcp.CallToolParams{Name: "runShellCommandInRemoteEnvironment", Arguments: map[string]any{"shellCommand": "echo hi"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "environmentId")

	_, err = connect(pool.NewMCPAPIKey("wrong"))
	require.Error(t, err, "a wrong key cannot connect")
	assert.False(t, strings.Contains(err.Error(), creds.APIKey.Reveal()), "the error shows the key")
}
