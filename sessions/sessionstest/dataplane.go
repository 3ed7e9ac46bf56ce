package sessionstest

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shellpool/shellpool/internal/azname"
)

// GrantSessionExecutor gives principalID the Session Executor role on the
// named pool of the server's subscription and resource group (RBAC mode).
// The assignment is visible to ARM clients (role assignment list and get);
// the pool need not exist yet.
func (s *Server) GrantSessionExecutor(principalID, poolName string) {
	scope := "/subscriptions/" + s.opts.SubscriptionID + "/resourceGroups/" + s.opts.ResourceGroup +
		"/providers/Microsoft.App/sessionPools/" + poolName
	if s.engine.HasRole(principalID, scope, azname.SessionExecutorRoleGUID) {
		return // already granted (here or above); a second grant would outlive a DELETE of the first
	}
	roleDef := "/subscriptions/" + s.opts.SubscriptionID + "/providers/Microsoft.Authorization/roleDefinitions/" + azname.SessionExecutorRoleGUID
	// The engine refuses only a scope that is no resource ID (a pool name
	// with a "/"), which no pool can have.
	_, _ = s.engine.AssignRole(scope, roleDef, principalID)
}

func (s *Server) serveDataPlane(w http.ResponseWriter, r *http.Request, rt route) {
	if rt.badPath {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "the request path has an invalid percent-encoding")
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
	allowed := p != nil && (!s.opts.RBAC || s.engine.HasRole(principal, p.resourceID(), azname.SessionExecutorRoleGUID))
	if p == nil {
		where := "in this emulator"
		if rt.sub != "" {
			where = "in resource group " + rt.rg
		}
		writePoolNotFound(w, rt.poolName, where)
		return
	}
	if !allowed {
		writeError(w, http.StatusForbidden, "PermissionDenied", fmt.Sprintf(
			"the principal %s does not have the \"Azure ContainerApps Session Executor\" role (%s) on session pool %q or a parent scope; assign it on %s",
			principal, azname.SessionExecutorRoleGUID, p.spec.Name, p.resourceID()))
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

// sessionParam reads and validates the identifier query parameter; it writes
// a 400 and returns false when it is bad.
func sessionParam(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.URL.Query().Get("identifier")
	if msg := validIdentifier(id); msg != "" {
		writeError(w, http.StatusBadRequest, "InvalidRequest", msg)
		return "", false
	}
	return id, true
}

func writePoolNotFound(w http.ResponseWriter, name, where string) {
	writeError(w, http.StatusNotFound, "SessionPoolNotFound", fmt.Sprintf(
		"there is no session pool %q %s; create it (Server.AddPool or an ARM deployment) or check the endpoint", name, where))
}

// writeAllocError answers a request whose new session could not be
// allocated (getOrCreateSessionLocked failed).
func (s *Server) writeAllocError(w http.ResponseWriter, p *pool, err error) {
	switch {
	case errors.Is(err, errCapacity):
		s.writeCapacity(w, p)
	case errors.Is(err, errPoolRemoved):
		writePoolNotFound(w, p.spec.Name, "any more (it was deleted)")
	default:
		writeError(w, http.StatusServiceUnavailable, "ServiceUnavailable", "the emulator could not allocate a session: "+err.Error())
	}
}

func (s *Server) writeCapacity(w http.ResponseWriter, p *pool) {
	cool := "never (no cooldown)"
	if p.spec.Cooldown > 0 {
		cool = fmt.Sprintf("after %d s idle", int64(p.spec.Cooldown/time.Second))
	}
	writeError(w, s.capacityAnswer(w, p), "MaxConcurrentSessionsReached", fmt.Sprintf(
		"session pool %q has reached maxConcurrentSessions (%d) and allocates no new sessions; "+
			"delete sessions you no longer need (DELETE /session), wait for idle sessions to expire (%s), or raise maxConcurrentSessions",
		p.spec.Name, p.spec.MaxConcurrentSessions, cool))
}

// capacityRetryAfter is the Retry-After of the capacity answer: when the
// pool's first idle session expires (at least 1 s; a minute when no session
// can expire).
func (s *Server) capacityRetryAfter(p *pool) time.Duration {
	if p.spec.Cooldown < 0 {
		return time.Minute
	}
	now := s.opts.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	best := time.Duration(-1)
	for _, ss := range p.sessions {
		if ss.running > 0 {
			continue
		}
		d := ss.lastAccessed.Add(p.spec.Cooldown).Sub(now)
		if best < 0 || d < best {
			best = d
		}
	}
	if best < 0 {
		return time.Minute
	}
	return max(best, time.Second)
}

type sessionJSON struct {
	Identifier     string `json:"identifier"`
	CreatedAt      string `json:"createdAt"`
	LastAccessedAt string `json:"lastAccessedAt"`
	ExpireAt       string `json:"expireAt"`
	ETag           string `json:"etag"`

	created time.Time // for sorting
}

// sessionView is the session as the service describes it; cooldown is its
// pool's.
func sessionView(ss *session, cooldown time.Duration) sessionJSON {
	exp := ss.lastAccessed.Add(cooldown)
	if cooldown < 0 {
		exp = ss.lastAccessed.AddDate(100, 0, 0)
	}
	return sessionJSON{
		Identifier:     ss.id,
		CreatedAt:      ss.createdAt.Format(time.RFC3339Nano),
		LastAccessedAt: ss.lastAccessed.Format(time.RFC3339Nano),
		ExpireAt:       exp.UTC().Format(time.RFC3339Nano),
		ETag:           ss.etag,
		created:        ss.createdAt,
	}
}

func (s *Server) handleSession(w http.ResponseWriter, r *http.Request, p *pool) {
	id, ok := sessionParam(w, r)
	if !ok {
		return
	}
	if r.Method == http.MethodDelete {
		if !s.deleteSession(p, id) {
			writeSessionNotFound(w, id)
			return
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	s.mu.Lock()
	ss := s.sessionLocked(p, id)
	var v sessionJSON
	if ss != nil {
		v = sessionView(ss, p.spec.Cooldown)
	}
	s.mu.Unlock()
	if ss == nil {
		writeSessionNotFound(w, id)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func writeSessionNotFound(w http.ResponseWriter, id string) {
	writeError(w, http.StatusNotFound, "SessionNotFound", fmt.Sprintf(
		"session %s does not exist (it was deleted or expired after its cooldown); an execution or upload with the identifier allocates a new one", redactID(id)))
}

func (s *Server) handleStopSession(w http.ResponseWriter, r *http.Request, p *pool) {
	id, ok := sessionParam(w, r)
	if !ok {
		return
	}
	if !s.deleteSession(p, id) {
		writeSessionNotFound(w, id)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	// The service echoes the identifier (API.md §1.7); the emulator shortens
	// it, since identifiers are secrets.
	fmt.Fprintf(w, "Session %s in session pool %s stopped.", redactID(id), p.spec.Name)
}

func (s *Server) handleListSessions(w http.ResponseWriter, r *http.Request, rt route, p *pool) {
	skip := 0
	if v := r.URL.Query().Get("skip"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, "InvalidRequest", "the skip query parameter must be a non-negative integer")
			return
		}
		skip = n
	}
	snap := r.URL.Query().Get("listing")
	s.mu.Lock()
	all := p.listings.get(snap)
	if all == nil {
		all = s.sessionViewsLocked(p)
		s.mu.Unlock()
		sortSessionViews(all) // outside the lock
		if len(all) > s.opts.PageSize {
			snap = randomHex(8)
			s.mu.Lock()
			p.listings.put(snap, all)
			s.mu.Unlock()
		}
	} else {
		s.mu.Unlock()
	}
	page := []sessionJSON{}
	if skip < len(all) {
		page = all[skip:min(len(all), skip+s.opts.PageSize)]
	}
	more := skip+len(page) < len(all)
	out := struct {
		Sessions []sessionJSON `json:"sessions"`
		NextLink *string       `json:"nextLink"`
	}{Sessions: page}
	if more {
		q := r.URL.Query()
		q.Set("skip", strconv.Itoa(skip+len(page)))
		q.Set("listing", snap)
		link := s.absURL(r, rt, "/listSessions", q)
		out.NextLink = &link
	}
	writeJSON(w, http.StatusOK, out)
}

// absURL builds an absolute URL on the same endpoint form the request used.
func (s *Server) absURL(r *http.Request, rt route, op string, q url.Values) string {
	u := "https://" + r.Host + rt.prefix + op
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

func (s *Server) handleMetadata(w http.ResponseWriter, p *pool) {
	type nv struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}
	created := p.createdAt.Format(time.RFC3339Nano)
	writeJSON(w, http.StatusOK, map[string]any{
		"runtimes":             []nv{{Name: "bash", Version: s.bashVersion()}},
		"preInstalledPackages": []nv{},
		"createdAt":            created,
		"lastUpdatedAt":        created,
		"jupyterKernel":        map[string]string{"name": "", "version": "", "projectUrl": "", "description": ""},
	})
}

func (s *Server) bashVersion() string {
	s.mu.Lock()
	v := s.bashVer
	s.mu.Unlock()
	if v != "" {
		return v
	}
	v = "unknown"
	if path, err := lookPath("bash"); err == nil {
		if out, err := exec.Command(path, "-c", `printf %s "$BASH_VERSION"`).Output(); err == nil && len(out) > 0 {
			v = string(out)
		}
	}
	s.mu.Lock()
	s.bashVer = v
	s.mu.Unlock()
	return v
}
