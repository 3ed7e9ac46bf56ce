package fleet_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/sessions"
	"github.com/shellpool/shellpool/sessions/fleet"
	"github.com/shellpool/shellpool/sessions/sessionstest"
)

// gate is a Scripted emulator whose "block" commands wait until released,
// and which records the order in which commands started.
type gate struct {
	mu      sync.Mutex
	order   []string // ShellCommand of each execution, in start order
	release chan struct{}
	started chan string
}

func newGate() *gate { return &gate{release: make(chan struct{}), started: make(chan string, 100)} }

func (g *gate) run(ctx context.Context, r sessionstest.ExecRequest) sessionstest.ExecResult {
	g.mu.Lock()
	g.order = append(g.order, r.ShellCommand)
	g.mu.Unlock()
	if strings.HasPrefix(r.ShellCommand, "block") {
		g.started <- r.ShellCommand
		select {
		case <-g.release:
		case <-ctx.Done():
		}
	}
	return sessionstest.ExecResult{Stdout: r.ShellCommand}
}

func (g *gate) ran() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.order...)
}

// One busy user cannot starve the others: with one slot, while the busy
// user holds it with 20 calls queued, five other users each get the slot
// before the busy user's second call.
func TestFairnessOneBusyUserCannotStarveOthers(t *testing.T) {
	t.Parallel()
	g := newGate()
	srv := newEmu(t, 1, &sessionstest.Options{Scripted: g.run}, "poola")
	f := newFleet(t, srv, 1, []string{"poola"}, nil)
	ctx := t.Context()
	busy := fleet.User{ID: "busy"}
	var wg sync.WaitGroup
	errs := make(chan error, 30)
	run := func(u fleet.User, cmd string) {
		defer wg.Done()
		_, err := f.Execute(ctx, u, sessions.ShellCommand(cmd), nil)
		errs <- err
	}
	wg.Add(1)
	go run(busy, "block busy-0")
	<-g.started
	for i := 1; i < 20; i++ {
		wg.Add(1)
		go run(busy, fmt.Sprintf("busy-%d", i))
	}
	for i := range 5 {
		wg.Add(1)
		go run(fleet.User{ID: fmt.Sprint("other", i)}, fmt.Sprintf("other-%d", i))
	}
	// The others wait for the slot; the busy user's calls wait for its turn.
	require.Eventually(t, func() bool { return f.Stats().Waiting == 5 }, 2*time.Minute, time.Millisecond)
	close(g.release)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	order := g.ran()
	require.Len(t, order, 25)
	assert.Equal(t, "block busy-0", order[0])
	var next []string
	for _, c := range order[1:6] {
		next = append(next, strings.Fields(c)[0][:5])
	}
	assert.Equal(t, []string{"other", "other", "other", "other", "other"}, next, "every waiting user ran before the busy user's next call: %v", order)
	for _, c := range order[6:] {
		assert.True(t, strings.HasPrefix(c, "busy-"), "then the busy user's calls, one at a time: %v", order)
	}
}

func TestCapacityAnswersAreAbsorbed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		status     int
		retryAfter time.Duration
	}{
		{"404 without Retry-After", http.StatusNotFound, 0},
		{"429 with Retry-After", http.StatusTooManyRequests, 30 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newEmu(t, 3, &sessionstest.Options{Scripted: func(context.Context, sessionstest.ExecRequest) sessionstest.ExecResult {
				time.Sleep(5 * time.Millisecond)
				return sessionstest.ExecResult{}
			}}, "poola")
			require.NoError(t, srv.SetPoolControl("poola", sessionstest.PoolControl{CapacityStatus: tc.status, CapacityRetryAfter: tc.retryAfter}))
			// Two foreign sessions hold two of the three slots, and the
			// fleet is told the pool has five: only capacity answers can
			// teach it otherwise.
			for range 2 {
				_, err := rawClient(t, srv, "poola").Execute(t.Context(), sessions.NewSessionID(), sessions.ShellCommand("x"), nil)
				require.NoError(t, err)
			}
			f := newFleet(t, srv, 5, []string{"poola"}, nil)
			var wg sync.WaitGroup
			for i := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for k := range 2 {
						_, err := f.Execute(t.Context(), fleet.User{ID: fmt.Sprint(i)}, sessions.ShellCommand(fmt.Sprint("cmd ", i, k)), nil)
						assert.NoError(t, err, "capacity answers never reach the caller")
					}
				}()
			}
			wg.Wait()
			// Deletes under way still count (their answers may be on the
			// way); once they are settled, the fleet holds the one free slot
			// at most.
			require.Eventually(t, func() bool { return f.Stats().Pools[0].Deleting == 0 }, time.Minute, time.Millisecond)
			st := f.Stats()
			assert.Positive(t, st.CapacityAnswers, "the fleet met capacity answers")
			assert.LessOrEqual(t, st.Pools[0].Live, 1, "the fleet never held more than the one free slot")
			assert.Equal(t, st.Pools[0].Live, st.Pools[0].InUse+st.Pools[0].Kept)
			assert.LessOrEqual(t, srv.SessionCount("a"), 3, "the pool's capacity")
			execs := 0
			for _, r := range srv.Requests() {
				if r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/executions") {
					execs++
				}
			}
			assert.Equal(t, 16+int(st.CapacityAnswers)+2, execs, "each command was sent once, plus one resend per capacity answer")
		})
	}
}

func TestWaitEndsWithTheContext(t *testing.T) {
	t.Parallel()
	g := newGate()
	srv := newEmu(t, 1, &sessionstest.Options{Scripted: g.run}, "poola")
	f := newFleet(t, srv, 1, []string{"poola"}, nil)
	l, err := f.Acquire(t.Context(), fleet.User{ID: "holder"}, nil)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err = f.Execute(ctx, fleet.User{ID: "late"}, sessions.ShellCommand("never"), nil)
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.NotErrorIs(t, err, sessions.ErrPoolAtCapacity)
	assert.Contains(t, err.Error(), "raise maxConcurrentSessions")
	assert.NotContains(t, g.ran(), "never")
	assert.Zero(t, f.Stats().Waiting, "the abandoned call left the line")
	l.Release()
	_, err = f.Execute(t.Context(), fleet.User{ID: "late"}, sessions.ShellCommand("now"), nil)
	assert.NoError(t, err)
}

func TestKeepReusesAndExpires(t *testing.T) {
	t.Parallel()
	srv := newEmu(t, 5, nil, "poola")
	f := newFleet(t, srv, 5, []string{"poola"}, func(o *fleet.Options) { o.KeepIdle = 2 * time.Second })
	u := fleet.User{ID: "alice"}
	_, err := f.Execute(t.Context(), u, sessions.ShellCommand("echo kept > f"), nil)
	require.NoError(t, err)
	r, err := f.Execute(t.Context(), u, sessions.ShellCommand("cat f"), nil)
	require.NoError(t, err)
	assert.Equal(t, "kept\n", r.Stdout, "the user's next call reuses the kept session")
	assert.EqualValues(t, 1, f.Stats().Reused)
	assert.Equal(t, 1, srv.SessionCount("poola"))
	require.Eventually(t, func() bool { return srv.SessionCount("poola") == 0 && f.Stats().Pools[0].Live == 0 }, 2*time.Minute, 5*time.Millisecond, "an idle kept session is deleted after KeepIdle")
}

func TestReleaseDeleteStartsFresh(t *testing.T) {
	t.Parallel()
	srv := newEmu(t, 5, nil, "poola")
	f := newFleet(t, srv, 5, []string{"poola"}, func(o *fleet.Options) { o.Release = fleet.ReleaseDelete })
	u := fleet.User{ID: "alice"}
	_, err := f.Execute(t.Context(), u, sessions.ShellCommand("echo x > f"), nil)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return srv.SessionCount("poola") == 0 }, 2*time.Minute, time.Millisecond)
	r, err := f.Execute(t.Context(), u, sessions.ShellCommand("ls"), nil)
	require.NoError(t, err)
	assert.Empty(t, r.Stdout, "every call starts in a fresh session")
}

// homes returns the pool each user lands in when nothing is contended.
func homes(t *testing.T, f *fleet.Fleet, n int) map[string]string {
	out := map[string]string{}
	for i := range n {
		u := fleet.User{ID: fmt.Sprint("user", i)}
		err := f.Do(t.Context(), u, func(_ context.Context, l *fleet.Lease) error {
			out[u.ID] = l.Pool()
			return nil
		}, &fleet.AcquireOptions{Lazy: true})
		require.NoError(t, err)
	}
	return out
}

func TestUsersMapStablyAndSpillOver(t *testing.T) {
	t.Parallel()
	names := []string{"poola", "poolb", "poolc"}
	srv := newEmu(t, 1, nil, names...)
	// Lazy leases allocate nothing, so with room for everyone each user
	// gets their first choice.
	h1 := homes(t, newFleet(t, srv, 100, names, nil), 30)
	h2 := homes(t, newFleet(t, srv, 100, names, nil), 30)
	assert.Equal(t, h1, h2, "the user-to-pool mapping is stable across fleets and processes")
	used := map[string]int{}
	for _, p := range h1 {
		used[p]++
	}
	assert.Len(t, used, 3, "users spread over every pool: %v", used)

	// Two users with the same home: the second spills over while the
	// first holds the home pool's only slot, and stays there after.
	var u1, u2 fleet.User
	for i := range 30 {
		for j := i + 1; j < 30; j++ {
			if h1[fmt.Sprint("user", i)] == h1[fmt.Sprint("user", j)] {
				u1, u2 = fleet.User{ID: fmt.Sprint("user", i)}, fleet.User{ID: fmt.Sprint("user", j)}
			}
		}
	}
	require.NotEmpty(t, u1.ID)
	f := newFleet(t, srv, 1, names, nil)
	l1, err := f.Acquire(t.Context(), u1, nil)
	require.NoError(t, err)
	assert.Equal(t, h1[u1.ID], l1.Pool())
	r, err := f.Execute(t.Context(), u2, sessions.ShellCommand("echo spilled > f"), nil)
	require.NoError(t, err)
	assert.NotEqual(t, h1[u2.ID], r.Pool, "a full home pool spills over")
	l1.Release()
	r2, err := f.Execute(t.Context(), u2, sessions.ShellCommand("cat f"), nil)
	require.NoError(t, err)
	assert.Equal(t, r.Pool, r2.Pool, "a user's live session stays where it is")
	assert.Equal(t, "spilled\n", r2.Stdout)
}

func TestFailoverKeepsServingAUserWhosePoolIsDown(t *testing.T) {
	t.Parallel()
	names := []string{"poola", "poolb"}
	srv := newEmu(t, 5, nil, names...)
	f := newFleet(t, srv, 5, names, nil)
	u := fleet.User{ID: "alice"}
	r, err := f.Execute(t.Context(), u, sessions.ShellCommand("echo 1 > f"), nil)
	require.NoError(t, err)
	home := r.Pool
	other := "poola"
	if home == "poola" {
		other = "poolb"
	}
	require.NoError(t, srv.SetPoolControl(home, sessionstest.PoolControl{Unreachable: true}))
	r, err = f.Execute(t.Context(), u, sessions.ShellCommand("ls"), nil)
	require.NoError(t, err, "the call moved to a reachable pool")
	assert.Equal(t, other, r.Pool)
	assert.Empty(t, r.Stdout, "in a new session: the old one is out of reach")
	st := f.Stats()
	assert.Positive(t, st.Failovers)
	assert.Equal(t, 1, st.Pools[poolIndex(names, home)].Deleting, "the session left behind is still counted, to be deleted")
	require.NoError(t, srv.SetPoolControl(home, sessionstest.PoolControl{}))
	// Once the pool is back, the fleet deletes the session it left there
	// in the background; no Reap needed.
	require.Eventually(t, func() bool { return srv.SessionCount(home) == 0 }, 2*time.Minute, 10*time.Millisecond,
		"the session left behind is deleted once its pool is back")
	require.Eventually(t, func() bool {
		p := f.Stats().Pools[poolIndex(names, home)]
		return p.Live == 0 && p.Deleting == 0
	}, 2*time.Minute, 10*time.Millisecond, "and its slot is free")
	res, err := f.Reap(t.Context(), &fleet.ReapOptions{All: true})
	require.NoError(t, err)
	assert.Equal(t, 1, res.Deleted, "the kept session")
	assert.Equal(t, 0, srv.SessionCount(home)+srv.SessionCount(other))
	for _, p := range f.Stats().Pools {
		assert.Zero(t, p.Live, "pool %s", p.Name)
	}
}

func poolIndex(names []string, name string) int {
	for i, n := range names {
		if n == name {
			return i
		}
	}
	return -1
}

func TestRefusingPoolIsAvoided(t *testing.T) {
	t.Parallel()
	names := []string{"poola", "poolb"}
	srv := newEmu(t, 5, nil, names...)
	require.NoError(t, srv.SetPoolControl("poola", sessionstest.PoolControl{RefuseStatus: http.StatusServiceUnavailable, RefuseRetryAfter: time.Minute}))
	f := newFleet(t, srv, 5, names, func(o *fleet.Options) { o.MaxBackoff = time.Minute })
	for i := range 6 {
		r, err := f.Execute(t.Context(), fleet.User{ID: fmt.Sprint(i)}, sessions.ShellCommand("true"), nil)
		require.NoError(t, err)
		assert.Equal(t, "poolb", r.Pool)
	}
	st := f.Stats()
	assert.EqualValues(t, 1, st.Failovers)
	assert.True(t, st.Pools[0].Down, "pool a is avoided for its Retry-After")
	var re *azcore.ResponseError
	require.True(t, errors.As(st.Pools[0].Err, &re))
	assert.Equal(t, http.StatusServiceUnavailable, re.StatusCode)
	hits := 0
	for _, r := range srv.Requests() {
		if r.Host == strings.TrimPrefix(srv.PoolHostEndpoint("poola"), "https://") {
			hits++
		}
	}
	assert.Equal(t, 1, hits, "one refusal was enough: the pool is left alone until its Retry-After")
}

func TestAmbiguousFailuresAreNotResent(t *testing.T) {
	t.Parallel()
	srv := newEmu(t, 5, nil, "poola", "poolb")
	f := newFleet(t, srv, 5, []string{"poola", "poolb"}, nil)
	u := fleet.User{ID: "alice"}
	_, err := f.Execute(t.Context(), u, sessions.ShellCommand("true"), nil) // probe and allocate
	require.NoError(t, err)
	srv.InjectFault(sessionstest.Fault{Method: http.MethodPost, Path: "/executions", DropAfterRun: true})
	srv.ResetRequests()
	_, err = f.Execute(t.Context(), u, sessions.ShellCommand("echo once >> log"), nil)
	require.Error(t, err, "a dropped connection after the command ran is returned")
	n := 0
	for _, r := range srv.Requests() {
		if strings.HasSuffix(r.Path, "/executions") {
			n++
		}
	}
	assert.Equal(t, 1, n, "the command was sent once")
}

func TestContractProbe(t *testing.T) {
	t.Parallel()
	srv := newEmu(t, 5, nil, "tut", "spec", "fixed")
	require.NoError(t, srv.SetPoolControl("tut", sessionstest.PoolControl{Dialect: sessionstest.DialectTutorial, APIVersions: []string{"2025-10-02-preview"}}))
	require.NoError(t, srv.SetPoolControl("spec", sessionstest.PoolControl{Dialect: sessionstest.DialectSpec}))
	for _, tc := range []struct {
		pool string
		want fleet.Contract
	}{
		{"tut", fleet.Contract{APIVersion: "2025-10-02-preview", Accepted: []string{"2025-10-02-preview"}, Rejected: []string{sessions.DefaultDataPlaneAPIVersion}, Dialect: sessions.DialectTutorial, DialectKnown: true}},
		{"spec", fleet.Contract{APIVersion: sessions.DefaultDataPlaneAPIVersion, Accepted: []string{sessions.DefaultDataPlaneAPIVersion, "2025-10-02-preview"}, Dialect: sessions.DialectSpec, DialectKnown: true}},
	} {
		f := newFleet(t, srv, 5, []string{tc.pool}, nil)
		_, ok := f.Contract(tc.pool)
		assert.False(t, ok, "nothing is probed before the first call")
		for i := range 3 {
			r, err := f.Execute(t.Context(), fleet.User{ID: fmt.Sprint(i)}, sessions.ShellCommand("echo hi"), nil)
			require.NoError(t, err, tc.pool)
			assert.Equal(t, "hi\n", r.Stdout)
		}
		got, ok := f.Contract(tc.pool)
		require.True(t, ok)
		assert.Equal(t, tc.want, got, tc.pool)
	}
	// Only the first execution on "tut" was refused: the dialect is remembered.
	refused := 0
	for _, r := range srv.Requests() {
		if strings.Contains(r.Path, "/executions") && strings.Contains(string(r.Body), "shellCommand") && r.Host == strings.TrimPrefix(srv.PoolHostEndpoint("tut"), "https://") {
			refused++
		}
	}
	assert.Equal(t, 1, refused)

	// A fixed api-version is not probed.
	srv.ResetRequests()
	pools := poolsOf(srv, 5, "fixed")
	pools[0].ClientOptions.APIVersion = "2025-10-02-preview"
	f, err := fleet.New(&fleet.Options{IDs: fleet.IDs{Key: testKey}, Pools: pools})
	require.NoError(t, err)
	defer f.Close(t.Context())
	_, err = f.Execute(t.Context(), fleet.User{ID: "x"}, sessions.ShellCommand("true"), nil)
	require.NoError(t, err)
	// Only the "fixed" pool's requests: the fleets above may still be
	// deleting their sessions in the background.
	fixedHost := strings.TrimPrefix(srv.PoolHostEndpoint("fixed"), "https://")
	seen := 0
	for _, r := range srv.Requests() {
		if r.Host != fixedHost {
			continue
		}
		seen++
		assert.NotContains(t, r.Path, "/metadata")
		assert.Equal(t, "2025-10-02-preview", r.Query.Get("api-version"))
	}
	assert.Positive(t, seen, "the fixed pool was called")
}

func TestReaperDeletesOnlyTheLayersIdleSessions(t *testing.T) {
	t.Parallel()
	srv := newEmu(t, 10, nil, "poola")
	raw := rawClient(t, srv, "poola")
	foreign := []string{sessions.NewSessionID(), "spf-0-" + strings.Repeat("ab", 24), "spf-1-" + strings.Repeat("cd", 24)}
	for _, id := range foreign {
		_, err := raw.Execute(t.Context(), id, sessions.ShellCommand("true"), nil)
		require.NoError(t, err)
	}
	// A "crashed" process with the same key left a session behind.
	crashed, err := fleet.New(&fleet.Options{IDs: fleet.IDs{Key: testKey}, Pools: poolsOf(srv, 10, "poola"), KeepIdle: time.Hour})
	require.NoError(t, err)
	_, err = crashed.Execute(t.Context(), fleet.User{ID: "ghost"}, sessions.ShellCommand("true"), nil)
	require.NoError(t, err)

	// A careful fleet leaves recent sessions alone.
	careful := newFleet(t, srv, 10, []string{"poola"}, func(o *fleet.Options) { o.ReapIdle = time.Hour })
	res, err := careful.Reap(t.Context(), nil)
	require.NoError(t, err)
	assert.Equal(t, fleet.ReapResult{Listed: 4, Foreign: 3, Fresh: 1}, res)

	f := newFleet(t, srv, 10, []string{"poola"}, func(o *fleet.Options) { o.ReapIdle = time.Millisecond })
	l, err := f.Acquire(t.Context(), fleet.User{ID: "busy"}, nil)
	require.NoError(t, err)
	time.Sleep(5 * time.Millisecond) // the ghost's session becomes older than ReapIdle
	res, err = f.Reap(t.Context(), nil)
	require.NoError(t, err)
	assert.Equal(t, fleet.ReapResult{Listed: 5, Foreign: 3, InUse: 1, Deleted: 1}, res)
	l.Release()
	res, err = f.Reap(t.Context(), &fleet.ReapOptions{All: true})
	require.NoError(t, err)
	assert.Equal(t, 1, res.Deleted)
	assert.Equal(t, len(foreign), srv.SessionCount("poola"), "only the foreign sessions remain")
	for _, id := range foreign {
		_, ok := srv.SessionDir("poola", id)
		assert.True(t, ok)
	}
	_ = crashed.Close(t.Context())
}

func TestBackgroundReaper(t *testing.T) {
	t.Parallel()
	srv := newEmu(t, 5, nil, "poola")
	leak := fleet.IDs{Key: testKey}
	id, err := leak.ID(fleet.User{ID: "leaked"})
	require.NoError(t, err)
	_, err = rawClient(t, srv, "poola").Execute(t.Context(), id, sessions.ShellCommand("true"), nil)
	require.NoError(t, err)
	newFleet(t, srv, 5, []string{"poola"}, func(o *fleet.Options) {
		o.ReapIdle = time.Millisecond
		o.ReapInterval = 10 * time.Millisecond
	})
	require.Eventually(t, func() bool { return srv.SessionCount("poola") == 0 }, 2*time.Minute, 5*time.Millisecond)
}

func TestLeaseHook(t *testing.T) {
	t.Parallel()
	srv := newEmu(t, 2, nil, "poola")
	f := newFleet(t, srv, 2, []string{"poola"}, nil)
	u := fleet.User{Tenant: "t", ID: "alice"}
	want, err := f.SessionID(u)
	require.NoError(t, err)
	err = f.Do(t.Context(), u, func(ctx context.Context, l *fleet.Lease) error {
		assert.Equal(t, want, l.SessionID())
		assert.Equal(t, want, l.Session().ID())
		assert.NotContains(t, l.String(), want)
		assert.Equal(t, 1, srv.SessionCount("poola"), "the session is allocated before the hook runs")
		_, err := l.Session().UploadFile(ctx, "in.txt", strings.NewReader("data"), nil)
		require.NoError(t, err)
		r, err := l.Execute(ctx, sessions.ShellCommand("cat in.txt"), nil)
		require.NoError(t, err)
		assert.Equal(t, "data", r.Stdout)
		_, err = l.Client().GetSession(ctx, l.SessionID(), nil)
		return err
	}, nil)
	require.NoError(t, err)
	sentinel := errors.New("hook failed")
	calls := 0
	err = f.Do(t.Context(), u, func(context.Context, *fleet.Lease) error { calls++; return sentinel }, nil)
	assert.ErrorIs(t, err, sentinel)
	assert.Equal(t, 1, calls, "Do never calls the hook twice")
}

func TestNewRefusesBadOptions(t *testing.T) {
	t.Parallel()
	srv := newEmu(t, 1, nil, "poola")
	good := poolsOf(srv, 1, "poola")[0]
	for name, o := range map[string]*fleet.Options{
		"nil":           nil,
		"no key":        {Pools: []fleet.Pool{good}},
		"no pools":      {IDs: fleet.IDs{Key: testKey}},
		"no capacity":   {IDs: fleet.IDs{Key: testKey}, Pools: []fleet.Pool{{Name: "poola", Endpoint: good.Endpoint, Credential: good.Credential}}},
		"no name":       {IDs: fleet.IDs{Key: testKey}, Pools: []fleet.Pool{{Endpoint: good.Endpoint, Credential: good.Credential, MaxConcurrentSessions: 1}}},
		"duplicate":     {IDs: fleet.IDs{Key: testKey}, Pools: []fleet.Pool{good, good}},
		"no credential": {IDs: fleet.IDs{Key: testKey}, Pools: []fleet.Pool{{Name: "poola", Endpoint: good.Endpoint, MaxConcurrentSessions: 1}}},
		"bad release":   {IDs: fleet.IDs{Key: testKey}, Pools: []fleet.Pool{good}, Release: 7},
		"negative keep": {IDs: fleet.IDs{Key: testKey}, Pools: []fleet.Pool{good}, KeepIdle: -1},
	} {
		_, err := fleet.New(o)
		assert.ErrorIs(t, err, sessions.ErrInvalidArgument, name)
		var ae *sessions.ArgumentError
		if assert.ErrorAs(t, err, &ae, name) {
			assert.NotEmpty(t, ae.Name, name)
			assert.Equal(t, "fleet: invalid "+ae.Name+": "+ae.Reason, err.Error(), "fleet names itself: "+name)
		}
	}
	bad := good
	bad.Endpoint = "http://plain"
	_, err := fleet.New(&fleet.Options{IDs: fleet.IDs{Key: testKey}, Pools: []fleet.Pool{bad}})
	assert.ErrorIs(t, err, sessions.ErrInvalidArgument, "a bad endpoint fails in New")
	f, err := fleet.New(&fleet.Options{IDs: fleet.IDs{Key: testKey}, Pools: []fleet.Pool{good}})
	require.NoError(t, err)
	require.NoError(t, f.Close(t.Context()))
	_, err = f.Execute(t.Context(), fleet.User{ID: "x"}, sessions.ShellCommand("true"), nil)
	assert.ErrorIs(t, err, fleet.ErrClosed)
	_, err = f.Execute(t.Context(), fleet.User{}, sessions.ShellCommand("true"), nil)
	assert.ErrorIs(t, err, sessions.ErrInvalidArgument)
}
