//go:build linux

package sessionstest

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// logRecorder is a testing.TB that records what is logged to it.
type logRecorder struct {
	testing.TB
	mu   sync.Mutex
	logs []string
}

func (r *logRecorder) Log(args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.logs = append(r.logs, fmt.Sprint(args...))
}

func (r *logRecorder) Logf(format string, args ...any) { r.Log(fmt.Sprintf(format, args...)) }

// sandboxChildren lists this process's children that are sandbox inits.
func sandboxChildren() []int {
	entries, _ := os.ReadDir("/proc")
	self := strconv.Itoa(os.Getpid())
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		status, err := os.ReadFile("/proc/" + e.Name() + "/status")
		if err != nil || !strings.Contains(string(status), "\nPPid:\t"+self+"\n") {
			continue
		}
		if cmd, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline"); strings.HasPrefix(string(cmd), "sessionstest-sandbox") {
			out = append(out, pid)
		}
	}
	return out
}

func needSandboxes(t *testing.T) {
	t.Helper()
	if err := probeSandbox(""); err != nil {
		t.Skipf("sandboxes are not available here: %v", err)
	}
}

// TestSandboxSetUpFailures makes each set-up step fail on purpose: with
// IsolationRequired, Start fails with an IsolationError naming the missing
// feature before any session or directory exists, and nothing is left
// behind (no process, no mount); with IsolationAuto it falls back to
// unisolated sessions with exactly one warning.
func TestSandboxSetUpFailures(t *testing.T) {
	// Not parallel: it counts this process's children and mounts, and
	// sets the environment (automatic mode, whatever the run's mode).
	t.Setenv(IsolationEnv, "auto")
	needSandboxes(t)
	mountsBefore, err := os.ReadFile("/proc/self/mountinfo")
	require.NoError(t, err)
	for fault, feature := range map[string]string{
		"userns":                            "user namespaces",
		"tmpfs mounts in a user namespace":  "tmpfs mounts in a user namespace",
		"system directory /usr":             "system directory /usr",
		"bind-mounting /dev/null":           "bind-mounting /dev/null",
		"mounting /proc in a PID namespace": "mounting /proc in a PID namespace",
		"a network namespace with loopback": "a network namespace with loopback",
		"pivot_root":                        "pivot_root",
	} {
		t.Run(fault, func(t *testing.T) {
			dir := t.TempDir()
			s, err := Start(&Options{Isolation: IsolationRequired, Dir: dir, sandboxFault: fault})
			if s != nil {
				s.Close()
			}
			var ie *IsolationError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, feature, ie.Feature)
			assert.ErrorIs(t, err, ErrIsolationUnavailable)
			assert.Contains(t, err.Error(), feature)
			assert.Contains(t, err.Error(), "unshare", "the error says how to check the kernel")
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			assert.Empty(t, entries, "Start made a directory before failing")
			assert.Empty(t, sandboxChildren(), "a sandbox init outlived its failed set-up")
			assert.Empty(t, zombieChildren())

			rec := &logRecorder{TB: t}
			s, err = Start(&Options{Dir: dir, sandboxFault: fault, TB: rec})
			require.NoError(t, err)
			st := s.IsolationStatus()
			assert.False(t, st.Sandboxed)
			assert.Equal(t, IsolationAuto, st.Mode)
			assert.Contains(t, st.Reason, feature)
			c := newRaw(t, s)
			assert.Contains(t, stdout(c.sh(newSID(), "env")), "SHELLPOOL_FILES_ROOT=", "the fallback runs unisolated")
			rec.mu.Lock()
			logs := rec.logs
			rec.mu.Unlock()
			require.Len(t, logs, 1, "exactly one warning")
			assert.Contains(t, logs[0], "WARNING: sessions are not isolated")
			assert.Contains(t, logs[0], feature)
			s.Close()
			assert.Empty(t, sandboxChildren())
		})
	}
	mountsAfter, err := os.ReadFile("/proc/self/mountinfo")
	require.NoError(t, err)
	assert.Equal(t, string(mountsBefore), string(mountsAfter), "the emulator's own mounts changed")
}

// TestSandboxWithoutOverlayIsReadOnly: where overlayfs is refused, the
// system directories are read-only bind mounts; /mnt/data stays writable.
func TestSandboxWithoutOverlayIsReadOnly(t *testing.T) {
	needSandboxes(t)
	t.Parallel()
	s := setup(t, &Options{Isolation: IsolationRequired, sandboxFault: "overlayfs in a user namespace"})
	require.True(t, s.IsolationStatus().Sandboxed)
	c := newRaw(t, s)
	sid := newSID()
	name := "/usr/local/sessionstest-ro-" + randomHex(4)
	t.Cleanup(func() { _ = os.Remove(name) })
	m := c.sh(sid, "touch "+name+"; echo rc=$?; touch /mnt/data/ok && echo data-ok")
	assert.Contains(t, stderr(m), "Read-only file system")
	assert.Contains(t, stdout(m), "rc=1")
	assert.Contains(t, stdout(m), "data-ok")
	assert.NoFileExists(t, name)
}

// TestSandboxSessionDirIsOpenedBeforeCommandsRun: a command that swaps
// /mnt/data for a symbolic link to the host's root cannot lead the files
// API out of the session.
func TestSandboxSessionDirIsOpenedBeforeCommandsRun(t *testing.T) {
	needSandboxes(t)
	t.Parallel()
	s := setup(t, &Options{Isolation: IsolationRequired})
	c := newRaw(t, s)
	sid := newSID()
	victim := filepath.Join(t.TempDir(), "victim")
	require.NoError(t, os.WriteFile(victim, []byte("host"), 0o644))
	c.sh(sid, "cd / && mv /mnt/data /mnt/old && ln -s "+filepath.Dir(victim)+" /mnt/data")
	c.do(http.MethodDelete, "/files/victim", sid, nil, nil, nil)
	assert.FileExists(t, victim, "the files API followed a session's symbolic link onto the host")
	r := c.do(http.MethodGet, "/files/victim/content", sid, nil, nil, nil)
	assert.NotEqual(t, "host", string(r.body))
}

// TestSandboxOutlivesTheThreadThatAskedForIt: the parent-death signal
// follows the forking thread, so a sandbox asked for from a goroutine that
// ends locked to its thread (which then exits) must live on.
func TestSandboxOutlivesTheThreadThatAskedForIt(t *testing.T) {
	needSandboxes(t)
	t.Parallel()
	type result struct {
		sb  *sandbox
		err error
		tid int
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
		sb, err := startSandbox(sandboxConfig{Egress: true, Bytes: 1 << 20})
		ch <- result{sb, err, syscall.Gettid()}
	}()
	r := <-ch
	require.NoError(t, r.err)
	defer r.sb.kill()
	require.True(t, eventually(2*time.Minute, func() bool {
		_, err := os.Stat("/proc/self/task/" + strconv.Itoa(r.tid))
		return err != nil
	}), "the locked thread did not exit")
	out, err := os.CreateTemp(t.TempDir(), "out")
	require.NoError(t, err)
	defer out.Close()
	code, notStarted, err := r.sb.run(nil, []string{"true"}, sandboxEnv, nil, out, out)
	require.NoError(t, err, "the sandbox died with the thread that started it")
	assert.Empty(t, notStarted)
	assert.Equal(t, 0, code)
}
