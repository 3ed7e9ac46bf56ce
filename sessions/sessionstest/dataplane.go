package sessionstest

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

func (s *Server) serveDataPlane(w http.ResponseWriter, r *http.Request, rt route) {
	if rt.badPath {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "the request path has an invalid percent-encoding")
		return
	}
	if isMCPRoute(rt) { // its own key, not a bearer token (mcp.go)
		s.serveMCP(w, r, rt)
		return
	}
	principal, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	var p *pool
	if rt.sub == "" {
		p = s.poolNamed(rt.poolName)
	} else {
		p = s.poolAt(rt.sub, rt.rg, rt.poolName)
	}
	if p == nil {
		where := "in this emulator"
		if rt.sub != "" {
			where = "in resource group " + rt.rg
		}
		writePoolNotFound(w, rt.poolName, where)
		return
	}
	if !s.authorize(w, p, principal) {
		return
	}
	var controlled bool
	if w, controlled = s.controlPool(w, r, p); controlled {
		return
	}
	if v := r.URL.Query().Get("api-version"); v == "" {
		writeError(w, http.StatusBadRequest, "MissingApiVersionParameter",
			"the api-version query parameter is required, e.g. api-version=2025-02-02-preview")
		return
	} else if !slices.Contains(dataPlaneAPIVersions, v) {
		writeError(w, http.StatusBadRequest, "InvalidApiVersionParameter",
			fmt.Sprintf("the api-version '%s' is invalid; the supported versions are '%s'", v, strings.Join(dataPlaneAPIVersions, "', '")))
		return
	}

	segs := rt.segs
	m := r.Method
	switch {
	case len(segs) == 1 && segs[0] == "executions" && m == http.MethodPost:
		s.handleExecute(w, r, rt, p)
	case len(segs) == 2 && segs[0] == "executions" && m == http.MethodGet:
		s.handleGetExecution(w, r, p, segs[1])
	case len(segs) >= 1 && segs[0] == "files":
		s.serveFiles(w, r, p, segs[1:])
	case len(segs) == 1 && segs[0] == "session" && (m == http.MethodGet || m == http.MethodDelete):
		s.handleSession(w, r, p)
	case len(segs) == 1 && segs[0] == "listSessions" && m == http.MethodGet:
		s.handleListSessions(w, r, rt, p)
	case len(segs) == 1 && segs[0] == "metadata" && m == http.MethodGet:
		s.handleMetadata(w, p)
	case len(segs) == 2 && segs[0] == ".management" && segs[1] == "stopSession" && m == http.MethodPost:
		s.handleStopSession(w, r, p)
	default:
		notFoundRoute(w, r)
	}
}

// absURL builds an absolute URL on the same endpoint form the request used.
func (s *Server) absURL(r *http.Request, rt route, op string, q url.Values) string {
	u := "https://" + r.Host + rt.prefix + op
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// dataPlaneAPIVersions are the data-plane api-versions the service has
// documented for the /executions surface (docs/API.md §1.2).
var dataPlaneAPIVersions = []string{"2024-10-02-preview", "2025-02-02-preview", "2025-10-02-preview"}

// DataPlaneAPIVersions returns the data-plane api-versions the emulator
// accepts. Any other value is answered with 400 InvalidApiVersionParameter,
// so a typo in sessions.ClientOptions.APIVersion fails in tests as it would
// in Azure.
func DataPlaneAPIVersions() []string { return slices.Clone(dataPlaneAPIVersions) }
