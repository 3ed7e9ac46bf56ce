package sessionstest

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

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
