package sessions_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/sessions"
	"github.com/shellpool/shellpool/sessions/sessionstest"
)

// newProcEmulator starts an emulator for the process layer's tests (see
// procOptions), a client counting the bytes it receives, and a session.
func newProcEmulator(t testing.TB) (*sessionstest.Server, *sessions.Client, *sessions.SessionClient, *countingTransport) {
	t.Helper()
	o := procOptions()
	o.TB = t
	srv, err := sessionstest.Start(o)
	if errors.Is(err, sessionstest.ErrNoBash) {
		t.Skip(err) // Windows without Git for Windows or MSYS2
	}
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	ct := &countingTransport{next: srv.Client()}
	co := srv.ClientOptions()
	co.Transport = ct
	c, err := sessions.NewClient(srv.PoolEndpoint(), srv.Credential(), &sessions.ClientOptions{ClientOptions: co})
	require.NoError(t, err)
	return srv, c, c.NewSessionClient(sessions.NewSessionID()), ct
}

// countingTransport counts the response body bytes the client reads.
type countingTransport struct {
	next policy.Transporter
	n    atomic.Int64
}

func (c *countingTransport) Do(req *http.Request) (*http.Response, error) {
	resp, err := c.next.Do(req)
	if resp != nil && resp.Body != nil {
		resp.Body = &countingBody{ReadCloser: resp.Body, n: &c.n}
	}
	return resp, err
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// layerFiles lists the process layer's files in the session.
func layerFiles(t testing.TB, s *sessions.SessionClient) []string {
	t.Helper()
	var names []string
	pg := s.NewListFilesPager(nil)
	for pg.More() {
		page, err := pg.NextPage(context.Background())
		require.NoError(t, err)
		for _, f := range page.Value {
			if strings.HasPrefix(f.Name, sessions.ProcessFilePrefix) {
				names = append(names, f.Name)
			}
		}
	}
	return names
}

// upload puts data into the session as name.
func upload(t testing.TB, s *sessions.SessionClient, name string, data []byte) {
	t.Helper()
	_, err := s.UploadFile(context.Background(), name, bytes.NewReader(data), nil)
	require.NoError(t, err)
}

// exactnessContents returns, for size n, a binary content and UTF-8
// contents whose 4-byte characters straddle every byte boundary (the
// service's 4,096-byte cap and the inline budget below it fall at each
// position inside a character in one of them).
func exactnessContents(n int) map[string][]byte {
	rng := rand.New(rand.NewSource(int64(n)))
	bin := make([]byte, n)
	rng.Read(bin)
	out := map[string][]byte{"binary": bin}
	if n == 0 {
		return out
	}
	for shift := 0; shift < 4; shift++ {
		var b bytes.Buffer
		b.WriteString(strings.Repeat("a", shift))
		for b.Len() < n {
			b.WriteString("😀é")
		}
		out[fmt.Sprintf("utf8-shift%d", shift)] = b.Bytes()[:n]
	}
	return out
}

func TestRunExactness(t *testing.T) {
	// 3584 is the layer's inline budget, 4096 the service's cap.
	sizes := []int{0, 1, 3584, 3585, 4095, 4096, 4097, 1 << 20}
	_, _, s, _ := newProcEmulator(t)
	ctx := context.Background()
	for _, n := range sizes {
		for kind, want := range exactnessContents(n) {
			if n == 1<<20 && kind != "binary" && kind != "utf8-shift1" {
				continue // one UTF-8 layout is enough at 1 MiB
			}
			name := fmt.Sprintf("exact-%d-%s", n, kind)
			upload(t, s, name, want)
			res, err := s.Run(ctx, sessions.ShellCommand("cat "+name+"; cat "+name+" >&2; rm "+name), nil)
			require.NoError(t, err, name)
			assert.Equal(t, 0, res.ExitCode, name)
			assert.Equal(t, len(want), len(res.Stdout), "%s: stdout length", name)
			assert.Equal(t, sha256.Sum256(want), sha256.Sum256(res.Stdout), "%s: stdout sha256", name)
			assert.Equal(t, sha256.Sum256(want), sha256.Sum256(res.Stderr), "%s: stderr sha256", name)
		}
	}
}

func TestRunExactness64MiB(t *testing.T) {
	if testing.Short() {
		t.Skip("64 MiB of output; skipped with -short")
	}
	_, _, s, _ := newProcEmulator(t)
	ctx := context.Background()
	// The session makes the bytes itself; its own sha256sum is the reference.
	script := "head -c 67108864 /dev/urandom > big.bin; sha256sum big.bin >&2; cat big.bin"
	res, err := s.Run(ctx, sessions.ShellCommand(script), nil)
	require.NoError(t, err)
	require.Equal(t, 64<<20, len(res.Stdout))
	sum := sha256.Sum256(res.Stdout)
	assert.Equal(t, fmt.Sprintf("%x  big.bin\n", sum), string(res.Stderr))

	// And to a writer, which streams instead of buffering.
	h := sha256.New()
	var errBuf bytes.Buffer
	res, err = s.Run(ctx, sessions.ShellCommand("cat big.bin; rm big.bin"), &sessions.RunOptions{Stdout: h, Stderr: &errBuf})
	require.NoError(t, err)
	assert.Empty(t, res.Stdout)
	assert.Equal(t, sum[:], h.Sum(nil))
}

func TestRunLargeScriptAndStdin(t *testing.T) {
	_, _, s, _ := newProcEmulator(t)
	ctx := context.Background()

	// A 1 MiB script: far over the 128 KiB argument limit.
	var sb strings.Builder
	for i := 0; sb.Len() < 1<<20; i++ {
		fmt.Fprintf(&sb, "v%d=%d\n", i%1000, i)
	}
	sb.WriteString("echo \"script done $v999\"\n")
	require.Greater(t, sb.Len(), 1<<20)
	res, err := s.Run(ctx, sessions.ShellCommand(sb.String()), nil)
	require.NoError(t, err)
	assert.Equal(t, 0, res.ExitCode, string(res.Stderr))
	assert.Regexp(t, `^script done \d+\n$`, string(res.Stdout))

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
		cmd := sessions.ShellCommand("sha256sum | cut -d' ' -f1")
		cmd.Stdin = string(in)
		res, err := s.Run(ctx, cmd, nil)
		require.NoError(t, err, name)
		assert.Equal(t, fmt.Sprintf("%x\n", sha256.Sum256(in)), string(res.Stdout), name)
	}
	res, err = s.Run(ctx, sessions.ShellCommand("ls pwned 2>&1 || true"), nil)
	require.NoError(t, err)
	assert.Contains(t, string(res.Stdout), "No such file")
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
	_, _, s, _ := newProcEmulator(t)
	ctx := context.Background()
	env := map[string]string{}
	for i, v := range hostileValues {
		env[fmt.Sprintf("V%d", i)] = v
	}
	cmd := sessions.ShellCommand(`for i in 0 1 2 3 4 5 6 7 8 9; do n=V$i; printf '%s\0' "${!n}"; done`)
	cmd.Env = env
	res, err := s.Run(ctx, cmd, nil)
	require.NoError(t, err)
	want := strings.Join(hostileValues, "\x00") + "\x00"
	assert.Equal(t, want, string(res.Stdout))

	// Args reach the program unchanged too.
	res, err = s.Run(ctx, sessions.ExecCommand("printf", append([]string{`%s\0`}, hostileValues...)...), nil)
	require.NoError(t, err)
	assert.Equal(t, want, string(res.Stdout))

	// Working directories with hostile names (made with the name passed
	// through Env, which the previous assertions showed is exact).
	for _, d := range []string{`dir with 'quotes' and $(touch pwned)`, "new\nline", "\xff\xfe-bytes", "-dash"} {
		mk := sessions.ShellCommand(`mkdir -p -- "$D"`)
		mk.Env = map[string]string{"D": d}
		_, err := s.Run(ctx, mk, nil)
		require.NoError(t, err)
		cmd := sessions.ShellCommand(`basename -- "$PWD"; printf '%s' "$V"`)
		cmd.Dir = d
		cmd.Env = map[string]string{"V": d}
		res, err := s.Run(ctx, cmd, nil)
		require.NoError(t, err, "%q", d)
		assert.Equal(t, d+"\n"+d, string(res.Stdout), "%q", d)
	}
	res, err = s.Run(ctx, sessions.ShellCommand("find . -name pwned | wc -l"), nil)
	require.NoError(t, err)
	assert.Equal(t, "0\n", string(res.Stdout), "a hostile value was run as code")

	// A directory that does not exist: typed error, nothing ran.
	cmd = sessions.ShellCommand("touch ran")
	cmd.Dir = "no/such/dir"
	_, err = s.Run(ctx, cmd, nil)
	require.ErrorIs(t, err, sessions.ErrDirNotFound)
	res, err = s.Run(ctx, sessions.ShellCommand("ls ran 2>/dev/null | wc -l"), nil)
	require.NoError(t, err)
	assert.Equal(t, "0\n", string(res.Stdout))
}

func TestRunExitCodesAndTimeout(t *testing.T) {
	_, _, s, _ := newProcEmulator(t)
	ctx := context.Background()
	for script, code := range map[string]int{"true": 0, "false": 1, "exit 3": 3, "kill -9 $$": 137} {
		res, err := s.Run(ctx, sessions.ShellCommand(script), nil)
		require.NoError(t, err, script)
		assert.Equal(t, code, res.ExitCode, script)
		assert.False(t, res.TimedOut, script)
	}
	cmd := sessions.ShellCommand("echo start; sleep 30")
	cmd.Timeout = 2 * time.Second
	res, err := s.Run(ctx, cmd, nil)
	require.NoError(t, err)
	assert.True(t, res.TimedOut)
	assert.Equal(t, 124, res.ExitCode)
	assert.Equal(t, "start\n", string(res.Stdout))
	// Duration is the command's own clock in the session.
	assert.GreaterOrEqual(t, res.Duration, 2*time.Second)
	assert.Less(t, res.Duration, 5*time.Second)
}

func TestRunValidation(t *testing.T) {
	_, _, s, _ := newProcEmulator(t)
	ctx := context.Background()
	bad := []sessions.Command{
		{},
		{Shell: "true", Args: []string{"true"}},
		{Args: []string{""}},
		{Shell: "true", Timeout: -time.Second},
		{Shell: "true", OutputLimit: 10},
		{Shell: "a\x00b"},
		{Args: []string{"echo", "a\x00b"}},
		{Shell: "true", Env: map[string]string{"1BAD": "x"}},
		{Shell: "true", Env: map[string]string{"A=B": "x"}},
		{Shell: "true", Env: map[string]string{"OK": "nul\x00"}},
		{Shell: "true", Dir: "a\x00b"},
	}
	for _, cmd := range bad {
		_, err := s.Run(ctx, cmd, nil)
		assert.ErrorIs(t, err, sessions.ErrInvalidArgument, "%+v", cmd)
		_, err = s.Start(ctx, cmd, nil)
		assert.ErrorIs(t, err, sessions.ErrInvalidArgument, "%+v", cmd)
	}
	// Execute is the raw call: it refuses Env and Dir rather than ignore them.
	_, err := s.Execute(ctx, sessions.Command{Shell: "true", Env: map[string]string{"A": "b"}}, nil)
	assert.ErrorIs(t, err, sessions.ErrInvalidArgument)
	_, err = s.Execute(ctx, sessions.Command{Shell: "true", Dir: "/tmp"}, nil)
	assert.ErrorIs(t, err, sessions.ErrInvalidArgument)
	_, err = s.AttachProcess("not-an-id")
	assert.ErrorIs(t, err, sessions.ErrInvalidArgument)
	_, err = s.AttachProcess("ABCDEF0123456789abcdef01")
	assert.ErrorIs(t, err, sessions.ErrInvalidArgument)
}

func TestRunRequestCountsAndCleanup(t *testing.T) {
	srv, _, s, _ := newProcEmulator(t)
	ctx := context.Background()
	srv.ResetRequests()
	res, err := s.Run(ctx, sessions.ShellCommand("printf ok"), nil)
	require.NoError(t, err)
	require.Equal(t, "ok", string(res.Stdout))
	reqs := srv.Requests()
	if !res.Recovered {
		assert.Len(t, reqs, 1, "an inline Run is one request")
	}
	first := res.ProcessID
	left := layerFiles(t, s)
	assert.NotEmpty(t, left, "the first Run's files wait for the next call")
	for _, f := range left {
		assert.True(t, strings.HasPrefix(f, sessions.ProcessFilePrefix+first), f)
	}

	// Small Runs clean up after each other, in batches.
	for i := 0; i < 9; i++ {
		_, err := s.Run(ctx, sessions.ShellCommand("true"), nil)
		require.NoError(t, err)
	}
	for _, f := range layerFiles(t, s) {
		assert.False(t, strings.HasPrefix(f, sessions.ProcessFilePrefix+first), "%s outlived nine later Runs", f)
	}
	assert.LessOrEqual(t, len(layerFiles(t, s)), 8*6, "at most eight results' files wait for clean-up")

	// A large Run: one execution, one download per stream with content;
	// its files go with the session's next call, at once (not in a batch).
	srv.ResetRequests()
	res, err = s.Run(ctx, sessions.ShellCommand("head -c 100000 /dev/zero; printf small >&2"), nil)
	require.NoError(t, err)
	require.Len(t, res.Stdout, 100000)
	require.Equal(t, "small", string(res.Stderr))
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
	if !res.Recovered {
		assert.Equal(t, 1, execs, "the run only; its clean-up rides on the next call")
		assert.Equal(t, 1, downloads, "stdout only; stderr came inline")
	}
	assert.Zero(t, other)
	large := res.ProcessID
	hasFilesOf := func(id string) bool {
		for _, f := range layerFiles(t, s) {
			if strings.HasPrefix(f, sessions.ProcessFilePrefix+id) {
				return true
			}
		}
		return false
	}
	require.True(t, hasFilesOf(large), "the large Run's files wait for the next call")

	// The next call removes the large Run's files (and every other
	// pending one) in its own request; Close deletes the session, and with
	// it every file of the layer.
	srv.ResetRequests()
	res, err = s.Run(ctx, sessions.ShellCommand("echo pending"), nil)
	require.NoError(t, err)
	if !res.Recovered {
		assert.Len(t, srv.Requests(), 1, "the clean-up rides on the Run's own request")
	}
	assert.False(t, hasFilesOf(large), "the next call removed the large Run's files")
	assert.Len(t, layerFiles(t, s), 4, "only the last Run's files are left: .out .err .pid .rc")
	require.NotEmpty(t, layerFiles(t, s))
	require.NoError(t, s.Close(ctx))
	_, ok := srv.SessionDir(sessionstest.DefaultPoolName, s.ID())
	assert.False(t, ok, "no file of the layer is left after Close")
}

func TestRunCancelKillsTheCommand(t *testing.T) {
	srv, _, s, _ := newProcEmulator(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := s.Run(ctx, sessions.ShellCommand("sleep 30; echo late > late"), nil)
		done <- err
	}()
	require.Eventually(t, func() bool { return srv.ProcessCount() > 0 }, 5*time.Second, 10*time.Millisecond)
	cancel()
	err := <-done
	assert.True(t, errors.Is(err, context.Canceled), "%v", err)
	assert.Eventually(t, func() bool { return srv.ProcessCount() == 0 }, 5*time.Second, 20*time.Millisecond,
		"the cancelled command still runs in the emulator")
}

// TestRunFilesRootIsTheEmulatorsSessionDir: the emulator names its files
// root (the session's directory, the working directory) to commands, so
// the layer never writes to a /mnt/data the host may have.
func TestRunFilesRootIsTheEmulatorsSessionDir(t *testing.T) {
	_, _, s, _ := newProcEmulator(t)
	res, err := s.Run(context.Background(), sessions.ShellCommand(`printf '%s\n' "$SHELLPOOL_FILES_ROOT"; pwd -P`), nil)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(res.Stdout)), "\n")
	require.Len(t, lines, 2, "%q", res.Stdout)
	assert.NotEmpty(t, lines[0])
	assert.NotEqual(t, "/mnt/data", lines[0])
	dir, err := filepath.EvalSymlinks(lines[0])
	require.NoError(t, err)
	assert.Equal(t, lines[1], dir, "the files root is the session's working directory")
}
