package sessionstest

// ProcessCount returns how many processes the server is running or tracking
// for its sessions: for sandboxed sessions, every process in their
// sandboxes (each sandbox's own init aside); otherwise running commands
// plus the process groups they left behind. It is 0 after Close.
func (s *Server) ProcessCount() int {
	if s.iso.Sandboxed {
		var sbs []*sandbox
		s.mu.Lock()
		for _, p := range s.pools {
			for _, ss := range p.sessions {
				if ss.sb != nil {
					sbs = append(sbs, ss.sb)
				}
			}
		}
		s.mu.Unlock()
		n := 0
		for _, sb := range sbs {
			n += sb.processCount()
		}
		return n
	}
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
