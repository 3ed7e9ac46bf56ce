package fleet

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// PoolStats describes one pool as the fleet sees it. Live is always
// InUse + Kept + Deleting.
type PoolStats struct {
	// Name is the pool's name.
	Name string
	// Live is the number of sessions of this fleet in the pool: in use,
	// kept, or being deleted.
	Live int
	// InUse is the number of sessions held by leases or calls.
	InUse int
	// Kept is the number of idle sessions kept for their users.
	Kept int
	// Deleting is the number of sessions being deleted in the background
	// (released, reclaimed, expired, or left behind by a fail-over). Each
	// holds its slot until the service confirms it is gone.
	Deleting int
	// MaxConcurrentSessions is the configured capacity.
	MaxConcurrentSessions int
	// Limit is how many sessions the fleet allows itself in the pool now:
	// lower than MaxConcurrentSessions after capacity answers or a listing
	// showed that others (other replicas, other programs) hold slots.
	Limit int
	// Down reports that the pool is being avoided after it could not be
	// reached or refused requests; Err is the failure that made it so.
	Down bool
	Err  error
	// RetryAt is when the pool's last Retry-After (or the fleet's backoff)
	// ends; no request goes to the pool before it.
	RetryAt time.Time
}

// Stats is a snapshot of the fleet's state and counters.
type Stats struct {
	// Waiting is the number of calls waiting for a slot.
	Waiting int
	// Pools describes each pool, in Options.Pools order.
	Pools []PoolStats
	// Grants counts slots handed to calls; Reused counts calls that used
	// their user's kept session instead.
	Grants, Reused int64
	// CapacityAnswers counts capacity answers absorbed (the command did not
	// run and was tried again).
	CapacityAnswers int64
	// Throttled counts 429 answers without a capacity code (to any
	// request), each honoured with its Retry-After.
	Throttled int64
	// Failovers counts the times a pool could not be reached or answered
	// 503 (to an execution, a delete or a listing) and was avoided for a
	// while.
	Failovers int64
	// Reclaims counts kept sessions deleted to make room for waiting users
	// of this fleet; Yielded counts kept sessions deleted because a listing
	// showed their pool full (another replica may be waiting).
	Reclaims, Yielded int64
	// Deletes counts sessions deleted by the fleet (release, reclaim, Reap);
	// DeleteFailures counts deletes that failed and were tried again.
	Deletes, DeleteFailures int64
	// Lists counts listings of a pool's sessions.
	Lists int64
}

// Stats returns a snapshot of the fleet's state.
func (f *Fleet) Stats() Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	s := Stats{
		Waiting: len(f.waiters), Grants: f.stats.grants.Load(), Reused: f.stats.reused.Load(),
		CapacityAnswers: f.stats.capacityAnswers.Load(), Throttled: f.stats.throttled.Load(), Failovers: f.stats.failovers.Load(),
		Reclaims: f.stats.reclaims.Load(), Yielded: f.stats.yielded.Load(), Deletes: f.stats.deletes.Load(),
		DeleteFailures: f.stats.deleteFailures.Load(), Lists: f.stats.lists.Load(),
	}
	for _, p := range f.pools {
		ps := PoolStats{Name: p.cfg.Name, Live: p.live, InUse: p.inUse, Kept: p.kept, Deleting: len(p.doomed),
			MaxConcurrentSessions: p.cfg.MaxConcurrentSessions, Limit: p.limit(), Down: !p.usable(now)}
		if ps.Down {
			ps.Err = p.downErr
		}
		if p.notBefore.After(now) {
			ps.RetryAt = p.notBefore
		}
		s.Pools = append(s.Pools, ps)
	}
	return s
}

// Close deletes the sessions the fleet keeps, stops the background reaper
// and waits, until ctx ends, for the deletes under way (each retried a
// bounded number of times, honouring Retry-After, then checked against the
// pool's session listing). Calls waiting for a slot fail with ErrClosed;
// leases still held are deleted when released; later calls, Reap included,
// return ErrClosed.
//
// If sessions remain that Close could not delete, it returns an error that
// says how many and in which pools, joined with the last failure of each
// pool (errors.Is and errors.As see them). They are released by their
// pool's cooldown, or by Reap of the next Fleet with the same key.
func (f *Fleet) Close(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil
	}
	f.closed = true
	for _, w := range f.waiters {
		close(w.ch) // granted stays nil: the waiter sees ErrClosed
	}
	f.waiters = nil
	for _, us := range f.keptLocked() {
		f.dropKeptLocked(us, false)
	}
	if f.timer != nil {
		f.timer.Stop()
	}
	var idle chan struct{}
	if f.janitors > 0 {
		idle = make(chan struct{})
		f.janitorsIdle = idle
		for _, p := range f.pools {
			if p.janitor {
				f.startJanitorLocked(p) // wake it: it gives up sooner now
			}
		}
	}
	f.mu.Unlock()
	close(f.stop)
	reaper := make(chan struct{})
	go func() {
		f.wg.Wait()
		close(reaper)
	}()
	var ctxErr error
	for _, ch := range []chan struct{}{idle, reaper} {
		if ch == nil {
			continue
		}
		select {
		case <-ch:
		case <-ctx.Done():
			ctxErr = ctx.Err()
		}
		if ctxErr != nil {
			break
		}
	}
	f.cancel()
	return f.leftoverError(ctxErr)
}

// leftoverError describes the sessions Close leaves behind, or nil.
func (f *Fleet) leftoverError(ctxErr error) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var parts []string
	var errs []error
	total := 0
	for _, p := range f.pools {
		n := len(p.doomed)
		if n == 0 {
			continue
		}
		total += n
		parts = append(parts, fmt.Sprintf("%d in pool %q", n, p.cfg.Name))
		var last []error
		for _, d := range p.doomed {
			if d.lastErr != nil {
				last = append(last, d.lastErr)
			}
		}
		sort.Slice(last, func(i, j int) bool { return last[i].Error() < last[j].Error() })
		if len(last) > 0 {
			errs = append(errs, fmt.Errorf("pool %q: %w", p.cfg.Name, last[0]))
		}
	}
	if total == 0 {
		return nil
	}
	msg := fmt.Sprintf("fleet: Close could not delete %d session(s): %s; they hold their slots until the pools' cooldown ends or Reap of a Fleet with the same key deletes them", total, strings.Join(parts, ", "))
	if ctxErr != nil {
		msg += " (Close stopped waiting: " + ctxErr.Error() + ")"
		errs = append(errs, ctxErr)
	}
	return errors.Join(append([]error{errors.New(msg)}, errs...)...)
}
