package proc_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/sessions"
	"github.com/shellpool/shellpool/sessions/proc"
	"github.com/shellpool/shellpool/sessions/sessionstest"
)

// TestEnvNamesNeverChangeWhatRuns: every valid name reaches the command's
// environment exactly, and none changes what runs: not the names the
// wrapper uses for itself, not the ones bash sets or reserves.
func TestEnvNamesNeverChangeWhatRuns(t *testing.T) {
	t.Parallel()
	_, s, _ := newEmulator(t)
	ctx := t.Context()

	run := func(cmd *proc.Cmd) (string, string) {
		t.Helper()
		var errb bytes.Buffer
		cmd.Stderr = &errb
		out, err := cmd.Output(ctx)
		require.NoError(t, err, "%v: stderr %q", cmd.Env, errb.String())
		return string(out), errb.String()
	}
	cmd := proc.Script(s, "echo hi")
	cmd.Env = []string{"S=touch pwned"}
	out, _ := run(cmd)
	assert.Equal(t, "hi\n", out)
	assert.Equal(t, "0\n", sh(t, s, "ls pwned 2>/dev/null | wc -l"), "a value was run")

	cmd = proc.Script(s, "echo hi")
	cmd.Env = []string{"BASH=x"}
	out, _ = run(cmd)
	assert.Equal(t, "hi\n", out)

	// A large script (uploaded) with P set.
	cmd = proc.Script(s, strings.Repeat("# padding\n", 20000)+"echo big")
	cmd.Env = []string{"P=/v"}
	out, _ = run(cmd)
	assert.Equal(t, "big\n", out)

	// Every name arrives exactly, and nothing leaks into stderr.
	names := []string{"A", "E", "S", "D", "K", "F", "P", "M", "N", "ID", "IB", "RM", "SI", "DF", "TO", "WDC", "CB", "IN", "KEEP", "NAPFD", "G", "RS", "SWEEPGAP",
		"PPID", "UID", "EUID", "SHELLOPTS", "BASHOPTS", "RANDOM", "SECONDS", "LINENO", "OPTIND", "BASHPID", "HISTCMD", "GROUPS",
		"FUNCNAME", "BASH_ENV", "ENV", "IFS", "CDPATH", "PATH_X", "BASH_VERSINFO", "_"}
	for _, name := range names {
		cmd := proc.Command(s, "printenv", name)
		cmd.Env = []string{name + "=value of " + name}
		out, errs := run(cmd)
		assert.Equal(t, "value of "+name+"\n", out, name)
		assert.Empty(t, errs, name)
	}
	// A later entry for a name wins, as with os/exec.
	cmd = proc.Command(s, "printenv", "A")
	cmd.Env = []string{"A=1", "A=2"}
	out, _ = run(cmd)
	assert.Equal(t, "2\n", out)
	// A Cmd runs once.
	assert.Error(t, cmd.Run(ctx))

	// Args[0] that looks like an assignment is still the program.
	sh(t, s, `mkdir -p bin && printf '#!/bin/sh\necho ran\n' > bin/a=b && chmod +x bin/a=b`)
	cmd = proc.Command(s, "bin/a=b")
	cmd.Env = []string{"X=1"}
	out, _ = run(cmd)
	assert.Equal(t, "ran\n", out)
}

// marked counts the live processes of the session that carry the mark of
// process id (zombies aside).
func marked(t testing.TB, s *sessions.SessionClient, id string) int {
	out := sh(t, s, `n=0; for d in /proc/[0-9]*; do
  grep -qzx "SHELLPOOL_PROCESS=`+id+`" "$d/environ" 2>/dev/null || continue
  read -r _ _ st _ < "$d/stat" 2>/dev/null; [ "$st" = Z ] || n=$((n+1))
done; echo $n`)
	n, err := strconv.Atoi(strings.TrimSpace(out))
	require.NoError(t, err)
	return n
}

// TestSetsidDoesNotEscapeTimeoutOrKill: a child that left the command's
// process group (setsid) is killed by Timeout and by Kill.
func TestSetsidDoesNotEscapeTimeoutOrKill(t *testing.T) {
	t.Parallel()
	srv, s, _ := newEmulator(t)
	ctx := t.Context()
	if strings.TrimSpace(sh(t, s, "command -v setsid || true")) == "" {
		t.Skip("no setsid in the session")
	}
	cmd := proc.Script(s, "setsid sleep 300 >/dev/null 2>&1 & echo started; sleep 300")
	cmd.Timeout = time.Second
	out, err := cmd.Output(ctx)
	var ee *proc.ExitError
	require.ErrorAs(t, err, &ee)
	assert.True(t, ee.TimedOut())
	assert.Equal(t, "started\n", string(out))
	assert.Eventually(t, func() bool { return marked(t, s, cmd.Process.ID()) == 0 }, 2*time.Minute, 20*time.Millisecond,
		"a setsid child outlived the timeout")

	cmd = proc.Script(s, "setsid sleep 300 >/dev/null 2>&1 & echo started; sleep 300")
	require.NoError(t, cmd.Start(ctx))
	line := make([]byte, 8)
	_, err = io.ReadFull(cmd.Process.Stdout(ctx), line)
	require.NoError(t, err)
	require.NoError(t, cmd.Process.Kill(ctx))
	assert.Eventually(t, func() bool { return marked(t, s, cmd.Process.ID()) == 0 }, 2*time.Minute, 20*time.Millisecond,
		"a setsid child outlived Kill")
	assert.Eventually(t, func() bool { return srv.ProcessCount() == 0 }, 2*time.Minute, 20*time.Millisecond)
}

// TestWaitCollectsOutputOfBackgroundWriters: as os/exec's Wait, Run waits
// for the processes the command left in its group to close its output,
// bounded by WaitDelay; a child that closed it is not waited for.
func TestWaitCollectsOutputOfBackgroundWriters(t *testing.T) {
	t.Parallel()
	_, s, _ := newEmulator(t)
	ctx := t.Context()
	out, err := proc.Script(s, "(sleep 1; echo late) & echo early").Output(ctx)
	require.NoError(t, err)
	assert.Equal(t, "early\nlate\n", string(out))

	cmd := proc.Script(s, "(sleep 30; echo late) & echo early")
	cmd.WaitDelay = 500 * time.Millisecond
	out, err = cmd.Output(ctx)
	require.ErrorIs(t, err, proc.ErrWaitDelay)
	assert.Equal(t, "early\n", string(out))

	// A detached child that does not hold the output is not waited for
	// (the 30 s it sleeps would exceed the deadline).
	dctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	out, err = proc.Script(s, "sleep 30 >/dev/null 2>&1 & echo quick").Output(dctx)
	require.NoError(t, err)
	assert.Equal(t, "quick\n", string(out))
}

// TestReattachFromTwoClients: the files of a process stay after its
// starter's Wait and later Runs in the session, so that another client can
// attach, wait and read the whole output, and the starter can wait and read
// again; Release ends that for everyone.
func TestReattachFromTwoClients(t *testing.T) {
	t.Parallel()
	srv, s, _ := newEmulator(t)
	ctx := t.Context()
	cmd := proc.Script(s, "head -c 100000 /dev/urandom > r.bin; cat r.bin; exit 5")
	var first bytes.Buffer
	cmd.Stdout = &first
	require.NoError(t, cmd.Start(ctx))
	var ee *proc.ExitError
	require.ErrorAs(t, cmd.Wait(ctx), &ee)
	require.Equal(t, 5, ee.ExitCode())
	require.Len(t, first.Bytes(), 100000)
	for range 10 { // the starter's later Runs in the session
		require.NoError(t, proc.Script(s, "true").Run(ctx))
	}

	other := newClient(t, srv, nil).NewSessionClient(s.ID())
	p2, err := proc.Attach(ctx, other, cmd.Process.ID())
	require.NoError(t, err)
	st, err := p2.Wait(ctx)
	require.NoError(t, err)
	assert.Equal(t, 5, st.ExitCode())
	got, err := io.ReadAll(p2.Stdout(ctx))
	require.NoError(t, err)
	assert.Equal(t, sha256.Sum256(first.Bytes()), sha256.Sum256(got))

	// The starter waits and reads again.
	st, err = cmd.Process.Wait(ctx)
	require.NoError(t, err)
	assert.Equal(t, 5, st.ExitCode())
	got, err = io.ReadAll(cmd.Process.Stdout(ctx))
	require.NoError(t, err)
	assert.Len(t, got, 100000)

	require.NoError(t, p2.Release(ctx))
	_, err = cmd.Process.Wait(ctx)
	assert.ErrorIs(t, err, proc.ErrProcessNotFound)
	_, err = proc.Attach(ctx, s, cmd.Process.ID())
	assert.ErrorIs(t, err, proc.ErrProcessNotFound)
}

// TestScriptsUpToTheArgumentLimitAreOneRequest: a script of 88 KiB travels
// in the request itself; a larger one is uploaded first.
func TestScriptsUpToTheArgumentLimitAreOneRequest(t *testing.T) {
	t.Parallel()
	srv, s, _ := newEmulator(t)
	ctx := t.Context()
	for _, tc := range []struct {
		size     int
		requests int
	}{{88 << 10, 1}, {200 << 10, 2}} {
		script := strings.Repeat("# padding #\n", tc.size/12) + "echo ok"
		srv.ResetRequests()
		out, err := proc.Script(s, script).Output(ctx)
		require.NoError(t, err, tc.size)
		assert.Equal(t, "ok\n", string(out))
		assert.Equal(t, tc.requests, len(srv.Requests()), "requests for a %d-byte script", len(script))
	}
}

// gateWriter opens a gate in the session when the first output arrives.
type gateWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	open func()
	done bool
}

func (g *gateWriter) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.buf.Write(p)
	if !g.done && strings.Contains(g.buf.String(), "line1\n") {
		g.done = true
		g.open()
	}
	return len(p), nil
}

// TestRunStreamsWhileTheCommandRuns: output reaches Cmd.Stdout while the
// command runs: the command waits for a gate that only the delivery of its
// first line opens, and would time out otherwise.
func TestRunStreamsWhileTheCommandRuns(t *testing.T) {
	t.Parallel()
	_, s, _ := newEmulator(t)
	ctx := t.Context()
	cmd := proc.Script(s, `echo line1; while [ ! -e gate ]; do sleep 0.05; done; echo line2`)
	cmd.Timeout = 20 * time.Second
	gw := &gateWriter{open: func() { sh(t, s, "touch gate") }}
	cmd.Stdout = gw
	require.NoError(t, cmd.Run(ctx))
	assert.Equal(t, "line1\nline2\n", gw.buf.String())
}

// TestSessionDeletedMidRunIsProcessLost: a session that disappears while
// its command runs gives ErrProcessLost, not a hang.
func TestSessionDeletedMidRunIsProcessLost(t *testing.T) {
	t.Parallel()
	srv, s, _ := newEmulator(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := proc.Script(s, "sleep 120")
	require.NoError(t, cmd.Start(ctx))
	require.NoError(t, newClient(t, srv, nil).NewSessionClient(s.ID()).Close(ctx))
	err := cmd.Wait(ctx)
	require.ErrorIs(t, err, proc.ErrProcessLost)
	assert.False(t, errors.Is(err, context.DeadlineExceeded))
}

// TestSessionDeletedDuringRunIsProcessLost: the same while Run waits in
// its first request.
func TestSessionDeletedDuringRunIsProcessLost(t *testing.T) {
	t.Parallel()
	srv, s, _ := newEmulator(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- proc.Script(s, "sleep 120").Run(ctx) }()
	require.Eventually(t, func() bool { return srv.ProcessCount() > 0 }, 2*time.Minute, 10*time.Millisecond)
	require.NoError(t, newClient(t, srv, nil).NewSessionClient(s.ID()).Close(ctx))
	err := <-done
	require.ErrorIs(t, err, proc.ErrProcessLost)
	assert.False(t, errors.Is(err, context.DeadlineExceeded))
}

// TestCombinedOutputInterleaves: CombinedOutput keeps the order of writes
// across stdout and stderr.
func TestCombinedOutputInterleaves(t *testing.T) {
	t.Parallel()
	_, s, _ := newEmulator(t)
	out, err := proc.Script(s, "echo 1; echo 2 >&2; echo 3; echo 4 >&2").CombinedOutput(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "1\n2\n3\n4\n", string(out))

	out, err = proc.Script(s, "echo out; echo err >&2; exit 3").Output(t.Context())
	var ee *proc.ExitError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, "out\n", string(out))
	assert.Equal(t, "err\n", string(ee.Stderr), "Output keeps stderr in the ExitError")
	assert.Equal(t, sessions.ErrInvalidArgument, sessions.ErrInvalidArgument)
}

// TestStartFailureSaysWhetherTheCommandRan: a start request the service
// refused says the command did not run; nothing is retried blindly.
func TestStartFailureSaysWhetherTheCommandRan(t *testing.T) {
	t.Parallel()
	srv, s, _ := newEmulator(t)
	srv.InjectFault(sessionstest.Fault{Path: "/executions", Status: http.StatusBadRequest})
	cmd := proc.Script(s, "touch ran")
	err := cmd.Run(t.Context())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the command did not run")
	assert.Nil(t, cmd.Process)
	assert.Equal(t, "0\n", sh(t, s, "ls ran 2>/dev/null | wc -l"))

	// A connection lost after the command ran: the outcome is unknown, and
	// the Process tells what happened.
	srv.InjectFault(sessionstest.Fault{Path: "/executions", DropAfterRun: true})
	srv.ResetRequests()
	cmd = proc.Script(s, "echo x >> runs; exit 3")
	err = cmd.Run(t.Context())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "may or may not have run")
	assert.Equal(t, 1, len(srv.Requests()), "the start is not retried after it may have run")
	require.NotNil(t, cmd.Process)
	st, err := cmd.Process.Wait(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 3, st.ExitCode())
	assert.Equal(t, "x\n", sh(t, s, "cat runs"), "it ran once")
}

// TestLargeArgsAndEnvAreUploaded: arguments and environment values too
// large to travel in the request (here 2 x 70 KiB) are uploaded and reach
// the program exactly.
func TestLargeArgsAndEnvAreUploaded(t *testing.T) {
	t.Parallel()
	srv, s, _ := newEmulator(t)
	a := strings.Repeat("a'\"$(x)", 10<<10)
	b := strings.Repeat("b\n", 35<<10)
	srv.ResetRequests()
	cmd := proc.Command(s, "printf", "%s|%s|%s", a, b)
	cmd.Env = []string{"BIG=" + b}
	cmd.Args = append(cmd.Args, "$BIG") // an argument, not an expansion
	out, err := cmd.Output(t.Context())
	require.NoError(t, err)
	assert.Equal(t, a+"|"+b+"|$BIG", string(out))
	assert.Equal(t, 3, len(srv.Requests()), "the upload, the execution, the download of the large output")

	cmd = proc.Script(s, `printf '%s' "$BIG"`)
	cmd.Env = []string{"BIG=" + a}
	out, err = cmd.Output(t.Context())
	require.NoError(t, err)
	assert.Equal(t, a, string(out))
}
