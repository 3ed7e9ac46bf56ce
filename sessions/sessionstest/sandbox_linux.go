//go:build linux

package sessionstest

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// A sandbox is one session's set of Linux namespaces (user, mount, PID,
// IPC, UTS and, without egress, network), held by an init process: this
// very program re-executed (/proc/self/exe) with sandboxInitEnv set, which
// the package's init function turns into the sandbox's PID 1 before main
// runs (so it works in any program that imports sessionstest, test binaries
// included). The init builds the session's file system view, then starts
// the session's commands on request, over a unix socket. When it dies (the
// session is deleted or expires, Close, or the emulator's process dies:
// Pdeathsig), the kernel kills every process of the PID namespace, however
// it detached, and the mounts vanish with the namespace.
type sandbox struct {
	cmd  *exec.Cmd
	conn *net.UnixConn
	pid  int // the init's pid, as the emulator sees it

	wmu sync.Mutex // serializes writes to conn

	mu      sync.Mutex
	next    uint64
	pending map[uint64]chan sbReply
	dead    bool

	waited chan struct{} // closed when the init has been reaped
}

// sandboxInitEnv marks the re-executed program as a sandbox's init; its
// value is the JSON sandboxConfig.
const sandboxInitEnv = "SESSIONSTEST_SANDBOX_INIT"

// sbRequest is a message from the emulator to an init.
type sbRequest struct {
	Op    string   `json:"op"` // "start" or "kill"
	ID    uint64   `json:"id"`
	Argv  []string `json:"argv,omitempty"`
	Env   []string `json:"env,omitempty"`
	Dir   string   `json:"dir,omitempty"`
	Stdin bool     `json:"stdin,omitempty"` // a third fd carries stdin
}

// sbReply is a message from an init to the emulator.
type sbReply struct {
	Op      string `json:"op"` // "ready", "error" (set-up) or "exit"
	ID      uint64 `json:"id,omitempty"`
	Status  uint32 `json:"status,omitempty"` // the wait status
	Err     string `json:"err,omitempty"`    // set-up or start failure
	Feature string `json:"feature,omitempty"`
}

// sandboxDirs are the host's system directories a sandbox sees, each as a
// copy-on-write overlay (writes stay in the session) or, where overlayfs is
// not allowed, a read-only bind mount. Symbolic links (merged /usr) are
// copied as links. The required ones must exist.
var sandboxDirs = []struct {
	name     string
	required bool
}{
	{"usr", true}, {"bin", true}, {"etc", true}, {"lib", false}, {"lib64", false},
	{"lib32", false}, {"libx32", false}, {"sbin", false}, {"opt", false}, {"var", false},
}

// sandboxDevices are the device nodes bound from the host's /dev.
var sandboxDevices = []string{"null", "zero", "full", "random", "urandom", "tty"}

// startSandbox starts a sandbox's init and waits until it is ready. On
// failure nothing is left behind: the init (if it started) is killed and
// reaped, and its mounts die with its mount namespace.
func startSandbox(cfg sandboxConfig) (*sandbox, error) {
	if cfg.Fault == "userns" {
		return nil, &IsolationError{Feature: "user namespaces", Err: errors.New("fault injected by a test")}
	}
	if _, err := os.Stat("/proc/self/exe"); err != nil {
		return nil, &IsolationError{Feature: "re-executing this program (/proc/self/exe)", Err: err}
	}
	cj, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("sessionstest: socketpair for a sandbox: %w", err)
	}
	parent := os.NewFile(uintptr(fds[0]), "sandbox")
	child := os.NewFile(uintptr(fds[1]), "sandbox-init")
	flags := syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS | syscall.CLONE_NEWPID | syscall.CLONE_NEWIPC | syscall.CLONE_NEWUTS
	if !cfg.Egress {
		flags |= syscall.CLONE_NEWNET
	}
	cmd := &exec.Cmd{
		Path: "/proc/self/exe",
		Args: []string{"sessionstest-sandbox"},
		// One P: the init mostly waits, and its threads must not compete
		// with the emulator's on a small machine.
		Env:        []string{sandboxInitEnv + "=" + string(cj), "GOMAXPROCS=1"},
		Dir:        "/",
		ExtraFiles: []*os.File{child},
		SysProcAttr: &syscall.SysProcAttr{
			Cloneflags:                 uintptr(flags),
			UidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
			GidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
			GidMappingsEnableSetgroups: false,
			Pdeathsig:                  syscall.SIGKILL,
		},
	}
	err = onSpawnerThread(cmd.Start)
	_ = child.Close()
	if err != nil {
		_ = parent.Close()
		feature := "user namespaces"
		if !cfg.Egress && errors.Is(err, syscall.EPERM) {
			feature = "user namespaces (with PID and network namespaces)"
		}
		return nil, &IsolationError{Feature: feature, Err: err}
	}
	sb := &sandbox{cmd: cmd, pid: cmd.Process.Pid, pending: map[uint64]chan sbReply{}, waited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(sb.waited)
	}()
	c, err := net.FileConn(parent)
	_ = parent.Close()
	if err != nil {
		sb.kill()
		return nil, fmt.Errorf("sessionstest: sandbox socket: %w", err)
	}
	sb.conn = c.(*net.UnixConn)
	// The set-up takes milliseconds; the bound only catches a wedged init.
	_ = sb.conn.SetReadDeadline(time.Now().Add(2 * time.Minute))
	var r sbReply
	err = readFrame(sb.conn, &r)
	_ = sb.conn.SetReadDeadline(time.Time{})
	switch {
	case err != nil:
		sb.kill()
		return nil, &IsolationError{Feature: "a sandbox init process", Err: fmt.Errorf("it ended before it was ready: %w", err)}
	case r.Op == "error":
		sb.kill()
		return nil, &IsolationError{Feature: r.Feature, Err: errors.New(r.Err)}
	case r.Op != "ready":
		sb.kill()
		return nil, fmt.Errorf("sessionstest: sandbox init answered %q", r.Op)
	}
	go sb.readLoop()
	return sb, nil
}

// spawner is a goroutine locked to its OS thread for good, which starts
// every sandbox init: the kernel sends an init its parent-death signal
// when the thread that forked it exits, and a thread of the Go runtime
// exits when a goroutine that locked it ends without unlocking (some
// libraries do so on purpose); this one never does.
var spawner struct {
	once sync.Once
	reqs chan func()
}

// onSpawnerThread runs f on the spawner's thread and returns its error.
func onSpawnerThread(f func() error) error {
	spawner.once.Do(func() {
		spawner.reqs = make(chan func())
		go func() {
			runtime.LockOSThread() // never unlocked: the thread lives as long as the process
			for g := range spawner.reqs {
				g()
			}
		}()
	})
	errc := make(chan error, 1)
	spawner.reqs <- func() { errc <- f() }
	return <-errc
}

// kill ends the sandbox (the kernel then kills every process in it) and
// waits until its init is reaped.
func (sb *sandbox) kill() {
	_ = sb.cmd.Process.Kill()
	<-sb.waited
	if sb.conn != nil {
		_ = sb.conn.Close()
	}
}

// alive reports whether the sandbox's init still serves.
func (sb *sandbox) alive() bool {
	select {
	case <-sb.waited:
		return false
	default:
	}
	sb.mu.Lock()
	defer sb.mu.Unlock()
	return !sb.dead
}

// dataDir is /mnt/data of the sandbox as the emulator reaches it.
func (sb *sandbox) dataDir() string {
	return "/proc/" + strconv.Itoa(sb.pid) + "/root" + sandboxDataDir
}

// processCount returns how many processes run in the sandbox, its init
// aside.
func (sb *sandbox) processCount() int {
	entries, err := os.ReadDir("/proc/" + strconv.Itoa(sb.pid) + "/root/proc")
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err == nil && e.Name() != "1" {
			n++
		}
	}
	return n
}

// readLoop hands the init's answers to the executions waiting for them;
// when the init is gone it fails them all.
func (sb *sandbox) readLoop() {
	for {
		var r sbReply
		if err := readFrame(sb.conn, &r); err != nil {
			sb.mu.Lock()
			sb.dead = true
			for id, ch := range sb.pending {
				close(ch)
				delete(sb.pending, id)
			}
			sb.mu.Unlock()
			return
		}
		sb.mu.Lock()
		ch := sb.pending[r.ID]
		delete(sb.pending, r.ID)
		sb.mu.Unlock()
		if ch != nil {
			ch <- r
		}
	}
}

// errSandboxGone is the error of run when the sandbox ended first.
var errSandboxGone = errors.New("the session's sandbox ended")

// run starts argv in the sandbox with the given streams (stdin may be nil)
// and waits for it; when cancel is closed first, it kills the command's
// process group and waits for the command to end. It returns the exit
// status (128+signal for a command killed by a signal), or a start failure
// (notStarted), or errSandboxGone.
func (sb *sandbox) run(cancel <-chan struct{}, argv, env []string, stdin, stdout, stderr *os.File) (code int, notStarted string, err error) {
	ch := make(chan sbReply, 1)
	sb.mu.Lock()
	if sb.dead {
		sb.mu.Unlock()
		return -1, "", errSandboxGone
	}
	sb.next++
	id := sb.next
	sb.pending[id] = ch
	sb.mu.Unlock()

	files := []*os.File{stdout, stderr}
	if stdin != nil {
		files = append(files, stdin)
	}
	req := sbRequest{Op: "start", ID: id, Argv: argv, Env: env, Dir: sandboxDataDir, Stdin: stdin != nil}
	if err := sb.send(req, files...); err != nil {
		sb.mu.Lock()
		delete(sb.pending, id)
		sb.mu.Unlock()
		return -1, "", errSandboxGone
	}
	var r sbReply
	var ok bool
	select {
	case r, ok = <-ch:
	case <-cancel:
		_ = sb.send(sbRequest{Op: "kill", ID: id})
		r, ok = <-ch
	}
	if !ok {
		return -1, "", errSandboxGone
	}
	if r.Err != "" {
		return -1, r.Err, nil
	}
	ws := syscall.WaitStatus(r.Status)
	if ws.Signaled() {
		return 128 + int(ws.Signal()), "", nil
	}
	return ws.ExitStatus(), "", nil
}

// send writes one request, passing files along with it.
func (sb *sandbox) send(req sbRequest, files ...*os.File) error {
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	sb.wmu.Lock()
	defer sb.wmu.Unlock()
	return writeFrame(sb.conn, body, files...)
}

// Frames are a 4-byte big-endian length and a JSON body; the file
// descriptors of a frame travel with its length.
func writeFrame(c *net.UnixConn, body []byte, files ...*os.File) error {
	msg := make([]byte, 4, 4+len(body))
	binary.BigEndian.PutUint32(msg, uint32(len(body)))
	msg = append(msg, body...)
	var oob []byte
	if len(files) > 0 {
		fds := make([]int, len(files))
		for i, f := range files {
			fds[i] = int(f.Fd())
		}
		oob = syscall.UnixRights(fds...)
	}
	n, _, err := c.WriteMsgUnix(msg, oob, nil)
	runtime.KeepAlive(files) // their descriptors must stay open until sent
	if err == nil && n < len(msg) {
		_, err = c.Write(msg[n:])
	}
	return err
}

// readFrame reads one frame into v and returns the descriptors it carried.
func readFrameFDs(c *net.UnixConn, v any) ([]int, error) {
	hdr := make([]byte, 4)
	oob := make([]byte, syscall.CmsgSpace(4*4))
	n, oobn, _, _, err := c.ReadMsgUnix(hdr, oob)
	if err != nil {
		return nil, err
	}
	var fds []int
	if oobn > 0 {
		msgs, err := syscall.ParseSocketControlMessage(oob[:oobn])
		if err == nil {
			for _, m := range msgs {
				if got, err := syscall.ParseUnixRights(&m); err == nil {
					fds = append(fds, got...)
				}
			}
		}
		for _, fd := range fds {
			syscall.CloseOnExec(fd)
		}
	}
	closeAll := func() {
		for _, fd := range fds {
			_ = syscall.Close(fd)
		}
	}
	if n == 0 {
		closeAll()
		return nil, io.EOF
	}
	if _, err := io.ReadFull(c, hdr[n:]); err != nil {
		closeAll()
		return nil, err
	}
	size := binary.BigEndian.Uint32(hdr)
	if size > 64<<20 {
		closeAll()
		return nil, fmt.Errorf("sandbox frame of %d bytes", size)
	}
	body := make([]byte, size)
	if _, err := io.ReadFull(c, body); err != nil {
		closeAll()
		return nil, err
	}
	if err := json.Unmarshal(body, v); err != nil {
		closeAll()
		return nil, err
	}
	return fds, nil
}

// readFrame reads a frame that carries no descriptors.
func readFrame(c *net.UnixConn, v any) error {
	fds, err := readFrameFDs(c, v)
	for _, fd := range fds {
		_ = syscall.Close(fd)
	}
	return err
}

// probeCache holds the result of the first sandbox probe of this process.
var probeCache struct {
	once sync.Once
	err  error
}

// probeSandbox reports whether sandboxes work here, by starting one (with
// every namespace, network included) and ending it. The result is kept
// for the process; a probe with a fault injected is never kept.
func probeSandbox(fault string) error {
	probe := func() error {
		sb, err := startSandbox(sandboxConfig{Bytes: 1 << 20, Home: os.Getenv("HOME"), Fault: fault})
		if err != nil {
			return err
		}
		sb.kill()
		return nil
	}
	if fault != "" {
		return probe()
	}
	probeCache.once.Do(func() { probeCache.err = probe() })
	return probeCache.err
}

// init turns this process into a sandbox's init when the emulator started
// it as one (sandboxInitEnv); it never returns then.
func init() {
	cj, ok := os.LookupEnv(sandboxInitEnv)
	if !ok {
		return
	}
	os.Exit(sandboxInit(cj))
}

// sandboxInit is the init's life: set up, report, serve until the emulator
// hangs up. It returns the exit status.
func sandboxInit(cj string) int {
	f := os.NewFile(3, "sandbox-init")
	c, err := net.FileConn(f)
	_ = f.Close()
	if err != nil {
		return 2
	}
	conn := c.(*net.UnixConn)
	var cfg sandboxConfig
	feature, err := "the sandbox configuration", json.Unmarshal([]byte(cj), &cfg)
	if err == nil {
		feature, err = setupSandbox(cfg)
	}
	if err != nil {
		b, _ := json.Marshal(sbReply{Op: "error", Feature: feature, Err: err.Error()})
		_ = writeFrame(conn, b)
		return 1
	}
	b, _ := json.Marshal(sbReply{Op: "ready"})
	if writeFrame(conn, b) != nil {
		return 1
	}
	serveSandbox(conn)
	return 0
}

// setupSandbox builds the file system view and the network; on failure it
// returns the feature that is missing. Nothing it did outlives the init.
func setupSandbox(cfg sandboxConfig) (string, error) {
	fault := func(step string) error {
		if cfg.Fault == step {
			return errors.New("fault injected by a test")
		}
		return nil
	}
	mount := func(feature, src, target, fstype string, flags uintptr, data string) (string, error) {
		if err := fault(feature); err != nil {
			return feature, err
		}
		if err := syscall.Mount(src, target, fstype, flags, data); err != nil {
			return feature, fmt.Errorf("mount %s on %s: %w", fstype, target, err)
		}
		return "", nil
	}
	if f, err := mount("a private mount namespace", "", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		return f, err
	}
	// The new root: one tmpfs that holds every writable part of the
	// session, so that its size bounds them all. It is mounted over /tmp
	// in this mount namespace only.
	nr := "/tmp"
	if f, err := mount("tmpfs mounts in a user namespace", "sessionstest", nr, "tmpfs",
		syscall.MS_NOSUID|syscall.MS_NODEV, "mode=755,size="+strconv.FormatInt(max(cfg.Bytes, 1<<20), 10)); err != nil {
		return f, err
	}
	for _, d := range []struct {
		p    string
		mode os.FileMode
	}{
		{"mnt/data", 0o755}, {"tmp", 0o1777}, {"root", 0o700}, {"home", 0o755}, {"dev/shm", 0o1777},
		{"dev/pts", 0o755}, {"proc", 0o555}, {"run", 0o755}, {".sessionstest/upper", 0o755}, {".sessionstest/work", 0o755},
	} {
		p := filepath.Join(nr, d.p)
		if err := os.MkdirAll(p, 0o755); err != nil {
			return "a writable tmpfs", err
		}
		if err := os.Chmod(p, d.mode); err != nil {
			return "a writable tmpfs", err
		}
	}
	for _, d := range sandboxDirs {
		host := "/" + d.name
		fi, err := os.Lstat(host)
		if err == nil {
			err = fault("system directory " + host)
		}
		if err != nil {
			if d.required {
				return "system directory " + host, err
			}
			continue
		}
		target := filepath.Join(nr, d.name)
		if fi.Mode()&os.ModeSymlink != 0 {
			link, err := os.Readlink(host)
			if err != nil {
				return "system directory " + host, err
			}
			if err := os.Symlink(link, target); err != nil {
				return "a writable tmpfs", err
			}
			continue
		}
		if !fi.IsDir() {
			continue
		}
		if err := os.Mkdir(target, 0o755); err != nil {
			return "a writable tmpfs", err
		}
		up := filepath.Join(nr, ".sessionstest/upper", d.name)
		wk := filepath.Join(nr, ".sessionstest/work", d.name)
		if err := os.Mkdir(up, 0o755); err != nil {
			return "a writable tmpfs", err
		}
		if err := os.Mkdir(wk, 0o755); err != nil {
			return "a writable tmpfs", err
		}
		opts := "lowerdir=" + host + ",upperdir=" + up + ",workdir=" + wk
		_, err = mount("overlayfs in a user namespace", "overlay", target, "overlay", 0, opts)
		if err != nil {
			// Read-only instead: bind, then remount read-only keeping the
			// flags the kernel locks.
			f, berr := mount("bind mounts in a user namespace", host, target, "", syscall.MS_BIND|syscall.MS_REC, "")
			if berr != nil {
				return f, fmt.Errorf("%v; and %v", err, berr)
			}
			if f, rerr := remountReadOnly(target); rerr != nil {
				return f, rerr
			}
		}
	}
	// Container runtimes bind these files into /etc; the overlay shows
	// the image's copies, so copy the host's (the session may change them).
	for _, name := range []string{"/etc/resolv.conf", "/etc/hosts", "/etc/hostname"} {
		if b, err := os.ReadFile(name); err == nil {
			_ = os.WriteFile(filepath.Join(nr, name), b, 0o644)
		}
	}
	// The emulator user's home, where a system directory holds it.
	if h := filepath.Clean(cfg.Home); cfg.Home != "" && h != "/" {
		if fi, err := os.Stat(filepath.Join(nr, h)); err == nil && fi.IsDir() {
			if f, err := mount("tmpfs mounts in a user namespace", "sessionstest", filepath.Join(nr, h), "tmpfs",
				syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_RDONLY, "size=4k,mode=755"); err != nil {
				return f, err
			}
		}
	}
	for _, name := range sandboxDevices {
		target := filepath.Join(nr, "dev", name)
		if err := os.WriteFile(target, nil, 0o644); err != nil {
			return "a writable tmpfs", err
		}
		if f, err := mount("bind-mounting /dev/"+name, "/dev/"+name, target, "", syscall.MS_BIND, ""); err != nil {
			if name == "tty" {
				_ = os.Remove(target)
				continue
			}
			return f, err
		}
	}
	// Terminals of the session's own (a bash idiom waits on /dev/ptmx).
	if _, err := mount("devpts in a user namespace", "devpts", filepath.Join(nr, "dev/pts"), "devpts",
		syscall.MS_NOSUID|syscall.MS_NOEXEC, "newinstance,ptmxmode=0666,mode=620"); err == nil {
		if err := os.Symlink("pts/ptmx", filepath.Join(nr, "dev/ptmx")); err != nil {
			return "a writable tmpfs", err
		}
	}
	for name, link := range map[string]string{"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2"} {
		if err := os.Symlink(link, filepath.Join(nr, "dev", name)); err != nil {
			return "a writable tmpfs", err
		}
	}
	if f, err := mount("mounting /proc in a PID namespace", "proc", filepath.Join(nr, "proc"), "proc",
		syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC, ""); err != nil {
		return f, err
	}
	// The overlays' upper layers stay out of sight.
	if f, err := mount("tmpfs mounts in a user namespace", "sessionstest", filepath.Join(nr, ".sessionstest"), "tmpfs",
		syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_RDONLY, "size=4k,mode=755"); err != nil {
		return f, err
	}
	if !cfg.Egress {
		if err := fault("a network namespace with loopback"); err != nil {
			return "a network namespace with loopback", err
		}
		if err := loopbackUp(); err != nil {
			return "a network namespace with loopback", err
		}
	}
	_ = syscall.Sethostname([]byte("sessionstest"))
	if err := fault("pivot_root"); err != nil {
		return "pivot_root", err
	}
	old := filepath.Join(nr, ".oldroot")
	if err := os.Mkdir(old, 0o700); err != nil {
		return "a writable tmpfs", err
	}
	if err := syscall.PivotRoot(nr, old); err != nil {
		return "pivot_root", err
	}
	if err := syscall.Chdir("/"); err != nil {
		return "pivot_root", err
	}
	if err := syscall.Unmount("/.oldroot", syscall.MNT_DETACH); err != nil {
		return "unmounting the host's root in a sandbox", err
	}
	_ = os.Remove("/.oldroot")
	return "", nil
}

// remountReadOnly makes the bind mount at target read-only, keeping the
// flags the kernel locks for mounts copied into a user namespace.
func remountReadOnly(target string) (string, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(target, &st); err != nil {
		return "read-only bind mounts", err
	}
	flags := uintptr(syscall.MS_BIND | syscall.MS_REMOUNT | syscall.MS_RDONLY)
	for _, f := range []uintptr{syscall.MS_NOSUID, syscall.MS_NODEV, syscall.MS_NOEXEC, syscall.MS_NOATIME, syscall.MS_NODIRATIME, syscall.MS_RELATIME} {
		if uintptr(st.Flags)&f != 0 {
			flags |= f
		}
	}
	if err := syscall.Mount("", target, "", flags, ""); err != nil {
		return "read-only bind mounts", fmt.Errorf("remount %s read-only: %w", target, err)
	}
	return "", nil
}

// loopbackUp brings up lo, the only interface of a new network namespace.
func loopbackUp() error {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	var ifr ifreqFlags
	copy(ifr.name[:], "lo")
	if err := ioctlIfreq(fd, syscall.SIOCGIFFLAGS, &ifr); err != nil {
		return fmt.Errorf("read the flags of lo: %w", err)
	}
	ifr.flags |= syscall.IFF_UP | syscall.IFF_RUNNING
	if err := ioctlIfreq(fd, syscall.SIOCSIFFLAGS, &ifr); err != nil {
		return fmt.Errorf("bring lo up: %w", err)
	}
	return nil
}

// serveSandbox starts the emulator's commands and reports their ends
// until the emulator hangs up. As PID 1 it also reaps every orphan.
func serveSandbox(conn *net.UnixConn) {
	var (
		wmu    sync.Mutex
		mu     sync.Mutex
		byPID  = map[int]uint64{}
		byID   = map[uint64]int{}
		kicked = make(chan struct{}, 1)
	)
	reply := func(r sbReply) {
		b, _ := json.Marshal(r)
		wmu.Lock()
		defer wmu.Unlock()
		_ = writeFrame(conn, b)
	}
	go func() {
		for {
			var ws syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &ws, 0, nil)
			if errors.Is(err, syscall.ECHILD) {
				<-kicked
				continue
			}
			if err != nil {
				continue
			}
			mu.Lock()
			id, ok := byPID[pid]
			delete(byPID, pid)
			delete(byID, id)
			mu.Unlock()
			if ok {
				reply(sbReply{Op: "exit", ID: id, Status: uint32(ws)})
			}
		}
	}()
	devNull, err := syscall.Open("/dev/null", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		devNull = -1
	}
	for {
		var req sbRequest
		fds, err := readFrameFDs(conn, &req)
		if err != nil {
			return // the emulator hung up: the sandbox ends with this process
		}
		switch req.Op {
		case "kill":
			mu.Lock()
			if pid, ok := byID[req.ID]; ok {
				_ = syscall.Kill(-pid, syscall.SIGKILL)
			}
			mu.Unlock()
		case "start":
			if len(fds) < 2 || (req.Stdin && len(fds) < 3) || len(req.Argv) == 0 {
				reply(sbReply{Op: "exit", ID: req.ID, Err: "bad start request"})
				break
			}
			in := devNull
			if req.Stdin {
				in = fds[2]
			}
			path, err := lookPath(req.Argv[0])
			if err != nil {
				reply(sbReply{Op: "exit", ID: req.ID, Err: fmt.Sprintf("cannot start %q: %v (PATH is %s)", req.Argv[0], err, sessionPATH)})
				break
			}
			mu.Lock()
			pid, err := syscall.ForkExec(path, req.Argv, &syscall.ProcAttr{
				Dir:   req.Dir,
				Env:   req.Env,
				Files: []uintptr{uintptr(in), uintptr(fds[0]), uintptr(fds[1])},
				Sys:   &syscall.SysProcAttr{Setpgid: true},
			})
			if err == nil {
				byPID[pid] = req.ID
				byID[req.ID] = pid
			}
			mu.Unlock()
			if err != nil {
				reply(sbReply{Op: "exit", ID: req.ID, Err: fmt.Sprintf("cannot start %q: %v", req.Argv[0], err)})
			} else {
				select {
				case kicked <- struct{}{}:
				default:
				}
			}
		}
		for _, fd := range fds {
			_ = syscall.Close(fd)
		}
	}
}

// sandboxHostPID returns the pid, as this process sees it, of the process
// that has pid inner in the sandbox whose init is initPID, or 0.
func sandboxHostPID(initPID, inner int) int {
	ns, err := os.Readlink("/proc/" + strconv.Itoa(initPID) + "/ns/pid")
	if err != nil {
		return 0
	}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if l, err := os.Readlink("/proc/" + e.Name() + "/ns/pid"); err != nil || l != ns {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/status")
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "NSpid:"); ok {
				f := strings.Fields(rest)
				if len(f) > 0 && f[len(f)-1] == strconv.Itoa(inner) {
					return pid
				}
			}
		}
	}
	return 0
}

// ifreqFlags is struct ifreq with the ifr_flags member of its union.
type ifreqFlags struct {
	name  [16]byte
	flags uint16
	_     [22]byte
}

func ioctlIfreq(fd int, req uintptr, ifr *ifreqFlags) error {
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), req, uintptr(unsafe.Pointer(ifr))); e != 0 {
		return e
	}
	return nil
}

// hostPID returns the pid, as the emulator sees it, of the sandbox's
// process with pid inner (as the session sees it), or 0.
func (sb *sandbox) hostPID(inner int) int { return sandboxHostPID(sb.pid, inner) }
