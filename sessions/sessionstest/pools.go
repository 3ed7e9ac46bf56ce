package sessionstest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/shellpool/shellpool/internal/armemu"
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
	return s.served(s.engine.PoolNamed(name, s.opts.SubscriptionID, s.opts.ResourceGroup))
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

type session struct {
	id           string
	dir          string
	root         *os.Root // the session directory: file operations go through it
	rootOnce     sync.Once
	etag         string
	createdAt    time.Time
	lastAccessed time.Time

	mark   string          // markEnv value of its processes
	ctx    context.Context // canceled when the session is destroyed
	cancel context.CancelFunc
	wg     sync.WaitGroup // running executions

	// guarded by Server.mu
	execs    map[string]*execution
	order    []string         // execution ids, oldest first (see rememberLocked)
	groups   map[int]struct{} // process groups left running by finished commands
	running  int
	listings snapshots[fileJSON] // of paged file listings
}

// AddPool starts serving another pool (or replaces the settings of an
// existing one with the same subscription, group and name) and returns its
// regional-form endpoint.
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
	if strings.TrimSpace(p.Name) == "" || strings.ContainsAny(p.Name, "/?#") {
		return armemu.PoolSpec{}, fmt.Errorf("sessionstest: pool name %q is not valid: use letters, digits and hyphens", p.Name)
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

// SessionCount returns the number of live sessions in the named pool
// (server's subscription and resource group).
func (s *Server) SessionCount(poolName string) int {
	st, unlock := s.stateOf(poolName)
	defer unlock()
	if st == nil {
		return 0
	}
	return len(st.sessions)
}

// SessionDir returns the local directory that is the session's /mnt/data,
// and whether the session exists. Tests may place files there directly.
func (s *Server) SessionDir(poolName, sessionID string) (string, bool) {
	st, unlock := s.stateOf(poolName)
	defer unlock()
	if st == nil {
		return "", false
	}
	ss := st.sessions[sessionID]
	if ss == nil {
		return "", false
	}
	return ss.dir, true
}

// errCapacity is returned by getOrCreateSession when the pool is full.
var errCapacity = errors.New("pool at capacity")

// errPoolRemoved is returned by getOrCreateSession when the pool was removed
// while the request was on its way.
var errPoolRemoved = errors.New("pool removed")

// sessionLocked returns the session, touching it, or nil.
func (s *Server) sessionLocked(p *pool, id string) *session {
	ss := p.sessions[id]
	if ss != nil {
		ss.lastAccessed = s.opts.Now().UTC()
	}
	return ss
}

// lockSession returns the session, creating it (and its directory) on
// first use, with Server.mu held; on error the lock is not held. The
// directory is made outside the lock.
func (s *Server) lockSession(p *pool, id string) (*session, error) {
	for {
		s.mu.Lock()
		if ss := s.sessionLocked(p, id); ss != nil {
			return ss, nil
		}
		if err := s.canAllocateLocked(p); err != nil {
			s.mu.Unlock()
			return nil, err
		}
		s.mu.Unlock()
		ss, err := s.newSession(p, id)
		if err != nil {
			return nil, err
		}
		s.mu.Lock()
		err = s.canAllocateLocked(p)
		exists := p.sessions[id] != nil
		if !exists && err == nil {
			p.sessions[id] = ss
			return ss, nil
		}
		s.mu.Unlock()
		ss.discard()
		if !exists {
			return nil, err
		}
		// Another request created it meanwhile: use that one.
	}
}

// getOrCreateSessionLocked is lockSession for a caller that holds Server.mu
// (it releases and retakes it).
func (s *Server) getOrCreateSessionLocked(p *pool, id string) (*session, error) {
	s.mu.Unlock()
	ss, err := s.lockSession(p, id)
	if err != nil {
		s.mu.Lock()
	}
	return ss, err
}

// canAllocateLocked says why the pool cannot allocate a new session, if it
// cannot.
func (s *Server) canAllocateLocked(p *pool) error {
	switch {
	case s.closed:
		return errors.New("server closed")
	case p.removed:
		return errPoolRemoved
	case len(p.sessions) >= p.spec.MaxConcurrentSessions:
		return errCapacity
	}
	return nil
}

// newSession makes a session and its directory, not yet in its pool.
func (s *Server) newSession(p *pool, id string) (*session, error) {
	dir, err := os.MkdirTemp(s.root, "session-")
	if err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	now := s.opts.Now().UTC()
	ctx, cancel := context.WithCancel(s.ctx)
	return &session{
		id: id, dir: dir, root: root, etag: uuid.NewString(),
		mark:      s.mark + randomHex(8),
		createdAt: now, lastAccessed: now,
		ctx: ctx, cancel: cancel,
		execs:  map[string]*execution{},
		groups: map[int]struct{}{},
	}, nil
}

// discard undoes newSession for a session that never joined its pool.
func (ss *session) discard() {
	ss.cancel()
	ss.closeRoot()
	_ = os.RemoveAll(ss.dir)
}

func (ss *session) closeRoot() {
	ss.rootOnce.Do(func() { _ = ss.root.Close() })
}

// deleteSession removes the session from its pool and destroys it. It
// reports whether it existed.
func (s *Server) deleteSession(p *pool, id string) bool {
	s.mu.Lock()
	ss := p.sessions[id]
	if ss != nil {
		delete(p.sessions, id)
	}
	s.mu.Unlock()
	if ss == nil {
		return false
	}
	s.destroySession(ss)
	return true
}

// destroySession kills the session's processes, waits for its executions to
// end and removes its directory. The session must already be unlinked.
func (s *Server) destroySession(ss *session) {
	ss.cancel()
	s.mu.Lock()
	groups := make([]int, 0, len(ss.groups))
	for pg := range ss.groups {
		groups = append(groups, pg)
	}
	ss.groups = map[int]struct{}{}
	s.mu.Unlock()
	for _, pg := range groups {
		killGroup(pg)
	}
	ss.wg.Wait()
	// Processes that left their process group (setsid, double fork).
	sweepMarked(ss.mark)
	ss.closeRoot()
	_ = os.RemoveAll(ss.dir)
}

// ExpireIdle destroys every session that has been idle for its pool's
// cooldown, as of Options.Now, and returns how many it destroyed. A janitor
// calls it periodically; tests with a fake clock call it directly.
func (s *Server) ExpireIdle() int {
	specs := s.engine.Pools()
	now := s.opts.Now()
	s.mu.Lock()
	var doomed []*session
	for _, sp := range specs {
		p := s.pools[sp.Serial]
		if p == nil || sp.Cooldown < 0 {
			continue
		}
		for id, ss := range p.sessions {
			if ss.running == 0 && !now.Before(ss.lastAccessed.Add(sp.Cooldown)) {
				delete(p.sessions, id)
				doomed = append(doomed, ss)
			}
		}
	}
	s.mu.Unlock()
	for _, ss := range doomed {
		s.destroySession(ss)
	}
	return len(doomed)
}

func (s *Server) janitorInterval() time.Duration {
	iv := time.Second
	for _, sp := range s.engine.Pools() {
		if c := sp.Cooldown / 4; c > 0 && c < iv {
			iv = c
		}
	}
	return max(iv, 5*time.Millisecond)
}

func (s *Server) janitor() {
	for {
		t := time.NewTimer(s.janitorInterval())
		select {
		case <-s.ctx.Done():
			t.Stop()
			return
		case <-t.C:
			s.ExpireIdle()
		}
	}
}

// sessionViewsLocked returns views of the pool's sessions, unsorted.
func (s *Server) sessionViewsLocked(p *pool) []sessionJSON {
	out := make([]sessionJSON, 0, len(p.sessions))
	for _, ss := range p.sessions {
		out = append(out, sessionView(ss, p.spec.Cooldown))
	}
	return out
}

// sortSessionViews sorts views by creation time, then identifier.
func sortSessionViews(v []sessionJSON) {
	sort.Slice(v, func(i, j int) bool {
		if v[i].CreatedAt != v[j].CreatedAt {
			return v[i].created.Before(v[j].created)
		}
		return v[i].Identifier < v[j].Identifier
	})
}
