package sessionstest

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shellpool/shellpool/internal/armemu"
	"github.com/shellpool/shellpool/internal/azname"
)

type poolKey struct{ sub, rg, name string } // lower case

func keyOf(sub, rg, name string) poolKey {
	return poolKey{strings.ToLower(sub), strings.ToLower(rg), strings.ToLower(name)}
}

// pool is a served pool as one request sees it: its settings, read from the
// ARM engine (which holds every pool's settings, and the role assignments),
// and the data plane's runtime state of it.
type pool struct {
	spec Pool // as the engine holds it now, defaults applied
	*poolState
}

// poolState is what the data plane keeps of a pool: its live sessions. It
// is keyed by the engine's PoolSpec.Serial and guarded by Server.mu.
type poolState struct {
	createdAt time.Time
	sessions  map[string]*session    // by identifier
	removed   bool                   // no longer served: allocates no sessions
	listings  snapshots[sessionJSON] // of paged session listings
}

func (p *pool) resourceID() string {
	return "/subscriptions/" + p.spec.SubscriptionID + "/resourceGroups/" + p.spec.ResourceGroup +
		"/providers/Microsoft.App/sessionPools/" + p.spec.Name
}

// poolFromSpec is the engine's pool spec as a Pool.
func poolFromSpec(sp armemu.PoolSpec) Pool {
	return Pool{
		Name:                  sp.Name,
		SubscriptionID:        sp.SubscriptionID,
		ResourceGroup:         sp.ResourceGroup,
		Location:              sp.Location,
		ContainerType:         sp.ContainerType,
		MaxConcurrentSessions: sp.MaxConcurrentSessions,
		Cooldown:              sp.Cooldown,
		EgressEnabled:         sp.EgressEnabled,
	}
}

// served returns the pool the engine answered with (nil when ok is false),
// with its runtime state, made on first use. It must be called without
// Server.mu held.
func (s *Server) served(sp armemu.PoolSpec, ok bool) *pool {
	if !ok {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.pools[sp.Serial]
	if st == nil {
		st = &poolState{createdAt: sp.Created.UTC(), sessions: map[string]*session{}}
		if s.gone[sp.Serial] {
			// Deleted since the engine answered: serve this request, keep nothing.
			st.removed = true
		} else {
			s.pools[sp.Serial] = st
		}
	}
	return &pool{spec: poolFromSpec(sp), poolState: st}
}

// poolAt returns the pool with this subscription, resource group and name,
// or nil.
func (s *Server) poolAt(sub, rg, name string) *pool {
	return s.served(s.engine.Pool(sub, rg, name))
}

// poolNamed finds a pool by name alone (host-form requests), preferring the
// server's subscription and resource group.
func (s *Server) poolNamed(name string) *pool {
	return s.served(s.engine.PoolNamed(s.opts.SubscriptionID, s.opts.ResourceGroup, name))
}

// stateOf returns the runtime state of the named pool of the server's
// subscription and resource group, or nil when the pool does not exist or has
// had no session yet. It must be called without Server.mu held; the state is
// read under it.
func (s *Server) stateOf(poolName string) (*poolState, func()) {
	sp, ok := s.engine.Pool(s.opts.SubscriptionID, s.opts.ResourceGroup, poolName)
	s.mu.Lock()
	if !ok {
		return nil, s.mu.Unlock
	}
	return s.pools[sp.Serial], s.mu.Unlock
}

// AddPool starts serving another pool (or replaces the settings of an
// existing one with the same subscription, group and name) and returns its
// regional-form endpoint. The name must follow the service's rule for pool
// names (3-63 lower-case letters and digits, starting with a letter), as
// Options.Pools must: the error says what is wrong with the name.
func (s *Server) AddPool(p Pool) (endpoint string, err error) {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return "", errors.New("sessionstest: AddPool on a closed server")
	}
	sp, err := s.seedPool(p)
	if err != nil {
		return "", err
	}
	return s.regionalEndpoint(sp), nil
}

// seedPool applies the defaults to p and stores it in the engine, which
// holds every pool's settings.
func (s *Server) seedPool(p Pool) (armemu.PoolSpec, error) {
	if r := azname.PoolNameRule(p.Name); r != "" {
		return armemu.PoolSpec{}, fmt.Errorf("sessionstest: pool name %q %s", p.Name, r)
	}
	if p.SubscriptionID == "" {
		p.SubscriptionID = s.opts.SubscriptionID
	}
	if p.ResourceGroup == "" {
		p.ResourceGroup = s.opts.ResourceGroup
	}
	if p.Location == "" {
		p.Location = s.opts.Location
	}
	if p.ContainerType == "" {
		p.ContainerType = ContainerTypeShell
	}
	if p.MaxConcurrentSessions <= 0 {
		p.MaxConcurrentSessions = DefaultMaxConcurrentSessions
	}
	if p.Cooldown == 0 {
		p.Cooldown = DefaultCooldown
	}
	sp := armemu.PoolSpec{
		SubscriptionID:        p.SubscriptionID,
		ResourceGroup:         p.ResourceGroup,
		Name:                  p.Name,
		Location:              p.Location,
		ContainerType:         p.ContainerType,
		MaxConcurrentSessions: p.MaxConcurrentSessions,
		Cooldown:              p.Cooldown,
		EgressEnabled:         p.EgressEnabled,
	}
	return s.engine.SeedPool(sp, s.regionalEndpoint(sp)), nil
}

// RemovePool stops serving the named pool of the server's subscription
// and resource group, destroys its sessions and removes it (and the role
// assignments scoped to it) from the ARM side. It reports whether the pool
// existed.
func (s *Server) RemovePool(name string) bool {
	sp, ok := s.engine.ForgetPool(s.opts.SubscriptionID, s.opts.ResourceGroup, name)
	if ok {
		s.dropPool(sp.Serial)
	}
	return ok
}

// dropPool forgets the runtime state of a pool the engine no longer has
// and destroys its sessions.
func (s *Server) dropPool(serial uint64) {
	s.mu.Lock()
	s.gone[serial] = true
	p := s.pools[serial]
	var doomed []*session
	if p != nil {
		delete(s.pools, serial)
		p.removed = true // a request that found the pool before this allocates nothing
		for _, ss := range p.sessions {
			doomed = append(doomed, ss)
		}
		p.sessions = map[string]*session{}
	}
	s.mu.Unlock()
	for _, ss := range doomed {
		s.destroySession(ss)
	}
}

// regionalEndpoint is the pool's regional-form endpoint.
func (s *Server) regionalEndpoint(sp armemu.PoolSpec) string {
	return s.baseURL + poolPath(sp.SubscriptionID, sp.ResourceGroup, sp.Name)
}
