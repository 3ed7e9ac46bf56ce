package sessionstest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/shellpool/shellpool/internal/azname"
	"github.com/shellpool/shellpool/internal/jwt"
)

const (
	maxRecordedBody = 64 << 10
	maxJSONBody     = 4 << 20
)

func nopLogger() *log.Logger { return log.New(io.Discard, "", 0) }

// route is where a request goes.
type route struct {
	dataPlane bool
	sub, rg   string // empty for the host form
	poolName  string
	prefix    string   // escaped path of the pool endpoint ("" for the host form)
	op        string   // operation path, escaped, e.g. "/files/a.txt/content"
	segs      []string // operation path segments, unescaped
	badPath   bool     // a segment did not unescape
}

func (s *Server) route(r *http.Request) route {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	escaped := r.URL.EscapedPath()
	if strings.HasSuffix(host, ".localhost") {
		label := strings.TrimSuffix(host, ".localhost")
		if i := strings.LastIndex(label, "."); i >= 0 {
			label = label[i+1:]
		}
		rt := route{dataPlane: true, poolName: label, op: escaped}
		rt.segs, rt.badPath = splitEscaped(escaped)
		return rt
	}
	parts := strings.Split(strings.Trim(escaped, "/"), "/")
	if len(parts) >= 6 && strings.EqualFold(parts[0], "subscriptions") &&
		strings.EqualFold(parts[2], "resourceGroups") && strings.EqualFold(parts[4], "sessionPools") {
		sub, e1 := url.PathUnescape(parts[1])
		rg, e2 := url.PathUnescape(parts[3])
		name, e3 := url.PathUnescape(parts[5])
		rt := route{dataPlane: true, sub: sub, rg: rg, poolName: name,
			prefix: "/" + strings.Join(parts[:6], "/")}
		rt.op = "/" + strings.Join(parts[6:], "/")
		rt.segs, rt.badPath = splitEscaped(rt.op)
		rt.badPath = rt.badPath || e1 != nil || e2 != nil || e3 != nil
		return rt
	}
	return route{op: escaped}
}

func splitEscaped(p string) ([]string, bool) {
	var segs []string
	for _, part := range strings.Split(strings.Trim(p, "/"), "/") {
		if part == "" {
			continue
		}
		u, err := url.PathUnescape(part)
		if err != nil {
			return nil, true
		}
		segs = append(segs, u)
	}
	return segs, false
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			writeError(w, http.StatusInternalServerError, "InternalServerError",
				fmt.Sprintf("the emulator failed while handling %s %s: %v", r.Method, r.URL.Path, v))
		}
	}()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		writeError(w, http.StatusServiceUnavailable, "ServiceUnavailable", "the emulator is shutting down")
		return
	}
	s.wg.Add(1) // Close waits for running handlers
	s.mu.Unlock()
	defer s.wg.Done()

	rt := s.route(r)
	isUpload := r.Method == http.MethodPost && len(rt.segs) == 1 && rt.segs[0] == "files" ||
		strings.HasPrefix(strings.ToLower(r.Header.Get("Content-Type")), "multipart/")
	var body []byte
	if !isUpload && r.Body != nil && r.Body != http.NoBody {
		b, err := io.ReadAll(io.LimitReader(r.Body, maxJSONBody+1))
		if err != nil {
			writeError(w, http.StatusBadRequest, "InvalidRequest", "reading the request body failed: "+err.Error())
			return
		}
		if len(b) > maxJSONBody {
			writeError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge",
				fmt.Sprintf("the request body is larger than %d bytes; upload large data with POST /files instead", maxJSONBody))
			return
		}
		body = b
		r.Body = io.NopCloser(bytes.NewReader(b))
	}
	s.record(r, body, isUpload)

	if f := s.takeFault(r, rt); f != nil {
		if f.Delay > 0 {
			t := time.NewTimer(f.Delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		switch {
		case f.Drop:
			dropConnection(w)
			return
		case f.Status != 0:
			writeFault(w, f)
			return
		case f.DropAfterRun:
			s.dispatch(&discardWriter{h: http.Header{}}, r, rt)
			dropConnection(w)
			return
		}
	}
	s.dispatch(w, r, rt)
}

func (s *Server) dispatch(w http.ResponseWriter, r *http.Request, rt route) {
	if !rt.dataPlane {
		s.serveARM(w, r)
		return
	}
	s.serveDataPlane(w, r, rt)
}

func (s *Server) record(r *http.Request, body []byte, isUpload bool) {
	h := r.Header.Clone()
	if h.Get("Authorization") != "" {
		h.Set("Authorization", "Bearer REDACTED")
	}
	if h.Get("x-ms-apikey") != "" {
		h.Set("x-ms-apikey", "REDACTED")
	}
	rec := RecordedRequest{Method: r.Method, Host: r.Host, Path: r.URL.Path, Query: r.URL.Query(), Header: h}
	if !isUpload && len(body) > 0 {
		rec.Body = append([]byte(nil), body[:min(len(body), maxRecordedBody)]...)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	limit := s.opts.MaxRecordedRequests
	if limit < 0 {
		return
	}
	if len(s.reqs) >= limit {
		// Drop the oldest; copy down so the backing array stays limit long.
		n := copy(s.reqs, s.reqs[len(s.reqs)-limit+1:])
		clear(s.reqs[n:])
		s.reqs = s.reqs[:n]
	}
	s.reqs = append(s.reqs, rec)
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

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}

type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("x-ms-error-code", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(struct {
		Error errorBody `json:"error"`
	}{errorBody{code, msg}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "InternalServerError", "encoding the response failed: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// redactID shortens a session identifier for messages: its first four
// characters and an ellipsis.
func redactID(id string) string {
	r := []rune(id)
	if len(r) <= 4 {
		return "…"
	}
	return string(r[:4]) + "…"
}

func notFoundRoute(w http.ResponseWriter, r *http.Request) {
	writeError(w, http.StatusNotFound, "NotFound", fmt.Sprintf(
		"the emulator has no operation %s %s; data-plane operations are POST /executions, GET /executions/{id}, "+
			"POST|GET /files, GET|DELETE /files/{name}, GET /files/{name}/content, GET|DELETE /session, "+
			"GET /listSessions, GET /metadata and POST /.management/stopSession under a pool endpoint",
		r.Method, r.URL.EscapedPath()))
}

func (s *Server) serveARM(w http.ResponseWriter, r *http.Request) {
	s.engine.ServeHTTP(w, r)
}

// authenticate checks the bearer token and returns its principal's object ID.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (string, bool) {
	fail := func(msg string) (string, bool) {
		w.Header().Set("WWW-Authenticate", `Bearer authorization_uri="`+s.baseURL+`/`+s.tenantID+`", error="invalid_token"`)
		writeError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", msg)
		return "", false
	}
	h := r.Header.Get("Authorization")
	if h == "" {
		return fail("the request has no Authorization header; send \"Authorization: Bearer <token>\" with a token for " + azname.DataPlaneAudience)
	}
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return fail("the Authorization header is not a bearer token; send \"Authorization: Bearer <token>\"")
	}
	c, err := jwt.Verify(s.key, strings.TrimSpace(tok))
	if err != nil {
		return fail("the bearer token was not issued by this emulator or is malformed (" + err.Error() + "); get tokens from Server.Credential or Server.Token")
	}
	if aud := strings.TrimSuffix(c.Audience, "/"); aud != azname.DataPlaneAudience {
		return fail(fmt.Sprintf("the token's audience is %q, but the dynamic sessions data plane needs %q; request the scope %s/.default", c.Audience, azname.DataPlaneAudience, azname.DataPlaneAudience))
	}
	now := time.Now()
	if c.ExpiresAt.IsZero() || !now.Before(c.ExpiresAt) {
		return fail("the token expired at " + c.ExpiresAt.UTC().Format(time.RFC3339) + "; get a new one")
	}
	if !c.NotBefore.IsZero() && now.Before(c.NotBefore) {
		return fail("the token is not valid before " + c.NotBefore.UTC().Format(time.RFC3339))
	}
	return c.ObjectID, true
}

func validIdentifier(id string) string {
	switch {
	case id == "":
		return "the identifier query parameter is required: it names the session (use a random UUID per user or conversation)"
	case utf8.RuneCountInString(id) > 256:
		return "the identifier query parameter is longer than 256 characters"
	case !utf8.ValidString(id):
		return "the identifier query parameter is not valid UTF-8"
	}
	for _, c := range id {
		if unicode.IsControl(c) || unicode.IsSpace(c) {
			return "the identifier query parameter contains whitespace or control characters; use letters, digits, '-' and '_'"
		}
	}
	return ""
}
