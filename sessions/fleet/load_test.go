package fleet_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/sessions"
	"github.com/shellpool/shellpool/sessions/fleet"
	"github.com/shellpool/shellpool/sessions/sessionstest"
)

// loadUsers sizes TestLoad and TestFailover. The figure is 1,000
// users: go test ./sessions/fleet -run 'TestLoad|TestFailover' -fleet.users=1000
var (
	loadUsers = flag.Int("fleet.users", 0, "simulated users of TestLoad, TestFailover and TestReplicas (default 100; TestLoad and TestFailover: 30 with -short or -race)")
	loadBash  = flag.Bool("fleet.bash", false, "TestLoad and TestFailover: run every command with bash in the emulator instead of the in-process function")
)

func users(t *testing.T) int {
	if *loadUsers > 0 {
		return *loadUsers
	}
	if testing.Short() {
		return 30
	}
	return 100
}

// loadTestUsers sizes TestLoad and TestFailover: users(t), or 30 under
// the race detector, where 150 calls over 13 free slots still meet
// capacity answers and a fail-over at every step, and 500 take minutes.
func loadTestUsers(t *testing.T) int {
	if raceEnabled && *loadUsers == 0 {
		return 30
	}
	return users(t)
}

// loadEmu starts the emulator of the load tests. By default the commands
// of loadScript are carried out by a function in the emulator (the same
// 50 ms sleep, the same files in the session, the same run log), so the
// fleet sees the same wire traffic without a bash process per command,
// which a busy machine cannot start fast enough. -fleet.bash runs them
// with bash.
func loadEmu(t *testing.T, names ...string) *sessionstest.Server {
	o := &sessionstest.Options{}
	if !*loadBash {
		o.Scripted = scriptedLoad
	}
	return newEmu(t, loadSlots, o, names...)
}

var scriptRE = regexp.MustCompile(`echo (\S+) > (\S+)\necho (\S+) >> (\S+)\n`)

func scriptedLoad(ctx context.Context, r sessionstest.ExecRequest) sessionstest.ExecResult {
	m := scriptRE.FindStringSubmatch(r.ShellCommand)
	if m == nil {
		return sessionstest.ExecResult{}
	}
	select {
	case <-time.After(loadSleep):
	case <-ctx.Done():
		return sessionstest.ExecResult{ExitCode: -1, ErrorCode: "ExecutionTimeout"}
	}
	seen := map[string]bool{}
	marks, _ := filepath.Glob(filepath.Join(r.Dir, "*.mark"))
	for _, mk := range marks {
		b, _ := os.ReadFile(mk)
		seen[strings.TrimSpace(string(b))] = true
	}
	if err := os.WriteFile(filepath.Join(r.Dir, m[2]), []byte(m[1]+"\n"), 0o600); err != nil {
		return sessionstest.ExecResult{ExitCode: 1, Stderr: err.Error()}
	}
	lf, err := os.OpenFile(m[4], os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return sessionstest.ExecResult{ExitCode: 1, Stderr: err.Error()}
	}
	_, _ = lf.WriteString(m[3] + "\n")
	_ = lf.Close()
	var out []string
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return sessionstest.ExecResult{Stdout: strings.Join(out, " ")}
}

const (
	loadPools    = 3
	loadSlots    = 5
	loadCommands = 5
	loadSleep    = 50 * time.Millisecond
)

// loadScript is command k of user u: sleep 0.05, report the marks of every
// user found in the session, write the user's own mark, and log that the
// command ran (the log is outside the session, so it sees every run).
func loadScript(u string, k int, log string) sessions.Command {
	return sessions.ShellCommand(fmt.Sprintf(
		"sleep 0.05\nseen=$(cat *.mark 2>/dev/null | sort -u | tr '\\n' ' ')\necho %s > %s-%d.mark\necho %s-%d >> %s\nprintf '%%s' \"$seen\"",
		u, u, k, u, k, log))
}

// ranOnce checks the run log: every logged command ran once; it returns
// how many ran.
func ranOnce(t *testing.T, log string) map[string]int {
	t.Helper()
	b, err := os.ReadFile(log)
	require.NoError(t, err)
	counts := map[string]int{}
	for _, l := range strings.Fields(string(b)) {
		counts[l]++
	}
	for k, n := range counts {
		assert.Equal(t, 1, n, "command %s ran %d times", k, n)
	}
	return counts
}

// foreignSessions puts a session that is not the fleet's in pool a (a plain
// UUID) and in pool b (one that imitates the fleet's prefix), and returns
// their identifiers by pool.
func foreignSessions(t *testing.T, srv *sessionstest.Server) map[string]string {
	t.Helper()
	out := map[string]string{"poola": sessions.NewSessionID(), "poolb": "spf-0-" + strings.Repeat("0f", 24)}
	for pool, id := range out {
		_, err := rawClient(t, srv, pool).UploadFile(t.Context(), id, "keep.txt", strings.NewReader("foreign\n"), nil)
		require.NoError(t, err)
	}
	return out
}

// assertReaped runs the reaper and checks that no session of the layer is
// left and every foreign one is untouched.
func assertReaped(t *testing.T, srv *sessionstest.Server, f *fleet.Fleet, foreign map[string]string, pools ...string) {
	t.Helper()
	ids := fleet.IDs{Key: testKey}
	res, err := f.Reap(t.Context(), &fleet.ReapOptions{All: true})
	require.NoError(t, err)
	assert.Equal(t, len(foreign), res.Foreign, "the reaper saw the foreign sessions")
	for _, p := range pools {
		var left []string
		pager := rawClient(t, srv, p).NewListSessionsPager(nil)
		for pager.More() {
			page, err := pager.NextPage(t.Context())
			require.NoError(t, err)
			for _, s := range page.Value {
				left = append(left, s.Identifier)
			}
		}
		for _, id := range left {
			assert.False(t, ids.Owns(id), "pool %s still has a session of the layer", p)
		}
		if id, ok := foreign[p]; ok {
			assert.Equal(t, []string{id}, left, "pool %s keeps exactly its foreign session", p)
			dir, ok := srv.SessionDir(p, id)
			require.True(t, ok)
			b, err := os.ReadFile(filepath.Join(dir, "keep.txt"))
			require.NoError(t, err)
			assert.Equal(t, "foreign\n", string(b), "the foreign session's files are untouched")
		} else {
			assert.Empty(t, left)
		}
	}
}

type callResult struct {
	user   int
	waited time.Duration
	err    error
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

// TestLoad: N users x 5 commands over 3 pools of 5 slots (two of which hold
// a foreign session, so the fleet meets real capacity answers).
func TestLoad(t *testing.T) {
	t.Parallel()
	n := loadTestUsers(t)
	names := []string{"poola", "poolb", "poolc"}
	srv := loadEmu(t, names...)
	foreign := foreignSessions(t, srv)
	f := newFleet(t, srv, loadSlots, names, nil)
	log := filepath.Join(t.TempDir(), "ran.log")

	results := make(chan callResult, n*loadCommands)
	var crossUser atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("u%d", i)
			for k := range loadCommands {
				r, err := f.Execute(t.Context(), fleet.User{Tenant: "load", ID: name}, loadScript(name, k, log), nil)
				if err == nil {
					for _, seen := range strings.Fields(r.Stdout) {
						if seen != name {
							crossUser.Add(1)
						}
					}
					if r.ExitCode == nil || *r.ExitCode != 0 {
						err = fmt.Errorf("exit %v: %s", r.Status, r.Stderr)
					}
				}
				results <- callResult{user: i, waited: r.Waited, err: err}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(results)

	var waits []time.Duration
	perUser := make([]time.Duration, n)
	failed := 0
	for r := range results {
		if r.err != nil {
			failed++
			assert.NotErrorIs(t, r.err, sessions.ErrPoolAtCapacity)
			t.Errorf("user %d: %v", r.user, r.err)
			continue
		}
		waits = append(waits, r.waited)
		perUser[r.user] += r.waited
	}
	assert.Zero(t, failed, "no call failed, capacity answers included")
	assert.Zero(t, crossUser.Load(), "no user saw another user's files")
	ran := ranOnce(t, log)
	assert.Len(t, ran, n*loadCommands, "every command ran exactly once")

	st := f.Stats()
	assertReaped(t, srv, f, foreign, names...)

	cmds := n * loadCommands
	sort.Slice(perUser, func(i, j int) bool { return perUser[i] < perUser[j] })
	median := perUser[len(perUser)/2]
	ratio := 0.0
	if median > 0 {
		ratio = float64(perUser[len(perUser)-1]) / float64(median)
	}
	t.Logf("load (bash=%v): %d users x %d commands over %d pools x %d slots (2 slots held by foreign sessions) in %s", *loadBash, n, loadCommands, loadPools, loadSlots, elapsed.Round(time.Millisecond))
	t.Logf("throughput %.1f commands/s; theoretical limit %.0f/s (15 slots / 0.05 s), %.0f/s for the 13 slots left to the fleet",
		float64(cmds)/elapsed.Seconds(), float64(loadPools*loadSlots)/loadSleep.Seconds(), float64(loadPools*loadSlots-2)/loadSleep.Seconds())
	t.Logf("wait per call: p50 %s, p99 %s; wait per user (sum of 5): median %s, max %s, max/median %.2f",
		percentile(waits, 0.5).Round(time.Millisecond), percentile(waits, 0.99).Round(time.Millisecond),
		median.Round(time.Millisecond), perUser[len(perUser)-1].Round(time.Millisecond), ratio)
	t.Logf("fleet: grants %d, reused %d, capacity answers absorbed %d, reclaims %d, deletes %d", st.Grants, st.Reused, st.CapacityAnswers, st.Reclaims, st.Deletes)
}

// TestFailover: one of three pools becomes unreachable halfway through.
func TestFailover(t *testing.T) {
	t.Parallel()
	n := loadTestUsers(t)
	names := []string{"poola", "poolb", "poolc"}
	srv := loadEmu(t, names...)
	f := newFleet(t, srv, loadSlots, names, nil)
	log := filepath.Join(t.TempDir(), "ran.log")
	total := n * loadCommands
	var done, failed, afterOutage atomic.Int64
	var outage atomic.Bool
	var mu sync.Mutex
	reasons := map[string]int{}
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("u%d", i)
			for k := range loadCommands {
				late := outage.Load() // calls already on their way to b may still land there
				r, err := f.Execute(t.Context(), fleet.User{ID: name}, loadScript(name, k, log), nil)
				if err != nil {
					failed.Add(1)
					assert.NotErrorIs(t, err, sessions.ErrPoolAtCapacity)
					msg := err.Error()
					mu.Lock()
					reasons[msg[:min(len(msg), 120)]]++
					mu.Unlock()
				} else {
					if late {
						afterOutage.Add(1)
						assert.NotEqual(t, "poolb", r.Pool, "no command ran on the unreachable pool after the outage began")
					}
				}
				if done.Add(1) == int64(total/2) {
					require.NoError(t, srv.SetPoolControl("poolb", sessionstest.PoolControl{Unreachable: true}))
					outage.Store(true)
				}
			}
		}()
	}
	wg.Wait()
	st := f.Stats()
	ranOnce(t, log)
	assert.Positive(t, afterOutage.Load(), "commands kept completing on the other pools")
	assert.Positive(t, st.Failovers, "the fleet moved work away from pool b")
	assert.Less(t, failed.Load(), int64(total/10), "only calls caught in flight may fail")
	_, err := f.Reap(t.Context(), &fleet.ReapOptions{All: true})
	assert.Error(t, err, "pool b cannot be reaped while it is unreachable")
	assert.Zero(t, srv.SessionCount("poola")+srv.SessionCount("poolc"), "the reachable pools are reaped")
	t.Logf("failover: %d commands, %d completed after pool b became unreachable, %d failed; failovers %d", total, afterOutage.Load(), failed.Load(), st.Failovers)
	for msg, k := range reasons {
		t.Logf("  %d x %s", k, msg)
	}
}
