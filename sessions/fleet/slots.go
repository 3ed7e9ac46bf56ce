package fleet

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/shellpool/shellpool/internal/outcome"
)

// maxRetryAfter bounds a Retry-After the fleet honours.
const maxRetryAfter = 5 * time.Minute

// limit is how many sessions of this fleet the pool may hold now.
func (p *poolState) limit() int {
	c := p.cfg.MaxConcurrentSessions
	if p.effCap >= c {
		return c
	}
	if p.probes > 0 {
		return p.effCap
	}
	return p.effCap + 1 // probe whether a slot came free
}

// usable reports that the pool is not being avoided after a failure.
func (p *poolState) usable(now time.Time) bool { return !now.Before(p.downUntil) }

// open reports that a request may be sent to the pool now: it is not
// avoided, and its Retry-After (or the fleet's backoff) has passed.
func (p *poolState) open(now time.Time) bool { return p.usable(now) && !now.Before(p.notBefore) }

// canGrant reports that a new session may be started in the pool now.
func (p *poolState) canGrant(now time.Time) bool {
	if !p.open(now) || now.Before(p.capNotBefore) || p.live >= p.cfg.MaxConcurrentSessions {
		return false
	}
	if p.halfOpen {
		return p.trials == 0
	}
	return p.live < p.limit()
}

// grant waits until us may use a session: its kept one, or a new slot in
// the first pool (in us's rendezvous order) that has one. front puts the
// call at the head of the line (it lost a slot it had been granted).
func (f *Fleet) grant(ctx context.Context, us *userState, front bool) (*Lease, error) {
	start := time.Now()
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil, ErrClosed
	}
	if us.state == stateKept && us.pool.open(start) {
		p := us.pool
		f.takeKeptLocked(us)
		f.mu.Unlock()
		f.stats.reused.Add(1)
		return f.newLease(us, p), nil
	}
	w := &waiter{us: us, ch: make(chan struct{}), since: start}
	if front {
		f.waiters = append([]*waiter{w}, f.waiters...)
	} else {
		f.waiters = append(f.waiters, w)
	}
	f.dispatchLocked()
	f.mu.Unlock()

	select {
	case <-w.ch:
	case <-ctx.Done():
		f.mu.Lock()
		if w.granted == nil {
			f.removeWaiterLocked(w)
			n := len(f.waiters)
			f.dispatchLocked()
			f.mu.Unlock()
			return nil, fmt.Errorf("fleet: no session slot became free in %d pool(s) within the context (%d call(s) still waiting); raise maxConcurrentSessions, add pools, release leases sooner or allow a longer wait: %w", len(f.pools), n, ctx.Err())
		}
		f.mu.Unlock()
	}
	if w.granted == nil {
		return nil, ErrClosed
	}
	if w.reused {
		f.stats.reused.Add(1)
	}
	l := f.newLease(us, w.granted)
	l.probe, l.trial = w.probe, w.trial
	l.waited = time.Since(start)
	return l, nil
}

// takeKeptLocked hands us's kept session to a lease.
func (f *Fleet) takeKeptLocked(us *userState) {
	us.state = stateInUse
	us.keepGen++
	us.pool.kept--
	us.pool.inUse++
}

func (f *Fleet) removeWaiterLocked(w *waiter) {
	for i, x := range f.waiters {
		if x == w {
			f.waiters = append(f.waiters[:i], f.waiters[i+1:]...)
			return
		}
	}
}

// dispatchLocked grants free slots to waiters, first come first served,
// reclaims kept sessions for waiters that find none, and arms a timer for
// the end of the earliest backoff that blocks a waiter.
func (f *Fleet) dispatchLocked() {
	if f.closed {
		return
	}
	now := time.Now()
	for i := 0; i < len(f.waiters); {
		w := f.waiters[i]
		us := w.us
		if us.state == stateKept {
			p := us.pool
			if p.open(now) {
				f.takeKeptLocked(us)
				f.waiters = append(f.waiters[:i], f.waiters[i+1:]...)
				w.granted, w.reused = p, true
				close(w.ch)
				continue
			}
			if p.usable(now) {
				i++ // waits for its pool's Retry-After, in its own session
				continue
			}
			// Its pool is down: the kept session is deleted once the pool
			// is back, and the user moves on.
			f.dropKeptLocked(us, false)
		}
		var pick *poolState
		ownDoomed := false
		for _, p := range us.order {
			if p.doomed[us.id] != nil {
				ownDoomed = true // its old session there is still being deleted
				continue
			}
			if p.canGrant(now) {
				pick = p
				break
			}
		}
		if pick == nil {
			if ownDoomed {
				i++ // blocked by its own session only: serve the next
				continue
			}
			break // every waiter takes any pool: no one behind can be served either
		}
		f.waiters = append(f.waiters[:i], f.waiters[i+1:]...)
		if pick.halfOpen {
			pick.trials++
			w.trial = true
		} else if pick.live >= pick.effCap {
			pick.probes++
			w.probe = true
		}
		pick.live++
		pick.inUse++
		us.pool = pick
		us.allocated = false
		us.state = stateInUse
		us.keepGen++
		w.granted = pick
		f.stats.grants.Add(1)
		close(w.ch)
	}
	if len(f.waiters) == 0 {
		return
	}
	// Kept sessions of users who are not waiting are reclaimed for waiters.
	need := -f.reclaiming
	for _, w := range f.waiters {
		if w.us.state != stateKept {
			need++
		}
	}
	if need > 0 {
		for _, v := range f.keptLocked() {
			if need == 0 {
				break
			}
			if f.isWaitingLocked(v) {
				continue
			}
			need--
			f.dropKeptLocked(v, true)
			f.stats.reclaims.Add(1)
		}
	}
	// Wake up when a backoff that blocks a waiter ends.
	var at time.Time
	for _, p := range f.pools {
		for _, t := range []time.Time{p.notBefore, p.capNotBefore, p.downUntil} {
			if t.After(now) && (at.IsZero() || t.Before(at)) {
				at = t
			}
		}
	}
	if !at.IsZero() && (f.timer == nil || !f.timerAt.After(now) || at.Before(f.timerAt)) {
		if f.timer != nil {
			f.timer.Stop()
		}
		f.timerAt = at
		f.timer = time.AfterFunc(time.Until(at)+time.Millisecond, func() {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.dispatchLocked()
		})
	}
}

func (f *Fleet) isWaitingLocked(us *userState) bool {
	for _, w := range f.waiters {
		if w.us == us {
			return true
		}
	}
	return false
}

// keptLocked returns the kept sessions, oldest first.
func (f *Fleet) keptLocked() []*userState {
	var out []*userState
	for _, us := range f.users {
		if us.state == stateKept {
			out = append(out, us)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].keptSince.Before(out[j].keptSince) })
	return out
}

// dropKeptLocked deletes us's kept session in the background.
func (f *Fleet) dropKeptLocked(us *userState, reclaim bool) {
	p := us.pool
	p.kept--
	us.state, us.pool, us.allocated = stateNone, nil, false
	us.keepGen++
	f.doomLocked(p, us.id, reclaim)
	f.forgetLocked(us)
}

// dropInUseLocked ends the lease's hold on us's session; doom says whether
// the session (which may exist) is deleted, or was certainly never
// allocated and its slot is free at once.
func (f *Fleet) dropInUseLocked(us *userState, doom bool) {
	p := us.pool
	p.inUse--
	us.state, us.pool, us.allocated = stateNone, nil, false
	us.keepGen++
	if doom {
		f.doomLocked(p, us.id, false)
	} else {
		p.live--
	}
}

// forgetLocked drops us from the table when nothing refers to it.
func (f *Fleet) forgetLocked(us *userState) {
	if len(us.turn) == 0 && us.state == stateNone {
		delete(f.users, us.id)
	}
}

// release ends a lease that did its work (or failed in a way that may have
// run the command).
func (f *Fleet) release(l *Lease) {
	f.mu.Lock()
	defer f.mu.Unlock()
	us, p := l.us, l.p
	f.resolveLocked(l, l.allocated)
	if us.state != stateInUse || us.pool != p {
		return
	}
	if l.allocated {
		us.allocated = true
	}
	switch {
	case f.opts.Release == ReleaseDelete || f.closed || !p.usable(time.Now()):
		// A pool that failed under the lease: the session is deleted
		// once it is back (the janitor retries).
		f.dropInUseLocked(us, true)
		f.dispatchLocked()
		return
	case len(f.waiters) > f.reclaiming:
		// Someone waits for a slot: this one goes to them.
		f.stats.reclaims.Add(1)
		p.inUse--
		us.state, us.pool, us.allocated = stateNone, nil, false
		us.keepGen++
		f.doomLocked(p, us.id, true)
		f.dispatchLocked()
		return
	}
	us.state = stateKept
	p.inUse--
	p.kept++
	us.keptSince = time.Now()
	us.keepGen++
	gen := us.keepGen
	f.startJanitorLocked(p) // watches the pool for other replicas' waiters
	time.AfterFunc(f.opts.KeepIdle, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if us.state == stateKept && us.keepGen == gen {
			f.dropKeptLocked(us, false)
		}
	})
}

// notRun handles a failure that proves the command did not run: it frees
// the lease's slot, updates what the fleet knows of the pool and reports
// true, so the call is tried again. Other failures report false.
func (f *Fleet) notRun(l *Lease, err error) bool {
	c := outcome.Classify(err)
	down := c.Reason == outcome.Unavailable || c.Reason == outcome.Unreachable || (c.Reason == outcome.Refused && c.Status == 0)
	if c.Reason != outcome.Capacity && c.Reason != outcome.Throttled && !down {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	us, p := l.us, l.p
	f.resolveLocked(l, false)
	switch c.Reason {
	case outcome.Capacity:
		f.stats.capacityAnswers.Add(1)
		// The pool holds no more than our other sessions there.
		p.effCap = max(0, p.live-1)
		f.capacityLocked(p, c.RetryAfter)
	case outcome.Throttled:
		f.stats.throttled.Add(1)
		f.refuseLocked(p, c.RetryAfter)
	default:
		f.poolDownLocked(p, err, c.RetryAfter)
	}
	if us.state == stateInUse && us.pool == p {
		exists := (us.allocated || l.allocated) && c.Reason != outcome.Capacity
		switch {
		case exists && !down:
			// Throttled in its own session: keep it, and try again there
			// after the Retry-After.
			us.allocated = true
			us.state = stateKept
			p.inUse--
			p.kept++
			us.keptSince = time.Now()
			us.keepGen++
		default:
			f.dropInUseLocked(us, exists)
		}
	}
	f.dispatchLocked()
	return true
}

// refuseLocked records a refusal (429, 503, a capacity answer) by p: no
// request goes to the pool before its Retry-After (or the fleet's jittered
// backoff) has passed, and then only one new session at a time until one
// works.
func (f *Fleet) refuseLocked(p *poolState, retryAfter time.Duration) {
	p.streak++
	p.halfOpen = true
	if at := time.Now().Add(f.backoff(p.streak, retryAfter)); at.After(p.notBefore) {
		p.notBefore = at
	}
}

// capacityLocked records a capacity answer: no new session is started in
// p before its Retry-After, up to MaxBackoff (or the fleet's jittered
// backoff when it sent none) has passed, unless the fleet frees a slot
// there itself first (one of its deletes succeeds). A capacity answer's
// Retry-After estimates when an idle session will expire (the emulator
// sends that); deletes free slots sooner, so it is bounded like the
// fleet's own backoff. Other requests (deletes, listings) go on.
func (f *Fleet) capacityLocked(p *poolState, retryAfter time.Duration) {
	p.streak++
	if at := time.Now().Add(f.backoff(p.streak, min(retryAfter, f.opts.MaxBackoff))); at.After(p.capNotBefore) {
		p.capNotBefore = at
	}
}

// poolDownLocked records that p could not be reached or refused: it is
// avoided for a backoff that grows with each failure in a row.
func (f *Fleet) poolDownLocked(p *poolState, err error, wait time.Duration) {
	f.stats.failovers.Add(1)
	p.downCount++
	p.downErr = err
	if at := time.Now().Add(f.backoff(p.downCount, wait)); at.After(p.downUntil) {
		p.downUntil = at
	}
	if wait > 0 {
		f.refuseLocked(p, wait)
	}
}

// noteFailureLocked records what a failed request other than an execution
// (a delete, a listing) tells about p: a Retry-After, an overloaded or
// unreachable pool.
func (f *Fleet) noteFailureLocked(p *poolState, err error) outcome.Class {
	c := outcome.Classify(err)
	switch c.Reason {
	case outcome.Capacity:
		f.capacityLocked(p, c.RetryAfter)
	case outcome.Throttled:
		f.stats.throttled.Add(1)
		f.refuseLocked(p, c.RetryAfter)
	case outcome.Unavailable, outcome.Unreachable:
		f.poolDownLocked(p, err, c.RetryAfter)
	default:
		if c.RetryAfter > 0 {
			f.refuseLocked(p, c.RetryAfter)
		}
	}
	return c
}

// noteSuccessLocked records that p answered a request as asked.
func (f *Fleet) noteSuccessLocked(p *poolState) {
	p.streak = 0
	p.halfOpen = false
	p.downCount = 0
}

// resolveLocked settles a lease granted beyond the pool's proven capacity
// or while it was half open: when its session was allocated (ok), the pool
// works again and holds at least as many of ours as now live there.
func (f *Fleet) resolveLocked(l *Lease, ok bool) {
	p := l.p
	if ok {
		p.effCap = min(p.cfg.MaxConcurrentSessions, max(p.effCap, p.live))
		f.noteSuccessLocked(p)
	}
	if l.probe {
		l.probe = false
		p.probes--
	}
	if l.trial {
		l.trial = false
		p.trials--
	}
}

// backoff is the wait before the next request after streak refusals in a
// row: exponential from 50 ms, capped at MaxBackoff, or the service's
// Retry-After when that is longer; plus up to 20% of jitter, so that
// replicas and callers do not come back at the same instant. It is never
// shorter than retryAfter.
func (f *Fleet) backoff(streak int, retryAfter time.Duration) time.Duration {
	d := min(50*time.Millisecond<<min(max(streak-1, 0), 10), f.opts.MaxBackoff)
	retryAfter = min(retryAfter, maxRetryAfter)
	if retryAfter > d {
		d = retryAfter
	}
	return d + time.Duration(rand.Int64N(int64(d)/5+1))
}
