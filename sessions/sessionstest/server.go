package sessionstest

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/shellpool/shellpool/internal/armemu"
)

// Server is a running emulator. Its methods are safe for concurrent use.
type Server struct {
	opts     Options
	key      []byte
	tenantID string
	prinID   string

	ln      net.Listener
	hs      *http.Server
	baseURL string
	port    string
	certPEM []byte
	client  *http.Client

	root    string // removed by Close
	streams string // the commands' output files, under root
	mark    string // prefix of the markEnv value of this server's processes

	quirkMu sync.Mutex
	quirks  *mrand.Rand // seeded by Options.Behavior.Seed

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // executions, session removals and the janitor

	closeOnce sync.Once

	engine   *armemu.Engine // ARM: every pool's settings and the role assignments
	idServer *http.Server   // managed identity endpoint, when started
	idURL    string

	mu      sync.Mutex
	closed  bool
	pools   map[uint64]*poolState // live sessions, by armemu.PoolSpec.Serial
	gone    map[uint64]bool       // serials of pools deleted (see served)
	faults  []*Fault
	reqs    []RecordedRequest
	running int // processes (or scripted calls) running now
	bashVer string
	iso     IsolationStatus
	spares  spares // ready sandboxes (spares.go)

	ctl poolControls // SetPoolControl (poolcontrol.go)
}

// ErrNoBash is the error (wrapped, test it with errors.Is) of Start when no
// bash can be found to run commands with, and Options.Scripted is not set.
// Its message says what to install.
var ErrNoBash = errors.New("sessionstest: bash not found, so the emulator cannot run commands")

// NewServer starts a Server, like httptest.NewServer. If it cannot start, and
// Options.TB is set, it skips the test when bash is missing (ErrNoBash: a
// machine without bash cannot run commands) and fails it otherwise; without
// Options.TB it panics. Use Start for an error instead.
func NewServer(o *Options) *Server {
	s, err := Start(o)
	if err != nil {
		if o != nil && o.TB != nil {
			o.TB.Helper()
			if errors.Is(err, ErrNoBash) {
				o.TB.Skip(err.Error())
				return nil
			}
			o.TB.Fatalf("sessionstest: %v", err)
		}
		panic("sessionstest: " + err.Error())
	}
	return s
}

// bashCheck is checkBash; tests replace it to play a machine without bash.
var bashCheck = checkBash

// checkBash returns an ErrNoBash error when bash cannot be found.
func checkBash() error {
	if _, err := lookPath("bash"); err != nil {
		return fmt.Errorf("%w: %s; set Options.Scripted to answer executions without processes", ErrNoBash, bashHint)
	}
	return nil
}

// Start starts a Server on loopback over TLS with a freshly generated
// self-signed certificate (valid for 127.0.0.1, ::1, localhost and
// *.localhost). Call Close when done.
func Start(o *Options) (*Server, error) {
	var opts Options
	if o != nil {
		opts = *o
	}
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.SubscriptionID == "" {
		opts.SubscriptionID = DefaultSubscriptionID
	}
	if opts.ResourceGroup == "" {
		opts.ResourceGroup = DefaultResourceGroup
	}
	if opts.Location == "" {
		opts.Location = DefaultLocation
	}
	if opts.TenantID == "" {
		opts.TenantID = DefaultTenantID
	}
	if opts.CapacityStatus == 0 {
		opts.CapacityStatus = http.StatusNotFound
	}
	if opts.PageSize <= 0 {
		opts.PageSize = DefaultPageSize
	}
	if opts.MaxUploadBytes <= 0 {
		opts.MaxUploadBytes = DefaultMaxUploadBytes
	}
	if opts.MaxRecordedRequests == 0 {
		opts.MaxRecordedRequests = DefaultMaxRecordedRequests
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Scripted == nil {
		if err := bashCheck(); err != nil {
			return nil, err
		}
	}
	pools := opts.Pools
	if len(pools) == 0 {
		pools = []Pool{{Name: DefaultPoolName, EgressEnabled: true}}
	}
	opts.Pools = nil

	s := &Server{
		opts:     opts,
		key:      make([]byte, 32),
		tenantID: opts.TenantID,
		prinID:   uuid.NewString(),
		pools:    map[uint64]*poolState{},
		gone:     map[uint64]bool{},
		quirks:   mrand.New(mrand.NewPCG(uint64(opts.Behavior.Seed), 0x5e55)),
	}
	if _, err := rand.Read(s.key); err != nil {
		return nil, fmt.Errorf("generate signing key: %w", err)
	}
	s.engine = s.newEngine()
	if s.opts.SandboxBytes <= 0 {
		s.opts.SandboxBytes = DefaultSandboxBytes
	}
	if err := s.resolveIsolation(); err != nil {
		return nil, err
	}

	parent := opts.Dir
	if parent != "" {
		if err := os.MkdirAll(parent, 0o700); err != nil {
			return nil, fmt.Errorf("create Options.Dir: %w", err)
		}
	} else {
		parent = os.TempDir()
	}
	// What emulators killed before their Close left: their unisolated
	// commands (Linux; a sandbox dies with its emulator) and their
	// directories.
	if !s.iso.Sandboxed {
		sweepMarked("")
	}
	removeStaleRoots(parent)
	s.mark = fmt.Sprintf("%d.%s.", os.Getpid(), randomHex(8))
	if s.iso.Sandboxed {
		// Sandboxed sessions keep their files in memory and their
		// commands' output in unlinked files: the server needs no
		// directory of its own.
		s.streams = parent
	} else if err := s.makeRoot(parent); err != nil {
		return nil, err
	}

	cert, certPEM, err := selfSignedCert()
	if err != nil {
		_ = os.RemoveAll(s.root)
		return nil, err
	}
	s.certPEM = certPEM
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		_ = os.RemoveAll(s.root)
		return nil, fmt.Errorf("listen on %s: %w", opts.Addr, err)
	}
	s.ln = ln
	addr := ln.Addr().(*net.TCPAddr)
	s.port = fmt.Sprint(addr.Port)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	s.baseURL = "https://" + net.JoinHostPort(host, s.port)

	dialAddr := ln.Addr().String()
	if addr.IP.IsUnspecified() {
		dialAddr = net.JoinHostPort("127.0.0.1", s.port)
	}
	s.client = s.newClient(certPEM, dialAddr)

	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.hs = &http.Server{
		Handler:           http.HandlerFunc(s.serveHTTP),
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 30 * time.Second,
		// HTTP/1.1 only: fault injection hijacks connections.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
		ErrorLog:     nopLogger(),
		BaseContext:  func(net.Listener) context.Context { return s.ctx },
	}
	for _, p := range pools {
		if _, err := s.seedPool(p); err != nil {
			_ = ln.Close()
			_ = os.RemoveAll(s.root)
			return nil, err
		}
	}
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		_ = s.hs.ServeTLS(ln, "", "")
	}()
	go func() {
		defer s.wg.Done()
		s.janitor()
	}()
	if opts.TB != nil {
		opts.TB.Cleanup(s.Close)
	}
	return s, nil
}

// makeRoot creates the server's directory in parent: the session
// directories, the commands' output files and the owner file.
func (s *Server) makeRoot(parent string) error {
	d, err := os.MkdirTemp(parent, "sessionstest-")
	if err != nil {
		return fmt.Errorf("create session root: %w", err)
	}
	s.root = d
	s.streams = filepath.Join(d, ".streams")
	if err := os.Mkdir(s.streams, 0o700); err != nil {
		_ = os.RemoveAll(s.root)
		return fmt.Errorf("create session root: %w", err)
	}
	if err := os.WriteFile(filepath.Join(d, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
		_ = os.RemoveAll(s.root)
		return fmt.Errorf("create session root: %w", err)
	}
	return nil
}

// ownerFile, in a server's root directory, holds the pid of the process
// that runs the server, so a later Start can remove the directories of
// emulators that were killed before Close.
const ownerFile = ".owner"

// removeStaleRoots removes the sessionstest-* directories in parent whose
// owner process is gone.
func removeStaleRoots(parent string) {
	entries, err := os.ReadDir(parent)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), "sessionstest-") {
			continue
		}
		dir := filepath.Join(parent, e.Name())
		b, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			continue // not ours, or still being created
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid == os.Getpid() || pidAlive(pid) {
			continue
		}
		_ = os.RemoveAll(dir)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x", b)
}

// Close stops the server, kills every process it started (whole process
// groups) and removes the session directories. It is safe to call more than
// once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		var all []*session
		for _, p := range s.pools {
			for _, ss := range p.sessions {
				all = append(all, ss)
			}
			p.sessions = map[string]*session{}
		}
		idServer := s.idServer
		s.mu.Unlock()
		s.cancel()
		_ = s.hs.Close()
		if idServer != nil {
			_ = idServer.Close()
		}
		s.closeSpares()
		for _, ss := range all {
			s.destroySession(ss)
		}
		s.wg.Wait()
		// Whatever a command started that left every process group and
		// outlived its session's sweep (Linux).
		if !s.iso.Sandboxed {
			sweepMarked(s.mark)
		}
		if tr, ok := s.client.Transport.(*http.Transport); ok {
			tr.CloseIdleConnections()
		}
		_ = os.RemoveAll(s.root)
	})
}

// URL returns the server's base URL, e.g. "https://127.0.0.1:38517".
func (s *Server) URL() string { return s.baseURL }

// PoolEndpoint returns the regional-form endpoint of the default pool (the
// first pool of Options.Pools): {URL}/subscriptions/{sub}/resourceGroups/{rg}/sessionPools/{pool}.
// Point a sessions.Client at it.
func (s *Server) PoolEndpoint() string {
	sp, ok := s.engine.FirstPool()
	if !ok {
		return s.PoolEndpointFor(DefaultPoolName)
	}
	return s.regionalEndpoint(sp)
}

// PoolEndpointFor returns the regional-form endpoint of the named pool in the
// server's subscription and resource group (the pool need not exist yet):
// what the emulator's ARM reports as the pool's
// properties.poolManagementEndpoint.
func (s *Server) PoolEndpointFor(name string) string {
	return s.baseURL + poolPath(s.opts.SubscriptionID, s.opts.ResourceGroup, name)
}

// PoolHostEndpoint returns the host-form endpoint of the named pool,
// https://{pool}.localhost:{port}, whose requests carry the operation as the
// whole path. Only Client() (or a client that resolves *.localhost to
// loopback) can reach it. It is not what ARM calls the pool's
// poolManagementEndpoint; PoolEndpointFor is.
func (s *Server) PoolHostEndpoint(name string) string {
	return "https://" + strings.ToLower(name) + ".localhost:" + s.port
}

func poolPath(sub, rg, name string) string {
	return "/subscriptions/" + url.PathEscape(sub) + "/resourceGroups/" + url.PathEscape(rg) + "/sessionPools/" + url.PathEscape(name)
}

// SubscriptionID returns the subscription of the server's default pools.
func (s *Server) SubscriptionID() string { return s.opts.SubscriptionID }

// ResourceGroup returns the resource group of the server's default pools.
func (s *Server) ResourceGroup() string { return s.opts.ResourceGroup }
