package fleet_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/sessions"
	"github.com/shellpool/shellpool/sessions/fleet"
	"github.com/shellpool/shellpool/sessions/sessionstest"
)

// Adding a pool moves only the users whose first choice it becomes.
func TestAddingAPoolMovesFewUsers(t *testing.T) {
	t.Parallel()
	srv := newEmu(t, 1, nil, "poola", "poolb", "poolc", "poold")
	before := homes(t, newFleet(t, srv, 1000, []string{"poola", "poolb", "poolc"}, nil), 200)
	after := homes(t, newFleet(t, srv, 1000, []string{"poola", "poolb", "poolc", "poold"}, nil), 200)
	moved := 0
	for u, p := range before {
		if after[u] != p {
			moved++
			assert.Equal(t, "poold", after[u], "a user that moves, moves to the new pool")
		}
	}
	assert.Positive(t, moved)
	assert.Less(t, moved, 100, "about a quarter of the users move, not all")
}

func TestRetryAfterIsHonoured(t *testing.T) {
	t.Parallel()
	const wait = 400 * time.Millisecond
	srv := newEmu(t, 1, &sessionstest.Options{Scripted: instant}, "poola")
	require.NoError(t, srv.SetPoolControl("poola", sessionstest.PoolControl{CapacityRetryAfter: wait}))
	foreign := sessions.NewSessionID()
	raw := rawClient(t, srv, "poola")
	_, err := raw.Execute(t.Context(), foreign, sessions.ShellCommand("x"), nil)
	require.NoError(t, err)
	f := newFleet(t, srv, 1, []string{"poola"}, func(o *fleet.Options) { o.MaxBackoff = 10 * time.Second })
	srv.ResetRequests()
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		_, err := f.Execute(t.Context(), fleet.User{ID: "u"}, sessions.ShellCommand("y"), nil)
		done <- err
	}()
	require.Eventually(t, func() bool { return f.Stats().CapacityAnswers == 1 }, 2*time.Minute, time.Millisecond)
	_, err = raw.DeleteSession(t.Context(), foreign, nil)
	require.NoError(t, err)
	require.NoError(t, <-done)
	assert.GreaterOrEqual(t, time.Since(start), wait, "the fleet waited for Retry-After before trying again")
}

func TestCloseFailsWaitersAndDeletesKeptSessions(t *testing.T) {
	t.Parallel()
	srv := newEmu(t, 1, &sessionstest.Options{Scripted: instant}, "poola", "poolb")
	f, err := fleet.New(&fleet.Options{IDs: fleet.IDs{Key: testKey}, Pools: poolsOf(srv, 1, "poola")})
	require.NoError(t, err)
	l, err := f.Acquire(t.Context(), fleet.User{ID: "holder"}, nil)
	require.NoError(t, err)
	waitErr := make(chan error, 1)
	go func() {
		_, err := f.Execute(t.Context(), fleet.User{ID: "waiter"}, sessions.ShellCommand("w"), nil)
		waitErr <- err
	}()
	require.Eventually(t, func() bool { return f.Stats().Waiting == 1 }, 2*time.Minute, time.Millisecond)
	require.NoError(t, f.Close(t.Context()))
	assert.ErrorIs(t, <-waitErr, fleet.ErrClosed, "a call waiting for a slot fails with ErrClosed")
	_, err = f.Acquire(t.Context(), fleet.User{ID: "late"}, nil)
	assert.ErrorIs(t, err, fleet.ErrClosed)
	require.Equal(t, 1, srv.SessionCount("poola"))
	l.Release()
	require.Eventually(t, func() bool { return srv.SessionCount("poola") == 0 }, 2*time.Minute, time.Millisecond,
		"a lease released after Close still frees its slot")

	// Close deletes the sessions kept for reuse before it returns.
	g, err := fleet.New(&fleet.Options{IDs: fleet.IDs{Key: testKey}, Pools: poolsOf(srv, 1, "poolb"), KeepIdle: time.Hour})
	require.NoError(t, err)
	_, err = g.Execute(t.Context(), fleet.User{ID: "kept"}, sessions.ShellCommand("k"), nil)
	require.NoError(t, err)
	require.Equal(t, 1, srv.SessionCount("poolb"))
	require.NoError(t, g.Close(t.Context()))
	assert.Equal(t, 0, srv.SessionCount("poolb"))
}

// A response from a pool that became unreachable while the command ran
// closes the connection, so the client cannot reuse it.
func TestUnreachablePoolClosesInFlightConnections(t *testing.T) {
	t.Parallel()
	g := newGate()
	srv := newEmu(t, 1, &sessionstest.Options{Scripted: g.run}, "poola")
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost,
		srv.PoolHostEndpoint("poola")+"/executions?api-version="+sessions.DefaultDataPlaneAPIVersion+"&identifier="+sessions.NewSessionID(),
		strings.NewReader(`{"shellCommand":"block"}`))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+srv.Token("https://dynamicsessions.io", srv.PrincipalID()))
	req.Header.Set("Content-Type", "application/json")
	type answer struct {
		resp *http.Response
		err  error
	}
	ch := make(chan answer, 1)
	go func() {
		resp, err := srv.Client().Do(req)
		ch <- answer{resp, err}
	}()
	<-g.started
	require.NoError(t, srv.SetPoolControl("poola", sessionstest.PoolControl{Unreachable: true}))
	close(g.release)
	a := <-ch
	require.NoError(t, a.err)
	defer a.resp.Body.Close()
	assert.Equal(t, http.StatusOK, a.resp.StatusCode, "the command that was running is answered")
	assert.True(t, a.resp.Close, "with Connection: close")
}
