package sessionstest

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
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
	s.logRequests(w, r, func(w http.ResponseWriter) { s.serveRequest(w, r) })
}

func (s *Server) serveRequest(w http.ResponseWriter, r *http.Request) {
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
		strings.HasPrefix(strings.ToLower(r.Header.Get("Content-Type")), "multipart/") ||
		isMCPRoute(rt) // read by serveMCP, which answers an oversize body in JSON-RPC
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
		if misdirectedDataPlane(r.URL.EscapedPath()) {
			s.notAPoolEndpoint(w, r)
			return
		}
		s.serveARM(w, r)
		return
	}
	s.serveDataPlane(w, r, rt)
}

// dataPlaneOps are the first segments of the data plane's operation paths
// (lower case), under a pool endpoint.
var dataPlaneOps = map[string]bool{
	"executions": true, "files": true, "session": true, "listsessions": true,
	".management": true, "code": true, "mcp": true,
}

// misdirectedDataPlane reports whether a path that is not under a pool
// endpoint names a data-plane operation: sent to the server's base URL
// (Server.URL) instead of a pool endpoint, or to a pool's ARM resource ID
// (.../providers/Microsoft.App/sessionPools/{name}/executions).
func misdirectedDataPlane(escaped string) bool {
	segs := strings.Split(strings.ToLower(strings.Trim(escaped, "/")), "/")
	if dataPlaneOps[segs[0]] || len(segs) == 1 && segs[0] == "metadata" {
		return true
	}
	for i := 0; i+2 < len(segs); i++ {
		if segs[i] == "microsoft.app" && segs[i+1] == "sessionpools" && i+3 < len(segs) && dataPlaneOps[segs[i+3]] {
			return true
		}
	}
	return false
}

// notAPoolEndpoint answers a data-plane request sent outside a pool
// endpoint with a 404 that names the endpoint form to use. The service
// has no such path either; without this answer the request would reach
// Azure Resource Manager, which refuses a data-plane token as a 401 about
// the token's audience, pointing the user at the wrong problem.
func (s *Server) notAPoolEndpoint(w http.ResponseWriter, r *http.Request) {
	writeError(w, http.StatusNotFound, "NotFound", fmt.Sprintf(
		"%s %s is not under a session pool endpoint: send data-plane requests to the pool's endpoint, "+
			"%s/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}/sessionPools/{pool} "+
			"(Server.PoolEndpoint or Server.PoolEndpointFor; in Azure, the pool's properties.poolManagementEndpoint), "+
			"not to the server's base URL or the pool's ARM resource ID",
		r.Method, r.URL.EscapedPath(), s.baseURL))
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
