package sessionstest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/internal/azname"
)

// Tests of the live behaviour the emulator reproduces by default, of the
// switches in Behavior, and of the defects independent drills found.

func TestRetryAfterOnAsyncAnswersAndCapacity(t *testing.T) {
	t.Parallel()
	s := setup(t, &Options{Pools: []Pool{{Name: DefaultPoolName, MaxConcurrentSessions: 1}}})
	c := newRaw(t, s)
	sid := newSID()
	c.sh(sid, "touch ready") // the session exists
	r := c.exec(sid, map[string]any{"shellCommand": "while [ ! -f go ]; do sleep 0.02; done", "executionType": "Asynchronous", "timeoutInSeconds": 30}, nil)
	require.Equal(t, http.StatusAccepted, r.status, "body: %s", r.body)
	assert.Equal(t, "1", r.header.Get("Retry-After"), "202 carries Retry-After")
	id := r.header.Get("operation-id")
	require.NotEmpty(t, id)

	g := c.do(http.MethodGet, "/executions/"+id, sid, nil, nil, nil)
	require.Equal(t, http.StatusOK, g.status)
	assert.Equal(t, "Running", g.json(t)["status"])
	assert.Equal(t, "1", g.header.Get("Retry-After"), "a non-terminal GET carries Retry-After")

	// The pool is full: the capacity answer says when to try again.
	full := c.exec(newSID(), map[string]any{"shellCommand": "true"}, nil)
	require.Equal(t, http.StatusNotFound, full.status)
	ra, err := strconv.Atoi(full.header.Get("Retry-After"))
	require.NoError(t, err, "the capacity answer carries Retry-After: %v", full.header)
	assert.GreaterOrEqual(t, ra, 1)
	assert.LessOrEqual(t, ra, int(DefaultCooldown/time.Second))

	c.sh(sid, "touch go")
	require.True(t, eventually(2*time.Minute, func() bool {
		g = c.do(http.MethodGet, "/executions/"+id, sid, nil, nil, nil)
		return g.json(t)["status"] == "0"
	}))
	assert.Empty(t, g.header.Get("Retry-After"), "a terminal GET has no Retry-After")
}

func TestArgumentLimitIsMaxArgStrlen(t *testing.T) {
	t.Parallel()
	s := setup(t, nil)
	c := newRaw(t, s)
	sid := newSID()
	// A script of exactly MaxArgBytes runs (Linux accepts 131,071 bytes plus
	// the NUL); one byte more is refused the same way in every dialect.
	fits := ":" + strings.Repeat(" ", MaxArgBytes-len(": ; echo ran")) + " ; echo ran"
	require.Len(t, fits, MaxArgBytes)
	m := c.exec(sid, map[string]any{"shellCommand": fits}, nil).json(t)
	assert.Equal(t, "0", m["status"])
	assert.Equal(t, "ran\n", stdout(m))

	big := strings.Repeat("x", MaxArgBytes+1)
	for name, body := range map[string]map[string]any{
		"shellCommand":       {"shellCommand": "echo " + big},
		"execCommandAndArgs": {"execCommandAndArgs": []string{"echo", big}},
		"tutorial command":   {"codeInputType": "Inline", "executionType": "Synchronous", "command": []string{"bash", "-c", "echo " + big}},
	} {
		r := c.exec(sid, body, nil)
		require.Equal(t, http.StatusOK, r.status, "%s: %s", name, r.body[:min(len(r.body), 300)])
		m := r.json(t)
		assert.Equal(t, "126", m["status"], name)
		assert.Contains(t, stderr(m), "Argument list too long", name)
		assert.Contains(t, stderr(m), strconv.Itoa(MaxArgBytes), name)
		assert.Empty(t, stdout(m), name)
	}
	// Scripted servers answer it the same way, without calling the script.
	called := false
	sc := setup(t, &Options{Scripted: func(context.Context, ExecRequest) ExecResult { called = true; return ExecResult{} }})
	m = newRaw(t, sc).exec(newSID(), map[string]any{"shellCommand": big}, nil).json(t)
	assert.Equal(t, "126", m["status"])
	assert.False(t, called)
}

func TestLostFinalWriteRateIsSeededAndClose(t *testing.T) {
	t.Parallel()
	count := func(rate float64, seed int64, runs int) (int, []int) {
		s := setup(t, &Options{
			Behavior: Behavior{LostFinalWriteRate: rate, Seed: seed},
			Pools:    []Pool{{Name: DefaultPoolName, MaxConcurrentSessions: 1}},
			Scripted: func(context.Context, ExecRequest) ExecResult { return ExecResult{Stdout: "first\nlast\n"} },
		})
		c := newRaw(t, s)
		sid := newSID()
		lost, which := 0, []int(nil)
		for i := range runs {
			out := stdout(c.exec(sid, map[string]any{"shellCommand": "x"}, nil).json(t))
			switch out {
			case "first\nlast\n":
			case "first\n":
				lost++
				which = append(which, i)
			default:
				t.Fatalf("run %d: stdout %q", i, out)
			}
		}
		return lost, which
	}
	const runs = 2000
	lost, a := count(0.03, 7, runs)
	rate := float64(lost) / runs
	assert.InDelta(t, 0.03, rate, 0.012, "lost %d of %d", lost, runs)
	_, b := count(0.03, 7, 300)
	assert.Equal(t, a[:len(b)], b, "the same seed drops the same runs")
	none, _ := count(0, 7, 300)
	assert.Zero(t, none, "off by default")

	// With real processes: the final write (the last line) is what goes.
	s := setup(t, &Options{Behavior: Behavior{LostFinalWriteRate: 1}})
	m := newRaw(t, s).sh(newSID(), "echo a; echo b; echo err >&2")
	assert.Equal(t, "a\n", stdout(m))
	assert.Equal(t, "err\n", stderr(m), "stderr is untouched")
	assert.Equal(t, "0", m["status"])
}

func TestFlatFileStore(t *testing.T) {
	t.Parallel()
	s := setup(t, &Options{Behavior: Behavior{FlatFileStore: true}})
	c := newRaw(t, s)
	sid := newSID()
	require.Equal(t, http.StatusOK, c.upload(sid, "", "bare.txt", []byte("x")).status)
	require.Equal(t, http.StatusOK, c.upload(sid, "/mnt/data", "also.txt", []byte("y")).status)
	for name, r := range map[string]reply{
		"path query":  c.upload(sid, "sub", "a.txt", []byte("x")),
		"list a path": c.do(http.MethodGet, "/files", sid, url.Values{"path": {"sub"}}, nil, nil),
		"get a path":  c.do(http.MethodGet, "/files/sub/a.txt", sid, nil, nil, nil),
	} {
		assert.Equal(t, http.StatusBadRequest, r.status, name)
		assert.Equal(t, "InvalidPath", r.errorCode(t), name)
		assert.Contains(t, r.errorMessage(t), "bare file name", name)
	}
	c.sh(sid, "mkdir d && touch d/inner")
	l := c.do(http.MethodGet, "/files", sid, nil, nil, nil)
	require.Equal(t, http.StatusOK, l.status)
	assert.Equal(t, []string{"also.txt:File", "bare.txt:File"}, names(l.json(t)), "a flat store lists files directly under /mnt/data")

	// The default store takes paths.
	d := setup(t, nil)
	assert.Equal(t, http.StatusOK, newRaw(t, d).upload(newSID(), "sub", "a.txt", []byte("x")).status)
}

// cpuPressureEnv marks the child process in which
// TestNoOutputLostUnderCPUPressure does its work.
const cpuPressureEnv = "SESSIONSTEST_CPU_PRESSURE_CHILD"

// TestNoOutputLostUnderCPUPressure: with one P and goroutines spinning, a
// command's output is never lost (it used to be, when a copy goroutine did
// not run within 250 ms of the process exiting). GOMAXPROCS is process-wide,
// so the test re-runs this binary for itself alone and lets the other tests
// of the package run in parallel meanwhile.
func TestNoOutputLostUnderCPUPressure(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	if os.Getenv(cpuPressureEnv) == "1" {
		noOutputLostUnderCPUPressure(t)
		return
	}
	t.Parallel()
	args := []string{"-test.run=^TestNoOutputLostUnderCPUPressure$", "-test.count=1", "-test.v"}
	if d, ok := t.Deadline(); ok {
		args = append(args, "-test.timeout="+time.Until(d).String())
	}
	cmd := exec.CommandContext(t.Context(), os.Args[0], args...)
	cmd.Env = append(os.Environ(), cpuPressureEnv+"=1")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "child test process:\n%s", out)
	require.Contains(t, string(out), "--- PASS: TestNoOutputLostUnderCPUPressure", "the child ran the check:\n%s", out)
}

// noOutputLostUnderCPUPressure is the body of
// TestNoOutputLostUnderCPUPressure, run in a process of its own.
func noOutputLostUnderCPUPressure(t *testing.T) {
	s := setup(t, &Options{Pools: []Pool{{Name: DefaultPoolName, MaxConcurrentSessions: 16}}})
	c := newRaw(t, s)
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	stop := make(chan struct{})
	var spin sync.WaitGroup
	// The spinners keep the only P busy; they yield between bursts so that
	// the test finishes in seconds, but every other goroutine waits its
	// turn behind them.
	var sink atomic.Int64
	for range 2 {
		spin.Add(1)
		go func() {
			defer spin.Done()
			for {
				select {
				case <-stop:
					return
				default:
					x := int64(0)
					for i := int64(0); i < 5e3; i++ {
						x += i * i
					}
					sink.Add(x)
					runtime.Gosched()
				}
			}
		}()
	}
	defer func() { close(stop); spin.Wait() }()

	const total, workers = 1000, 8
	var lost, bad atomic.Int64
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sid := newSID()
			for next.Add(1) <= total {
				r := c.exec(sid, map[string]any{"execCommandAndArgs": []string{"echo", "ok"}, "timeoutInSeconds": 120}, nil)
				if r.status != http.StatusOK {
					bad.Add(1)
					continue
				}
				if m := r.json(t); m["status"] != "0" || stdout(m) != "ok\n" {
					lost.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	assert.Zero(t, bad.Load(), "non-200 answers")
	assert.Zero(t, lost.Load(), "outputs lost in %d executions", total)
}

// TestSetsidChildrenDieWithTheSession: a process that leaves the command's
// process group (setsid) dies with DeleteSession and with Close.
func TestSetsidChildrenDieWithTheSession(t *testing.T) {
	needUnix(t)
	t.Parallel()
	if _, err := lookPath("setsid"); err != nil {
		t.Skip("no setsid on the session PATH")
	}
	s := setup(t, roomy())
	if !s.iso.Sandboxed && !sweepSupported {
		t.Skip("finding processes that left their process group needs /proc (Linux) or sandboxes")
	}
	start := func(s *Server, sid string) int {
		m := newRaw(t, s).sh(sid, "setsid sh -c 'echo $$ > escaped.pid; exec sleep 1000' > /dev/null 2>&1 < /dev/null & sleep 0.01; while [ ! -s escaped.pid ]; do sleep 0.01; done; cat escaped.pid")
		pid, err := strconv.Atoi(strings.TrimSpace(stdout(m)))
		require.NoError(t, err, "stdout %q", stdout(m))
		pid = s.HostPID(DefaultPoolName, sid, pid)
		require.True(t, processAlive(pid))
		return pid
	}
	sid := newSID()
	pid := start(s, sid)
	r := newRaw(t, s).do(http.MethodDelete, "/session", sid, nil, nil, nil)
	require.Equal(t, http.StatusNoContent, r.status)
	assert.True(t, eventually(2*time.Minute, func() bool { return !processAlive(pid) }), "setsid child %d survived DeleteSession", pid)

	other := setup(t, nil)
	var escaped int
	if other.iso.Sandboxed {
		escaped = start(other, newSID())
	} else {
		oc := newRaw(t, other)
		oc.sh(newSID(), "setsid sleep 1000 > /dev/null 2>&1 < /dev/null &")
		require.True(t, eventually(2*time.Minute, func() bool {
			// setsid forks when it is a group leader; find the sleep by its mark.
			pids := markedPIDs(other.mark)
			if len(pids) > 0 {
				escaped = pids[0]
			}
			return escaped > 0
		}))
	}
	other.Close()
	assert.True(t, eventually(2*time.Minute, func() bool { return !processAlive(escaped) }), "setsid child %d survived Close", escaped)
	assert.Empty(t, markedPIDs(other.mark), "no marked process is left")
}

// TestFileOpsCannotEscapeThroughASwappedSymlink races a command that swaps a
// symbolic link between a directory inside the session and one outside
// against 2,000 uploads and downloads through it: none may land outside or
// read outside.
func TestFileOpsCannotEscapeThroughASwappedSymlink(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("the race needs symbolic links a command can swap")
	}
	outside := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(outside, "secret.txt"), []byte("SECRET"), 0o644))
	s := setup(t, nil)
	c := newRaw(t, s)
	sid := newSID()
	c.sh(sid, "mkdir -p in && echo inside > in/secret.txt && ln -s in link")
	swap := c.exec(sid, map[string]any{
		"shellCommand":     fmt.Sprintf("while [ ! -f stop ]; do ln -sfn %q link.new && mv -T link.new link; ln -sfn in link.new && mv -T link.new link; done", outside),
		"executionType":    "Asynchronous",
		"timeoutInSeconds": 120,
	}, nil)
	require.Equal(t, http.StatusAccepted, swap.status)

	const total, workers = 2000, 8
	var escapes, reads atomic.Int64
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > total {
					return
				}
				if i%2 == 0 {
					r := c.upload(sid, "link", fmt.Sprintf("up-%d.txt", i), []byte("x"))
					if r.status == http.StatusOK {
						reads.Add(0)
					}
				} else {
					r := c.do(http.MethodGet, "/files/link/secret.txt/content", sid, nil, nil, nil)
					if bytes.Contains(r.body, []byte("SECRET")) {
						escapes.Add(1)
					}
					if r.status == http.StatusOK {
						reads.Add(1)
					}
				}
			}
		}()
	}
	wg.Wait()
	c.sh(sid, "touch stop")
	entries, err := os.ReadDir(outside)
	require.NoError(t, err)
	for _, e := range entries {
		if e.Name() != "secret.txt" {
			escapes.Add(1)
			t.Errorf("an upload landed outside the session: %s", e.Name())
		}
	}
	assert.Zero(t, escapes.Load(), "escapes in %d operations", total)
	t.Logf("%d of %d downloads read the inside file", reads.Load(), total/2)
}

// TestDetachedBackgroundProcessOutlivesItsExecution: a nohup ... & started
// by one execution keeps running after the execution answered (its answer
// does not wait for it) until the session ends; a later execution reads its
// files.
func TestDetachedBackgroundProcessOutlivesItsExecution(t *testing.T) {
	needUnix(t)
	t.Parallel()
	s := setup(t, nil)
	c := newRaw(t, s)
	sid := newSID()
	// Its stdout stays open (no redirection): the answer must not wait.
	m := c.sh(sid, "nohup sh -c 'while [ ! -f go ]; do sleep 0.02; done; echo done > bg.txt; sleep 1000' & echo $! > bg.pid; echo started")
	assert.Equal(t, "started\n", stdout(m))
	assert.Equal(t, "0", m["status"])
	c.sh(sid, "touch go")
	require.True(t, eventually(2*time.Minute, func() bool {
		return stdout(c.sh(sid, "cat bg.txt 2>/dev/null")) == "done\n"
	}), "the background process ran on after its execution")
	pid, err := strconv.Atoi(strings.TrimSpace(stdout(c.sh(sid, "cat bg.pid"))))
	require.NoError(t, err)
	pid = s.HostPID(DefaultPoolName, sid, pid)
	assert.True(t, processAlive(pid), "still running while the session lives")
	require.Equal(t, http.StatusNoContent, c.do(http.MethodDelete, "/session", sid, nil, nil, nil).status)
	assert.True(t, eventually(2*time.Minute, func() bool { return !processAlive(pid) }), "the session's end stops it")
}

func TestNewServerSkipsWithoutBash(t *testing.T) {
	// Not parallel: it replaces bashCheck.
	old := bashCheck
	bashCheck = func() error { return fmt.Errorf("%w: %s", ErrNoBash, bashHint) }
	defer func() { bashCheck = old }()

	_, err := Start(nil)
	require.ErrorIs(t, err, ErrNoBash)
	assert.Contains(t, err.Error(), "install")
	rec := &skipRecorder{TB: t}
	assert.Nil(t, NewServer(&Options{TB: rec}))
	assert.True(t, rec.skipped, "NewServer skips the test")
	assert.Contains(t, rec.reason, "bash not found")

	s, err := Start(&Options{Scripted: func(context.Context, ExecRequest) ExecResult { return ExecResult{} }})
	require.NoError(t, err, "a scripted server needs no bash")
	s.Close()
}

type skipRecorder struct {
	testing.TB
	skipped bool
	reason  string
}

func (r *skipRecorder) Helper() {}
func (r *skipRecorder) Skip(args ...any) {
	r.skipped, r.reason = true, fmt.Sprint(args...)
}

// TestKilledEmulatorLeavesNoOrphans kills a process running an emulator (this
// test binary, re-run as a helper) while a command and a background process
// of it run: the kernel kills the command (Pdeathsig), the next Start kills
// the background process and removes the dead emulator's directory.
func TestKilledEmulatorLeavesNoOrphans(t *testing.T) {
	if os.Getenv("SESSIONSTEST_HELPER_DIR") != "" {
		helperEmulator(os.Getenv("SESSIONSTEST_HELPER_DIR"))
		return
	}
	if !sweepSupported {
		t.Skip("needs /proc and Pdeathsig (Linux)")
	}
	t.Parallel()
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledEmulatorLeavesNoOrphans$", "-test.count=1")
	cmd.Env = append(os.Environ(), "SESSIONSTEST_HELPER_DIR="+dir)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	require.True(t, errors.As(err, &ee), "the helper kills itself: %v\n%s", err, out)
	b, err := os.ReadFile(filepath.Join(dir, "pids"))
	require.NoError(t, err, "helper output: %s", out)
	f := strings.Fields(string(b))
	require.Len(t, f, 3)
	cmdPID, _ := strconv.Atoi(f[0])
	bgPID, _ := strconv.Atoi(f[1])
	root := f[2]
	assert.True(t, eventually(2*time.Minute, func() bool { return !processAlive(cmdPID) }), "the running command died with its emulator")
	if root == "-" {
		// Sandboxed: the kernel ended the whole sandbox with its init,
		// and the emulator had nothing on disk to leave behind.
		assert.True(t, eventually(2*time.Minute, func() bool { return !processAlive(bgPID) }), "the background process died with its emulator")
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		assert.Equal(t, []string{"pids"}, entryNames(entries), "a killed sandboxing emulator left files behind")
		return
	}
	assert.DirExists(t, root)

	s := setup(t, &Options{Dir: dir, Isolation: IsolationOff})
	assert.True(t, eventually(2*time.Minute, func() bool { return !processAlive(bgPID) }), "the next Start killed the orphan")
	assert.NoDirExists(t, root, "the next Start removed the dead emulator's directory")
	_ = s
}

func entryNames(entries []os.DirEntry) []string {
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// helperEmulator runs in the helper process: it starts an emulator in dir,
// leaves a running command and a background process, writes their pids and
// the emulator's root to dir/pids and dies without Close.
func helperEmulator(dir string) {
	s, err := Start(&Options{Dir: dir})
	if err != nil {
		fmt.Println(err)
		os.Exit(3)
	}
	tok := s.Token(azname.SessionsAudience, s.PrincipalID())
	sid := newSID()
	post := func(body string) {
		req, _ := http.NewRequest(http.MethodPost, s.PoolEndpoint()+"/executions?api-version="+apiVersion+"&identifier="+sid, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := s.Client().Do(req)
		if err == nil {
			resp.Body.Close()
		}
	}
	post(`{"shellCommand":"sleep 1000 > /dev/null 2>&1 & echo $! > bg.pid","timeoutInSeconds":30}`)
	post(`{"shellCommand":"echo $$ > cmd.pid; exec sleep 1000","executionType":"Asynchronous","timeoutInSeconds":600}`)
	sd, _ := s.SessionDir(DefaultPoolName, sid)
	var cmdPID, bgPID string
	for range 500 {
		a, _ := os.ReadFile(filepath.Join(sd, "cmd.pid"))
		b, _ := os.ReadFile(filepath.Join(sd, "bg.pid"))
		cmdPID, bgPID = strings.TrimSpace(string(a)), strings.TrimSpace(string(b))
		if cmdPID != "" && bgPID != "" {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The pids the test binary sees (a sandbox has its own PID namespace).
	hostPID := func(p string) string {
		n, _ := strconv.Atoi(p)
		return strconv.Itoa(s.HostPID(DefaultPoolName, sid, n))
	}
	root := s.root
	if root == "" {
		root = "-" // sandboxed: no directory
	}
	_ = os.WriteFile(filepath.Join(dir, "pids"), []byte(hostPID(cmdPID)+" "+hostPID(bgPID)+" "+root), 0o644)
	p, _ := os.FindProcess(os.Getpid())
	_ = p.Kill()
	select {}
}

func TestPagedFileListingUsesOneSnapshot(t *testing.T) {
	t.Parallel()
	s := setup(t, &Options{PageSize: 3})
	c := newRaw(t, s)
	sid := newSID()
	c.sh(sid, "touch a b c d e f g")
	first := c.do(http.MethodGet, "/files", sid, nil, nil, nil)
	require.Equal(t, http.StatusOK, first.status)
	m := first.json(t)
	got := names(m)
	// A file made between pages does not shift the listing.
	c.sh(sid, "touch 0")
	next, _ := m["nextLink"].(string)
	for next != "" {
		u, err := url.Parse(next)
		require.NoError(t, err)
		r := c.do(http.MethodGet, "/files", sid, u.Query(), nil, nil)
		require.Equal(t, http.StatusOK, r.status, "%s", r.body)
		m = r.json(t)
		got = append(got, names(m)...)
		next, _ = m["nextLink"].(string)
	}
	assert.Equal(t, []string{"a:File", "b:File", "c:File", "d:File", "e:File", "f:File", "g:File"}, got)
}
