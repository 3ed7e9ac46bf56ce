package fleet_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/sessions"
	"github.com/shellpool/shellpool/sessions/fleet"
	"github.com/shellpool/shellpool/sessions/sessionstest"
)

// replicaCall is one call of the replica drill: user u through fleet r.
type replicaCall struct {
	replica, user int
}

type replicaRun struct {
	maxWait, elapsed     time.Duration
	errors, canceled     int
	doubleRuns, executed int
	stats                []fleet.Stats
}

// runReplicaLoad runs every call at once, calls[i] through fleets[calls[i].replica],
// each a real bash command that appends its tag to a file in the session
// and prints the file, and counts what went wrong.
func runReplicaLoad(t *testing.T, fleets []*fleet.Fleet, logs []*wireLog, calls []replicaCall) replicaRun {
	t.Helper()
	var run replicaRun
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for i, c := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tag := fmt.Sprintf("call%04d", i)
			cmd := sessions.ShellCommand(fmt.Sprintf("sleep 0.05\necho %s >> runs.txt\ncat runs.txt", tag))
			r, err := fleets[c.replica].Execute(t.Context(), fleet.User{Tenant: "drill", ID: fmt.Sprint("u", c.user)}, cmd,
				&fleet.ExecuteOptions{OperationID: tag})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				run.errors++
				t.Errorf("%s (replica %d, user %d): %v", tag, c.replica, c.user, err)
			case r.Error != nil && r.Error.Code == "ExecutionCanceled":
				run.canceled++
			case r.ExitCode == nil || *r.ExitCode != 0:
				run.errors++
				t.Errorf("%s: status %s: %s", tag, r.Status, r.Stderr)
			default:
				if n := strings.Count(r.Stdout, tag); n != 1 {
					run.doubleRuns++
					t.Errorf("%s appears %d times in its session's run file", tag, n)
				}
			}
			run.maxWait = max(run.maxWait, r.Waited)
		}()
	}
	wg.Wait()
	run.elapsed = time.Since(start)
	// Client side: exactly one try per command that the service answered
	// as run (200/202); the others were refused before running.
	ran := map[string]int{}
	for _, l := range logs {
		for _, x := range l.all() {
			if x.method == http.MethodPost && x.path == "/executions" && (x.status == http.StatusOK || x.status == http.StatusAccepted) {
				ran[x.opID[:len("call0000")]]++
			}
		}
	}
	for tag, n := range ran {
		run.executed++
		if n != 1 {
			run.doubleRuns++
			t.Errorf("%s was answered as run %d times", tag, n)
		}
	}
	for _, f := range fleets {
		run.stats = append(run.stats, f.Stats())
	}
	return run
}

// TestReplicas: three fleets with one key over three pools, 100 users each,
// overlapping (each user is served by two of the replicas at the same
// time), real bash in the emulator. No command is cancelled by another
// replica, none runs twice, no caller fails, the longest wait stays
// within twice that of one replica running the same load (at the same
// time, on an emulator of its own), and every replica cleans up after
// itself.
func TestReplicas(t *testing.T) {
	t.Parallel()
	n := users(t)
	names := []string{"poola", "poolb", "poolc"}
	const slots = 8
	newFleets := func(srv *sessionstest.Server, k int) ([]*fleet.Fleet, []*wireLog) {
		var fs []*fleet.Fleet
		var logs []*wireLog
		for range k {
			l := &wireLog{next: srv.Client()}
			f, err := fleet.New(&fleet.Options{IDs: fleet.IDs{Key: testKey}, Pools: loggedPools(srv, slots, l, names...), MaxBackoff: 500 * time.Millisecond})
			require.NoError(t, err)
			fs = append(fs, f)
			logs = append(logs, l)
		}
		return fs, logs
	}
	var calls []replicaCall
	for r := range 3 {
		for j := range n {
			calls = append(calls, replicaCall{replica: r, user: (r*n/2 + j) % (3 * n / 2)})
		}
	}

	// One replica runs the same calls at the same time, against an
	// emulator of its own: both runs see the same load on the machine, so
	// their ratio does not depend on what else runs. The drill is about
	// the fleets, not the sandboxes (sessionstest tests those): sessions
	// are plain processes here, as a sandbox per session (hundreds, as
	// slots are reclaimed) makes the drill 5x slower under -race.
	baseSrv := newEmu(t, slots, &sessionstest.Options{Isolation: sessionstest.IsolationOff}, names...)
	one, oneLogs := newFleets(baseSrv, 1)
	single := make([]replicaCall, len(calls))
	for i, c := range calls {
		single[i] = replicaCall{replica: 0, user: c.user}
	}
	srv := newEmu(t, slots, &sessionstest.Options{Isolation: sessionstest.IsolationOff}, names...)
	three, logs := newFleets(srv, 3)
	var base, got replicaRun
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); base = runReplicaLoad(t, one, oneLogs, single) }()
	go func() { defer wg.Done(); got = runReplicaLoad(t, three, logs, calls) }()
	wg.Wait()
	require.NoError(t, one[0].Close(context.Background()))
	for i, f := range three {
		assert.NoError(t, f.Close(context.Background()), "replica %d deleted everything it made", i)
	}
	ids := fleet.IDs{Key: testKey}
	for _, p := range names {
		pager := rawClient(t, srv, p).NewListSessionsPager(nil)
		for pager.More() {
			page, err := pager.NextPage(t.Context())
			require.NoError(t, err)
			for _, s := range page.Value {
				assert.False(t, ids.Owns(s.Identifier), "pool %s still holds a session of the layer", p)
			}
		}
	}

	assert.Zero(t, got.canceled, "no command was cancelled by another replica")
	assert.Zero(t, got.doubleRuns, "no command ran twice")
	assert.Zero(t, got.errors, "no caller failed")
	assert.Equal(t, len(calls), got.executed, "every command ran")
	ratio := float64(got.maxWait) / float64(max(base.maxWait, time.Millisecond))
	assert.LessOrEqual(t, ratio, 2.0, "the longest wait with three replicas (%s) is within twice that of one (%s)", got.maxWait, base.maxWait)

	var capAnswers, yielded, lists int64
	for _, s := range got.stats {
		capAnswers += s.CapacityAnswers
		yielded += s.Yielded
		lists += s.Lists
	}
	t.Logf("replicas: %d calls (%d users, each served by two of 3 replicas) over %d pools x %d slots, real bash", len(calls), 3*n/2, len(names), slots)
	t.Logf("  one replica:    %s, max wait %s, %d errors", base.elapsed.Round(time.Millisecond), base.maxWait.Round(time.Millisecond), base.errors)
	t.Logf("  three replicas: %s, max wait %s (ratio %.2f), %d cancelled, %d double runs, %d errors; capacity answers %d, kept sessions yielded %d, listings %d",
		got.elapsed.Round(time.Millisecond), got.maxWait.Round(time.Millisecond), ratio, got.canceled, got.doubleRuns, got.errors, capAnswers, yielded, lists)
}

// The targeted form of the replica drill: replica A's kept session of a
// user expires (and is deleted) while replica B runs a command for the
// same user. B's command is not cancelled, because replicas never share a
// session; a replica that keeps its name finds its sessions again.
func TestReplicaDeletesNeverCancelAnothersCommand(t *testing.T) {
	t.Parallel()
	g := newGate()
	srv := newEmu(t, 5, &sessionstest.Options{Scripted: g.run}, "poola")
	a := newFleet(t, srv, 5, []string{"poola"}, func(o *fleet.Options) { o.KeepIdle = 50 * time.Millisecond; o.IDs.Replica = "pod-a" })
	b := newFleet(t, srv, 5, []string{"poola"}, func(o *fleet.Options) { o.IDs.Replica = "pod-b" })
	u := fleet.User{ID: "alice"}
	idA, err := a.SessionID(u)
	require.NoError(t, err)
	idB, err := b.SessionID(u)
	require.NoError(t, err)
	assert.NotEqual(t, idA, idB, "replicas never share a session")
	ids := fleet.IDs{Key: testKey}
	assert.True(t, ids.Owns(idA) && ids.Owns(idB), "every replica's sessions are the layer's")

	_, err = a.Execute(t.Context(), u, sessions.ShellCommand("a-first"), nil)
	require.NoError(t, err)
	done := make(chan error, 1)
	var resp fleet.ExecuteResponse
	go func() {
		var err error
		resp, err = b.Execute(t.Context(), u, sessions.ShellCommand("block in b"), nil)
		done <- err
	}()
	<-g.started
	// A's kept session expires and is deleted while B's command runs.
	require.Eventually(t, func() bool { return a.Stats().Deletes == 1 }, 2*time.Minute, 5*time.Millisecond)
	close(g.release)
	require.NoError(t, <-done)
	assert.Nil(t, resp.Error, "B's command was not cancelled")
	assert.Equal(t, "block in b", resp.Stdout)

	again, err := fleet.New(&fleet.Options{IDs: fleet.IDs{Key: testKey, Replica: "pod-b"}, Pools: poolsOf(srv, 5, "poola")})
	require.NoError(t, err)
	defer again.Close(t.Context())
	id, err := again.SessionID(u)
	require.NoError(t, err)
	assert.Equal(t, idB, id, "a restarted replica with the same name uses the same sessions")
}

// A replica's kept sessions do not hold slots another replica waits for:
// replica A keeps every slot of the pool idle (KeepIdle an hour), replica
// B's user meets capacity answers, and is served once A's listing shows
// the pool full and A deletes its kept sessions (without that, B would
// wait an hour).
func TestKeptSessionsYieldToAnotherReplica(t *testing.T) {
	t.Parallel()
	srv := newEmu(t, 2, &sessionstest.Options{Scripted: instant}, "poola")
	require.NoError(t, srv.SetPoolControl("poola", sessionstest.PoolControl{CapacityRetryAfter: 300 * time.Millisecond}))
	a := newFleet(t, srv, 2, []string{"poola"}, func(o *fleet.Options) { o.KeepIdle = time.Hour })
	b := newFleet(t, srv, 2, []string{"poola"}, func(o *fleet.Options) { o.KeepIdle = time.Hour })
	for i := range 2 {
		_, err := a.Execute(t.Context(), fleet.User{ID: fmt.Sprint("poola", i)}, sessions.ShellCommand("true"), nil)
		require.NoError(t, err)
	}
	require.Equal(t, 2, a.Stats().Pools[0].Kept)
	require.Equal(t, 2, srv.SessionCount("poola"), "the pool is full of A's idle sessions")
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Second)
	defer cancel()
	r, err := b.Execute(ctx, fleet.User{ID: "poolb"}, sessions.ShellCommand("true"), nil)
	require.NoError(t, err, "B is served long before A's KeepIdle of an hour")
	assert.Positive(t, a.Stats().Yielded, "A gave up its kept sessions")
	t.Logf("B waited %s for A's kept sessions (capacity answers %d, A's listings %d, B's listings %d)",
		r.Waited.Round(time.Millisecond), b.Stats().CapacityAnswers, a.Stats().Lists, b.Stats().Lists)
}
