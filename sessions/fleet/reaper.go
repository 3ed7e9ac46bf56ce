package fleet

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/shellpool/shellpool/sessions"
)

// ReapOptions contains the optional parameters of Fleet.Reap.
type ReapOptions struct {
	// All deletes every session of this layer that this Fleet is not
	// using right now, however recently it was used, including those of
	// other replicas with the same key: for shutting a whole service down,
	// or for tests. Never set it while other replicas serve users.
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
// process or an earlier replica. Sessions this Fleet keeps idle are
// deleted once idle for Options.KeepIdle; sessions it is deleting in the
// background are deleted now. It also settles the fleet's own counts
// against the listing.
//
// It reaps every pool it can reach and returns the totals with an error
// joining the failures of the others (errors.Is and errors.As see each).
// After Close it returns ErrClosed.
func (f *Fleet) Reap(ctx context.Context, options *ReapOptions) (ReapResult, error) {
	if ctx == nil {
		return ReapResult{}, argumentError("ctx", "is nil; pass a context such as context.Background()")
	}
	f.mu.Lock()
	closed := f.closed
	f.mu.Unlock()
	if closed {
		return ReapResult{}, ErrClosed
	}
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
	// Honour the pool's Retry-After (the fleet's own avoidance of a pool
	// that failed does not stop an explicit Reap).
	f.mu.Lock()
	wait := time.Until(p.notBefore)
	f.mu.Unlock()
	if wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return r, fmt.Errorf("the pool asked for no requests until %s (Retry-After): %w", time.Now().Add(wait).Format(time.RFC3339), ctx.Err())
		}
	}
	listStart := time.Now()
	listed, err := f.listSessions(ctx, p)
	if err != nil {
		f.mu.Lock()
		f.noteFailureLocked(p, err)
		f.mu.Unlock()
		return r, err
	}
	r.Listed = len(listed)
	now := time.Now()
	var mine []*doomed // this fleet's sessions to delete now
	var others []string
	f.mu.Lock()
	f.reconcileLocked(p, listed, listStart, now)
	for _, s := range listed {
		if !f.ids.Owns(s.Identifier) {
			r.Foreign++
			continue
		}
		if d := p.doomed[s.Identifier]; d != nil {
			if !d.inflight {
				d.inflight = true
				mine = append(mine, d)
			} else {
				r.InUse++
			}
			continue
		}
		us := f.users[s.Identifier]
		if us != nil && us.pool == p && us.state == stateInUse {
			r.InUse++
			continue
		}
		if us != nil && us.pool == p && us.state == stateKept {
			if !o.All && now.Sub(us.keptSince) < f.opts.KeepIdle {
				r.Fresh++
				continue
			}
			f.dropKeptLocked(us, false)
			d := p.doomed[s.Identifier]
			d.inflight = true
			mine = append(mine, d)
			continue
		}
		expired := !s.ExpireAt.IsZero() && now.After(s.ExpireAt)
		idle := s.LastAccessedAt.IsZero() || now.Sub(s.LastAccessedAt) >= f.opts.ReapIdle
		if !o.All && !expired && !idle {
			r.Fresh++
			continue
		}
		others = append(others, s.Identifier)
	}
	f.mu.Unlock()

	var errs []error
	for _, d := range mine {
		dctx, cancel := context.WithTimeout(policy.WithRetryOptions(ctx, noRetry), requestTimeout)
		c, err := p.client(dctx)
		if err == nil {
			_, err = c.DeleteSession(dctx, d.id, nil)
		}
		cancel()
		f.deleteDone(p, d, err)
		if err != nil && !errors.Is(err, sessions.ErrSessionNotFound) {
			errs = append(errs, err)
			continue
		}
		r.Deleted++
	}
	for _, id := range others {
		dctx, cancel := context.WithTimeout(ctx, requestTimeout)
		c, err := p.client(dctx)
		if err == nil {
			_, err = c.DeleteSession(dctx, id, nil)
		}
		cancel()
		if err != nil && !errors.Is(err, sessions.ErrSessionNotFound) {
			f.mu.Lock()
			f.noteFailureLocked(p, err)
			f.mu.Unlock()
			errs = append(errs, err)
			continue
		}
		f.stats.deletes.Add(1)
		r.Deleted++
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
