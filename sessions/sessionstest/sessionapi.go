package sessionstest

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"
)

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
