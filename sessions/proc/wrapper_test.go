package proc

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseReportRefusesForgedOrCutRecords(t *testing.T) {
	rec := "@@shellpool-rec:n1 st=done rc=0 to=0 wd=0 t0=- t1=- om=i ol=2 ok=701174007 on=shellpool-proc-x.out em=n el=0 ek=0 en=-"
	r, ok := parseReport("ok\n"+rec+"\n", "", "n1")
	require.True(t, ok)
	assert.Equal(t, "ok", string(r.out.inline))
	// Another nonce (a command printing a record of its own) is not a record.
	_, ok = parseReport("ok\n"+rec+"\n", "", "n2")
	assert.False(t, ok)
	// A record cut before its newline is not trusted.
	_, ok = parseReport("ok\n"+rec, "", "n1")
	assert.False(t, ok)
	// Content that does not match the checksum is not kept inline.
	r, ok = parseReport("oK\n"+rec+"\n", "", "n1")
	require.True(t, ok)
	assert.Nil(t, r.out.inline)
	// A lost stdout record is read from stderr, and the content verified.
	r, ok = parseReport("ok\n", "\n"+rec+"\n", "n1")
	require.True(t, ok)
	assert.Equal(t, "ok", string(r.out.inline))
}

// localSession runs the layer's scripts with bash on this machine, in a
// directory standing for the session's file root, with only the tools in
// bin on PATH (all of the machine's when bin is empty).
type localSession struct {
	t     *testing.T
	bash  string
	dir   string
	path  string
	extra []*os.File // open descriptors from 3 on, inherited by every script
}

func newLocalSession(t *testing.T, tools ...string) *localSession {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	ls := &localSession{t: t, bash: bash, dir: t.TempDir(), path: os.Getenv("PATH")}
	if len(tools) > 0 {
		bin := t.TempDir()
		for _, tool := range tools {
			p, err := exec.LookPath(tool)
			if err != nil {
				t.Skipf("no %s on this machine", tool)
			}
			require.NoError(t, os.Symlink(p, filepath.Join(bin, tool)))
		}
		ls.path = bin
		ls.bash = filepath.Join(bin, "bash")
	}
	return ls
}

// run runs a script and returns its report.
func (ls *localSession) run(nonce, sc string) record {
	ls.t.Helper()
	cmd := exec.Command(ls.bash, "-c", sc)
	cmd.Dir = ls.dir
	cmd.Env = []string{"PATH=" + ls.path, "PWD=" + ls.dir, "SHELLPOOL_FILES_ROOT=" + ls.dir}
	cmd.ExtraFiles = ls.extra
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	require.NoError(ls.t, cmd.Run())
	rec, ok := parseReport(out.String(), errb.String(), nonce)
	require.True(ls.t, ok, "stdout %q stderr %q", out.String(), errb.String())
	return rec
}

// start runs main_run for c (waiting up to wait seconds).
func (ls *localSession) start(c *Cmd, id, nonce string, wait float64, oo, eo int) record {
	ls.t.Helper()
	c.s = nil
	prologue, ups, err := c.job(id)
	require.NoError(ls.t, err)
	require.Empty(ls.t, ups)
	return ls.run(nonce, script(header(id, nonce, 60, inlineBudget, nil)+prologue, runCalls(runWait(time.Duration(wait*float64(time.Second))), int64(oo), int64(eo))...))
}

func (ls *localSession) poll(id, nonce, call string) record {
	ls.t.Helper()
	return ls.run(nonce, script(header(id, nonce, 60, inlineBudget, nil), call))
}

// TestWrapperNeedsOnlyBashAndPOSIXTools runs the real scripts with a PATH
// that holds bash, cat, wc, tail, cksum, rm and env only: no timeout,
// setsid, sleep or ps, which a pool's image may lack.
func TestWrapperNeedsOnlyBashAndPOSIXTools(t *testing.T) {
	ls := newLocalSession(t, "bash", "cat", "wc", "tail", "cksum", "rm", "env")
	// A busy loop (builtins only) killed by the timeout.
	c := &Cmd{Script: "echo start; while :; do :; done", Timeout: 500 * time.Millisecond}
	c.w.mode = [2]int64{-2, -2}
	rec := ls.start(c, newHexID(12), "n1", 5, -2, -2)
	assert.Equal(t, stateDone, rec.state)
	assert.True(t, rec.timedOut)
	assert.Equal(t, 124, rec.exitCode)
	assert.Equal(t, "start\n", string(rec.out.inline))
	assert.Greater(t, rec.t1-rec.t0, 0.4)

	// A background job with an environment, polled, then killed.
	c = &Cmd{Script: `echo "tick $A"; while :; do :; done`, Env: []string{"A=1"}}
	id := newHexID(12)
	rec = ls.start(c, id, "n2", 0, -1, -1)
	assert.Equal(t, stateRunning, rec.state)
	rec = ls.poll(id, "n3", "main_poll 0 -1 200")
	assert.Equal(t, stateRunning, rec.state)
	assert.Equal(t, "tick 1\n", string(rec.out.inline))
	rec = ls.poll(id, "n4", "main_kill -1 -1")
	assert.Equal(t, stateDone, rec.state)
	assert.Equal(t, 137, rec.exitCode)
	rec = ls.poll(id, "n5", "main_release")
	assert.Equal(t, stateReleased, rec.state)
	left, err := filepath.Glob(filepath.Join(ls.dir, FilePrefix+id+"*"))
	require.NoError(t, err)
	require.Len(t, left, 1, "Release leaves its tombstone only")
	assert.Contains(t, left[0], FilePrefix+id+".x")
	rec = ls.poll(id, "n6", "main_poll -1 -1 0")
	assert.Equal(t, stateGone, rec.state)
}

// TestFilesRootNeverFollowsTheHost: the layer's files go to
// $SHELLPOOL_FILES_ROOT when the session names it (the emulator without
// isolation), even when the working directory is elsewhere, and else to
// /mnt/data (live pools and the isolated emulator), never to the working
// directory while /mnt/data exists.
func TestFilesRootNeverFollowsTheHost(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	root, cwd := t.TempDir(), t.TempDir()
	rootOf := func(env ...string) string {
		cmd := exec.Command(bash, "-c", script(header(newHexID(12), "n", 60, 0, nil), `printf '%s' "$F"`))
		cmd.Dir = cwd
		cmd.Env = append([]string{"PWD=" + cwd}, env...)
		out, err := cmd.Output()
		require.NoError(t, err)
		return string(out)
	}
	assert.Equal(t, root, rootOf("SHELLPOOL_FILES_ROOT="+root), "the session's files root wins over /mnt/data and the working directory")
	if st, err := os.Stat("/mnt/data"); err == nil && st.IsDir() {
		assert.Equal(t, "/mnt/data", rootOf(), "live pools: /mnt/data")
	} else {
		assert.Equal(t, cwd, rootOf(), "no /mnt/data and no files root: the working directory")
	}
}

// TestWrapperBodyIsTheCommentedFileWithoutComments: what is sent is the
// embedded wrapper.sh, minus comment lines and indentation.
func TestWrapperBodyIsTheCommentedFileWithoutComments(t *testing.T) {
	assert.NotContains(t, wrapperBody, "\n#")
	assert.Contains(t, wrapperBody, "main_run() {\n")
	assert.Less(t, len(wrapperBody), len(wrapperSource)*3/4, "comments are not sent")
}

// TestWrapperForSendsWhatTheCallNeeds: a request carries the functions its
// main_* names, transitively, and no others.
func TestWrapperForSendsWhatTheCallNeeds(t *testing.T) {
	defined := func(w string) map[string]bool {
		m := map[string]bool{}
		for _, f := range wrapperFuncs {
			if strings.Contains(w, "\n"+f.name+"() {\n") {
				m[f.name] = true
			}
		}
		return m
	}
	for _, entry := range []string{"run_start", "main_run", "main_poll", "main_kill", "main_release"} {
		w := wrapperFor(entry)
		d := defined(w)
		require.True(t, d[entry], entry)
		for _, f := range wrapperFuncs {
			if d[f.name] {
				for _, u := range f.uses {
					assert.True(t, d[u], "%s sends %s, which uses %s", entry, f.name, u)
				}
			}
		}
		assert.Less(t, len(w), len(wrapperBody), entry)
	}
	assert.False(t, defined(wrapperFor("main_run"))["main_kill"])
	// The request that starts a command sends what starts it first, then
	// what waits and reports: the command starts while bash reads the rest.
	sc := script("", runCalls("1.000", -1, -1)...)
	start, run := strings.Index(sc, "\nrun_start 1.000\n"), strings.Index(sc, "\nmain_run 1.000 -1 -1\n")
	require.True(t, start > 0 && run > start, sc)
	assert.Contains(t, sc[:start], "\nsup() {\n")
	assert.NotContains(t, sc[:start], "\nrep() {\n")
	assert.Contains(t, sc[start:run], "\nrep() {\n")
	assert.Equal(t, 1, strings.Count(sc, "\nnap() {\n"), "a function is sent once")
	assert.False(t, defined(wrapperFor("main_release"))["sup"])
	assert.True(t, defined(wrapperFor("run_start"))["child"])
}

// TestNapIgnoresInheritedDescriptors: a session whose processes inherit an
// open fd 9 (here /dev/null, which reads EOF at once) does not turn the
// waits into no-ops: a poll asked to wait a second for news waits.
func TestNapIgnoresInheritedDescriptors(t *testing.T) {
	ls := newLocalSession(t)
	null, err := os.Open(os.DevNull)
	require.NoError(t, err)
	defer null.Close()
	for range 7 { // fds 3 to 9
		ls.extra = append(ls.extra, null)
	}
	id := newHexID(12)
	c := &Cmd{Script: "sleep 30"}
	rec := ls.start(c, id, "n1", 0, -1, -1)
	require.Equal(t, stateRunning, rec.state)
	start := time.Now()
	rec = ls.poll(id, "n2", "main_poll 0 0 100")
	assert.Equal(t, stateRunning, rec.state)
	assert.GreaterOrEqual(t, time.Since(start), 900*time.Millisecond, "the poll did not wait")
	ls.poll(id, "n3", "main_kill -1 -1")
}
