package sessionstest

import (
	"os"
	"sync"
)

// spares keeps one ready sandbox per egress setting, so that a new
// session does not wait for a sandbox's set-up: taking one starts its
// replacement in the background. The second session of each setting
// starts the first spare, so a server (a test, typically) with one
// session per setting pays for no idle sandbox.
type spares struct {
	mu      sync.Mutex
	ready   map[bool]*sandbox // by Pool.EgressEnabled
	filling map[bool]bool
	taken   map[bool]int // sandboxes handed out
	closed  bool
	wg      sync.WaitGroup // refills under way
}

// sandboxConfig is the configuration of the server's sandboxes.
func (s *Server) sandboxConfig(egress bool) sandboxConfig {
	return sandboxConfig{Egress: egress, Bytes: s.opts.SandboxBytes, Home: os.Getenv("HOME"), Fault: s.opts.sandboxFault}
}

// takeSandbox returns a ready sandbox for a new session: the spare, or a
// new one; either way a replacement spare is started.
func (s *Server) takeSandbox(egress bool) (*sandbox, error) {
	sp := &s.spares
	sp.mu.Lock()
	sb := sp.ready[egress]
	delete(sp.ready, egress)
	if sp.taken == nil {
		sp.taken = map[bool]int{}
	}
	sp.taken[egress]++
	refill := sp.taken[egress] >= 2
	sp.mu.Unlock()
	if sb != nil && !sb.alive() {
		sb.kill()
		sb = nil
	}
	var err error
	if sb == nil {
		sb, err = startSandbox(s.sandboxConfig(egress))
	}
	if err == nil && refill {
		s.refillSpare(egress)
	}
	return sb, err
}

// refillSpare starts a spare for the egress setting unless one is ready
// or on its way, or the server is closing.
func (s *Server) refillSpare(egress bool) {
	sp := &s.spares
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.closed || sp.ready[egress] != nil || sp.filling[egress] {
		return
	}
	if sp.ready == nil {
		sp.ready, sp.filling = map[bool]*sandbox{}, map[bool]bool{}
	}
	sp.filling[egress] = true
	sp.wg.Add(1)
	go func() {
		defer sp.wg.Done()
		sb, err := startSandbox(s.sandboxConfig(egress))
		sp.mu.Lock()
		sp.filling[egress] = false
		keep := err == nil && !sp.closed
		if keep {
			sp.ready[egress] = sb
		}
		sp.mu.Unlock()
		if err == nil && !keep {
			sb.kill()
		}
	}()
}

// closeSpares ends the spares and waits for refills under way; none
// starts afterwards.
func (s *Server) closeSpares() {
	sp := &s.spares
	sp.mu.Lock()
	sp.closed = true
	ready := sp.ready
	sp.ready = nil
	sp.mu.Unlock()
	for _, sb := range ready {
		sb.kill()
	}
	sp.wg.Wait()
}
