package sessionstest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/google/uuid"
)

type session struct {
	id           string
	dir          string
	root         *os.Root // the session directory: file operations go through it
	rootOnce     sync.Once
	etag         string
	createdAt    time.Time
	lastAccessed time.Time

	mark   string          // markEnv value of its processes (unisolated)
	sb     *sandbox        // its sandbox, when isolated
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
// For a sandboxed session it is /proc/<pid>/root/mnt/data, the sandbox's
// own /mnt/data seen through its init process; it is valid while the
// session lives.
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

// newSession makes a session and its directory (in a new sandbox, when
// sessions are isolated), not yet in its pool.
func (s *Server) newSession(p *pool, id string) (*session, error) {
	var sb *sandbox
	var dir string
	var err error
	if s.iso.Sandboxed {
		sb, err = s.takeSandbox(p.spec.EgressEnabled)
		if err != nil {
			return nil, fmt.Errorf("the session's sandbox could not be set up: %w", err)
		}
		dir = sb.dataDir()
	} else if dir, err = os.MkdirTemp(s.root, "session-"); err != nil {
		return nil, err
	}
	// Opened before any command runs: later changes a command makes to the
	// path (a symbolic link in place of /mnt/data) cannot redirect the
	// files API.
	root, err := os.OpenRoot(dir)
	if err != nil {
		if sb != nil {
			sb.kill()
		} else {
			_ = os.RemoveAll(dir)
		}
		return nil, err
	}
	now := s.opts.Now().UTC()
	ctx, cancel := context.WithCancel(s.ctx)
	return &session{
		id: id, dir: dir, root: root, sb: sb, etag: uuid.NewString(),
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
	ss.removeFiles()
}

// removeFiles ends the session's sandbox (its processes, mounts and files
// go with it) or removes its directory.
func (ss *session) removeFiles() {
	if ss.sb != nil {
		// Never RemoveAll the /proc path: once the init is reaped, its
		// pid may belong to another process.
		ss.sb.kill()
		return
	}
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
	if ss.sb != nil {
		// The init's death ends every process of the session, however
		// it detached; the executions then answer ExecutionCanceled.
		ss.sb.kill()
		ss.wg.Wait()
		ss.closeRoot()
		return
	}
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
	ss.removeFiles()
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
