package proc_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/sessions"
	"github.com/shellpool/shellpool/sessions/proc"
	"github.com/shellpool/shellpool/sessions/sessionstest"
)

func TestRunExactness(t *testing.T) {
	t.Parallel()
	// 3584 is the package's inline budget, 4096 the service's cap.
	sizes := []int{0, 1, 3584, 3585, 4095, 4096, 4097, 1 << 20}
	_, s, _ := newEmulator(t)
	ctx := t.Context()
	for _, n := range sizes {
		for kind, want := range exactnessContents(n) {
			if n == 1<<20 && kind != "binary" && kind != "utf8-shift1" {
				continue // one UTF-8 layout is enough at 1 MiB
			}
			name := fmt.Sprintf("exact-%d-%s", n, kind)
			upload(t, s, name, want)
			cmd := proc.Script(s, "cat "+name+"; cat "+name+" >&2; rm "+name)
			var errb bytes.Buffer
			cmd.Stderr = &errb
			out, err := cmd.Output(ctx)
			require.NoError(t, err, name)
			assert.Equal(t, 0, cmd.ProcessState.ExitCode(), name)
			assert.Equal(t, len(want), len(out), "%s: stdout length", name)
			assert.Equal(t, sha256.Sum256(want), sha256.Sum256(out), "%s: stdout sha256", name)
			assert.Equal(t, sha256.Sum256(want), sha256.Sum256(errb.Bytes()), "%s: stderr sha256", name)
		}
	}
}

func TestRunExactness64MiB(t *testing.T) {
	if testing.Short() {
		t.Skip("64 MiB of output; skipped with -short")
	}
	t.Parallel()
	_, s, _ := newEmulator(t)
	ctx := t.Context()
	// The session makes the bytes itself; its own sha256sum is the reference.
	cmd := proc.Script(s, "head -c 67108864 /dev/urandom > big.bin; sha256sum big.bin >&2; cat big.bin")
	var errb bytes.Buffer
	cmd.Stderr = &errb
	out, err := cmd.Output(ctx)
	require.NoError(t, err)
	require.Equal(t, 64<<20, len(out))
	sum := sha256.Sum256(out)
	assert.Equal(t, fmt.Sprintf("%x  big.bin\n", sum), errb.String())

	// And to a writer, which streams instead of buffering.
	h := sha256.New()
	cmd = proc.Script(s, "cat big.bin; rm big.bin")
	cmd.Stdout = h
	require.NoError(t, cmd.Run(ctx))
	assert.Equal(t, sum[:], h.Sum(nil))
}

func TestRunLargeScriptAndStdin(t *testing.T) {
	t.Parallel()
	_, s, _ := newEmulator(t)
	ctx := t.Context()

	// A 1 MiB script: far over the 128 KiB argument limit.
	var sb strings.Builder
	for i := 0; sb.Len() < 1<<20; i++ {
		fmt.Fprintf(&sb, "v%d=%d\n", i%1000, i)
	}
	sb.WriteString("echo \"script done $v999\"\n")
	require.Greater(t, sb.Len(), 1<<20)
	out, err := proc.Script(s, sb.String()).Output(ctx)
	require.NoError(t, err)
	assert.Regexp(t, `^script done \d+\n$`, string(out))

	// Stdin of every kind: small with quotes and newlines, binary with NUL
	// bytes, and (without -short) 64 MiB.
	stdins := map[string][]byte{
		"small":  []byte("it's \"quoted\"\n$(touch pwned)\n`id`\n"),
		"binary": {0, 1, 2, 0xff, 0xfe, 0, '\n', 0x80},
	}
	if !testing.Short() {
		big := make([]byte, 64<<20)
		rand.New(rand.NewSource(64)).Read(big)
		stdins["64MiB"] = big
	}
	for name, in := range stdins {
		cmd := proc.Script(s, "sha256sum | cut -d' ' -f1")
		cmd.Stdin = bytes.NewReader(in)
		out, err := cmd.Output(ctx)
		require.NoError(t, err, name)
		assert.Equal(t, fmt.Sprintf("%x\n", sha256.Sum256(in)), string(out), name)
	}
	assert.Equal(t, "0\n", sh(t, s, "ls pwned 2>/dev/null | wc -l"))
}

// hostile values: quotes, command substitutions, newlines, backslashes,
// globs, non-UTF-8 bytes and control characters.
var hostileValues = []string{
	`'; touch pwned; echo '`,
	`$(touch pwned)`,
	"`touch pwned`",
	"line1\nline2\n",
	`back\slash \" \' $HOME ${PATH} * ? [a]`,
	"\xff\xfe invalid utf-8 \x80",
	"tab\tcr\rbell\x07esc\x1b",
	"-n",
	"",
	"😀 multi-byte ü",
}

func TestRunEnvAndDirHostile(t *testing.T) {
	t.Parallel()
	_, s, _ := newEmulator(t)
	ctx := t.Context()
	var env []string
	for i, v := range hostileValues {
		env = append(env, fmt.Sprintf("V%d=%s", i, v))
	}
	cmd := proc.Script(s, `for i in 0 1 2 3 4 5 6 7 8 9; do n=V$i; printf '%s\0' "${!n}"; done`)
	cmd.Env = env
	out, err := cmd.Output(ctx)
	require.NoError(t, err)
	want := strings.Join(hostileValues, "\x00") + "\x00"
	assert.Equal(t, want, string(out))

	// Args reach the program unchanged too.
	out, err = proc.Command(s, "printf", append([]string{`%s\0`}, hostileValues...)...).Output(ctx)
	require.NoError(t, err)
	assert.Equal(t, want, string(out))

	// Working directories with hostile names (made with the name passed
	// through Env, which the previous assertions showed is exact).
	for _, d := range []string{`dir with 'quotes' and $(touch pwned)`, "new\nline", "\xff\xfe-bytes", "-dash", "-"} {
		mk := proc.Script(s, `mkdir -p -- "$D"`)
		mk.Env = []string{"D=" + d}
		require.NoError(t, mk.Run(ctx))
		cmd := proc.Script(s, `basename -- "$PWD"; printf '%s' "$V"`)
		cmd.Dir = d
		cmd.Env = []string{"V=" + d}
		out, err := cmd.Output(ctx)
		require.NoError(t, err, "%q", d)
		assert.Equal(t, d+"\n"+d, string(out), "%q", d)
	}
	assert.Equal(t, "0\n", sh(t, s, "find . -name pwned | wc -l"), "a hostile value was run as code")

	// A directory that does not exist: typed error naming it, nothing ran.
	cmd = proc.Script(s, "touch ran")
	cmd.Dir = "no/such/dir"
	err = cmd.Run(ctx)
	require.ErrorIs(t, err, proc.ErrDirNotFound)
	assert.Contains(t, err.Error(), `"no/such/dir"`)
	cmd = proc.Script(s, "touch ran")
	cmd.Dir = "no/such/dir"
	require.ErrorIs(t, cmd.Start(ctx), proc.ErrDirNotFound, "Start says it at once")
	assert.Equal(t, "0\n", sh(t, s, "ls ran 2>/dev/null | wc -l"))
}

func TestRunExitCodesAndTimeout(t *testing.T) {
	t.Parallel()
	_, s, _ := newEmulator(t)
	ctx := t.Context()
	for script, code := range map[string]int{"true": 0, "false": 1, "exit 3": 3, "kill -9 $$": 137} {
		cmd := proc.Script(s, script)
		err := cmd.Run(ctx)
		if code == 0 {
			require.NoError(t, err)
		} else {
			var ee *proc.ExitError
			require.ErrorAs(t, err, &ee, script)
			assert.Equal(t, code, ee.ExitCode(), script)
		}
		assert.Equal(t, code, cmd.ProcessState.ExitCode(), script)
		assert.False(t, cmd.ProcessState.TimedOut(), script)
	}
	cmd := proc.Script(s, "echo start; sleep 30")
	cmd.Timeout = 2 * time.Second
	out, err := cmd.Output(ctx)
	var ee *proc.ExitError
	require.ErrorAs(t, err, &ee)
	assert.True(t, ee.TimedOut())
	assert.Equal(t, 124, ee.ExitCode())
	assert.Equal(t, "start\n", string(out))
	// Duration is the command's own clock in the session.
	assert.GreaterOrEqual(t, cmd.ProcessState.Duration(), 2*time.Second)
}

// typedNilReader is a reader type whose nil value a caller may set by
// mistake.
type typedNilReader struct{}

func (*typedNilReader) Read([]byte) (int, error) { return 0, nil }

func TestRunValidation(t *testing.T) {
	t.Parallel()
	srv, s, _ := newEmulator(t)
	ctx := t.Context()
	var nilReader *typedNilReader
	var nilBuffer *bytes.Buffer
	bad := map[string]*proc.Cmd{
		"empty":              proc.Script(s, ""),
		"empty Args[0]":      proc.Command(s, ""),
		"both":               {Args: []string{"true"}, Script: "true"},
		"NUL in script":      proc.Script(s, "a\x00b"),
		"NUL in an arg":      proc.Command(s, "echo", "a\x00b"),
		"NUL in Dir":         {Script: "true", Dir: "a\x00b"},
		"negative Timeout":   {Script: "true", Timeout: -time.Second},
		"tiny Timeout":       {Script: "true", Timeout: time.Microsecond},
		"negative WaitDelay": {Script: "true", WaitDelay: -time.Second},
		"env without =":      {Script: "true", Env: []string{"A"}},
		"env empty name":     {Script: "true", Env: []string{"=x"}},
		"env digit":          {Script: "true", Env: []string{"1BAD=x"}},
		"env bad name":       {Script: "true", Env: []string{"A-B=x"}},
		"env NUL in value":   {Script: "true", Env: []string{"OK=nul\x00"}},
		"env NUL in name":    {Script: "true", Env: []string{"O\x00K=x"}},
		"env the mark":       {Script: "true", Env: []string{"SHELLPOOL_PROCESS=x"}},
		"typed nil Stdin":    {Script: "true", Stdin: nilReader},
		"typed nil Stdout":   {Script: "true", Stdout: nilBuffer},
	}
	srv.ResetRequests()
	for name, cmd := range bad {
		if cmd.Args == nil && cmd.Script != "" || name == "both" {
			// Built as a literal: give it the session through a copy.
			c := proc.Script(s, cmd.Script)
			c.Args, c.Dir, c.Timeout, c.WaitDelay, c.Env, c.Stdin, c.Stdout = cmd.Args, cmd.Dir, cmd.Timeout, cmd.WaitDelay, cmd.Env, cmd.Stdin, cmd.Stdout
			cmd = c
		}
		for _, run := range []func(*proc.Cmd) error{
			func(c *proc.Cmd) error { return c.Run(ctx) },
			func(c *proc.Cmd) error { return c.Start(ctx) },
		} {
			c := *cmd
			err := run(&c)
			assert.ErrorIs(t, err, sessions.ErrInvalidArgument, name)
			var ae *sessions.ArgumentError
			assert.ErrorAs(t, err, &ae, name)
		}
	}
	assert.ErrorIs(t, proc.Script(nil, "true").Run(ctx), sessions.ErrInvalidArgument)
	_, err := proc.Attach(ctx, s, "not-an-id")
	assert.ErrorIs(t, err, sessions.ErrInvalidArgument)
	_, err = proc.Attach(ctx, s, "ABCDEF0123456789abcdef01")
	assert.ErrorIs(t, err, sessions.ErrInvalidArgument)
	_, err = proc.Attach(ctx, nil, "0123456789abcdef01234567")
	assert.ErrorIs(t, err, sessions.ErrInvalidArgument)
	assert.Empty(t, srv.Requests(), "bad input sends nothing")
}

func TestRunIsOneRequestAndFilesFollowTheRule(t *testing.T) {
	t.Parallel()
	srv, s, _ := newEmulator(t)
	ctx := t.Context()
	srv.ResetRequests()
	cmd := proc.Script(s, "printf ok")
	out, err := cmd.Output(ctx)
	require.NoError(t, err)
	require.Equal(t, "ok", string(out))
	assert.Equal(t, 1, len(srv.Requests()), "an inline Run is one request")
	first := cmd.Process.ID()
	require.NotEmpty(t, filesOf(t, s, first), "a result's files stay for its keep time")

	// A large Run: one execution, one download per stream with content.
	srv.ResetRequests()
	cmd = proc.Script(s, "head -c 100000 /dev/zero; printf small >&2")
	var errb bytes.Buffer
	cmd.Stderr = &errb
	out, err = cmd.Output(ctx)
	require.NoError(t, err)
	require.Len(t, out, 100000)
	require.Equal(t, "small", errb.String())
	var execs, downloads, other int
	for _, r := range srv.Requests() {
		switch {
		case r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/executions"):
			execs++
		case r.Method == http.MethodGet && strings.HasSuffix(r.Path, "/content"):
			downloads++
		default:
			other++
		}
	}
	assert.Equal(t, 1, execs)
	assert.Equal(t, 1, downloads, "stdout only; stderr came inline")
	assert.Zero(t, other)

	// When the keep time of a result has passed (here: made to pass), the
	// next call in the session removes its files, in its own request.
	sh(t, s, `for f in `+proc.FilePrefix+first+`.x*; do mv -- "$f" `+proc.FilePrefix+first+`.x0; done`)
	// Requests look for expired files only once the sweep gate (the
	// earliest keep time they know of, here a minute ahead) has passed...
	require.NoError(t, proc.Script(s, "true").Run(ctx))
	require.NotEmpty(t, filesOf(t, s, first), "the gate spares a listing of the files root")
	// ... which is made to pass too.
	sh(t, s, `echo 0 > `+proc.FilePrefix+`sweep`)
	srv.ResetRequests()
	require.NoError(t, proc.Script(s, "true").Run(ctx))
	assert.Equal(t, 1, len(srv.Requests()), "the clean-up rides on the Run's own request")
	assert.Empty(t, filesOf(t, s, first), "the expired result's files were removed")
	large := cmd.Process.ID()
	assert.NotEmpty(t, filesOf(t, s, large), "a result within its keep time stays")

	// Release removes them at once; Close deletes the session and with it
	// every file.
	require.NoError(t, cmd.Process.Release(ctx))
	assert.Equal(t, []string{proc.FilePrefix + large + ".x"}, trimDigits(filesOf(t, s, large)), "Release leaves a tombstone only")
	require.NoError(t, s.Close(ctx))
	_, ok := srv.SessionDir(sessionstest.DefaultPoolName, s.ID())
	assert.False(t, ok, "no file of the package is left after Close")
}

func TestRunCancelKillsTheCommandAndKeepsItsOutput(t *testing.T) {
	t.Parallel()
	srv, s, _ := newEmulator(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	var out bytes.Buffer
	go func() {
		cmd := proc.Script(s, "echo before; sleep 30; echo late > late")
		cmd.Stdout = &out
		done <- cmd.Run(ctx)
	}()
	require.Eventually(t, func() bool { return srv.ProcessCount() > 0 }, 2*time.Minute, 10*time.Millisecond)
	require.Eventually(t, func() bool { return len(sh(t, s, "ls "+proc.FilePrefix+"*.out 2>/dev/null; true")) > 0 }, 2*time.Minute, 10*time.Millisecond)
	time.Sleep(200 * time.Millisecond)
	cancel()
	err := <-done
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, "before\n", out.String(), "the output written until the cancel is kept")
	assert.Eventually(t, func() bool { return srv.ProcessCount() == 0 }, 2*time.Minute, 20*time.Millisecond,
		"the cancelled command still runs in the emulator")
}

// TestRunDeadlineKeepsPartialOutput: a ctx deadline during Run returns the
// output written so far with the error, as Timeout does.
func TestRunDeadlineKeepsPartialOutput(t *testing.T) {
	t.Parallel()
	_, s, _ := newEmulator(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	out, err := proc.Script(s, "echo first; sleep 60").Output(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, "first\n", string(out))
	assert.False(t, errors.Is(err, proc.ErrOutputLost))
}

// TestFilesRootIsWhereTheFilesAPILooks: a process's files sit where the
// files API serves (the emulator's session directory without isolation,
// /mnt/data with it).
func TestFilesRootIsWhereTheFilesAPILooks(t *testing.T) {
	t.Parallel()
	_, s, _ := newEmulator(t)
	cmd := proc.Script(s, "printf hi")
	require.NoError(t, cmd.Start(t.Context()))
	require.NoError(t, cmd.Wait(t.Context()))
	names := filesOf(t, s, cmd.Process.ID())
	assert.Contains(t, names, proc.FilePrefix+cmd.Process.ID()+".out")
	assert.Contains(t, names, proc.FilePrefix+cmd.Process.ID()+".rc")
}

// trimDigits drops the trailing digits of each name (a tombstone's time).
func trimDigits(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = strings.TrimRight(n, "0123456789")
	}
	return out
}
