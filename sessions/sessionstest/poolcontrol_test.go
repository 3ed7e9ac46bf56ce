package sessionstest_test

import (
	"errors"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/sessions"
	"github.com/shellpool/shellpool/sessions/sessionstest"
)

// controlClient is a client for the host-form endpoint of pool with no
// retries, so each test sees the pool's first answer.
func controlClient(t *testing.T, srv *sessionstest.Server, pool string, o *sessions.ClientOptions) *sessions.Client {
	t.Helper()
	if o == nil {
		o = &sessions.ClientOptions{}
	}
	v := o.APIVersion
	o.ClientOptions = srv.ClientOptions()
	o.APIVersion = v
	o.Retry = policy.RetryOptions{MaxRetries: -1}
	c, err := sessions.NewClient(srv.PoolHostEndpoint(pool), srv.Credential(), o)
	require.NoError(t, err)
	return c
}

func TestPoolControlPerPoolCapacityAndRetryAfter(t *testing.T) {
	t.Parallel()
	srv := sessionstest.NewServer(&sessionstest.Options{TB: t, Pools: []sessionstest.Pool{
		{Name: "poola", MaxConcurrentSessions: 1}, {Name: "poolb", MaxConcurrentSessions: 2},
	}})
	require.NoError(t, srv.SetPoolControl("poola", sessionstest.PoolControl{CapacityStatus: http.StatusTooManyRequests, CapacityRetryAfter: 1500 * time.Millisecond}))
	a, b := controlClient(t, srv, "poola", nil), controlClient(t, srv, "poolb", nil)
	ctx := t.Context()
	_, err := a.Execute(ctx, sessions.NewSessionID(), sessions.ShellCommand("true"), nil)
	require.NoError(t, err)
	_, err = a.Execute(ctx, sessions.NewSessionID(), sessions.ShellCommand("true"), nil)
	require.ErrorIs(t, err, sessions.ErrPoolAtCapacity)
	var re *azcore.ResponseError
	require.True(t, errors.As(err, &re))
	assert.Equal(t, http.StatusTooManyRequests, re.StatusCode)
	assert.Equal(t, "MaxConcurrentSessionsReached", re.ErrorCode)
	assert.Equal(t, "2", re.RawResponse.Header.Get("Retry-After"), "whole seconds, rounded up")
	assert.Equal(t, "1500", re.RawResponse.Header.Get("retry-after-ms"))

	// Pool b keeps its own capacity and the default 404, whose Retry-After
	// is the emulator's own estimate (when its first idle session expires).
	for range 2 {
		_, err = b.Execute(ctx, sessions.NewSessionID(), sessions.ShellCommand("true"), nil)
		require.NoError(t, err)
	}
	_, err = b.Execute(ctx, sessions.NewSessionID(), sessions.ShellCommand("true"), nil)
	require.True(t, errors.As(err, &re))
	assert.Equal(t, http.StatusNotFound, re.StatusCode)
	assert.NotEmpty(t, re.RawResponse.Header.Get("Retry-After"))
	assert.Empty(t, re.RawResponse.Header.Get("retry-after-ms"), "only a PoolControl sets retry-after-ms")
}

func TestPoolControlUnreachableAndBack(t *testing.T) {
	t.Parallel()
	srv := sessionstest.NewServer(&sessionstest.Options{TB: t, Pools: []sessionstest.Pool{{Name: "poola"}, {Name: "poolb"}}})
	a, b := controlClient(t, srv, "poola", nil), controlClient(t, srv, "poolb", nil)
	ctx := t.Context()
	sid := sessions.NewSessionID()
	_, err := a.Execute(ctx, sid, sessions.ShellCommand("echo hi > f"), nil)
	require.NoError(t, err)

	require.NoError(t, srv.SetPoolControl("poola", sessionstest.PoolControl{Unreachable: true}))
	srv.ResetRequests()
	_, err = a.Execute(ctx, sid, sessions.ShellCommand("true"), nil)
	require.Error(t, err)
	assert.True(t, errors.Is(err, syscall.ECONNREFUSED), "a dial to an unreachable pool is refused: %v", err)
	assert.Empty(t, srv.Requests(), "nothing reached the server")
	_, err = b.Execute(ctx, sessions.NewSessionID(), sessions.ShellCommand("true"), nil)
	assert.NoError(t, err, "other pools stay reachable")

	require.NoError(t, srv.SetPoolControl("poola", sessionstest.PoolControl{}))
	resp, err := a.Execute(ctx, sid, sessions.ShellCommand("cat f"), nil)
	require.NoError(t, err)
	assert.Equal(t, "hi\n", resp.Stdout, "the pool's sessions survive an outage")
	assert.Equal(t, sessionstest.PoolControl{}, srv.PoolControl("poola"))
}

func TestPoolControlRefusing(t *testing.T) {
	t.Parallel()
	srv := sessionstest.NewServer(&sessionstest.Options{TB: t})
	pool := sessionstest.DefaultPoolName
	require.NoError(t, srv.SetPoolControl(pool, sessionstest.PoolControl{RefuseStatus: http.StatusServiceUnavailable, RefuseRetryAfter: time.Second}))
	c := controlClient(t, srv, pool, nil)
	_, err := c.Execute(t.Context(), sessions.NewSessionID(), sessions.ShellCommand("true"), nil)
	var re *azcore.ResponseError
	require.True(t, errors.As(err, &re))
	assert.Equal(t, http.StatusServiceUnavailable, re.StatusCode)
	assert.Equal(t, "ServiceUnavailable", re.ErrorCode)
	assert.Equal(t, "1", re.RawResponse.Header.Get("Retry-After"))
	assert.Equal(t, 0, srv.SessionCount(pool), "a refused request allocates nothing")

	assert.Error(t, srv.SetPoolControl(pool, sessionstest.PoolControl{RefuseStatus: 200}))
	assert.Error(t, srv.SetPoolControl("nope", sessionstest.PoolControl{}))
	assert.Error(t, srv.SetPoolControl(pool, sessionstest.PoolControl{Dialect: "python"}))
}

func TestPoolControlContract(t *testing.T) {
	t.Parallel()
	srv := sessionstest.NewServer(&sessionstest.Options{TB: t, Pools: []sessionstest.Pool{{Name: "tut"}, {Name: "spec"}}})
	require.NoError(t, srv.SetPoolControl("tut", sessionstest.PoolControl{Dialect: sessionstest.DialectTutorial, APIVersions: []string{"2025-10-02-preview"}}))
	require.NoError(t, srv.SetPoolControl("spec", sessionstest.PoolControl{Dialect: sessionstest.DialectSpec}))
	ctx := t.Context()
	cmd := sessions.ShellCommand("echo hi")

	_, err := controlClient(t, srv, "tut", nil).Execute(ctx, sessions.NewSessionID(), cmd, nil)
	var re *azcore.ResponseError
	require.True(t, errors.As(err, &re))
	assert.Equal(t, "InvalidApiVersionParameter", re.ErrorCode)
	assert.Contains(t, err.Error(), "'2025-10-02-preview'")

	tutV := func(d sessions.Dialect) *sessions.Client {
		o := &sessions.ClientOptions{Dialect: d}
		o.APIVersion = "2025-10-02-preview"
		return controlClient(t, srv, "tut", o)
	}
	_, err = tutV(sessions.DialectSpec).Execute(ctx, sessions.NewSessionID(), cmd, nil)
	require.True(t, errors.As(err, &re))
	assert.Equal(t, http.StatusBadRequest, re.StatusCode)
	for _, f := range []string{"codeInputType", "executionType", "command", "shellCommand"} {
		assert.Contains(t, err.Error(), f, "the 400 names the fields")
	}
	resp, err := tutV(sessions.DialectTutorial).Execute(ctx, sessions.NewSessionID(), cmd, nil)
	require.NoError(t, err)
	assert.Equal(t, "hi\n", resp.Stdout)

	_, err = controlClient(t, srv, "spec", &sessions.ClientOptions{Dialect: sessions.DialectTutorial}).Execute(ctx, sessions.NewSessionID(), cmd, nil)
	require.True(t, errors.As(err, &re))
	assert.Equal(t, http.StatusBadRequest, re.StatusCode)
	assert.Contains(t, err.Error(), "codeInputType, executionType, command")
	_, err = controlClient(t, srv, "spec", nil).Execute(ctx, sessions.NewSessionID(), cmd, nil)
	assert.NoError(t, err)
	assert.Equal(t, 1, srv.SessionCount("tut"), "refused bodies allocate no session")
}
