package shell_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/sessions"
	"github.com/shellpool/shellpool/sessions/sessionstest"
	"github.com/shellpool/shellpool/sessions/shell"
)

// State carries over between commands: directory, variables, functions,
// aliases, options.
func TestShellState(t *testing.T) {
	e := newEmu(t, nil)
	s := e.session(t)
	ctx := context.Background()
	sh, err := shell.Open(ctx, s, nil)
	require.NoError(t, err)
	defer sh.Close(ctx)
	res, err := sh.Exec(ctx, `cd /tmp; export X=1; Y=2; f() { echo f; }; alias hi='echo hi'; set -o pipefail; declare -A m=([k]=v)`, nil)
	require.NoError(t, err)
	assert.Equal(t, 0, res.ExitCode)
	res, err = sh.Exec(ctx, "pwd; echo \"$X\"; f; echo $Y; hi; [[ -o pipefail ]] && echo pipefail-on; echo ${m[k]}; false", nil)
	require.NoError(t, err)
	assert.Equal(t, "/tmp\n1\nf\n2\nhi\npipefail-on\nv\n", string(res.Stdout))
	assert.Equal(t, 1, res.ExitCode)
	res, err = sh.Exec(ctx, "echo $?; echo err >&2; exit_code=7; (exit 7)", nil)
	require.NoError(t, err)
	assert.Equal(t, "1\n", string(res.Stdout))
	assert.Equal(t, "err\n", string(res.Stderr))
	assert.Equal(t, 7, res.ExitCode)
}

// openShell opens a shell in a fresh session of e.
func openShell(t *testing.T, e *emu) (*shell.Shell, *sessions.SessionClient) {
	t.Helper()
	s := e.session(t)
	sh, err := shell.Open(context.Background(), s, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = sh.Close(context.Background()) })
	return sh, s
}

// A timeout stops the command and its children, not the shell: the state
// is still there, and the exit code is 124. A builtin loop (which only
// SIGINT can stop) and a child that ignores SIGINT are both stopped.
func TestShellTimeoutKeepsState(t *testing.T) {
	e := newEmu(t, nil)
	sh, _ := openShell(t, e)
	ctx := context.Background()
	_, err := sh.Exec(ctx, `cd /tmp && K=kept`, nil)
	require.NoError(t, err)
	for name, script := range map[string]string{
		"builtin loop":     `echo started; while :; do :; done`,
		"external":         `echo started; sleep 60.25`,
		"ignores SIGINT":   `echo started; bash -c 'trap "" INT; sleep 60.25; echo never'`,
		"background child": `echo started; (trap "" INT; exec sleep 60.25) & wait`,
	} {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			res, err := sh.Exec(ctx, script, &shell.ExecOptions{Timeout: time.Second})
			require.NoError(t, err)
			assert.Equal(t, 124, res.ExitCode)
			assert.True(t, res.TimedOut)
			assert.Equal(t, "started\n", string(res.Stdout))
			assert.Less(t, time.Since(start), 50*time.Second)
			res, err = sh.Exec(ctx, `echo "$PWD $K"; pgrep -f "sleep 60[.]25" || echo none`, nil)
			require.NoError(t, err)
			assert.Equal(t, "/tmp kept\nnone\n", string(res.Stdout))
		})
	}
}

// A cancelled context stops the command like a timeout and returns the
// output so far; the shell goes on.
func TestShellCancel(t *testing.T) {
	e := newEmu(t, nil)
	sh, _ := openShell(t, e)
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	res, err := sh.Exec(ctx, `V=before; echo partial; sleep 60; V=after`, nil)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.NotNil(t, res)
	assert.Equal(t, "partial\n", string(res.Stdout))
	res, err = sh.Exec(context.Background(), `echo $V`, nil)
	require.NoError(t, err)
	assert.Equal(t, "before\n", string(res.Stdout))
}

// A command that ends the shell gives an *ExitedError saying so; Restart
// gives a fresh shell with the same ID.
func TestShellExitAndRestart(t *testing.T) {
	e := newEmu(t, nil)
	sh, _ := openShell(t, e)
	ctx := context.Background()
	for script, code := range map[string]int{"echo bye; exit 3": 3, "exec true": 0, "kill -9 $$": 137} {
		_, err := sh.Exec(ctx, `X=1`, nil)
		require.NoError(t, err)
		res, err := sh.Exec(ctx, script, nil)
		require.ErrorIs(t, err, shell.ErrShellExited, script)
		var ee *shell.ExitedError
		require.ErrorAs(t, err, &ee)
		assert.Equal(t, code, ee.ExitCode, script)
		assert.True(t, ee.Ran)
		assert.Contains(t, err.Error(), "Restart")
		if script == "echo bye; exit 3" {
			assert.Equal(t, "bye\n", string(res.Stdout))
		}
		// The next command does not run.
		_, err = sh.Exec(ctx, `touch ran`, nil)
		require.ErrorAs(t, err, &ee)
		assert.False(t, ee.Ran)
		id := sh.ID()
		require.NoError(t, sh.Restart(ctx))
		assert.Equal(t, id, sh.ID())
		res, err = sh.Exec(ctx, `echo "x=${X-unset}"; ls ran 2>&1 || true`, nil)
		require.NoError(t, err)
		assert.Contains(t, string(res.Stdout), "x=unset\n")
		assert.Contains(t, string(res.Stdout), "No such file")
	}
}

// A second client (another program) reaches the same shell by its ID;
// calls from both run in turn.
func TestShellAttachFromSecondClient(t *testing.T) {
	e := newEmu(t, nil)
	sh, s := openShell(t, e)
	ctx := context.Background()
	_, err := sh.Exec(ctx, `cd /tmp; export SHARED=yes`, nil)
	require.NoError(t, err)

	other := newClient(t, e.srv).NewSessionClient(s.ID())
	sh2, err := shell.Attach(other, sh.ID())
	require.NoError(t, err)
	res, err := sh2.Exec(ctx, `echo "$PWD $SHARED"; N=2`, nil)
	require.NoError(t, err)
	assert.Equal(t, "/tmp yes\n", string(res.Stdout))
	res, err = sh.Exec(ctx, `echo $N`, nil)
	require.NoError(t, err)
	assert.Equal(t, "2\n", string(res.Stdout))

	_, err = shell.Attach(other, "not-an-id")
	assert.ErrorIs(t, err, sessions.ErrInvalidArgument)
	ghost, err := shell.Attach(other, strings.Repeat("ab", 12))
	require.NoError(t, err)
	_, err = ghost.Exec(ctx, `true`, nil)
	assert.ErrorIs(t, err, shell.ErrShellNotFound)

	// Close ends the shell for every handle and removes its files.
	require.NoError(t, sh.Close(ctx))
	_, err = sh2.Exec(ctx, `true`, nil)
	assert.ErrorIs(t, err, shell.ErrShellNotFound)
	_, err = sh.Exec(ctx, `true`, nil)
	assert.ErrorIs(t, err, shell.ErrShellClosed)
	assert.NotContains(t, run(t, s, `ls -a "${SHELLPOOL_FILES_ROOT:-/mnt/data}"`), "shellpool-sh-")
}

// Two shells in one session are independent; calls on one shell run in
// the order they were made.
func TestShellTwoShellsAndOrder(t *testing.T) {
	e := newEmu(t, nil)
	s := e.session(t)
	ctx := context.Background()
	a, err := shell.Open(ctx, s, &shell.OpenOptions{Dir: "/tmp", Env: map[string]string{"WHO": "a b 'c'"}})
	require.NoError(t, err)
	defer a.Close(ctx)
	b, err := shell.Open(ctx, s, nil)
	require.NoError(t, err)
	defer b.Close(ctx)
	_, err = a.Exec(ctx, `V=a; cd /`, nil)
	require.NoError(t, err)
	_, err = b.Exec(ctx, `V=b`, nil)
	require.NoError(t, err)
	ra, err := a.Exec(ctx, `echo "$V $PWD $WHO"`, nil)
	require.NoError(t, err)
	rb, err := b.Exec(ctx, `echo "$V ${WHO-none}"`, nil)
	require.NoError(t, err)
	assert.Equal(t, "a / a b 'c'\n", string(ra.Stdout))
	assert.Equal(t, "b none\n", string(rb.Stdout))

	// Calls made one after another from several goroutines are served in
	// that order.
	var wg sync.WaitGroup
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := a.Exec(ctx, fmt.Sprintf(`echo %d >> "${SHELLPOOL_FILES_ROOT:-/mnt/data}/order"`, i), nil)
			assert.NoError(t, err)
		}()
		time.Sleep(30 * time.Millisecond) // made in this order
	}
	wg.Wait()
	res, err := a.Exec(ctx, `tr '\n' ' ' < "${SHELLPOOL_FILES_ROOT:-/mnt/data}/order"`, nil)
	require.NoError(t, err)
	assert.Equal(t, "0 1 2 3 4 5 ", string(res.Stdout))
}

// Output of any size comes back exactly: 1 MiB and 64 MiB, binary bytes,
// both streams, and to writers as it is written.
func TestShellLargeOutput(t *testing.T) {
	// The live file store is flat: outputs are fetched by their bare names.
	e := newEmu(t, &sessionstest.Options{Behavior: sessionstest.Behavior{FlatFileStore: true}})
	sh, s := openShell(t, e)
	ctx := context.Background()
	res, err := sh.Exec(ctx, `head -c 1048576 /dev/zero | tr '\0' 'a'; printf '\0\377 end'; head -c 5000 /dev/zero | tr '\0' 'e' >&2`, nil)
	require.NoError(t, err)
	assert.Equal(t, strings.Repeat("a", 1<<20)+"\x00\xff end", string(res.Stdout))
	assert.Equal(t, strings.Repeat("e", 5000), string(res.Stderr))

	if testing.Short() {
		t.Skip("64 MiB in -short mode")
	}
	h := sha256.New()
	var errBuf bytes.Buffer
	res, err = sh.Exec(ctx, `for i in $(seq 64); do head -c 1048576 /dev/urandom | tee -a "${SHELLPOOL_FILES_ROOT:-/mnt/data}/big.ref"; done; echo done >&2`,
		&shell.ExecOptions{Stdout: h, Stderr: &errBuf})
	require.NoError(t, err)
	assert.Empty(t, res.Stdout)
	assert.Equal(t, "done\n", errBuf.String())
	want := run(t, s, `sha256sum < "${SHELLPOOL_FILES_ROOT:-/mnt/data}/big.ref" | cut -c1-64; rm "${SHELLPOOL_FILES_ROOT:-/mnt/data}/big.ref"`)
	assert.Equal(t, strings.TrimSpace(want), hex.EncodeToString(h.Sum(nil)))
}

// With the live service's lost final write at rate 0.5, every answer is
// still exact, and losses did happen.
func TestShellLostFinalWrite(t *testing.T) {
	e := newEmu(t, &sessionstest.Options{Behavior: sessionstest.Behavior{LostFinalWriteRate: 0.5, Seed: 7}})
	sh, s := openShell(t, e)
	ctx := context.Background()
	lost := 0
	for i := 0; i < 40; i++ {
		want := fmt.Sprintf("line %d\nlast %d", i, i)
		res, err := sh.Exec(ctx, fmt.Sprintf(`printf 'line %d\nlast %d'; echo err%d >&2; exit_status=%d; (exit $((%d %% 3)))`, i, i, i, i, i), nil)
		require.NoError(t, err)
		assert.Equal(t, want, string(res.Stdout))
		assert.Equal(t, fmt.Sprintf("err%d\n", i), string(res.Stderr))
		assert.Equal(t, i%3, res.ExitCode)
		// Count the losses the raw call sees.
		raw, err := s.Execute(ctx, sessions.ShellCommand("printf 'a\\nb'"), nil)
		require.NoError(t, err)
		if raw.Stdout != "a\nb" {
			lost++
		}
	}
	assert.Greater(t, lost, 5, "the emulator lost no final writes: the test proves nothing")
}

// Stdin is exact, small (inline) and large (uploaded); a script larger
// than one request can carry is uploaded and runs in the shell.
func TestShellStdinAndLargeScript(t *testing.T) {
	e := newEmu(t, nil)
	sh, _ := openShell(t, e)
	ctx := context.Background()
	small := "hello\x00\xff'\"$(x)\n"
	res, err := sh.Exec(ctx, `od -An -tx1 | tr -d ' \n'`, &shell.ExecOptions{Stdin: strings.NewReader(small)})
	require.NoError(t, err)
	assert.Equal(t, hex.EncodeToString([]byte(small)), string(res.Stdout))

	big := bytes.Repeat([]byte{0, 1, 2, 0xfe, 'x', '\n'}, 200_000)
	res, err = sh.Exec(ctx, `sha256sum | cut -c1-64`, &shell.ExecOptions{Stdin: bytes.NewReader(big)})
	require.NoError(t, err)
	sum := sha256.Sum256(big)
	assert.Equal(t, hex.EncodeToString(sum[:])+"\n", string(res.Stdout))

	var sb strings.Builder
	for i := 0; i < 20000; i++ {
		fmt.Fprintf(&sb, "v%d='%d'\n", i, i)
	}
	sb.WriteString("big_done=yes\n")
	require.Greater(t, sb.Len(), 200<<10)
	_, err = sh.Exec(ctx, sb.String(), nil)
	require.NoError(t, err)
	res, err = sh.Exec(ctx, `echo $v19999 $big_done`, nil)
	require.NoError(t, err)
	assert.Equal(t, "19999 yes\n", string(res.Stdout))
}

// Output reaches ExecOptions.Stdout while the command runs: the command
// waits for a file that the test creates only once it has seen the first
// line (without streaming it would time out).
func TestShellStreams(t *testing.T) {
	e := newEmu(t, nil)
	sh, s := openShell(t, e)
	ctx := context.Background()
	w := &signalWriter{seen: make(chan struct{})}
	go func() {
		<-w.seen
		_, err := s.UploadFile(ctx, "go-on", strings.NewReader("x"), nil)
		assert.NoError(t, err)
	}()
	res, err := sh.Exec(ctx, `echo first; while [ ! -e "${SHELLPOOL_FILES_ROOT:-/mnt/data}/go-on" ]; do sleep 0.05; done; echo second`,
		&shell.ExecOptions{Stdout: w, Timeout: 60 * time.Second})
	require.NoError(t, err)
	assert.False(t, res.TimedOut)
	assert.Equal(t, "first\nsecond\n", w.String())
}

// signalWriter closes seen once it has received its first line.
type signalWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	seen chan struct{}
	once sync.Once
}

func (w *signalWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(b)
	if bytes.Contains(w.buf.Bytes(), []byte("\n")) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(b), nil
}

func (w *signalWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// failWriter fails on its first write.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// A writer that fails stops the command, and the shell serves the next one.
func TestShellWriterFails(t *testing.T) {
	e := newEmu(t, nil)
	sh, _ := openShell(t, e)
	ctx := context.Background()
	_, err := sh.Exec(ctx, `echo one; sleep 60.75; echo never`, &shell.ExecOptions{Stdout: failWriter{}})
	require.ErrorContains(t, err, "disk full")
	res, err := sh.Exec(ctx, `pgrep -f "sleep 60[.]75" || echo gone`, nil)
	require.NoError(t, err)
	assert.Equal(t, "gone\n", string(res.Stdout))
}

// Bad input is refused before anything is sent; a Dir that does not exist
// makes Open fail and leaves nothing behind.
func TestShellBadInput(t *testing.T) {
	e := newEmu(t, nil)
	s := e.session(t)
	ctx := context.Background()
	e.srv.ResetRequests()
	for _, o := range []*shell.OpenOptions{
		{Env: map[string]string{"1X": "v"}},
		{Env: map[string]string{"A=B": "v"}},
		{Env: map[string]string{"X": "a\x00b"}},
		{Dir: "a\x00b"},
	} {
		_, err := shell.Open(ctx, s, o)
		assert.ErrorIs(t, err, sessions.ErrInvalidArgument)
	}
	_, err := shell.Open(ctx, nil, nil)
	assert.ErrorIs(t, err, sessions.ErrInvalidArgument)
	assert.Zero(t, e.dataRequests())

	sh, err := shell.Open(ctx, s, nil)
	require.NoError(t, err)
	defer sh.Close(ctx)
	e.srv.ResetRequests()
	for _, script := range []string{"", "echo a\x00b"} {
		_, err = sh.Exec(ctx, script, nil)
		assert.ErrorIs(t, err, sessions.ErrInvalidArgument)
	}
	_, err = sh.Exec(ctx, "true", &shell.ExecOptions{Timeout: -time.Second})
	assert.ErrorIs(t, err, sessions.ErrInvalidArgument)
	assert.Zero(t, e.dataRequests())

	_, err = shell.Open(ctx, s, &shell.OpenOptions{Dir: "/no/such/dir"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Dir")
	out := run(t, s, `ls "${SHELLPOOL_FILES_ROOT:-/mnt/data}" | grep shellpool-sh- | grep -v `+sh.ID()+` || true`)
	assert.Empty(t, out, "the failed shell left files")
}

// A command that makes the shell itself ignore SIGINT and loops in
// builtins cannot be stopped alone: the timeout ends the shell, and says so.
func TestShellTimeoutOfUninterruptibleShell(t *testing.T) {
	e := newEmu(t, nil)
	sh, _ := openShell(t, e)
	ctx := context.Background()
	_, err := sh.Exec(ctx, `trap '' INT; while :; do :; done`, &shell.ExecOptions{Timeout: time.Second})
	var ee *shell.ExitedError
	require.ErrorAs(t, err, &ee)
	assert.True(t, ee.Ran)
	assert.Equal(t, 137, ee.ExitCode)
	require.NoError(t, sh.Restart(ctx))
	res, err := sh.Exec(ctx, `echo back`, nil)
	require.NoError(t, err)
	assert.Equal(t, "back\n", string(res.Stdout))
}

// A timeout while output streams to a writer: the writer has what was
// written, the result says timed out.
func TestShellStreamingTimeout(t *testing.T) {
	e := newEmu(t, nil)
	sh, _ := openShell(t, e)
	var out bytes.Buffer
	res, err := sh.Exec(context.Background(), `echo a; echo b >&2; sleep 60.5`, &shell.ExecOptions{Stdout: &out, Timeout: time.Second})
	require.NoError(t, err)
	assert.True(t, res.TimedOut)
	assert.Equal(t, 124, res.ExitCode)
	assert.Equal(t, "a\n", out.String())
	assert.Equal(t, "b\n", string(res.Stderr), "stderr without a writer is in the result")
	assert.Empty(t, res.Stdout)
}
