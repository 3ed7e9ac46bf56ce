package sessionstest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Dialect names the request body forms of POST /executions a pool accepts
// (docs/API.md §1.5.2), for PoolControl.Dialect. sessions.Dialect names the
// form a client sends: DialectSpec and DialectTutorial here accept only
// sessions.DialectSpec and sessions.DialectTutorial respectively.
type Dialect string

const (
	// DialectAny accepts every body form. It is the default.
	DialectAny Dialect = ""
	// DialectSpec accepts only the specification's shell body
	// (shellCommand or execCommandAndArgs, timeoutInSeconds, stdin,
	// outputStreamsMaxLength) and answers 400 naming codeInputType,
	// executionType or command when a body carries them, as some live pools
	// are reported to do (LC-445).
	DialectSpec Dialect = "spec"
	// DialectTutorial accepts only the tutorial's body (codeInputType,
	// executionType and a command array) and answers 400 naming the fields
	// that are missing or not accepted.
	DialectTutorial Dialect = "tutorial"
)

// PoolControl changes, while the server runs, how one pool answers: for
// tests of clients that spread work over several pools and must cope with a
// pool that is full, gone or different. The zero value is a pool that
// behaves as configured by Options and Pool.
type PoolControl struct {
	// Unreachable makes the pool unreachable: connections to its host-form
	// endpoint (PoolHostEndpoint, dialled through Client) are refused
	// before anything is sent, as for a host that is down, and idle
	// connections are closed. A request that still reaches the pool (the
	// regional path form, which shares the server's address, or a request
	// already under way) is answered when it was already running, with
	// "Connection: close", and otherwise has its connection closed without
	// an answer and without being run.
	Unreachable bool

	// RefuseStatus, when non-zero, answers every data-plane request to the
	// pool with this status (503 for a pool that is overloaded or being
	// updated, for example) before running anything, with an error code
	// derived from the status text.
	RefuseStatus int
	// RefuseRetryAfter, when positive, adds Retry-After (whole seconds,
	// rounded up) and retry-after-ms to the RefuseStatus answers.
	RefuseRetryAfter time.Duration

	// CapacityStatus, when non-zero, replaces Options.CapacityStatus for
	// this pool: the status (404 or 429) of the answer, with error code
	// MaxConcurrentSessionsReached, to a request for a new session when the
	// pool is full.
	CapacityStatus int
	// CapacityRetryAfter, when positive, adds Retry-After (whole seconds,
	// rounded up) and retry-after-ms to the pool's capacity answers. Whether
	// the live service sends one is not documented (API.md §1.8).
	CapacityRetryAfter time.Duration

	// APIVersions, when non-empty, are the only data-plane api-versions the
	// pool accepts; others get 400 InvalidApiVersionParameter listing them.
	APIVersions []string

	// Dialect restricts the execution body forms the pool accepts.
	Dialect Dialect
}

// poolControls holds the PoolControl of each pool that has one.
type poolControls struct {
	mu sync.Mutex
	m  map[poolKey]PoolControl
}

// SetPoolControl sets how the named pool of the server's subscription and
// resource group answers from now on (see PoolControl); the zero
// PoolControl restores its normal behaviour. It returns an error if there is
// no such pool, or if a status is not an HTTP error status.
func (s *Server) SetPoolControl(name string, c PoolControl) error {
	for _, st := range []int{c.RefuseStatus, c.CapacityStatus} {
		if st != 0 && (st < 400 || st > 599) {
			return fmt.Errorf("sessionstest: PoolControl status %d is not an HTTP error status (400-599)", st)
		}
	}
	switch c.Dialect {
	case DialectAny, DialectSpec, DialectTutorial:
	default:
		return fmt.Errorf("sessionstest: PoolControl.Dialect %q is unknown; use DialectAny, DialectSpec or DialectTutorial", c.Dialect)
	}
	k := keyOf(s.opts.SubscriptionID, s.opts.ResourceGroup, name)
	if _, ok := s.engine.Pool(s.opts.SubscriptionID, s.opts.ResourceGroup, name); !ok {
		return fmt.Errorf("sessionstest: SetPoolControl: there is no pool %q in resource group %s; add it with Options.Pools or AddPool", name, s.opts.ResourceGroup)
	}
	c.APIVersions = slices.Clone(c.APIVersions)
	s.ctl.mu.Lock()
	if s.ctl.m == nil {
		s.ctl.m = map[poolKey]PoolControl{}
	}
	s.ctl.m[k] = c
	s.ctl.mu.Unlock()
	if c.Unreachable {
		if tr, ok := s.client.Transport.(*http.Transport); ok {
			tr.CloseIdleConnections()
		}
	}
	return nil
}

// PoolControl returns the PoolControl last set for the named pool (the
// zero value when none was set).
func (s *Server) PoolControl(name string) PoolControl {
	s.ctl.mu.Lock()
	defer s.ctl.mu.Unlock()
	c := s.ctl.m[keyOf(s.opts.SubscriptionID, s.opts.ResourceGroup, name)]
	c.APIVersions = slices.Clone(c.APIVersions)
	return c
}

func (s *Server) controlOf(p *pool) (PoolControl, bool) {
	s.ctl.mu.Lock()
	defer s.ctl.mu.Unlock()
	c, ok := s.ctl.m[keyOf(p.spec.SubscriptionID, p.spec.ResourceGroup, p.spec.Name)]
	return c, ok
}

// hostUnreachable reports whether host (a *.localhost name) is the
// host-form endpoint of a pool made unreachable.
func (s *Server) hostUnreachable(host string) bool {
	label := strings.TrimSuffix(strings.ToLower(strings.TrimSuffix(host, ".")), ".localhost")
	if i := strings.LastIndex(label, "."); i >= 0 {
		label = label[i+1:]
	}
	s.ctl.mu.Lock()
	defer s.ctl.mu.Unlock()
	for k, c := range s.ctl.m {
		if c.Unreachable && k.name == label {
			return true
		}
	}
	return false
}

// refusedDial is the error a dial to an unreachable pool fails with: what
// a client sees when nothing listens on the host.
func refusedDial(network, address string) error {
	return &net.OpError{Op: "dial", Net: network, Addr: fakeAddr(address), Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
}

type fakeAddr string

func (a fakeAddr) Network() string { return "tcp" }
func (a fakeAddr) String() string  { return string(a) }

// controlPool applies the pool's PoolControl to a data-plane request. It
// returns the writer to answer with and whether the request was answered
// (or dropped) already. The writer is wrapped even when the pool has no
// control yet, since one set while the request runs must still close the
// connection of its answer.
func (s *Server) controlPool(w http.ResponseWriter, r *http.Request, p *pool) (http.ResponseWriter, bool) {
	c, _ := s.controlOf(p)
	if c.Unreachable {
		dropConnection(w)
		return w, true
	}
	if c.RefuseStatus != 0 {
		setRetryAfter(w, c.RefuseRetryAfter)
		text := http.StatusText(c.RefuseStatus)
		writeError(w, c.RefuseStatus, strings.ReplaceAll(text, " ", ""), fmt.Sprintf(
			"session pool %q refuses requests now (HTTP %d %s); try again later or use another pool", p.spec.Name, c.RefuseStatus, text))
		return w, true
	}
	if v := r.URL.Query().Get("api-version"); len(c.APIVersions) > 0 && v != "" && !slices.Contains(c.APIVersions, v) {
		writeError(w, http.StatusBadRequest, "InvalidApiVersionParameter",
			fmt.Sprintf("the api-version '%s' is invalid; the supported versions are '%s'", v, strings.Join(c.APIVersions, "', '")))
		return w, true
	}
	if c.Dialect != DialectAny && r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/executions") {
		if msg := bodyMismatch(r, c.Dialect); msg != "" {
			writeError(w, http.StatusBadRequest, "InvalidRequest", msg)
			return w, true
		}
	}
	return &controlledWriter{ResponseWriter: w, s: s, p: p}, false
}

// bodyMismatch says why an execution body is not the form the pool accepts,
// naming the fields, or returns "".
func bodyMismatch(r *http.Request, want Dialect) string {
	body, err := readAllBody(r)
	if err != nil {
		return ""
	}
	r.Body = readCloser{strings.NewReader(string(body))}
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) != nil {
		return "" // the handler reports malformed JSON
	}
	var bad []string
	switch want {
	case DialectSpec:
		for _, f := range []string{"codeInputType", "executionType", "command"} {
			if _, ok := fields[f]; ok {
				bad = append(bad, f)
			}
		}
		if len(bad) > 0 {
			return fmt.Sprintf("shell session pools do not accept the fields %s; send only shellCommand or execCommandAndArgs, timeoutInSeconds and stdin", strings.Join(bad, ", "))
		}
	case DialectTutorial:
		for _, f := range []string{"codeInputType", "executionType", "command"} {
			if _, ok := fields[f]; !ok {
				bad = append(bad, f)
			}
		}
		var extra []string
		for _, f := range []string{"shellCommand", "execCommandAndArgs"} {
			if _, ok := fields[f]; ok {
				extra = append(extra, f)
			}
		}
		if len(bad) > 0 || len(extra) > 0 {
			msg := "this pool needs the fields codeInputType, executionType and command (an array: executable and arguments)"
			if len(bad) > 0 {
				msg += "; missing: " + strings.Join(bad, ", ")
			}
			if len(extra) > 0 {
				msg += "; not accepted: " + strings.Join(extra, ", ")
			}
			return msg
		}
	}
	return ""
}

type readCloser struct{ *strings.Reader }

func (readCloser) Close() error { return nil }

// setRetryAfter adds Retry-After (whole seconds, rounded up) and
// retry-after-ms (which azcore prefers) when d is positive.

// capacityAnswer returns the status of the pool's capacity answers, after
// adding its Retry-After headers to w.
func (s *Server) capacityAnswer(w http.ResponseWriter, p *pool) int {
	c, _ := s.controlOf(p)
	if d := c.CapacityRetryAfter; d > 0 {
		setRetryAfter(w, d)
		w.Header().Set("retry-after-ms", strconv.FormatInt(int64((d+time.Millisecond-1)/time.Millisecond), 10))
	} else {
		setRetryAfter(w, s.capacityRetryAfter(p))
	}
	if c.CapacityStatus != 0 {
		return c.CapacityStatus
	}
	return s.opts.CapacityStatus
}

// controlledWriter closes the connection after an answer from a pool that
// became unreachable while the request ran, so that the client cannot
// reuse a connection to a host that is now down.
type controlledWriter struct {
	http.ResponseWriter
	s    *Server
	p    *pool
	done bool
}

func (cw *controlledWriter) WriteHeader(status int) {
	if !cw.done {
		cw.done = true
		if c, _ := cw.s.controlOf(cw.p); c.Unreachable {
			cw.Header().Set("Connection", "close")
		}
	}
	cw.ResponseWriter.WriteHeader(status)
}

func (cw *controlledWriter) Write(b []byte) (int, error) {
	if !cw.done {
		cw.WriteHeader(http.StatusOK)
	}
	return cw.ResponseWriter.Write(b)
}

// Flush forwards to the underlying writer.
func (cw *controlledWriter) Flush() {
	if f, ok := cw.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack forwards to the underlying writer.
func (cw *controlledWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(cw.ResponseWriter).Hijack()
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (cw *controlledWriter) Unwrap() http.ResponseWriter { return cw.ResponseWriter }
