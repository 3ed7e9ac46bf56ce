package sessions_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/sessions"
)

func TestStartStreamsWaitsAndReattaches(t *testing.T) {
	srv, _, s, _ := newProcEmulator(t)
	ctx := context.Background()
	// A line every 0.3 s for 3 s (the line per second, faster).
	job := sessions.ShellCommand(`for i in 1 2 3 4 5 6 7 8 9 10; do echo "line $i"; sleep 0.3; done; echo bye >&2; exit 7`)
	p, err := s.Start(ctx, job, nil)
	require.NoError(t, err)
	require.Len(t, p.ID(), 24)

	out := p.Stdout(ctx)
	br := bufio.NewReader(out)
	line, err := br.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "line 1\n", line)
	// The job has not ended: a Wait bounded to 100 ms runs out.
	wctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	_, err = p.Wait(wctx)
	cancel()
	require.ErrorIs(t, err, context.DeadlineExceeded, "the first line must be read while the job runs")

	// A second client (another program, say) re-attaches by ID and reads
	// the whole output from the start, and from an offset.
	c2, err := sessions.NewClient(srv.PoolEndpoint(), srv.Credential(), &sessions.ClientOptions{ClientOptions: srv.ClientOptions()})
	require.NoError(t, err)
	p2, err := c2.AttachProcess(s.ID(), p.ID())
	require.NoError(t, err)
	all, err := io.ReadAll(p2.Stdout(ctx))
	require.NoError(t, err)
	var want strings.Builder
	for i := 1; i <= 10; i++ {
		fmt.Fprintf(&want, "line %d\n", i)
	}
	assert.Equal(t, want.String(), string(all))
	tail, err := io.ReadAll(p2.NewOutputReader(ctx, sessions.StreamStdout, int64(len("line 1\nline 2\n"))))
	require.NoError(t, err)
	assert.Equal(t, want.String()[len("line 1\nline 2\n"):], string(tail))

	rest, err := io.ReadAll(br)
	require.NoError(t, err)
	assert.Equal(t, want.String(), line+string(rest))
	require.NoError(t, out.Close())

	res, err := p.Wait(ctx)
	require.NoError(t, err)
	assert.Equal(t, 7, res.ExitCode)
	assert.Empty(t, res.Stdout, "stdout went to the reader")
	assert.Equal(t, "bye\n", string(res.Stderr))
	assert.Eventually(t, func() bool { return srv.ProcessCount() == 0 }, 5*time.Second, 10*time.Millisecond)
}

func TestStartKill(t *testing.T) {
	srv, _, s, _ := newProcEmulator(t)
	ctx := context.Background()
	p, err := s.Start(ctx, sessions.ShellCommand(`echo started; while :; do echo tick >> ticks; sleep 0.1; done`), nil)
	require.NoError(t, err)
	r := bufio.NewReader(p.Stdout(ctx))
	line, err := r.ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "started\n", line)
	require.Positive(t, srv.ProcessCount())

	require.NoError(t, p.Kill(ctx))
	// The killed processes may linger as zombies until the machine's init
	// reaps them; the emulator counts those too.
	assert.Eventually(t, func() bool { return srv.ProcessCount() == 0 }, 5*time.Second, 10*time.Millisecond)
	res, err := p.Wait(ctx)
	require.NoError(t, err)
	assert.Equal(t, 137, res.ExitCode)
	// Nothing runs on: the tick file stops growing.
	size := func() string {
		res, err := s.Run(ctx, sessions.ShellCommand("wc -l < ticks"), nil)
		require.NoError(t, err)
		return string(res.Stdout)
	}
	before := size()
	time.Sleep(300 * time.Millisecond)
	assert.Equal(t, before, size())
	// Killing again, after the end, is a no-op.
	require.NoError(t, p.Kill(ctx))
}

func TestStartTimeoutAndUnknownProcess(t *testing.T) {
	_, c, s, _ := newProcEmulator(t)
	ctx := context.Background()
	cmd := sessions.ShellCommand("echo start; sleep 30")
	cmd.Timeout = time.Second
	p, err := s.Start(ctx, cmd, nil)
	require.NoError(t, err)
	res, err := p.Wait(ctx)
	require.NoError(t, err)
	assert.True(t, res.TimedOut)
	assert.Equal(t, 124, res.ExitCode)
	assert.Equal(t, "start\n", string(res.Stdout))

	ghost, err := c.AttachProcess(s.ID(), "0123456789abcdef01234567")
	require.NoError(t, err)
	_, err = ghost.Wait(ctx)
	assert.ErrorIs(t, err, sessions.ErrProcessNotFound)
	assert.ErrorIs(t, ghost.Kill(ctx), sessions.ErrProcessNotFound)
	_, err = io.ReadAll(ghost.Stdout(ctx))
	assert.ErrorIs(t, err, sessions.ErrProcessNotFound)
}

func TestStartStreams64MiBWithinBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("64 MiB of output; skipped with -short")
	}
	_, _, s, ct := newProcEmulator(t)
	ctx := context.Background()
	const size = 64 << 20
	// Output arrives in bursts while the process runs.
	p, err := s.Start(ctx, sessions.ShellCommand(`for i in 1 2 3 4 5 6 7 8; do head -c 8388608 /dev/zero; sleep 0.05; done`), nil)
	require.NoError(t, err)
	before := ct.n.Load()
	h := sha256.New()
	n, err := io.Copy(h, p.Stdout(ctx))
	require.NoError(t, err)
	require.EqualValues(t, size, n)
	assert.Equal(t, sha256.Sum256(make([]byte, size)), [32]byte(h.Sum(nil)))
	received := ct.n.Load() - before
	assert.LessOrEqual(t, float64(received), 1.1*size, "streaming transferred %d bytes for %d", received, size)
	res, err := p.Wait(ctx)
	require.NoError(t, err)
	assert.Equal(t, 0, res.ExitCode)
}

// TestReaderOfAFinishedStreamReadsToTheEnd: a reader from offset 0 of a
// process that has ended gets the whole stream in one download, whose
// length the session did not measure first, byte for byte.
func TestReaderOfAFinishedStreamReadsToTheEnd(t *testing.T) {
	_, _, s, _ := newProcEmulator(t)
	ctx := context.Background()
	want := exactnessContents(100000)["utf8-shift1"]
	upload(t, s, "whole.txt", want)
	p, err := s.Start(ctx, sessions.ShellCommand("cat whole.txt"), nil)
	require.NoError(t, err)
	r := p.Stdout(ctx)
	res, err := p.Wait(ctx)
	require.NoError(t, err)
	require.Equal(t, 0, res.ExitCode)
	assert.Empty(t, res.Stdout, "stdout goes to the reader")
	got, err := io.ReadAll(r)
	require.NoError(t, err)
	assert.Equal(t, sha256.Sum256(want), sha256.Sum256(got))
	assert.Len(t, got, len(want))
	require.NoError(t, r.Close())
}
