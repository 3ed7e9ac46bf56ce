package shell_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/sessions"
	"github.com/shellpool/shellpool/sessions/sessionstest"
)

// emu is an emulator with a client for its pool.
type emu struct {
	srv    *sessionstest.Server
	client *sessions.Client
}

// newEmu starts an emulator for one test.
func newEmu(t testing.TB, opts *sessionstest.Options) *emu {
	t.Helper()
	if opts == nil {
		opts = &sessionstest.Options{}
	}
	opts.TB = t
	srv := sessionstest.NewServer(opts)
	return &emu{srv: srv, client: newClient(t, srv)}
}

// newClient returns another client of srv's pool (another program, as far
// as the session is concerned).
func newClient(t testing.TB, srv *sessionstest.Server) *sessions.Client {
	t.Helper()
	c, err := sessions.NewClient(srv.PoolEndpoint(), srv.Credential(), &sessions.ClientOptions{ClientOptions: srv.ClientOptions()})
	require.NoError(t, err)
	return c
}

// session returns a fresh session, deleted when the test ends.
func (e *emu) session(t testing.TB) *sessions.SessionClient {
	t.Helper()
	s := e.client.NewSessionClient(sessions.NewSessionID())
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// dataRequests counts the data-plane requests (executions and files) the
// emulator has seen.
func (e *emu) dataRequests() int {
	n := 0
	for _, r := range e.srv.Requests() {
		if strings.Contains(r.Path, "/executions") || strings.Contains(r.Path, "/files") {
			n++
		}
	}
	return n
}

// run runs a script with Execute and requires exit code 0; it returns stdout.
func run(t testing.TB, s *sessions.SessionClient, script string) string {
	t.Helper()
	res, err := s.Execute(context.Background(), sessions.ShellCommand(script), nil)
	require.NoError(t, err)
	require.NotNil(t, res.ExitCode, "no exit code: %+v", res.Execution)
	require.Equal(t, 0, *res.ExitCode, "script failed: %s", res.Stderr)
	return res.Stdout
}

// scriptedBash returns an Options.Scripted function that runs each
// execution's script with bash in the session's directory, like the
// emulator, but with PATH set to path: tests use it to take tar away or to
// put a hostile one first.
func scriptedBash(path string) func(ctx context.Context, req sessionstest.ExecRequest) sessionstest.ExecResult {
	return func(ctx context.Context, req sessionstest.ExecRequest) sessionstest.ExecResult {
		cmd := exec.CommandContext(ctx, "/bin/bash", "-c", req.ShellCommand)
		cmd.Dir = req.Dir
		cmd.Env = []string{"PATH=" + path, "HOME=" + req.Dir, "SHELLPOOL_FILES_ROOT=" + req.Dir, "LANG=C.UTF-8"}
		cmd.Stdin = strings.NewReader(req.Stdin)
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		cmd.WaitDelay = time.Second
		err := cmd.Run()
		code := 0
		if err != nil {
			code = -1
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			}
		}
		return sessionstest.ExecResult{ExitCode: code, Stdout: out.String(), Stderr: errb.String()}
	}
}

// binDir makes a directory of symbolic links to the named commands (found
// on this machine's PATH), plus the executable scripts in extra.
func binDir(t testing.TB, commands []string, extra map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for _, c := range commands {
		p, err := exec.LookPath(c)
		require.NoError(t, err)
		require.NoError(t, os.Symlink(p, filepath.Join(dir, c)))
	}
	for name, script := range extra {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755))
	}
	return dir
}

func execLookPath(name string) (string, error) { return exec.LookPath(name) }
