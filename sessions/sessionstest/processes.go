package sessionstest

// ProcessCount returns how many processes the server is running or tracking
// for its sessions (running commands plus process groups they left behind).
// It is 0 after Close.
func (s *Server) ProcessCount() int {
	type sg struct {
		ss *session
		pg int
	}
	s.mu.Lock()
	n := s.running
	var groups []sg
	for _, p := range s.pools {
		for _, ss := range p.sessions {
			for pg := range ss.groups {
				groups = append(groups, sg{ss, pg})
			}
		}
	}
	s.mu.Unlock()
	var dead []sg
	for _, g := range groups {
		if groupAlive(g.pg) {
			n++
		} else {
			dead = append(dead, g)
		}
	}
	s.mu.Lock()
	for _, g := range dead {
		delete(g.ss.groups, g.pg)
	}
	s.mu.Unlock()
	return n
}
