//go:build unix

package pool_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	azlog "github.com/Azure/azure-sdk-for-go/sdk/azcore/log"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/pool"
	"github.com/shellpool/shellpool/sessions/sessionstest"
)

// mcpInitialize sends the MCP tutorial's initialize request with key and
// returns the HTTP status.
func mcpInitialize(t *testing.T, srv *sessionstest.Server, endpoint, key string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, endpoint,
		strings.NewReader(`{ "jsonrpc": "2.0", "id": "1", "method": "initialize" }`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("x-ms-apikey", key)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// The MCP tutorial's deploy.json, deployed as written, and a rendered
// template with WithMCPServer, give pools whose MCP server answers with the
// key the client fetches; rotation turns the old key away.
func TestEmulatorMCPTemplateFetchRotate(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	ctx := t.Context()

	deployJSON, err := os.ReadFile(filepath.Join("testdata", "tutorial_mcp_deploy.json"))
	require.NoError(t, err)
	dep, err := c.BeginDeployJSON(ctx, emuRG, "", deployJSON, &pool.BeginDeployOptions{Parameters: map[string]any{"name": "tutorialmcp", "location": "westus2"}})
	require.NoError(t, err)
	_, err = dep.PollUntilDone(ctx, emuPoll)
	require.NoError(t, err)

	tmpl := pool.NewTemplate(pool.NewShellPool("rendered", "", pool.WithMCPServer()))
	tmpl.Parameterize = true
	dep2, err := c.BeginDeploy(ctx, emuRG, "", tmpl, &pool.BeginDeployOptions{Parameters: map[string]any{"name": "renderedmcp", "location": "eastus"}})
	require.NoError(t, err)
	_, err = dep2.PollUntilDone(ctx, emuPoll)
	require.NoError(t, err)

	for _, name := range []string{"tutorialmcp", "renderedmcp"} {
		got, err := c.Get(ctx, emuRG, name, nil)
		require.NoError(t, err)
		require.NotNil(t, got.Properties.MCPServerSettings, name)
		assert.True(t, *got.Properties.MCPServerSettings.IsMCPServerEnabled, name)
		endpoint := got.MCPEndpoint()
		assert.Equal(t, got.Endpoint()+"/mcp", endpoint, name)
		listed := false
		for pager := c.NewListByResourceGroupPager(emuRG, nil); pager.More(); {
			page, err := pager.NextPage(ctx)
			require.NoError(t, err)
			for _, p := range page.Value {
				if p.Name == name {
					listed = true
					assert.Equal(t, endpoint, p.MCPEndpoint(), "List shows the MCP settings too")
				}
			}
		}
		assert.True(t, listed, name)

		fetched, err := c.FetchMCPServerCredentials(ctx, emuRG, name, nil)
		require.NoError(t, err)
		old := fetched.APIKey.Reveal()
		require.NotEmpty(t, old)
		assert.Equal(t, http.StatusOK, mcpInitialize(t, srv, endpoint, old), name)
		again, err := c.FetchMCPServerCredentials(ctx, emuRG, name, nil)
		require.NoError(t, err)
		assert.Equal(t, old, again.APIKey.Reveal(), "fetching does not change the key")

		rotated, err := c.RotateMCPServerCredentials(ctx, emuRG, name, nil)
		require.NoError(t, err)
		assert.NotEqual(t, old, rotated.APIKey.Reveal())
		assert.Equal(t, http.StatusUnauthorized, mcpInitialize(t, srv, endpoint, old), "the old key is refused after rotation")
		assert.Equal(t, http.StatusOK, mcpInitialize(t, srv, endpoint, rotated.APIKey.Reveal()))
	}
}

func TestEmulatorMCPNotEnabled(t *testing.T) {
	t.Parallel()
	_, c := newEmulator(t)
	ctx := t.Context()
	_, err := c.CreateOrUpdateResourceGroup(ctx, otherRG, pool.ResourceGroup{Location: "eastus"}, nil)
	require.NoError(t, err)
	poller, err := c.BeginCreateOrUpdate(ctx, otherRG, "plainpool", *pool.NewShellPool("plainpool", "eastus"), nil)
	require.NoError(t, err)
	_, err = poller.PollUntilDone(ctx, emuPoll)
	require.NoError(t, err)

	_, err = c.FetchMCPServerCredentials(ctx, otherRG, "plainpool", nil)
	require.Error(t, err)
	assert.ErrorIs(t, err, pool.ErrMCPServerNotEnabled)
	var re *azcore.ResponseError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, pool.ErrorCodeMCPServerNotEnabled, re.ErrorCode)
	assert.Contains(t, err.Error(), "pool.WithMCPServer", "the error says what to do")
	_, err = c.RotateMCPServerCredentials(ctx, otherRG, "plainpool", nil)
	assert.ErrorIs(t, err, pool.ErrMCPServerNotEnabled)

	_, err = c.FetchMCPServerCredentials(ctx, otherRG, "nopool", nil)
	require.ErrorAs(t, err, &re)
	assert.Equal(t, http.StatusNotFound, re.StatusCode)
	assert.NotErrorIs(t, err, pool.ErrMCPServerNotEnabled)
}

// A client whose api-version has no MCP server refuses MCP settings and the
// credential actions before sending anything.
func TestEmulatorMCPNeedsAnAPIVersionThatHasIt(t *testing.T) {
	t.Parallel()
	srv := sessionstest.NewServer(&sessionstest.Options{TB: t})
	opts := arm.ClientOptions{ClientOptions: srv.ClientOptions()}
	opts.APIVersion = "2026-01-01"
	c, err := pool.NewClient(srv.SubscriptionID(), srv.Credential(), &pool.ClientOptions{ClientOptions: opts})
	require.NoError(t, err)
	srv.ResetRequests()
	_, err = c.BeginCreateOrUpdate(t.Context(), srv.ResourceGroup(), "mcppool", *pool.NewShellPool("mcppool", "eastus", pool.WithMCPServer()), nil)
	require.Error(t, err)
	assert.ErrorIs(t, err, pool.ErrInvalidArgument)
	assert.Contains(t, err.Error(), "api-version 2025-10-02-preview")
	for _, call := range []func() error{
		func() error {
			_, err := c.FetchMCPServerCredentials(t.Context(), srv.ResourceGroup(), "mcppool", nil)
			return err
		},
		func() error {
			_, err := c.RotateMCPServerCredentials(t.Context(), srv.ResourceGroup(), "mcppool", nil)
			return err
		},
	} {
		err := call()
		assert.ErrorIs(t, err, pool.ErrInvalidArgument)
		assert.Contains(t, err.Error(), "2025-10-02-preview")
	}
	assert.Empty(t, srv.Requests(), "nothing was sent")
}

// logSink collects azcore's log lines.
type logSink struct {
	mu    sync.Mutex
	lines []string
}

func (l *logSink) add(_ azlog.Event, msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, msg)
}

func (l *logSink) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// The key never reaches azcore's logs, even with request and response
// bodies logged, nor an error message.
func TestMCPKeyNeverLogged(t *testing.T) { //nolint:paralleltest // sets azcore's global log listener
	srv := sessionstest.NewServer(&sessionstest.Options{TB: t})
	co := srv.ClientOptions()
	co.Logging = policy.LogOptions{IncludeBody: true}
	c, err := pool.NewClient(srv.SubscriptionID(), srv.Credential(), &pool.ClientOptions{ClientOptions: arm.ClientOptions{ClientOptions: co}})
	require.NoError(t, err)
	var logs logSink
	azlog.SetListener(logs.add)
	t.Cleanup(func() { azlog.SetListener(nil) })

	ctx := t.Context()
	poller, err := c.BeginCreateOrUpdate(ctx, srv.ResourceGroup(), "mcppool", *pool.NewShellPool("mcppool", "eastus", pool.WithMCPServer()), nil)
	require.NoError(t, err)
	_, err = poller.PollUntilDone(ctx, emuPoll)
	require.NoError(t, err)
	fetched, err := c.FetchMCPServerCredentials(ctx, srv.ResourceGroup(), "mcppool", nil)
	require.NoError(t, err)
	rotated, err := c.RotateMCPServerCredentials(ctx, srv.ResourceGroup(), "mcppool", nil)
	require.NoError(t, err)
	got, err := c.Get(ctx, srv.ResourceGroup(), "mcppool", nil)
	require.NoError(t, err)
	azlog.SetListener(nil)

	out := logs.String()
	assert.Contains(t, out, "fetchMcpServerCredentials", "the listener saw the credential requests")
	assert.Contains(t, out, "rotateMcpServerCredentials")
	assert.Contains(t, out, `"isMcpServerEnabled"`, "bodies of other requests are logged, as asked")
	for _, key := range []string{fetched.APIKey.Reveal(), rotated.APIKey.Reveal()} {
		require.NotEmpty(t, key)
		// assert.False, not NotContains: a failure must not print the key.
		assert.False(t, strings.Contains(out, key), "a log line holds a key")
	}
	assert.False(t, strings.Contains(out, `"apiKey"`), "a log line holds a credential body")
	assert.NotEmpty(t, got.MCPEndpoint())
}
