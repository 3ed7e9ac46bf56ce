package sessionstest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/pool"
	"github.com/shellpool/shellpool/sessions/sessionstest"
)

// mcpFixture is an emulator with a pool whose MCP server is enabled through
// ARM, as the tutorial does.
type mcpFixture struct {
	srv      *sessionstest.Server
	pools    *pool.Client
	endpoint string // the pool's mcpServerEndpoint
	key      string
}

func newMCPFixture(t *testing.T, name string, edit func(*pool.SessionPool)) *mcpFixture {
	t.Helper()
	srv := sessionstest.NewServer(&sessionstest.Options{TB: t})
	f := &mcpFixture{srv: srv}
	f.pools = mcpPoolClient(t, srv)
	f.endpoint, f.key = enableMCP(t, f.pools, srv, name, edit)
	return f
}

func mcpPoolClient(t *testing.T, srv *sessionstest.Server) *pool.Client {
	t.Helper()
	opts := arm.ClientOptions{ClientOptions: srv.ClientOptions()}
	c, err := pool.NewClient(srv.SubscriptionID(), srv.Credential(), &pool.ClientOptions{ClientOptions: opts})
	require.NoError(t, err)
	return c
}

// enableMCP creates the pool with MCP on and returns its MCP endpoint and key.
func enableMCP(t *testing.T, pools *pool.Client, srv *sessionstest.Server, name string, edit func(*pool.SessionPool)) (string, string) {
	t.Helper()
	ctx := t.Context()
	p := pool.NewShellPool(name, sessionstest.DefaultLocation, pool.WithMCPServer())
	if edit != nil {
		edit(p)
	}
	poller, err := pools.BeginCreateOrUpdate(ctx, srv.ResourceGroup(), name, *p, nil)
	require.NoError(t, err)
	_, err = poller.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: 1})
	require.NoError(t, err)
	got, err := pools.Get(ctx, srv.ResourceGroup(), name, nil)
	require.NoError(t, err)
	endpoint := got.MCPEndpoint()
	require.Equal(t, got.Endpoint()+"/mcp", endpoint, "the MCP endpoint is the pool endpoint's /mcp")
	cred, err := pools.FetchMCPServerCredentials(ctx, srv.ResourceGroup(), name, nil)
	require.NoError(t, err)
	return endpoint, cred.APIKey.Reveal()
}

type rpcAnswer struct {
	status int
	body   map[string]any
	raw    string
}

// post sends a JSON-RPC body as the tutorial's curl does.
func (f *mcpFixture) post(t *testing.T, key, body string) rpcAnswer {
	t.Helper()
	return postMCP(t, f.srv, f.endpoint, key, body)
}

func postMCP(t *testing.T, srv *sessionstest.Server, endpoint, key, body string) rpcAnswer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, endpoint, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("x-ms-apikey", key)
	}
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	a := rpcAnswer{status: resp.StatusCode, raw: string(b)}
	if len(bytes.TrimSpace(b)) > 0 {
		require.NoError(t, json.Unmarshal(b, &a.body), "body: %s", b)
	}
	return a
}

func dig(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

// The tutorial's requests, verbatim (with $ENVIRONMENT_ID filled in).
const (
	tutorialInitialize  = `{ "jsonrpc": "2.0", "id": "1", "method": "initialize" }`
	tutorialLaunchShell = `{ "jsonrpc": "2.0", "id": "2", "method": "tools/call", "params": { "name": "launchShell", "arguments": {} } }`
	tutorialRunHello    = `{
        "jsonrpc": "2.0",
        "id": "3",
        "method": "tools/call",
        "params": {
            "name": "runShellCommandInRemoteEnvironment",
            "arguments": {
                "environmentId": "ENVIRONMENT_ID",
                "shellCommand": "echo Hello from Azure Container Apps Shell Session!"
            }
        }
    }`
)

func runCommand(env, field, value string) string {
	return `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"runShellCommandInRemoteEnvironment","arguments":{"environmentId":"` + env + `","` + field + `":` + value + `}}}`
}

func (f *mcpFixture) launch(t *testing.T, key string) string {
	t.Helper()
	a := f.post(t, key, tutorialLaunchShell)
	require.Equal(t, http.StatusOK, a.status, a.raw)
	env, _ := dig(a.body, "result", "structuredContent", "environmentId").(string)
	require.NotEmpty(t, env, a.raw)
	return env
}

// stdout runs a shell command and returns its stdout.
func (f *mcpFixture) stdout(t *testing.T, key, env, cmd string) string {
	t.Helper()
	v, _ := json.Marshal(cmd)
	a := f.post(t, key, runCommand(env, "shellCommand", string(v)))
	require.Equal(t, http.StatusOK, a.status, a.raw)
	require.Nil(t, a.body["error"], a.raw)
	out, ok := dig(a.body, "result", "structuredContent", "stdout").(string)
	require.True(t, ok, a.raw)
	return out
}

func TestMCPTutorialRequestsVerbatim(t *testing.T) {
	t.Parallel()
	f := newMCPFixture(t, "mcppool", nil)

	a := f.post(t, f.key, tutorialInitialize)
	require.Equal(t, http.StatusOK, a.status, a.raw)
	assert.Equal(t, "1", a.body["id"])
	assert.Equal(t, "2.0", a.body["jsonrpc"])
	assert.Equal(t, "2025-03-26", dig(a.body, "result", "protocolVersion"))
	assert.Equal(t, "Microsoft Container Apps MCP Server", dig(a.body, "result", "serverInfo", "name"))
	assert.Equal(t, map[string]any{"call": true, "list": true}, dig(a.body, "result", "capabilities", "tools"))

	a = f.post(t, f.key, `{"jsonrpc":"2.0","id":9,"method":"tools/list"}`)
	require.Equal(t, http.StatusOK, a.status, a.raw)
	var names []string
	for _, tool := range dig(a.body, "result", "tools").([]any) {
		names = append(names, tool.(map[string]any)["name"].(string))
	}
	assert.Equal(t, []string{"launchShell", "runShellCommandInRemoteEnvironment"}, names)
	assert.Equal(t, float64(9), a.body["id"], "a numeric id comes back as sent")

	env := f.launch(t, f.key)
	a = f.post(t, f.key, strings.Replace(tutorialRunHello, "ENVIRONMENT_ID", env, 1))
	require.Equal(t, http.StatusOK, a.status, a.raw)
	assert.Equal(t, "Hello from Azure Container Apps Shell Session!\n", dig(a.body, "result", "structuredContent", "stdout"))
	assert.Equal(t, float64(0), dig(a.body, "result", "structuredContent", "exitCode"))
	assert.Equal(t, false, dig(a.body, "result", "isError"))
	assert.Equal(t, 1, f.srv.SessionCount("mcppool"), "the environment is a session of the pool")
}

func TestMCPCommandsRunInTheEnvironmentsSession(t *testing.T) {
	t.Parallel()
	f := newMCPFixture(t, "mcppool", nil)
	env := f.launch(t, f.key)
	assert.Empty(t, f.stdout(t, f.key, env, "echo kept > note.txt"))
	assert.Equal(t, "kept\n", f.stdout(t, f.key, env, "cat note.txt"), "files persist between commands of one environment")
	other := f.launch(t, f.key)
	assert.NotEqual(t, env, other)
	assert.Equal(t, "missing\n", f.stdout(t, f.key, other, "cat note.txt 2>/dev/null || echo missing"), "environments are separate sessions")

	a := f.post(t, f.key, runCommand(env, "execCommandAndArgs", `["printf","%s|","a b","$(not run)"]`))
	require.Equal(t, http.StatusOK, a.status, a.raw)
	assert.Equal(t, "a b|$(not run)|", dig(a.body, "result", "structuredContent", "stdout"), "execCommandAndArgs runs without a shell")

	out := f.stdout(t, f.key, env, "head -c 10000 /dev/zero | tr '\\0' a")
	assert.Len(t, out, 4096, "stdout is cut at 4,096 bytes, as on live pools")

	a = f.post(t, f.key, runCommand(env, "shellCommand", `"echo oops >&2; exit 3"`))
	assert.Equal(t, float64(3), dig(a.body, "result", "structuredContent", "exitCode"))
	assert.Equal(t, "oops\n", dig(a.body, "result", "structuredContent", "stderr"))
}

func TestMCPAuthentication(t *testing.T) {
	t.Parallel()
	f := newMCPFixture(t, "mcppool", nil)
	env := f.launch(t, f.key)

	a := f.post(t, "", tutorialInitialize)
	assert.Equal(t, http.StatusUnauthorized, a.status)
	assert.Equal(t, "Unauthorized", dig(a.body, "error", "code"))
	a = f.post(t, f.key+"x", tutorialInitialize)
	assert.Equal(t, http.StatusUnauthorized, a.status)
	assert.False(t, strings.Contains(a.raw, f.key), "an error never shows the key") // not NotContains: no key in test output

	rotated, err := f.pools.RotateMCPServerCredentials(t.Context(), f.srv.ResourceGroup(), "mcppool", nil)
	require.NoError(t, err)
	newKey := rotated.APIKey.Reveal()
	require.NotEqual(t, f.key, newKey)
	a = f.post(t, f.key, tutorialInitialize)
	assert.Equal(t, http.StatusUnauthorized, a.status, "the old key stops working at once")
	a = f.post(t, newKey, tutorialInitialize)
	assert.Equal(t, http.StatusOK, a.status, a.raw)
	a = f.post(t, newKey, runCommand(env, "shellCommand", `"touch ran"`))
	assert.Equal(t, float64(-32602), dig(a.body, "error", "code"), "an environment launched with another key: %s", a.raw)

	for _, r := range f.srv.Requests() {
		for k, v := range r.Header {
			joined := strings.Join(v, ",")
			assert.False(t, strings.Contains(joined, f.key) || strings.Contains(joined, newKey), "header %s records a key", k)
		}
	}

	// Without MCP: the service's answer.
	a = postMCP(t, f.srv, f.srv.PoolEndpoint()+"/mcp", newKey, tutorialInitialize)
	assert.Equal(t, http.StatusBadRequest, a.status)
	assert.Equal(t, "SessionMCPServerNotEnabled", dig(a.body, "error", "code"))
}

func TestMCPWithAPIKeyDisabled(t *testing.T) {
	t.Parallel()
	f := newMCPFixture(t, "openpool", func(p *pool.SessionPool) {
		p.Properties.MCPServerSettings.IsMCPServerAPIKeyDisabled = to.Ptr(true)
	})
	env := f.launch(t, "")
	assert.Equal(t, "open\n", f.stdout(t, "", env, "echo open"))
}

// Bad requests get JSON-RPC errors and run nothing.
func TestMCPBadRequestsRunNothing(t *testing.T) {
	t.Parallel()
	f := newMCPFixture(t, "mcppool", nil)
	env := f.launch(t, f.key)
	touch := runCommand(env, "shellCommand", `"touch ran"`)
	other, otherKey := enableMCP(t, f.pools, f.srv, "otherpool", nil)
	otherA := postMCP(t, f.srv, other, otherKey, tutorialLaunchShell)
	otherEnv, _ := dig(otherA.body, "result", "structuredContent", "environmentId").(string)
	require.NotEmpty(t, otherEnv)

	tests := []struct {
		name   string
		body   string
		status int
		code   float64
	}{
		{"malformed JSON", `{"jsonrpc":"2.0","id":1,"method":"tools/call"`, 400, -32700},
		{"not an object", `"tools/call"`, 400, -32600},
		{"no jsonrpc", `{"id":1,"method":"tools/list"}`, 400, -32600},
		{"batch", "[" + touch + "]", 400, -32600},
		{"oversize body", strings.Replace(touch, `"touch ran"`, `"touch ran #`+strings.Repeat("x", sessionstest.MaxMCPRequestBytes)+`"`, 1), 413, -32600},
		{"unknown method", `{"jsonrpc":"2.0","id":1,"method":"shell/exec","params":{}}`, 200, -32601},
		{"unknown tool", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"touch","arguments":{"environmentId":"` + env + `"}}}`, 200, -32602},
		{"missing environmentId", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"runShellCommandInRemoteEnvironment","arguments":{"shellCommand":"touch ran"}}}`, 200, -32602},
		{"invented environmentId", runCommand("0f8b2c4e-3d1a-4b5c-9e7f-123456789abc.AAAA", "shellCommand", `"touch ran"`), 200, -32602},
		{"environmentId of another pool", runCommand(otherEnv, "shellCommand", `"touch ran"`), 200, -32602},
		{"no command", runCommand(env, "timeoutInSeconds", `5`), 200, -32602},
		{"both command forms", strings.Replace(touch, `"shellCommand"`, `"execCommandAndArgs":["touch","ran"],"shellCommand"`, 1), 200, -32602},
		{"command of the wrong type", runCommand(env, "execCommandAndArgs", `"touch ran"`), 200, -32602},
	}
	for _, tt := range tests {
		a := f.post(t, f.key, tt.body)
		assert.Equal(t, tt.status, a.status, "%s: %s", tt.name, a.raw)
		assert.Equal(t, tt.code, dig(a.body, "error", "code"), "%s: %s", tt.name, a.raw)
		msg, _ := dig(a.body, "error", "message").(string)
		assert.NotEmpty(t, msg, tt.name)
		assert.Nil(t, a.body["result"], tt.name)
	}
	a := f.post(t, f.key, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	assert.Equal(t, http.StatusAccepted, a.status, "a notification gets no answer")
	assert.Empty(t, a.raw)
	assert.Equal(t, "absent\n", f.stdout(t, f.key, env, "test -e ran && echo present || echo absent"), "no bad request ran its command")

	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, f.endpoint, nil)
	require.NoError(t, err)
	req.Header.Set("x-ms-apikey", f.key)
	resp, err := f.srv.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode, "MCP clients' optional GET stream is not offered")
}

// launchShell on a full pool is a tool error that says why; the next one
// works once a session is gone.
func TestMCPLaunchShellOnAFullPool(t *testing.T) {
	t.Parallel()
	f := newMCPFixture(t, "tinypool", func(p *pool.SessionPool) {
		p.Properties.ScaleConfiguration.MaxConcurrentSessions = to.Ptr[int32](1)
	})
	f.launch(t, f.key)
	a := f.post(t, f.key, tutorialLaunchShell)
	require.Equal(t, http.StatusOK, a.status, a.raw)
	assert.Equal(t, true, dig(a.body, "result", "isError"), a.raw)
	text, _ := dig(a.body, "result", "content").([]any)
	require.Len(t, text, 1)
	assert.Contains(t, text[0].(map[string]any)["text"], "maxConcurrentSessions (1)")
	assert.Nil(t, dig(a.body, "result", "structuredContent"), "no environment")
	assert.Equal(t, 1, f.srv.SessionCount("tinypool"))
}
