package sessions

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

func TestCksumMatchesPOSIX(t *testing.T) {
	// Values printed by POSIX cksum (GNU coreutils 9.1).
	assert.Equal(t, uint32(4294967295), cksum(nil))
	assert.Equal(t, uint32(701174007), cksum([]byte("ok")))
}

func TestShqRoundTrips(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	values := []string{"", "plain", "it's", `$(id) ` + "`id`" + ` "x" \n`, "a\nb\tc", "\xff\xfe\x80", "\x01\x1b\x7f", "😀é", "'", `\`, `\'`}
	for _, v := range values {
		out, err := exec.Command(bash, "-c", "printf '%s' "+shq(v)).Output()
		require.NoError(t, err, "%q", v)
		assert.Equal(t, v, string(out), "%q -> %s", v, shq(v))
	}
}

func TestParseReportRefusesForgedOrCutRecords(t *testing.T) {
	rec := "@@shellpool-rec:n1 st=done rc=0 to=0 t0=- t1=- om=i ol=2 ok=701174007 on=shellpool-proc-x.out em=n el=0 ek=0 en=-"
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

// TestWrapperNeedsOnlyBashAndPOSIXTools runs the real scripts with a PATH
// that holds bash, cat, wc, tail, cksum and rm only: no timeout, setsid,
// sleep or ps, which a pool's image may lack.
func TestWrapperNeedsOnlyBashAndPOSIXTools(t *testing.T) {
	bin := t.TempDir()
	for _, tool := range []string{"bash", "cat", "wc", "tail", "cksum", "rm"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Skipf("no %s on this machine", tool)
		}
		require.NoError(t, os.Symlink(p, filepath.Join(bin, tool)))
	}
	dir := t.TempDir()
	run := func(script string) (string, string) {
		cmd := exec.Command(filepath.Join(bin, "bash"), "-c", script)
		cmd.Dir = dir
		cmd.Env = []string{"PATH=" + bin, "PWD=" + dir}
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		require.NoError(t, cmd.Run())
		return out.String(), errb.String()
	}
	// A busy loop (builtins only) killed by the timeout.
	j, _, err := prepareJob(Command{Shell: "echo start; while :; do :; done", Timeout: 500 * time.Millisecond})
	require.NoError(t, err)
	first := newHexID(12)
	id := first
	out, errs := run(wrapperScript(id, "n1", j, 5, nil, nil, -2))
	rec, ok := parseReport(out, errs, "n1")
	require.True(t, ok, "stdout %q stderr %q", out, errs)
	assert.Equal(t, stateDone, rec.state)
	assert.True(t, rec.timedOut)
	assert.Equal(t, 124, rec.exitCode)
	assert.Equal(t, "start\n", string(rec.out.inline))
	assert.Greater(t, rec.t1-rec.t0, 0.4)

	// A background job, polled, then killed.
	j, _, err = prepareJob(Command{Shell: "echo tick; while :; do :; done"})
	require.NoError(t, err)
	id = newHexID(12)
	out, errs = run(wrapperScript(id, "n2", j, 0, nil, nil, -1))
	rec, ok = parseReport(out, errs, "n2")
	require.True(t, ok, "stdout %q stderr %q", out, errs)
	assert.Equal(t, stateRunning, rec.state)
	out, errs = run(pollScript(id, "n3", 0, -1, 2, nil, nil))
	rec, ok = parseReport(out, errs, "n3")
	require.True(t, ok, "stdout %q stderr %q", out, errs)
	assert.Equal(t, stateRunning, rec.state)
	assert.Equal(t, "tick\n", string(rec.out.inline))
	out, errs = run(killScript(id, "n4"))
	rec, ok = parseReport(out, errs, "n4")
	require.True(t, ok, "stdout %q stderr %q", out, errs)
	assert.Equal(t, stateDone, rec.state)
	assert.Equal(t, 137, rec.exitCode)
	out, _ = run(cleanupScript([]string{first, id}, nil) + "for f in *; do [ -e \"$f\" ] && echo \"$f\"; done; true")
	assert.Empty(t, out, "clean-up left files")
}

// TestFilesRootNeverFollowsTheHost: the layer's files go to
// $SHELLPOOL_FILES_ROOT when the session names it (the emulator), even when
// the working directory is elsewhere, and else to /mnt/data (live pools),
// never to the working directory while /mnt/data exists.
func TestFilesRootNeverFollowsTheHost(t *testing.T) {
	bash, err := exec.LookPath("bash")
	require.NoError(t, err)
	root, cwd := t.TempDir(), t.TempDir()
	rootOf := func(env ...string) string {
		cmd := exec.Command(bash, "-c", scriptHeader(newHexID(12))+`printf '%s' "$F"`)
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

	// Through the emulator: Run's files sit in the session's directory
	// (listed by the files API), whatever the host holds at /mnt/data.
	j, _, err := prepareJob(ShellCommand("printf hi"))
	require.NoError(t, err)
	id := newHexID(12)
	cmd := exec.Command(bash, "-c", wrapperScript(id, "n1", j, 5, nil, nil, -2))
	cmd.Dir = cwd
	cmd.Env = []string{"PWD=" + cwd, "SHELLPOOL_FILES_ROOT=" + root, "PATH=" + os.Getenv("PATH")}
	out, err := cmd.Output()
	require.NoError(t, err)
	rec, ok := parseReport(string(out), "", "n1")
	require.True(t, ok, "%q", out)
	assert.Equal(t, "hi", string(rec.out.inline))
	got, err := os.ReadFile(filepath.Join(root, ProcessFilePrefix+id+".out"))
	require.NoError(t, err)
	assert.Equal(t, "hi", string(got))
	left, err := filepath.Glob(filepath.Join(cwd, ProcessFilePrefix+"*"))
	require.NoError(t, err)
	assert.Empty(t, left, "nothing of the layer in the working directory")
}
