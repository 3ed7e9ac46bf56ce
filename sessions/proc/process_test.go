package proc_test

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/sessions/proc"
)

func TestStartStreamsWaitsAndReattaches(t *testing.T) {
	t.Parallel()
	srv, s, _ := newEmulator(t)
	ctx := t.Context()
	// A line every 0.3 s for 3 s.
	cmd := proc.Script(s, `for i in 1 2 3 4 5 6 7 8 9 10; do echo "line $i"; sleep 0.3; done; echo bye >&2; exit 7`)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start(ctx))
	p := cmd.Process
	require.Len(t, p.ID(), 24)
	out := p.Stdout(ctx)
	br := bufio.NewReader(out)
	line, err := br.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "line 1\n", line)

	// A second client (another program, say) re-attaches by ID and reads
	// the whole output from the start, and from an offset.
	c2 := newClient(t, srv, nil)
	p2, err := proc.Attach(ctx, c2.NewSessionClient(s.ID()), p.ID())
	require.NoError(t, err)
	all, err := io.ReadAll(p2.Stdout(ctx))
	require.NoError(t, err)
	var want strings.Builder
	for i := 1; i <= 10; i++ {
		fmt.Fprintf(&want, "line %d\n", i)
	}
	assert.Equal(t, want.String(), string(all))
	tail, err := io.ReadAll(p2.NewOutputReader(ctx, proc.StreamStdout, int64(len("line 1\nline 2\n"))))
	require.NoError(t, err)
	assert.Equal(t, want.String()[len("line 1\nline 2\n"):], string(tail))
	rest, err := io.ReadAll(br)
	require.NoError(t, err)
	assert.Equal(t, want.String(), line+string(rest))
	require.NoError(t, out.Close())

	err = cmd.Wait(ctx)
	var ee *proc.ExitError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, 7, ee.ExitCode())
	assert.Equal(t, "bye\n", stderr.String())
	st, err := p2.Wait(ctx)
	require.NoError(t, err)
	assert.Equal(t, 7, st.ExitCode())
	assert.Eventually(t, func() bool { return srv.ProcessCount() == 0 }, 2*time.Minute, 10*time.Millisecond)
}

func TestStartKill(t *testing.T) {
	t.Parallel()
	srv, s, _ := newEmulator(t)
	ctx := t.Context()
	cmd := proc.Script(s, `echo started; while :; do echo tick >> ticks; sleep 0.1; done`)
	require.NoError(t, cmd.Start(ctx))
	r := bufio.NewReader(cmd.Process.Stdout(ctx))
	line, err := r.ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "started\n", line)
	require.Positive(t, srv.ProcessCount())
	require.NoError(t, cmd.Process.Kill(ctx))
	// The killed processes may linger as zombies until the machine's init
	// reaps them; the emulator counts those too.
	assert.Eventually(t, func() bool { return srv.ProcessCount() == 0 }, 2*time.Minute, 10*time.Millisecond)
	err = cmd.Wait(ctx)
	var ee *proc.ExitError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, 137, ee.ExitCode())
	// Nothing runs on: the tick file stops growing.
	before := sh(t, s, "wc -l < ticks")
	time.Sleep(300 * time.Millisecond)
	assert.Equal(t, before, sh(t, s, "wc -l < ticks"))
	// Killing again, after the end, is a no-op.
	require.NoError(t, cmd.Process.Kill(ctx))
}

func TestStartTimeoutAndUnknownProcess(t *testing.T) {
	t.Parallel()
	_, s, _ := newEmulator(t)
	ctx := t.Context()
	cmd := proc.Script(s, "echo start; sleep 30")
	cmd.Timeout = time.Second
	var out strings.Builder
	cmd.Stdout = &out
	require.NoError(t, cmd.Start(ctx))
	err := cmd.Wait(ctx)
	var ee *proc.ExitError
	require.ErrorAs(t, err, &ee)
	assert.True(t, ee.TimedOut())
	assert.Equal(t, 124, ee.ExitCode())
	assert.Equal(t, "start\n", out.String())
	_, err = proc.Attach(ctx, s, "0123456789abcdef01234567")
	assert.ErrorIs(t, err, proc.ErrProcessNotFound)
}

func TestStartStreams64MiBWithinBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("64 MiB of output; skipped with -short")
	}
	t.Parallel()
	_, s, ct := newEmulator(t)
	ctx := t.Context()
	const size = 64 << 20
	// Output arrives in bursts while the process runs.
	cmd := proc.Script(s, `for i in 1 2 3 4 5 6 7 8; do head -c 8388608 /dev/zero; sleep 0.05; done`)
	require.NoError(t, cmd.Start(ctx))
	before := ct.n.Load()
	h := sha256.New()
	n, err := io.Copy(h, cmd.Process.Stdout(ctx))
	require.NoError(t, err)
	require.EqualValues(t, size, n)
	assert.Equal(t, sha256.Sum256(make([]byte, size)), [32]byte(h.Sum(nil)))
	received := ct.n.Load() - before
	assert.LessOrEqual(t, float64(received), 1.1*size, "streaming transferred %d bytes for %d", received, size)
	require.NoError(t, cmd.Wait(ctx))
}

// TestReaderOfAFinishedStreamReadsToTheEnd: a reader from offset 0 of a
// process that has ended gets the whole stream in one download, whose
// length the session did not measure first, byte for byte.
func TestReaderOfAFinishedStreamReadsToTheEnd(t *testing.T) {
	t.Parallel()
	_, s, _ := newEmulator(t)
	ctx := t.Context()
	want := exactnessContents(100000)["utf8-shift1"]
	upload(t, s, "whole.txt", want)
	cmd := proc.Script(s, "cat whole.txt")
	require.NoError(t, cmd.Start(ctx))
	st, err := cmd.Process.Wait(ctx)
	require.NoError(t, err)
	require.Equal(t, 0, st.ExitCode())
	r := cmd.Process.Stdout(ctx)
	got, err := io.ReadAll(r)
	require.NoError(t, err)
	assert.Equal(t, sha256.Sum256(want), sha256.Sum256(got))
	assert.Len(t, got, len(want))
	require.NoError(t, r.Close())
}
