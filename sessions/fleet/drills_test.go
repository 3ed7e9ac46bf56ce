package fleet_test

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/sessions"
	"github.com/shellpool/shellpool/sessions/fleet"
	"github.com/shellpool/shellpool/sessions/sessionstest"
)

// wireLog records every try a fleet's clients send, with its time and
// answer: the drills count requests and check the gaps between them.
type wireLog struct {
	next  policy.Transporter
	mu    sync.Mutex
	tries []try
}

type try struct {
	at     time.Time // when the try was sent
	end    time.Time // when its answer (or failure) came
	method string
	path   string // the operation: "/executions", "/session", ...
	opID   string
	status int // 0 for a transport failure
}

func (w *wireLog) Do(r *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := w.next.Do(r)
	t := try{at: start, end: time.Now(), method: r.Method, path: r.URL.Path[strings.LastIndex(r.URL.Path, "/"):], opID: r.Header.Get("operation-id")}
	if err == nil {
		t.status = resp.StatusCode
	}
	w.mu.Lock()
	w.tries = append(w.tries, t)
	w.mu.Unlock()
	return resp, err
}

func (w *wireLog) all() []try {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]try(nil), w.tries...)
}

// loggedPools is poolsOf with every client's tries recorded in log.
func loggedPools(srv *sessionstest.Server, capacity int, log *wireLog, names ...string) []fleet.Pool {
	pools := poolsOf(srv, capacity, names...)
	for i := range pools {
		o := *pools[i].ClientOptions
		o.Transport = log
		pools[i].ClientOptions = &o
	}
	return pools
}

// Every bad input fails at once with a typed error: nothing is sent, no
// slot is taken, nothing panics, even when the pool is full.
func TestBadInputSendsNothingAndTakesNoSlot(t *testing.T) {
	t.Parallel()
	srv := newEmu(t, 1, &sessionstest.Options{Scripted: instant}, "poola")
	f := newFleet(t, srv, 1, []string{"poola"}, nil)
	holder, err := f.Acquire(t.Context(), fleet.User{ID: "holder"}, nil) // the pool is full now
	require.NoError(t, err)
	before := f.Stats()
	srv.ResetRequests()

	u := fleet.User{ID: "alice"}
	ok := sessions.ShellCommand("true")
	var nilCtx context.Context
	checks := map[string]func() error{
		"empty user":    func() error { _, err := f.Execute(t.Context(), fleet.User{Tenant: "t"}, ok, nil); return err },
		"empty command": func() error { _, err := f.Execute(t.Context(), u, sessions.ShellCommand(""), nil); return err },
		"zero command":  func() error { _, err := f.Execute(t.Context(), u, sessions.Command{}, nil); return err },
		"negative timeout": func() error {
			_, err := f.Execute(t.Context(), u, sessions.Command{Shell: "true", Timeout: -time.Second}, nil)
			return err
		},
		"operation id space": func() error {
			_, err := f.Execute(t.Context(), u, ok, &fleet.ExecuteOptions{OperationID: "a b"})
			return err
		},
		"operation id length": func() error {
			_, err := f.Execute(t.Context(), u, ok, &fleet.ExecuteOptions{OperationID: strings.Repeat("x", 250)})
			return err
		},
		"nil context":         func() error { _, err := f.Execute(nilCtx, u, ok, nil); return err },
		"Acquire empty user":  func() error { _, err := f.Acquire(t.Context(), fleet.User{}, nil); return err },
		"Acquire nil context": func() error { _, err := f.Acquire(nilCtx, u, nil); return err },
		"Do nil fn":           func() error { return f.Do(t.Context(), u, nil, nil) },
		"Do empty user": func() error {
			return f.Do(t.Context(), fleet.User{}, func(context.Context, *fleet.Lease) error { return nil }, nil)
		},
		"Reap nil context":     func() error { _, err := f.Reap(nilCtx, nil); return err },
		"SessionID empty user": func() error { _, err := f.SessionID(fleet.User{}); return err },
	}
	for name, call := range checks {
		var err error
		require.NotPanics(t, func() { err = call() }, name)
		assert.ErrorIs(t, err, sessions.ErrInvalidArgument, name)
		var ae *sessions.ArgumentError
		if assert.ErrorAs(t, err, &ae, name) {
			assert.NotEmpty(t, ae.Reason, name)
		}
	}
	assert.Empty(t, srv.Requests(), "bad input sent nothing")
	after := f.Stats()
	assert.Equal(t, before.Grants, after.Grants, "no slot was granted")
	assert.Equal(t, before.Pools[0].Live, after.Pools[0].Live)
	assert.Zero(t, after.Waiting, "no call waited")
	holder.Release()
}

func TestPrefixMustBeLowerCase(t *testing.T) {
	t.Parallel()
	ids := fleet.IDs{Key: testKey, Prefix: "SPF"}
	_, err := ids.ID(fleet.User{ID: "u"})
	require.ErrorIs(t, err, sessions.ErrInvalidArgument)
	assert.Contains(t, err.Error(), "lower-case")
	_, err = fleet.New(&fleet.Options{IDs: ids, Pools: []fleet.Pool{{Name: "poola", Endpoint: "https://a.example", Credential: nil, MaxConcurrentSessions: 1}}})
	assert.ErrorIs(t, err, sessions.ErrInvalidArgument)
	ids2 := fleet.IDs{Key: testKey, Prefix: "svc2"}
	id, err := ids2.ID(fleet.User{ID: "u"})
	require.NoError(t, err)
	assert.Equal(t, strings.ToLower(id), id)
}

// Close reports the sessions it could not delete, how many and where, with
// the cause; it returns without a deadline on its context (the retries are
// bounded); Reap after Close returns ErrClosed.
func TestCloseNamesWhatItCouldNotDelete(t *testing.T) {
	t.Parallel()
	srv := newEmu(t, 5, &sessionstest.Options{Scripted: instant}, "poola", "poolb")
	f, err := fleet.New(&fleet.Options{IDs: fleet.IDs{Key: testKey}, Pools: poolsOf(srv, 5, "poola", "poolb"), KeepIdle: time.Hour, MaxBackoff: 20 * time.Millisecond})
	require.NoError(t, err)
	kept := map[string]int{}
	for i := range 6 {
		r, err := f.Execute(t.Context(), fleet.User{ID: fmt.Sprint("u", i)}, sessions.ShellCommand("true"), nil)
		require.NoError(t, err)
		kept[r.Pool]++
	}
	require.Len(t, kept, 2, "users landed in both pools: %v", kept)
	srv.InjectFault(sessionstest.Fault{Method: http.MethodDelete, Path: "/session", Status: http.StatusInternalServerError, Count: 1000})
	err = f.Close(context.Background())
	require.Error(t, err)
	msg := err.Error()
	assert.Contains(t, msg, fmt.Sprintf("could not delete %d session(s)", kept["poola"]+kept["poolb"]))
	assert.Contains(t, msg, fmt.Sprintf("%d in pool \"poola\"", kept["poola"]))
	assert.Contains(t, msg, fmt.Sprintf("%d in pool \"poolb\"", kept["poolb"]))
	var re *azcore.ResponseError
	require.ErrorAs(t, err, &re, "the cause is joined")
	assert.Equal(t, http.StatusInternalServerError, re.StatusCode)
	assert.Equal(t, kept["poola"]+kept["poolb"], srv.SessionCount("poola")+srv.SessionCount("poolb"), "the sessions really are still there")
	assert.GreaterOrEqual(t, f.Stats().DeleteFailures, int64(kept["poola"]+kept["poolb"]))

	_, err = f.Reap(t.Context(), nil)
	assert.ErrorIs(t, err, fleet.ErrClosed)
	assert.NoError(t, f.Close(t.Context()), "a second Close does nothing")
}

// One 503 with Retry-After 2 s on the delete that reclaims a kept session:
// no request reaches the pool before the Retry-After has passed, the
// delete is tried again in the background, the waiting user's call
// succeeds, and the fleet's counts converge (Live == InUse + Kept).
func TestDeleteRefusedOnceRecovers(t *testing.T) {
	t.Parallel()
	const retryAfter = 2 * time.Second
	srv := newEmu(t, 1, &sessionstest.Options{Scripted: instant}, "poola")
	log := &wireLog{next: srv.Client()}
	f, err := fleet.New(&fleet.Options{IDs: fleet.IDs{Key: testKey}, Pools: loggedPools(srv, 1, log, "poola"), KeepIdle: time.Hour, MaxBackoff: 200 * time.Millisecond})
	require.NoError(t, err)
	t.Cleanup(func() { _ = f.Close(context.Background()) })
	_, err = f.Execute(t.Context(), fleet.User{ID: "first"}, sessions.ShellCommand("true"), nil)
	require.NoError(t, err)
	require.Equal(t, 1, f.Stats().Pools[0].Kept)

	srv.InjectFault(sessionstest.Fault{Method: http.MethodDelete, Path: "/session", Status: http.StatusServiceUnavailable, RetryAfter: retryAfter})
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	start := time.Now()
	r, err := f.Execute(ctx, fleet.User{ID: "second"}, sessions.ShellCommand("true"), nil)
	require.NoError(t, err, "the waiting user's call succeeds once the pool takes deletes again")
	took := time.Since(start)

	var refusedAt time.Time
	for _, x := range log.all() {
		if x.method == http.MethodDelete && x.status == http.StatusServiceUnavailable {
			refusedAt = x.end
			continue
		}
		if !refusedAt.IsZero() {
			assert.GreaterOrEqual(t, x.at.Sub(refusedAt), retryAfter, "%s %s sent %s after the 503 with Retry-After %s", x.method, x.path, x.at.Sub(refusedAt), retryAfter)
		}
	}
	require.False(t, refusedAt.IsZero(), "the delete was refused once")
	assert.GreaterOrEqual(t, took, retryAfter, "the call waited for the Retry-After")
	st := f.Stats()
	assert.EqualValues(t, 1, st.DeleteFailures)
	assert.EqualValues(t, 1, st.Deletes)
	require.Eventually(t, func() bool {
		p := f.Stats().Pools[0]
		return p.Live == p.InUse+p.Kept && p.Deleting == 0
	}, 2*time.Minute, 10*time.Millisecond, "the counts converge")
	assert.Equal(t, 1, srv.SessionCount("poola"))
	t.Logf("503 on the reclaiming delete (Retry-After %s): the waiting call took %s (%s after the Retry-After ended); pool %s",
		retryAfter, took.Round(time.Millisecond), (took - retryAfter).Round(time.Millisecond), r.Pool)
}

// After any mix of faults, once the pools are healthy, every fleet count
// converges: Live == InUse + Kept, nothing left to delete, and the pools
// hold exactly the kept sessions.
func TestCountsConvergeAfterFaults(t *testing.T) {
	t.Parallel()
	names := []string{"poola", "poolb"}
	srv := newEmu(t, 3, &sessionstest.Options{Scripted: instant}, names...)
	f := newFleet(t, srv, 3, names, func(o *fleet.Options) { o.KeepIdle = time.Hour; o.MaxBackoff = 50 * time.Millisecond })
	faults := []sessionstest.Fault{
		{Method: http.MethodDelete, Path: "/session", Status: http.StatusServiceUnavailable, RetryAfter: 300 * time.Millisecond, Count: 3},
		{Method: http.MethodDelete, Path: "/session", Drop: true, Count: 2},
		{Method: http.MethodPost, Path: "/executions", Status: http.StatusTooManyRequests, RetryAfter: 200 * time.Millisecond, Count: 4},
		{Method: http.MethodPost, Path: "/executions", Status: http.StatusServiceUnavailable, Count: 2},
		{Method: http.MethodGet, Path: "/listSessions", Status: http.StatusInternalServerError, Count: 2},
	}
	for _, x := range faults {
		srv.InjectFault(x)
	}
	// Live is InUse + Kept + Deleting at every instant.
	stop := make(chan struct{})
	sampled := make(chan int)
	go func() {
		n := 0
		defer func() { sampled <- n }()
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
			for _, p := range f.Stats().Pools {
				assert.Equal(t, p.Live, p.InUse+p.Kept+p.Deleting, "pool %s", p.Name)
			}
			n++
		}
	}()
	var wg sync.WaitGroup
	var failed atomic.Int64
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 3 {
				_, err := f.Execute(t.Context(), fleet.User{ID: fmt.Sprint("u", i)}, sessions.ShellCommand(fmt.Sprint("poolc", k)), nil)
				if err != nil {
					failed.Add(1)
					t.Errorf("user %d: %v", i, err)
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	assert.Positive(t, <-sampled, "the counts were sampled during the run")
	assert.Zero(t, failed.Load())
	require.Eventually(t, func() bool {
		for _, p := range f.Stats().Pools {
			if p.Live != p.InUse+p.Kept || p.Deleting != 0 || p.InUse != 0 {
				return false
			}
		}
		return true
	}, 2*time.Minute, 10*time.Millisecond, "counts converge")
	st := f.Stats()
	for i, p := range st.Pools {
		assert.Equal(t, p.Kept, srv.SessionCount(names[i]), "pool %s holds exactly the kept sessions", p.Name)
	}
	assert.Positive(t, st.DeleteFailures+st.Throttled+st.Failovers, "faults happened")
}

// A 3 s storm of 429 with Retry-After 1.5 s: no request reaches the pool
// before the Retry-After of the last 429 has passed, each waiting caller
// sends at most one request per 1.5 s, every call completes after the
// storm, and every command runs exactly once.
func TestThrottleStorm(t *testing.T) {
	t.Parallel()
	const (
		callers    = 12
		storm      = 3 * time.Second
		retryAfter = 1500 * time.Millisecond
	)
	var mu sync.Mutex
	runs := map[string]int{}
	srv := newEmu(t, 20, &sessionstest.Options{Scripted: func(_ context.Context, r sessionstest.ExecRequest) sessionstest.ExecResult {
		mu.Lock()
		runs[r.ShellCommand]++
		mu.Unlock()
		return sessionstest.ExecResult{}
	}}, "poola")
	log := &wireLog{next: srv.Client()}
	f, err := fleet.New(&fleet.Options{IDs: fleet.IDs{Key: testKey}, Pools: loggedPools(srv, 20, log, "poola"), MaxBackoff: 100 * time.Millisecond})
	require.NoError(t, err)
	t.Cleanup(func() { _ = f.Close(context.Background()) })
	_, err = f.Execute(t.Context(), fleet.User{ID: "warm"}, sessions.ShellCommand("warm"), nil) // the contract probe
	require.NoError(t, err)

	require.NoError(t, srv.SetPoolControl("poola", sessionstest.PoolControl{RefuseStatus: http.StatusTooManyRequests, RefuseRetryAfter: retryAfter}))
	stormStart := time.Now()
	time.AfterFunc(storm, func() { _ = srv.SetPoolControl("poola", sessionstest.PoolControl{}) })
	var wg sync.WaitGroup
	errs := make([]error, callers)
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = f.Execute(t.Context(), fleet.User{ID: fmt.Sprint("u", i)}, sessions.ShellCommand(fmt.Sprint("cmd", i)),
				&fleet.ExecuteOptions{OperationID: fmt.Sprintf("caller%02d", i)})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		assert.NoError(t, err, "caller %d completed after the storm", i)
	}
	for i := range callers {
		assert.Equal(t, 1, runs[fmt.Sprint("cmd", i)], "command %d ran once", i)
	}

	tries := log.all()
	sort.Slice(tries, func(i, j int) bool { return tries[i].at.Before(tries[j].at) })
	perCaller := map[string][]time.Time{}
	refused := 0
	for _, x := range tries {
		if x.at.Before(stormStart) {
			continue
		}
		if x.status == http.StatusTooManyRequests {
			refused++
		}
		if strings.HasPrefix(x.opID, "caller") {
			c := x.opID[:len("caller00")]
			perCaller[c] = append(perCaller[c], x.at)
		}
	}
	require.Positive(t, refused, "the storm refused requests")
	maxPerCaller := 0
	for c, ts := range perCaller {
		sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
		for i := 1; i < len(ts); i++ {
			assert.GreaterOrEqual(t, ts[i].Sub(ts[i-1]), retryAfter, "%s sent two requests %s apart", c, ts[i].Sub(ts[i-1]))
		}
		maxPerCaller = max(maxPerCaller, len(ts))
	}
	during := 0
	for _, x := range tries {
		if !x.at.Before(stormStart) && x.at.Before(stormStart.Add(storm)) {
			during++
		}
	}
	// The first wave (every caller, before any 429 came back), then one
	// probe per Retry-After for the whole pool.
	assert.LessOrEqual(t, during, callers+int(storm/retryAfter)+1, "after the first wave, one request per Retry-After")
	t.Logf("429 storm of %s (Retry-After %s), %d waiting callers: %d requests during the storm (%d refused in all), at most %d tries per caller, %d requests in all",
		storm, retryAfter, callers, during, refused, maxPerCaller, len(tries))
}
