package sessionstest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// InjectFault makes the next f.Count requests matching f misbehave. Faults
// are matched in the order they were injected.
func (s *Server) InjectFault(f Fault) {
	if f.Count <= 0 {
		f.Count = 1
	}
	s.mu.Lock()
	s.faults = append(s.faults, &f)
	s.mu.Unlock()
}

// Fault makes the server misbehave on the next Count requests that match
// Method and Path.
type Fault struct {
	// Method matches the request method; empty matches any.
	Method string
	// Path matches the operation path (e.g. "/executions", "/files/a.txt")
	// exactly, or any request path ending with it; empty matches any.
	Path string
	// Count is the number of requests to affect; zero means 1.
	Count int
	// Status, when set, is answered instead of running the request, with
	// Body (default: an error body with code "InjectedFault").
	Status int
	// RetryAfter, when positive, adds a Retry-After header (whole seconds,
	// rounded up) and a retry-after-ms header (milliseconds, which azcore
	// prefers) to the Status answer.
	RetryAfter time.Duration
	// Body is the response body of a Status answer.
	Body string
	// Delay is waited before the request is handled (or answered with
	// Status).
	Delay time.Duration
	// Drop closes the connection without running the request.
	Drop bool
	// DropAfterRun runs the request (the command really runs) and then closes
	// the connection without answering.
	DropAfterRun bool
}

func (s *Server) takeFault(r *http.Request, rt route) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.Method != "" && !strings.EqualFold(f.Method, r.Method) {
			continue
		}
		if f.Path != "" && rt.op != f.Path && !strings.HasSuffix(r.URL.Path, f.Path) && !strings.HasSuffix(r.URL.EscapedPath(), f.Path) {
			continue
		}
		c := *f
		f.Count--
		if f.Count <= 0 {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
		}
		return &c
	}
	return nil
}

func writeFault(w http.ResponseWriter, f *Fault) {
	if f.RetryAfter > 0 {
		secs := int64((f.RetryAfter + time.Second - 1) / time.Second)
		ms := int64((f.RetryAfter + time.Millisecond - 1) / time.Millisecond)
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
		// azcore prefers the millisecond form, which keeps tests fast.
		w.Header().Set("retry-after-ms", strconv.FormatInt(ms, 10))
	}
	if f.Body != "" {
		if json.Valid([]byte(f.Body)) {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
		} else {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		}
		w.WriteHeader(f.Status)
		_, _ = io.WriteString(w, f.Body)
		return
	}
	if f.Status < 400 {
		w.WriteHeader(f.Status)
		return
	}
	writeError(w, f.Status, "InjectedFault", fmt.Sprintf("fault injected by sessionstest: HTTP %d %s", f.Status, http.StatusText(f.Status)))
}

func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // closes the connection without a response
	}
	_ = conn.Close()
}

// discardWriter swallows a response (DropAfterRun).
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header { return d.h }

func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }

func (d *discardWriter) WriteHeader(int) {}
