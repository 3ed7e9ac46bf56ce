package fleet

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shellpool/shellpool/sessions"
)

// ReapOptions contains the optional parameters of Fleet.Reap.
type ReapOptions struct {
	// All deletes every session of this layer that this Fleet is not
	// using right now, however recently it was used: for shutting a
	// service down, or for tests.
	All bool
}

// ReapResult says what Reap found and did.
type ReapResult struct {
	// Listed is the number of sessions the pools listed.
	Listed int
	// Foreign is the number of sessions that are not this layer's (IDs.Owns
	// does not recognise them); Reap never touches them.
	Foreign int
	// InUse is the number of this layer's sessions left alone because this
	// Fleet is using them.
	InUse int
	// Fresh is the number of this layer's sessions left alone because they
	// were used within Options.ReapIdle and have not expired.
	Fresh int
	// Deleted is the number of sessions deleted.
	Deleted int
}

// Reap lists the sessions of every pool (GET /listSessions) and deletes
// those of this layer, recognised by IDs.Owns (the prefix and a keyed
// check, so a foreign session is never deleted, even one with the same
// prefix), that this Fleet is not using and that have been idle for
// Options.ReapIdle or are past their expiry: sessions leaked by a crashed
// process, left behind by a fail-over, or kept longer than needed. Sessions
// this Fleet keeps idle are deleted once idle for Options.KeepIdle.
//
// It reaps every pool it can reach and returns the totals with an error
// joining the failures of the others (errors.Is and errors.As see each).
func (f *Fleet) Reap(ctx context.Context, options *ReapOptions) (ReapResult, error) {
	var o ReapOptions
	if options != nil {
		o = *options
	}
	var total ReapResult
	var errs []error
	for _, p := range f.pools {
		r, err := f.reapPool(ctx, p, o)
		total.Listed += r.Listed
		total.Foreign += r.Foreign
		total.InUse += r.InUse
		total.Fresh += r.Fresh
		total.Deleted += r.Deleted
		if err != nil {
			errs = append(errs, fmt.Errorf("fleet: reap pool %q: %w", p.cfg.Name, err))
		}
	}
	return total, errors.Join(errs...)
}

func (f *Fleet) reapPool(ctx context.Context, p *poolState, o ReapOptions) (ReapResult, error) {
	var r ReapResult
	c, err := p.client(ctx)
	if err != nil {
		return r, err
	}
	var listed []*sessions.SessionInfo
	pager := c.NewListSessionsPager(nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return r, err
		}
		listed = append(listed, page.Value...)
	}
	r.Listed = len(listed)
	now := time.Now()
	seen := make(map[string]bool, len(listed))
	var doomed []string
	var kept []*userState
	f.mu.Lock()
	for _, s := range listed {
		if !f.ids.Owns(s.Identifier) {
			r.Foreign++
			continue
		}
		seen[s.Identifier] = true
		us := f.users[s.Identifier]
		mine := us != nil && us.pool == p
		if mine && (us.state == stateInUse || us.state == stateDeleting) {
			r.InUse++
			continue
		}
		expired := !s.ExpireAt.IsZero() && now.After(s.ExpireAt)
		idle := s.LastAccessedAt.IsZero() || now.Sub(s.LastAccessedAt) >= f.opts.ReapIdle
		if mine && us.state == stateKept {
			idle = now.Sub(us.keptSince) >= f.opts.KeepIdle
		}
		if !o.All && !expired && !idle {
			r.Fresh++
			continue
		}
		if mine && us.state == stateKept {
			// The fleet's own kept session: mark it, so that a call of its
			// user cannot pick it up meanwhile.
			f.markDeletingLocked(us)
			kept = append(kept, us)
			continue
		}
		doomed = append(doomed, s.Identifier)
	}
	// Sessions the fleet counted that the pool no longer has are gone
	// (expired, or deleted elsewhere): free their slots.
	for id := range p.orphans {
		if !seen[id] {
			delete(p.orphans, id)
			p.live--
		}
	}
	for _, us := range f.users {
		if us.pool == p && us.state == stateKept && !seen[us.id] {
			us.state, us.pool, us.allocated = stateNone, nil, false
			p.live--
		}
	}
	f.dispatchLocked()
	f.mu.Unlock()

	var errs []error
	for _, us := range kept {
		err := f.deleteSession(p, us.id)
		f.mu.Lock()
		f.deletedLocked(us, p, err, false)
		f.mu.Unlock()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		r.Deleted++
	}
	for _, id := range doomed {
		dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		_, err := c.DeleteSession(dctx, id, nil)
		cancel()
		if err != nil && !errors.Is(err, sessions.ErrSessionNotFound) {
			errs = append(errs, err)
			continue
		}
		f.stats.deletes.Add(1)
		r.Deleted++
		f.mu.Lock()
		if p.orphans[id] {
			delete(p.orphans, id)
			p.live--
			f.dispatchLocked()
		}
		f.mu.Unlock()
	}
	return r, errors.Join(errs...)
}

func (f *Fleet) reapLoop() {
	defer f.wg.Done()
	t := time.NewTicker(f.opts.ReapInterval)
	defer t.Stop()
	for {
		select {
		case <-f.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(f.ctx, f.opts.ReapInterval)
			_, _ = f.Reap(ctx, nil)
			cancel()
		}
	}
}
