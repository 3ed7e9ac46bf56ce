//go:build linux

package sessionstest_test

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/sessions"
	"github.com/shellpool/shellpool/sessions/sessionstest"
)

// sandboxServer starts an emulator whose sessions must be sandboxes; it
// skips the test where the kernel does not allow them.
func sandboxServer(t *testing.T, o *sessionstest.Options) *sessionstest.Server {
	t.Helper()
	if o == nil {
		o = &sessionstest.Options{}
	}
	o.Isolation = sessionstest.IsolationRequired
	o.TB = t
	srv, err := sessionstest.Start(o)
	var ie *sessionstest.IsolationError
	if errors.As(err, &ie) {
		t.Skipf("sandboxes are not available here: %v", err)
	}
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	require.True(t, srv.IsolationStatus().Sandboxed)
	return srv
}

// sh runs a script in the session and returns its stdout, requiring exit 0.
func sh(t *testing.T, c *sessions.Client, sid, script string) string {
	t.Helper()
	out := run(t, c, sid, script)
	require.NotNil(t, out.ExitCode, "script %q: %+v", script, out.Execution)
	require.Equal(t, 0, *out.ExitCode, "script %q: stdout %q stderr %q", script, out.Stdout, out.Stderr)
	return out.Stdout
}

// run runs a script in the session, whatever its exit status.
func run(t *testing.T, c *sessions.Client, sid, script string) sessions.ExecuteResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	out, err := c.Execute(ctx, sid, sessions.ShellCommand(script), nil)
	require.NoError(t, err)
	return out
}

// sandboxCanary is a script prefix that fails unless it runs in a sandbox
// (PID 1 is the sandbox's init), so that no destructive step of a test can
// ever run on the host.
const sandboxCanary = `[ "$(tr -d '\0' < /proc/1/cmdline)" = sessionstest-sandbox ] || { echo NOT IN A SANDBOX >&2; exit 99; }; `

func TestSandboxMntDataIsTheFileStore(t *testing.T) {
	t.Parallel()
	hostBefore, hostErr := os.ReadDir("/mnt/data")
	srv := sandboxServer(t, nil)
	c := newClient(t, srv, srv.PoolEndpoint(), srv.Credential())
	ctx := t.Context()
	sid := sessions.NewSessionID()

	_, err := c.UploadFile(ctx, sid, "f", strings.NewReader("uploaded\n"), nil)
	require.NoError(t, err)
	assert.Equal(t, "uploaded\n", sh(t, c, sid, "cat /mnt/data/f"), "an upload is at /mnt/data for commands")

	sh(t, c, sid, "echo written > /mnt/data/out; mkdir -p /mnt/data/src && echo x > /mnt/data/src/y")
	d, err := c.DownloadFile(ctx, sid, "out", nil)
	require.NoError(t, err)
	b, err := io.ReadAll(d.Body)
	d.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, "written\n", string(b), "what a command writes to /mnt/data is downloadable")
	assert.Equal(t, "f\nout\nsrc\n", sh(t, c, sid, "cd /mnt/data && ls"))
	assert.Equal(t, "/mnt/data\n", sh(t, c, sid, "pwd"), "commands start in /mnt/data")

	hostAfter, hostErr2 := os.ReadDir("/mnt/data")
	assert.Equal(t, hostErr == nil, hostErr2 == nil, "the host's /mnt/data neither appeared nor vanished")
	assert.Equal(t, names(hostBefore), names(hostAfter), "the host's /mnt/data is untouched")
}

func names(entries []os.DirEntry) []string {
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func TestSandboxSystemWritesStayInside(t *testing.T) {
	t.Parallel()
	srv := sandboxServer(t, nil)
	c := newClient(t, srv, srv.PoolEndpoint(), srv.Credential())
	sid := sessions.NewSessionID()
	name := "sessionstest-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	paths := []string{"/etc/" + name, "/usr/local/" + name, "/root/" + name, "/tmp/" + name, "/var/tmp/" + name, "/dev/shm/" + name}
	for _, p := range paths {
		t.Cleanup(func() { _ = os.Remove(p) }) // only if the test fails
	}
	var script strings.Builder
	script.WriteString(sandboxCanary)
	for _, p := range paths {
		script.WriteString("echo inside > " + p + " 2>/dev/null; ")
	}
	run(t, c, sid, script.String())
	for _, p := range paths {
		assert.NoFileExists(t, p, "a session's write reached the host")
	}
	// The writes that worked are the session's own.
	assert.Equal(t, "inside\n", sh(t, c, sid, "cat /root/"+name+" /tmp/"+name+" 2>/dev/null | uniq"))
	if os.Getuid() == 0 {
		// Copy-on-write: root inside may change the system directories
		// (an emulator run by another user may not: their files belong to
		// a user the sandbox does not map).
		assert.Equal(t, "inside\ninside\n", sh(t, c, sid, "cat /etc/"+name+" /usr/local/"+name))
	}
	other := sessions.NewSessionID()
	assert.Equal(t, "", run(t, c, other, "cat "+strings.Join(paths, " ")+" 2>/dev/null").Stdout, "another session sees none of them")
}

func TestSandboxHidesTheHostHome(t *testing.T) {
	// Not parallel: it sets HOME for the emulator.
	home, err := os.UserHomeDir()
	require.NoError(t, err)
	secret := filepath.Join(home, ".sessionstest-secret-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	require.NoError(t, os.WriteFile(secret, []byte("top secret\n"), 0o600))
	t.Cleanup(func() { _ = os.Remove(secret) })
	// A home directory inside a system directory the sandbox shows.
	varHome, err := os.MkdirTemp("/var/tmp", "sessionstest-home-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(varHome) })
	require.NoError(t, os.WriteFile(filepath.Join(varHome, "secret"), []byte("top secret\n"), 0o600))

	srv := sandboxServer(t, nil)
	c := newClient(t, srv, srv.PoolEndpoint(), srv.Credential())
	out := run(t, c, sessions.NewSessionID(), "cat "+secret+"; ls -A "+home+" /home; echo $HOME; ls -A /root")
	assert.NotContains(t, out.Stdout, "top secret")
	assert.NotContains(t, out.Stdout, filepath.Base(secret))
	assert.Contains(t, out.Stdout, "/root\n", "HOME is the session's own /root")

	t.Setenv("HOME", varHome)
	srv2 := sandboxServer(t, nil)
	c2 := newClient(t, srv2, srv2.PoolEndpoint(), srv2.Credential())
	out = run(t, c2, sessions.NewSessionID(), "cat "+varHome+"/secret; ls -A "+varHome)
	assert.NotContains(t, out.Stdout, "top secret", "the emulator user's HOME is hidden even inside a system directory")
	assert.NotContains(t, out.Stdout, "secret")
}

func TestSandboxProcessesAreInvisibleAndDieWithTheSession(t *testing.T) {
	t.Parallel()
	srv := sandboxServer(t, &sessionstest.Options{Pools: []sessionstest.Pool{{Name: sessionstest.DefaultPoolName, MaxConcurrentSessions: 10, EgressEnabled: true}}})
	c := newClient(t, srv, srv.PoolEndpoint(), srv.Credential())
	a, b := sessions.NewSessionID(), sessions.NewSessionID()
	// A plain background sleep and a double-forked, setsid, nohup one.
	sh(t, c, a, "sleep 1717 >/dev/null 2>&1 & echo $! > plain.pid; "+
		"( setsid nohup sh -c 'echo $$ > detached.pid; exec sleep 1718' >/dev/null 2>&1 & ); "+
		"while [ ! -s detached.pid ]; do sleep 0.01; done")
	var pids []int
	for _, f := range []string{"plain.pid", "detached.pid"} {
		inner, err := strconv.Atoi(strings.TrimSpace(sh(t, c, a, "cat "+f)))
		require.NoError(t, err)
		pid := srv.HostPID(sessionstest.DefaultPoolName, a, inner)
		require.NotZero(t, pid, "%s: no such process in the sandbox", f)
		require.True(t, sessionstest.ProcessAlive(pid))
		pids = append(pids, pid)
	}

	ps := sh(t, c, b, `for p in /proc/[0-9]*; do echo "${p#/proc/} $(tr '\0' ' ' < $p/cmdline)"; done`)
	assert.NotContains(t, ps, "sleep 171", "session B sees session A's processes")
	assert.NotContains(t, ps, filepath.Base(os.Args[0]), "session B sees the emulator")
	lines := strings.Split(strings.TrimSpace(ps), "\n")
	assert.LessOrEqual(t, len(lines), 3, "only B's init, bash and ps: %q", ps)
	assert.Contains(t, ps, "1 sessionstest-sandbox", "B's processes count from its own init")
	// The emulator's environment is out of reach.
	self := strconv.Itoa(os.Getpid())
	out := run(t, c, b, "cat /proc/"+self+"/environ /proc/"+self+"/cmdline 2>/dev/null | tr '\\0' '\\n'")
	assert.NotContains(t, out.Stdout, "PATH=")
	assert.NotContains(t, out.Stdout, os.Args[0])

	_, err := c.DeleteSession(t.Context(), a, nil)
	require.NoError(t, err)
	for _, pid := range pids {
		assert.Eventually(t, func() bool { return !sessionstest.ProcessAlive(pid) }, 2*time.Minute, 10*time.Millisecond,
			"process %d of the deleted session still runs", pid)
	}
}

func TestSandboxFilesOfOtherSessionsAreOutOfReach(t *testing.T) {
	t.Parallel()
	srv := sandboxServer(t, nil)
	c := newClient(t, srv, srv.PoolEndpoint(), srv.Credential())
	name := "secret-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	a, b := sessions.NewSessionID(), sessions.NewSessionID()
	sh(t, c, a, "echo a > /mnt/data/"+name+"; echo a > /tmp/"+name)
	require.Equal(t, "a\n", sh(t, c, a, "cat /mnt/data/"+name))
	found := run(t, c, b, "find / -xdev -name '"+name+"*' 2>/dev/null; find /proc /mnt /tmp -name '"+name+"*' 2>/dev/null; true")
	assert.Empty(t, found.Stdout, "session B found session A's files")
	dir, ok := srv.SessionDir(sessionstest.DefaultPoolName, a)
	require.True(t, ok)
	_, err := os.Stat(filepath.Join(dir, name))
	assert.NoError(t, err, "SessionDir reaches A's /mnt/data")
	_, err = os.Stat(filepath.Join(os.TempDir(), name))
	assert.Error(t, err, "A's /tmp is not the host's")
}

func TestSandboxWithoutEgressReachesNothing(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	accepted := make(chan struct{}, 10)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- struct{}{}
			conn.Close()
		}
	}()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	srv := sandboxServer(t, &sessionstest.Options{Pools: []sessionstest.Pool{
		{Name: "closed", EgressEnabled: false},
		{Name: "open", EgressEnabled: true},
	}})
	closed := newClient(t, srv, srv.PoolEndpointFor("closed"), srv.Credential())
	open := newClient(t, srv, srv.PoolEndpointFor("open"), srv.Credential())
	dial := "exec 3<>/dev/tcp/127.0.0.1/" + port + " && echo connected"

	out := run(t, closed, sessions.NewSessionID(), dial)
	assert.NotContains(t, out.Stdout, "connected", "a session without egress reached the host's loopback")
	assert.Equal(t, "lo\n", sh(t, closed, sessions.NewSessionID(), "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '"), "loopback is its only interface")
	select {
	case <-accepted:
		t.Fatal("the listener got a connection from a session without egress")
	default:
	}

	// With egress the same command connects: the check above can fail.
	assert.Contains(t, run(t, open, sessions.NewSessionID(), dial).Stdout, "connected")
	select {
	case <-accepted:
	case <-time.After(5 * time.Second):
		t.Error("the listener never saw the egress-enabled session")
	}
}

func TestSandboxRmRfEverythingLeavesTheHostIntact(t *testing.T) {
	t.Parallel()
	srv := sandboxServer(t, &sessionstest.Options{Pools: []sessionstest.Pool{{Name: sessionstest.DefaultPoolName, MaxConcurrentSessions: 10, EgressEnabled: true}}})
	c := newClient(t, srv, srv.PoolEndpoint(), srv.Credential())
	marker := filepath.Join(t.TempDir(), "host-marker")
	require.NoError(t, os.WriteFile(marker, []byte("host\n"), 0o644))
	sid := sessions.NewSessionID()
	// First prove writes are confined in this very session, else stop.
	probe := "/etc/sessionstest-rmrf-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	sh(t, c, sid, sandboxCanary+"touch "+probe+"; [ ! -e "+marker+" ]")
	_, err := os.Stat(probe)
	require.Error(t, err, "a write to /etc reached the host: not running rm -rf")

	out := run(t, c, sid, sandboxCanary+"rm -rf --no-preserve-root / 2>/dev/null; echo done")
	require.Contains(t, out.Stdout, "done", "stderr: %s", out.Stderr)
	for _, p := range []string{marker, "/etc/passwd", "/usr/bin/env", "/bin/sh"} {
		assert.FileExists(t, p, "rm -rf in a session removed the host's %s", p)
	}
	b, err := os.ReadFile(marker)
	require.NoError(t, err)
	assert.Equal(t, "host\n", string(b))
	// The emulator keeps serving other sessions.
	assert.Equal(t, "ok\n", sh(t, c, sessions.NewSessionID(), "echo ok"))
}

func TestSandboxFullDiskIsENOSPC(t *testing.T) {
	t.Parallel()
	srv := sandboxServer(t, &sessionstest.Options{SandboxBytes: 8 << 20})
	c := newClient(t, srv, srv.PoolEndpoint(), srv.Credential())
	sid := sessions.NewSessionID()
	out := run(t, c, sid, "head -c 16777216 /dev/zero > /mnt/data/big")
	require.NotNil(t, out.ExitCode)
	assert.NotEqual(t, 0, *out.ExitCode)
	assert.Contains(t, out.Stderr, "No space left on device")
	out = run(t, c, sid, "head -c 1048576 /dev/zero > /tmp/more")
	assert.Contains(t, out.Stderr, "No space left on device", "/tmp shares the bound")
	// The session and the emulator go on.
	assert.Equal(t, "ok\n", sh(t, c, sid, "rm /mnt/data/big; echo ok"))
	assert.Equal(t, "ok\n", sh(t, c, sessions.NewSessionID(), "echo ok"))
}

func TestSandboxRunsAsRootInside(t *testing.T) {
	t.Parallel()
	srv := sandboxServer(t, nil)
	c := newClient(t, srv, srv.PoolEndpoint(), srv.Credential())
	sid := sessions.NewSessionID()
	assert.Equal(t, "0 0\n", sh(t, c, sid, "echo $(id -u) $(id -g)"))
	sh(t, c, sid, "touch /mnt/data/mine")
	dir, ok := srv.SessionDir(sessionstest.DefaultPoolName, sid)
	require.True(t, ok)
	fi, err := os.Stat(filepath.Join(dir, "mine"))
	require.NoError(t, err)
	st := fi.Sys().(*syscall.Stat_t)
	assert.Equal(t, uint32(os.Getuid()), st.Uid, "root inside is the emulator's user outside")
}

func TestIsolationModes(t *testing.T) {
	// Not parallel: it sets the environment.
	t.Setenv(sessionstest.IsolationEnv, "off")
	srv := sessionstest.NewServer(&sessionstest.Options{TB: t})
	st := srv.IsolationStatus()
	assert.False(t, st.Sandboxed)
	assert.Equal(t, sessionstest.IsolationOff, st.Mode)
	assert.Contains(t, st.String(), "NOT isolated")
	c := newClient(t, srv, srv.PoolEndpoint(), srv.Credential())
	assert.Contains(t, sh(t, c, sessions.NewSessionID(), "env"), "SHELLPOOL_FILES_ROOT=", "unisolated sessions name their files root")

	t.Setenv(sessionstest.IsolationEnv, "bogus")
	_, err := sessionstest.Start(nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), sessionstest.IsolationEnv)

	// Options win over the environment.
	t.Setenv(sessionstest.IsolationEnv, "off")
	iso := sandboxServer(t, nil)
	assert.Equal(t, sessionstest.IsolationRequired, iso.IsolationStatus().Mode)
	c = newClient(t, iso, iso.PoolEndpoint(), iso.Credential())
	assert.NotContains(t, sh(t, c, sessions.NewSessionID(), "env"), "SHELLPOOL_FILES_ROOT=")

	// Scripted servers run nothing, so they need no sandbox.
	t.Setenv(sessionstest.IsolationEnv, "required")
	scripted := sessionstest.NewServer(&sessionstest.Options{TB: t, Scripted: func(context.Context, sessionstest.ExecRequest) sessionstest.ExecResult {
		return sessionstest.ExecResult{}
	}})
	assert.False(t, scripted.IsolationStatus().Sandboxed)
}
