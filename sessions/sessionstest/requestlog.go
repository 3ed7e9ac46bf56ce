package sessionstest

import (
	"bufio"
	"net"
	"net/http"
	"strings"
	"time"
)

// LoggedRequest is one request the server answered, as Options.RequestLog
// receives it. It holds nothing secret: no query string (where the session
// identifier travels), no headers, no body, and a path with identifiers
// replaced.
type LoggedRequest struct {
	// Method is the HTTP method.
	Method string
	// Path is the URL path with every identifier replaced: a GUID or long
	// hex segment by {id}, the segment after executions, operationStatuses
	// or operationResults by {id}, and a file name after files by {name}.
	// Resource group and pool names stay, so the path still says which pool
	// a request went to.
	Path string
	// Status is the HTTP status answered; 0 when the connection was dropped
	// without an answer (a fault injected with Server.InjectFault).
	Status int
	// Duration is how long the server took to answer.
	Duration time.Duration
}

// logRequests wraps a request's handling so that Options.RequestLog gets
// its LoggedRequest once it is answered.
func (s *Server) logRequests(w http.ResponseWriter, r *http.Request, serve func(http.ResponseWriter)) {
	if s.opts.RequestLog == nil {
		serve(w)
		return
	}
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	serve(sw)
	s.opts.RequestLog(LoggedRequest{Method: r.Method, Path: redactPath(r.URL.Path), Status: sw.status, Duration: time.Since(start)})
}

// redactPath replaces the identifiers in an URL path (see LoggedRequest.Path).
func redactPath(p string) string {
	segs := strings.Split(p, "/")
	for i, seg := range segs {
		prev := ""
		if i > 0 {
			prev = strings.ToLower(segs[i-1])
		}
		switch {
		case seg == "":
		case prev == "executions" || prev == "operationstatuses" || prev == "operationresults":
			segs[i] = "{id}"
		case prev == "files" && !strings.EqualFold(seg, "content"):
			segs[i] = "{name}"
		case looksLikeID(seg):
			segs[i] = "{id}"
		}
	}
	return strings.Join(segs, "/")
}

// looksLikeID reports whether a path segment is a GUID or 16 or more hex
// digits (with or without hyphens).
func looksLikeID(seg string) bool {
	hex := 0
	for _, r := range seg {
		switch {
		case r >= '0' && r <= '9', r >= 'a' && r <= 'f', r >= 'A' && r <= 'F':
			hex++
		case r == '-':
		default:
			return false
		}
	}
	return hex >= 16
}

// statusWriter records the status a handler answers with.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (sw *statusWriter) WriteHeader(status int) {
	if sw.status == 0 {
		sw.status = status
	}
	sw.ResponseWriter.WriteHeader(status)
}

func (sw *statusWriter) Write(b []byte) (int, error) {
	if sw.status == 0 {
		sw.status = http.StatusOK
	}
	return sw.ResponseWriter.Write(b)
}

// Flush forwards to the underlying writer.
func (sw *statusWriter) Flush() { _ = http.NewResponseController(sw.ResponseWriter).Flush() }

// Hijack forwards to the underlying writer.
func (sw *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(sw.ResponseWriter).Hijack()
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (sw *statusWriter) Unwrap() http.ResponseWriter { return sw.ResponseWriter }
