package sessionstest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/identity"
	"github.com/shellpool/shellpool/sessions"
	"github.com/shellpool/shellpool/sessions/sessionstest"
)

func TestClientExecuteAgainstEmulator(t *testing.T) {
	t.Parallel()
	srv := sessionstest.NewServer(&sessionstest.Options{TB: t})
	for _, ep := range []struct{ name, url string }{
		{"regional form", srv.PoolEndpoint()},
		{"host form", srv.PoolHostEndpoint(sessionstest.DefaultPoolName)},
	} {
		t.Run(ep.name, func(t *testing.T) {
			c := newClient(t, srv, ep.url, srv.Credential())
			sid := sessions.NewSessionID()
			resp, err := c.Execute(t.Context(), sid, sessions.ShellCommand("echo hello; exit 3"), nil)
			require.NoError(t, err)
			assert.Equal(t, "hello\n", resp.Stdout)
			require.NotNil(t, resp.ExitCode)
			assert.Equal(t, 3, *resp.ExitCode)
			assert.NotEmpty(t, resp.OperationID)

			resp, err = c.Execute(t.Context(), sid, sessions.ExecCommand("printf", "%s|%s", "a b", "c"), nil)
			require.NoError(t, err)
			assert.Equal(t, "a b|c", resp.Stdout)
		})
	}
}

func TestClientSeesTimeoutAndTruncation(t *testing.T) {
	needUnix(t)
	t.Parallel()
	srv := sessionstest.NewServer(&sessionstest.Options{TB: t, MaxTimeout: time.Second})
	c := newClient(t, srv, srv.PoolEndpoint(), srv.Credential())
	resp, err := c.Execute(t.Context(), sessions.NewSessionID(), sessions.ShellCommand("echo before; sleep 30"), nil)
	require.NoError(t, err)
	assert.True(t, resp.TimedOut)
	assert.Equal(t, "before\n", resp.Stdout)

	resp, err = c.Execute(t.Context(), sessions.NewSessionID(), sessions.ShellCommand("head -c 10000 /dev/zero | tr '\\0' x"), nil)
	require.NoError(t, err)
	assert.Len(t, resp.Stdout, sessionstest.DefaultOutputStreamsMaxLength)
	assert.True(t, resp.Truncated)
}

func TestClientErrorsMapToSentinels(t *testing.T) {
	t.Parallel()
	srv := sessionstest.NewServer(&sessionstest.Options{TB: t, RBAC: true,
		Pools: []sessionstest.Pool{{Name: "tiny", MaxConcurrentSessions: 1}}})
	ctx := t.Context()

	// Wrong audience: the ARM token is refused with 401.
	armOnly := armCredential{srv}
	_, err := newClient(t, srv, srv.PoolEndpoint(), armOnly).Execute(ctx, sessions.NewSessionID(), sessions.ShellCommand("true"), nil)
	require.ErrorIs(t, err, sessions.ErrUnauthorized)
	var re *azcore.ResponseError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "InvalidAuthenticationToken", re.ErrorCode)

	c := newClient(t, srv, srv.PoolEndpoint(), srv.Credential())
	_, err = c.Execute(ctx, sessions.NewSessionID(), sessions.ShellCommand("true"), nil)
	require.ErrorIs(t, err, sessions.ErrForbidden)

	srv.GrantSessionExecutor(srv.PrincipalID(), "tiny")
	_, err = c.Execute(ctx, sessions.NewSessionID(), sessions.ShellCommand("true"), nil)
	require.NoError(t, err)
	_, err = c.Execute(ctx, sessions.NewSessionID(), sessions.ShellCommand("true"), nil)
	require.ErrorIs(t, err, sessions.ErrPoolAtCapacity)

	_, err = c.GetSession(ctx, sessions.NewSessionID(), nil)
	require.ErrorIs(t, err, sessions.ErrSessionNotFound)
}

func TestClientRetryRunsOnce(t *testing.T) {
	t.Parallel()
	srv := sessionstest.NewServer(&sessionstest.Options{TB: t})
	c := newClient(t, srv, srv.PoolEndpoint(), srv.Credential())
	sid := sessions.NewSessionID()
	srv.InjectFault(sessionstest.Fault{Method: http.MethodPost, Path: "/executions", DropAfterRun: true})
	resp, err := c.Execute(t.Context(), sid, sessions.ShellCommand("echo x >> runs; wc -l < runs"), &sessions.ExecuteOptions{RetryAmbiguousFailures: true})
	require.NoError(t, err)
	assert.Equal(t, "1\n", resp.Stdout)
	resp, err = c.Execute(t.Context(), sid, sessions.ShellCommand("cat runs"), nil)
	require.NoError(t, err)
	assert.Equal(t, "x\n", resp.Stdout, "the command ran exactly once despite the retry")
	var posts int
	for _, r := range srv.Requests() {
		if r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/executions") {
			posts++
		}
	}
	assert.Equal(t, 3, posts, "two attempts for the first call, one for the second")
}

func TestClientFilesAndSessions(t *testing.T) {
	t.Parallel()
	srv := sessionstest.NewServer(&sessionstest.Options{TB: t})
	c := newClient(t, srv, srv.PoolEndpoint(), srv.Credential())
	ctx := t.Context()
	sid := sessions.NewSessionID()
	_, err := c.UploadFile(ctx, sid, "data.txt", bytes.NewReader([]byte("payload")), nil)
	require.NoError(t, err)
	resp, err := c.Execute(ctx, sid, sessions.ShellCommand("tr a-z A-Z < data.txt > up.txt"), nil)
	require.NoError(t, err)
	require.Equal(t, 0, *resp.ExitCode)
	dl, err := c.DownloadFile(ctx, sid, "up.txt", nil)
	require.NoError(t, err)
	b, err := io.ReadAll(dl.Body)
	dl.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, "PAYLOAD", string(b))

	var names []string
	pager := c.NewListFilesPager(sid, nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		require.NoError(t, err)
		for _, f := range page.Value {
			names = append(names, f.Name)
		}
	}
	assert.ElementsMatch(t, []string{"data.txt", "up.txt"}, names)

	_, err = c.DeleteFile(ctx, sid, "data.txt", nil)
	require.NoError(t, err)
	_, err = c.GetFile(ctx, sid, "data.txt", nil)
	require.ErrorIs(t, err, sessions.ErrFileNotFound)

	_, err = c.GetSession(ctx, sid, nil)
	require.NoError(t, err)
	_, err = c.DeleteSession(ctx, sid, nil)
	require.NoError(t, err)
	assert.Equal(t, 0, srv.SessionCount(sessionstest.DefaultPoolName))
}

// TestARMSide drives the emulator's ARM routes: the default pool is visible
// with its endpoint, and a pool created through ARM is served by the data
// plane.
func TestARMSide(t *testing.T) {
	t.Parallel()
	srv := sessionstest.NewServer(&sessionstest.Options{TB: t})
	tok := srv.Token(identity.ARMAudience, srv.PrincipalID())
	poolID := "/subscriptions/" + srv.SubscriptionID() + "/resourceGroups/" + srv.ResourceGroup() + "/providers/Microsoft.App/sessionPools/"
	send := func(method, path, body string) (int, map[string]any) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL()+path+"?api-version=2025-02-02-preview", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	status, m := send(http.MethodGet, poolID+sessionstest.DefaultPoolName, "")
	require.Equal(t, http.StatusOK, status, "%v", m)
	props := m["properties"].(map[string]any)
	assert.Equal(t, srv.PoolEndpoint(), props["poolManagementEndpoint"])

	status, m = send(http.MethodPut, poolID+"armpool", `{"location":"northcentralus","properties":{"containerType":"Shell",
		"poolManagementType":"Dynamic","scaleConfiguration":{"maxConcurrentSessions":3},
		"dynamicPoolConfiguration":{"lifecycleConfiguration":{"lifecycleType":"Timed","cooldownPeriodInSeconds":300}},
		"sessionNetworkConfiguration":{"status":"EgressDisabled"}}}`)
	require.Contains(t, []int{http.StatusOK, http.StatusCreated}, status, "%v", m)
	c := newClient(t, srv, srv.PoolEndpointFor("armpool"), srv.Credential())
	var resp sessions.ExecuteResponse
	require.Eventually(t, func() bool {
		var err error
		resp, err = c.Execute(t.Context(), sessions.NewSessionID(), sessions.ShellCommand("echo from arm pool"), nil)
		return err == nil
	}, 2*time.Minute, 10*time.Millisecond)
	assert.Equal(t, "from arm pool\n", resp.Stdout)

	// Unknown ARM routes and data-plane routes never panic.
	status, _ = send(http.MethodGet, "/nothing/here", "")
	assert.GreaterOrEqual(t, status, 400)
}
