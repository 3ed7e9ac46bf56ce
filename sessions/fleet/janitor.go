package fleet

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/shellpool/shellpool/internal/outcome"
	"github.com/shellpool/shellpool/sessions"
)

// The janitor of a pool deletes the sessions the fleet gave up (released
// with ReleaseDelete, reclaimed, expired after KeepIdle, left behind by a
// fail-over) in the background, and lists the pool's sessions when in
// doubt. Every such session stays counted against the pool until the
// service confirms it is gone: a delete succeeded, answered 404, or a
// listing no longer shows it.
const (
	// maxDeleteAttempts bounds the deletes of one session in a row; then
	// the janitor lists the pool before trying again.
	maxDeleteAttempts = 5
	// deleteConcurrency bounds the deletes in flight per pool.
	deleteConcurrency = 8
	// keptCheckInterval is how often a nearly full pool (at most two free
	// slots, or less than a fifth) with kept sessions is listed, to see
	// whether it is full (another replica may be waiting), and how long a
	// session is kept at least before it is given up then. Pools with more
	// room are listed every five intervals.
	keptCheckInterval = time.Second
	// maxListInterval bounds the wait between listings of a pool whose
	// sessions could not be deleted.
	maxListInterval = 30 * time.Second
	// requestTimeout bounds one delete or listing.
	requestTimeout = 30 * time.Second
)

// doomLocked schedules the deletion of session id in p; the session stays
// counted in p.live until it is gone.
func (f *Fleet) doomLocked(p *poolState, id string, reclaim bool) {
	if p.doomed[id] != nil {
		p.live-- // already counted once
		return
	}
	p.doomed[id] = &doomed{id: id, reclaim: reclaim, since: time.Now()}
	if reclaim {
		f.reclaiming++
	}
	f.startJanitorLocked(p)
}

// startJanitorLocked starts p's janitor, or wakes it.
func (f *Fleet) startJanitorLocked(p *poolState) {
	if p.janitor {
		select {
		case p.kick <- struct{}{}:
		default:
		}
		return
	}
	p.janitor = true
	f.janitors++
	go f.janitor(p)
}

// janitorDoneLocked records that p's janitor stopped.
func (f *Fleet) janitorDoneLocked(p *poolState) {
	p.janitor = false
	f.janitors--
	if f.janitorsIdle != nil && f.janitors == 0 {
		close(f.janitorsIdle)
		f.janitorsIdle = nil
	}
}

// finishDoomedLocked records that d is gone from p: its slot is free.
func (f *Fleet) finishDoomedLocked(p *poolState, d *doomed) {
	delete(p.doomed, d.id)
	p.live--
	p.capNotBefore = time.Time{} // the fleet freed a slot there itself
	if d.reclaim {
		f.reclaiming--
	}
	f.dispatchLocked()
}

func (f *Fleet) janitor(p *poolState) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		f.mu.Lock()
		now := time.Now()
		inflight := 0
		for _, d := range p.doomed {
			if d.inflight {
				inflight++
			}
		}
		var due []*doomed
		var wake time.Time
		stuck, settled := 0, 0
		for _, d := range p.doomed {
			if d.inflight {
				continue
			}
			if d.attempts >= maxDeleteAttempts {
				stuck++
				if d.listedStuck {
					settled++
				}
				continue
			}
			at := latest(d.nextAt, p.notBefore, p.downUntil)
			if !at.After(now) && inflight < deleteConcurrency {
				d.inflight = true
				inflight++
				due = append(due, d)
				continue
			}
			wake = earliest(wake, at)
		}
		list := false
		if stuck > settled || p.kept > 0 || (stuck > 0 && !f.closed) {
			at := latest(p.nextList, p.notBefore, p.downUntil)
			if !at.After(now) {
				list = true
			} else {
				wake = earliest(wake, at)
			}
		}
		idle := len(p.doomed) == 0 && p.kept == 0
		gaveUp := f.closed && inflight == 0 && !list && stuck == len(p.doomed) && settled == stuck
		if idle || gaveUp {
			f.janitorDoneLocked(p)
			f.mu.Unlock()
			return
		}
		f.mu.Unlock()
		for _, d := range due {
			go f.deleteOne(p, d)
		}
		if list {
			f.listPool(p)
			continue
		}
		if len(due) > 0 {
			continue // the others may be due too
		}
		d := time.Hour
		if !wake.IsZero() {
			d = max(time.Until(wake), time.Millisecond)
		}
		timer.Reset(d)
		select {
		case <-p.kick:
		case <-timer.C:
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

func latest(ts ...time.Time) time.Time {
	var t time.Time
	for _, x := range ts {
		if x.After(t) {
			t = x
		}
	}
	return t
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}

// deleteOne sends one delete of d, without the client's retries: the
// janitor retries itself, honouring Retry-After.
func (f *Fleet) deleteOne(p *poolState, d *doomed) {
	// Not f.ctx: a lease released after Close must still free its slot.
	ctx, cancel := context.WithTimeout(policy.WithRetryOptions(context.Background(), noRetry), requestTimeout)
	defer cancel()
	c, err := p.client(ctx)
	if err == nil {
		_, err = c.DeleteSession(ctx, d.id, nil)
	}
	f.deleteDone(p, d, err)
}

// deleteDone records the end of a delete of d.
func (f *Fleet) deleteDone(p *poolState, d *doomed, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d.inflight = false
	if err == nil || errors.Is(err, sessions.ErrSessionNotFound) {
		f.stats.deletes.Add(1)
		p.downCount = 0
		f.finishDoomedLocked(p, d)
	} else {
		f.stats.deleteFailures.Add(1)
		cl := f.noteFailureLocked(p, err)
		d.attempts++
		d.lastErr = err
		d.listedStuck = false
		d.nextAt = time.Now().Add(f.backoff(d.attempts, cl.RetryAfter))
		if cl.Reason == outcome.Refused && (cl.Status == http.StatusUnauthorized || cl.Status == http.StatusForbidden) {
			d.attempts = maxDeleteAttempts // cannot succeed: let a listing decide
		}
	}
	f.startJanitorLocked(p)
}

// listPool lists p's sessions and settles what the fleet counts there:
// doomed sessions the pool no longer has are gone; kept sessions the pool
// expired are forgotten; the sessions that are not this fleet's bound how
// many it may hold; and when the pool is full, this fleet's kept sessions
// are deleted, since another replica may be waiting for a slot.
func (f *Fleet) listPool(p *poolState) {
	ctx, cancel := context.WithTimeout(policy.WithRetryOptions(context.Background(), noRetry), requestTimeout)
	defer cancel()
	start := time.Now()
	listed, err := f.listSessions(ctx, p)
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	if err != nil {
		cl := f.noteFailureLocked(p, err)
		p.listFails++
		p.nextList = now.Add(min(f.backoff(p.listFails, cl.RetryAfter), max(maxListInterval, min(cl.RetryAfter, maxRetryAfter))))
		for _, d := range p.doomed {
			if d.attempts >= maxDeleteAttempts {
				d.listedStuck = true
			}
		}
		return
	}
	f.reconcileLocked(p, listed, start, now)
}

// reconcileLocked settles what the fleet counts in p against a listing of
// the pool's sessions that started at start. Only sessions the fleet was
// done with before start can be missing from it because they are gone.
func (f *Fleet) reconcileLocked(p *poolState, listed []*sessions.SessionInfo, start, now time.Time) {
	f.stats.lists.Add(1)
	p.listFails = 0
	p.downCount = 0
	ids := make(map[string]bool, len(listed))
	for _, s := range listed {
		ids[s.Identifier] = true
	}
	mine := 0
	for id, d := range p.doomed {
		if !ids[id] {
			if !d.inflight && d.since.Before(start) {
				f.finishDoomedLocked(p, d)
			}
			continue
		}
		mine++
		if d.attempts >= maxDeleteAttempts {
			d.listedStuck = true
			if !f.closed {
				// Another round, later each time: 2 s, 4 s, ... 30 s.
				d.rounds++
				d.attempts = 0
				d.nextAt = now.Add(roundDelay(d.rounds))
			}
		}
	}
	for _, us := range f.users {
		if us.pool != p || us.state == stateNone {
			continue
		}
		if ids[us.id] {
			mine++
			continue
		}
		if us.state == stateKept && us.allocated && us.keptSince.Before(start) {
			// The pool expired it (cooldown): the slot is free.
			p.kept--
			p.live--
			us.state, us.pool, us.allocated = stateNone, nil, false
			us.keepGen++
			f.forgetLocked(us)
		}
	}
	others := len(listed) - mine
	p.effCap = max(0, min(p.cfg.MaxConcurrentSessions, p.cfg.MaxConcurrentSessions-others))
	if len(listed) >= p.cfg.MaxConcurrentSessions {
		// Full: whoever waits (here or in another replica) gets the kept
		// sessions' slots.
		for _, us := range f.keptLocked() {
			if us.pool == p && now.Sub(us.keptSince) >= keptCheckInterval {
				f.dropKeptLocked(us, false)
				f.stats.yielded.Add(1)
			}
		}
	}
	p.nextList = now.Add(keptCheckInterval)
	if free := p.cfg.MaxConcurrentSessions - len(listed); free > 2 && free*5 > p.cfg.MaxConcurrentSessions {
		p.nextList = now.Add(5 * keptCheckInterval) // plenty of room: look less often
	}
	for _, d := range p.doomed {
		if d.rounds > 0 && p.kept == 0 {
			p.nextList = now.Add(roundDelay(d.rounds))
			break
		}
	}
	f.dispatchLocked()
}

// roundDelay is the wait before the next round of deletes of a session
// whose deletes kept failing while the pool still lists it.
func roundDelay(rounds int) time.Duration {
	return min(maxListInterval, time.Second<<min(rounds, 5))
}

// listSessions returns every session the pool lists.
func (f *Fleet) listSessions(ctx context.Context, p *poolState) ([]*sessions.SessionInfo, error) {
	c, err := p.client(ctx)
	if err != nil {
		return nil, err
	}
	var listed []*sessions.SessionInfo
	pager := c.NewListSessionsPager(nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		listed = append(listed, page.Value...)
	}
	return listed, nil
}
