package fleet

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/google/uuid"

	"github.com/shellpool/shellpool/internal/outcome"
	"github.com/shellpool/shellpool/internal/sdkerr"
	"github.com/shellpool/shellpool/sessions"
)

// Defaults of Options fields left zero.
const (
	// DefaultKeepIdle is how long a released session is kept for its
	// user's next call when Options.KeepIdle is zero.
	DefaultKeepIdle = time.Minute
	// DefaultReapIdle is how long a session of this layer must have been
	// idle, as the service reports it, before Reap deletes it, when
	// Options.ReapIdle is zero.
	DefaultReapIdle = 10 * time.Minute
	// DefaultMaxBackoff bounds the wait between attempts after a capacity
	// answer or an unreachable pool when Options.MaxBackoff is zero.
	DefaultMaxBackoff = 5 * time.Second
)

// ErrClosed is returned by calls on a Fleet after Close.
var ErrClosed = errors.New("fleet: the fleet is closed; create another with New")

// argumentError returns the *sessions.ArgumentError fleet reports for refused
// input; its message starts with "fleet: invalid {name}: ", and
// errors.Is(err, sessions.ErrInvalidArgument) matches it.
func argumentError(name, reason string) *sessions.ArgumentError {
	return sdkerr.NewArgument("fleet", name, reason)
}

// Release says what happens to a user's session when a call or lease ends.
type Release int

const (
	// ReleaseKeep keeps the session for the same user's next call until it
	// has been idle for Options.KeepIdle, and deletes it at once when
	// another user is waiting for a slot. It is the default.
	ReleaseKeep Release = iota
	// ReleaseDelete deletes the session as soon as the call ends, so every
	// call starts in a fresh, empty session.
	ReleaseDelete
)

// Pool is one session pool the fleet spreads users over.
type Pool struct {
	// Name identifies the pool in the fleet, in Stats and in errors, and
	// decides the user-to-pool mapping (rendezvous hashing on Name): keep
	// it stable. Required and unique.
	Name string
	// Endpoint is the pool's data-plane endpoint (properties.poolManagementEndpoint).
	Endpoint string
	// Credential authenticates to the data plane; its principal needs the
	// Session Executor role on the pool.
	Credential azcore.TokenCredential
	// ClientOptions configures the pool's sessions.Client. APIVersion or
	// Dialect, when set, are used as given and not probed. When Retry is
	// zero the fleet sets its own (short delays, and no retries of 429 and
	// 503, which the fleet handles itself).
	ClientOptions *sessions.ClientOptions
	// MaxConcurrentSessions is the pool's scaleConfiguration.maxConcurrentSessions
	// (required, >= 1). Read it with PoolFromARM when you have ARM access,
	// or set it by hand.
	MaxConcurrentSessions int
	// APIVersions are the data-plane api-versions to probe, most preferred
	// first, when ClientOptions.APIVersion is empty. Default
	// DefaultAPIVersions().
	APIVersions []string
}

// DefaultAPIVersions returns the api-versions the contract probe tries
// when Pool.APIVersions is empty, most preferred first: the one the shell
// tutorial uses (sessions.DefaultDataPlaneAPIVersion), then the newest.
func DefaultAPIVersions() []string {
	return []string{sessions.DefaultDataPlaneAPIVersion, "2025-10-02-preview"}
}

// Options configures a Fleet.
type Options struct {
	// IDs derives the per-user session identifiers (IDs.Key is required).
	IDs IDs
	// Pools are the pools to use (at least one).
	Pools []Pool
	// Release says what happens to a session after a call; default ReleaseKeep.
	Release Release
	// KeepIdle is how long ReleaseKeep keeps an idle session; default
	// DefaultKeepIdle. Keep it below the pools' cooldown period.
	KeepIdle time.Duration
	// ReapIdle is how long a session of this layer (IDs.Owns) that this
	// Fleet is not using must have been idle, by its lastAccessedAt, before
	// Reap deletes it; default DefaultReapIdle. Keep it above your longest
	// command, since another process with the same key may be running one.
	ReapIdle time.Duration
	// ReapInterval, when positive, runs Reap in the background at this
	// interval until Close.
	ReapInterval time.Duration
	// MaxBackoff bounds the wait between attempts after a capacity answer
	// or a pool failure; default DefaultMaxBackoff. A Retry-After from the
	// service is honoured up to this bound.
	MaxBackoff time.Duration
}

// Fleet runs users' commands over one or more session pools: each user in
// their own session (identifier from IDs), callers queued fairly when the
// pools are full instead of failing, sessions released and reaped so that
// none leak, users spread over pools with spill-over and fail-over. It is
// safe for concurrent use; create one per service and Close it at the end.
type Fleet struct {
	opts   Options
	ids    IDs
	pools  []*poolState
	byName map[string]*poolState

	mu      sync.Mutex
	closed  bool
	users   map[string]*userState // by session identifier
	waiters []*waiter             // FIFO of calls waiting for a slot
	timer   *time.Timer           // wakes dispatch when a pool's backoff ends
	timerAt time.Time
	// reclaiming counts kept sessions being deleted to make room for waiters.
	reclaiming int

	wg     sync.WaitGroup // background deletes and the reaper
	stop   chan struct{}  // closed by Close
	ctx    context.Context
	cancel context.CancelFunc
	stats  counters
}

type counters struct {
	capacityAnswers, failovers, reclaims, deletes, grants, reused atomic.Int64
}

type poolState struct {
	cfg   Pool
	index int

	// guarded by Fleet.mu
	live      int       // sessions of this fleet believed to exist in the pool
	effCap    int       // what the pool proved to hold for us (<= cap)
	retryAt   time.Time // no new sessions before (capacity backoff)
	capStreak int
	downUntil time.Time // unreachable or refusing until
	downErr   error
	downCount int
	probes    int             // slots granted beyond effCap, not yet resolved
	orphans   map[string]bool // sessions left behind by fail-over, still counted in live

	// contract (guarded by cmu)
	cmu      sync.Mutex
	probed   bool
	contract Contract
	clients  map[sessions.Dialect]*sessions.Client
}

type sessionState int

const (
	stateNone     sessionState = iota // no session of the user is known
	stateInUse                        // a lease holds it
	stateKept                         // idle, kept for the user's next call
	stateDeleting                     // being deleted
)

type userState struct {
	id        string
	order     []*poolState // rendezvous order
	pool      *poolState   // where the user's session is (state != none)
	state     sessionState
	allocated bool // the session is known to exist at the service
	keptSince time.Time
	keepGen   int

	// per-user FIFO: only the head ticket may hold a lease
	turn []chan struct{}
}

type waiter struct {
	us      *userState
	ch      chan struct{}
	granted *poolState
	probe   bool // granted beyond the pool's proven capacity
	since   time.Time
}

// New creates a Fleet. It checks the options and returns a
// *sessions.ArgumentError for a missing key, pool or capacity; it sends
// nothing (each pool's contract is probed on its first use).
func New(o *Options) (*Fleet, error) {
	if o == nil {
		return nil, argumentError("options", "must not be nil; set at least IDs.Key and Pools")
	}
	opts := *o
	if err := opts.IDs.validate(); err != nil {
		return nil, err
	}
	if len(opts.Pools) == 0 {
		return nil, argumentError("Options.Pools", "is empty; add at least one Pool (PoolFromARM reads one from Azure Resource Manager)")
	}
	if opts.Release != ReleaseKeep && opts.Release != ReleaseDelete {
		return nil, argumentError("Options.Release", "is unknown; use ReleaseKeep or ReleaseDelete")
	}
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
		n   string
	}{{&opts.KeepIdle, DefaultKeepIdle, "KeepIdle"}, {&opts.ReapIdle, DefaultReapIdle, "ReapIdle"}, {&opts.MaxBackoff, DefaultMaxBackoff, "MaxBackoff"}} {
		if *d.v < 0 {
			return nil, argumentError("Options."+d.n, "is negative; use zero for the default or a positive duration")
		}
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	f := &Fleet{opts: opts, ids: opts.IDs, byName: map[string]*poolState{}, users: map[string]*userState{}}
	f.ids.Key = append([]byte(nil), opts.IDs.Key...)
	for i, p := range opts.Pools {
		name := fmt.Sprintf("Options.Pools[%d]", i)
		switch {
		case p.Name == "":
			return nil, argumentError(name+".Name", "is empty; name every pool (the name decides the user-to-pool mapping, so keep it stable)")
		case f.byName[p.Name] != nil:
			return nil, argumentError(name+".Name", fmt.Sprintf("%q is used twice; pool names must be unique", p.Name))
		case p.Credential == nil:
			return nil, argumentError(name+".Credential", "is nil; pass a credential whose principal has the Session Executor role on the pool")
		case p.MaxConcurrentSessions < 1:
			return nil, argumentError(name+".MaxConcurrentSessions", fmt.Sprintf("is %d; set the pool's maxConcurrentSessions by hand or read it with PoolFromARM", p.MaxConcurrentSessions))
		}
		if len(p.APIVersions) == 0 {
			p.APIVersions = DefaultAPIVersions()
		}
		ps := &poolState{cfg: p, index: i, effCap: p.MaxConcurrentSessions, orphans: map[string]bool{}, clients: map[sessions.Dialect]*sessions.Client{}}
		// Build one client now so that a bad endpoint fails here, not at the first call.
		if _, err := ps.newClient("", ""); err != nil {
			return nil, fmt.Errorf("fleet: pool %q: %w", p.Name, err)
		}
		f.pools = append(f.pools, ps)
		f.byName[p.Name] = ps
	}
	f.ctx, f.cancel = context.WithCancel(context.Background())
	f.stop = make(chan struct{})
	if opts.ReapInterval > 0 {
		f.wg.Add(1)
		go f.reapLoop()
	}
	return f, nil
}

// SessionID returns the session identifier the fleet uses for u (see IDs.ID).
// It is a secret.
func (f *Fleet) SessionID(u User) (string, error) { return f.ids.ID(u) }

// ExecuteOptions contains the optional parameters of Fleet.Execute.
type ExecuteOptions struct {
	// OperationID is sent as the operation-id header (default: a random
	// UUID per call); see sessions.ExecuteOptions.
	OperationID string
	// RetryAmbiguousFailures is passed to sessions.ExecuteOptions. The
	// fleet itself only ever resends a command after an answer that proves
	// it did not run.
	RetryAmbiguousFailures bool
}

// ExecuteResponse is the result of Fleet.Execute.
type ExecuteResponse struct {
	sessions.ExecuteResponse
	// Pool is the name of the pool the command ran in.
	Pool string
	// Waited is how long the call waited for its turn and a slot.
	Waited time.Duration
}

// Execute runs cmd in u's session and waits for it to finish, like
// sessions.Client.Execute. When every pool is full the call waits in line
// (fairly: one user's calls run one at a time, and users waiting for a slot
// are served first come, first served) until a slot frees or ctx ends.
//
// Answers that prove the command did not run are absorbed: capacity
// answers (404 or 429 MaxConcurrentSessionsReached) wait with backoff,
// honouring Retry-After, and try again; a pool that cannot be reached or
// answers 503 is avoided for a while and the call moves to another pool.
// Any other failure is returned, and a command is never sent twice after an
// answer that leaves open whether it ran. The contract probe (see Contract)
// runs on a pool's first call. If ctx ends first, the error matches
// ctx.Err() and never ErrPoolAtCapacity.
//
// With ReleaseKeep, consecutive calls of one user usually share a session
// (files persist), but a session may be reclaimed for another user between
// calls; hold a Lease (Acquire or Do) when state must persist.
func (f *Fleet) Execute(ctx context.Context, u User, cmd sessions.Command, options *ExecuteOptions) (ExecuteResponse, error) {
	var o ExecuteOptions
	if options != nil {
		o = *options
	}
	if o.OperationID == "" {
		o.OperationID = uuid.NewString()
	}
	var resp ExecuteResponse
	attempt := 0
	err := f.withLease(ctx, u, true, func(ctx context.Context, l *Lease) error {
		opID := o.OperationID
		if attempt > 0 {
			// The earlier attempt did not run; a new id keeps a service
			// that remembers failed operation-ids from answering with it.
			opID = fmt.Sprintf("%s-%d", o.OperationID, attempt)
		}
		attempt++
		r, err := l.execute(ctx, cmd, &sessions.ExecuteOptions{OperationID: opID, RetryAmbiguousFailures: o.RetryAmbiguousFailures})
		resp.ExecuteResponse = r
		resp.Pool = l.Pool()
		resp.Waited = l.waited
		return err
	})
	return resp, err
}

// AcquireOptions contains the optional parameters of Fleet.Acquire and Fleet.Do.
type AcquireOptions struct {
	// Lazy skips allocating the session before the lease is handed out.
	// By default Acquire runs "true" in a new session so that the lease's
	// first call cannot meet a capacity answer; with Lazy that call may.
	Lazy bool
}

// Acquire waits for u's turn and a slot, and returns a Lease on u's
// session, already allocated in a pool (unless options.Lazy). Waiting,
// capacity answers and pool failures are handled as for Execute. Call
// Lease.Release when done; until then the session holds a slot and u's
// other calls wait.
func (f *Fleet) Acquire(ctx context.Context, u User, options *AcquireOptions) (*Lease, error) {
	lazy := options != nil && options.Lazy
	t, us, err := f.enter(ctx, u)
	if err != nil {
		return nil, err
	}
	l, err := f.lease(ctx, us, t, !lazy)
	if err != nil {
		f.leave(us, t)
		return nil, err
	}
	l.ticket = t
	return l, nil
}

// Do runs fn with a Lease on u's session (see Acquire) and releases it when
// fn returns. fn's error is returned as is; Do never calls fn twice. This is
// the hook for layers above Execute: fn receives the lease's
// *sessions.SessionClient (Lease.Session) or its client and identifier. fn must
// make its calls through the lease, not through the Fleet for the same
// user, which would wait for fn to return.
func (f *Fleet) Do(ctx context.Context, u User, fn func(ctx context.Context, l *Lease) error, options *AcquireOptions) error {
	l, err := f.Acquire(ctx, u, options)
	if err != nil {
		return err
	}
	defer l.Release()
	return fn(ctx, l)
}

// withLease runs fn with a lease, again with a new lease after a failure
// that proves the command did not run (retry is true only for fn that are
// safe to call again then).
func (f *Fleet) withLease(ctx context.Context, u User, retry bool, fn func(context.Context, *Lease) error) error {
	start := time.Now()
	t, us, err := f.enter(ctx, u)
	if err != nil {
		return err
	}
	defer f.leave(us, t)
	front := false
	for {
		l, err := f.grant(ctx, us, front)
		if err != nil {
			return err
		}
		l.waited = time.Since(start)
		err = fn(ctx, l)
		if retry && err != nil {
			if f.notRun(l, err) {
				front = true
				continue
			}
		}
		f.release(l)
		return err
	}
}

// ---- per-user turns ----

// enter queues a call behind u's other calls and waits for its turn.
func (f *Fleet) enter(ctx context.Context, u User) (chan struct{}, *userState, error) {
	id, err := f.ids.ID(u)
	if err != nil {
		return nil, nil, err
	}
	t := make(chan struct{})
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil, nil, ErrClosed
	}
	us := f.users[id]
	if us == nil {
		us = &userState{id: id, order: f.rendezvous(id)}
		f.users[id] = us
	}
	us.turn = append(us.turn, t)
	first := len(us.turn) == 1
	f.mu.Unlock()
	if first {
		close(t)
		return t, us, nil
	}
	select {
	case <-t:
		return t, us, nil
	case <-ctx.Done():
		f.leave(us, t)
		return nil, nil, fmt.Errorf("fleet: gave up waiting for the user's earlier calls to finish: %w", ctx.Err())
	}
}

// leave ends the call's turn and starts the next of the user's calls.
func (f *Fleet) leave(us *userState, t chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, c := range us.turn {
		if c == t {
			us.turn = append(us.turn[:i], us.turn[i+1:]...)
			if i == 0 && len(us.turn) > 0 {
				close(us.turn[0])
			}
			break
		}
	}
	if len(us.turn) == 0 && us.state == stateNone {
		delete(f.users, us.id)
	}
}

// rendezvous orders the pools for a session identifier by highest random
// weight: stable for the user, and adding or removing a pool moves only the
// users whose first choice it was.
func (f *Fleet) rendezvous(id string) []*poolState {
	type scored struct {
		p *poolState
		s uint64
	}
	all := make([]scored, len(f.pools))
	for i, p := range f.pools {
		h := sha256.Sum256([]byte(p.cfg.Name + "\x00" + id))
		all[i] = scored{p, binary.BigEndian.Uint64(h[:8])}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].s > all[j].s })
	out := make([]*poolState, len(all))
	for i, s := range all {
		out[i] = s.p
	}
	return out
}

// ---- slots ----

// limit is how many sessions of this fleet the pool may hold now.
func (p *poolState) limit(now time.Time) int {
	c := p.cfg.MaxConcurrentSessions
	if p.effCap >= c {
		return c
	}
	if now.Before(p.retryAt) || p.probes > 0 {
		return p.effCap
	}
	return p.effCap + 1 // probe whether a slot came free
}

func (p *poolState) usable(now time.Time) bool { return !now.Before(p.downUntil) }

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
	now := time.Now()
	if us.state == stateKept && us.pool.usable(now) {
		us.state = stateInUse
		us.keepGen++
		p := us.pool
		f.mu.Unlock()
		f.stats.reused.Add(1)
		return f.newLease(us, p), nil
	}
	if us.state == stateKept {
		// Its pool is down: the session stays there until Reap finds it.
		us.pool.orphans[us.id] = true
		us.state, us.pool, us.allocated = stateNone, nil, false
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
			f.mu.Unlock()
			return nil, fmt.Errorf("fleet: no session slot became free in %d pool(s) within the context (%d call(s) still waiting); raise maxConcurrentSessions, add pools, release leases sooner or allow a longer wait: %w", len(f.pools), n, ctx.Err())
		}
		f.mu.Unlock()
	}
	if w.granted == nil {
		return nil, ErrClosed
	}
	l := f.newLease(us, w.granted)
	l.probe = w.probe
	l.waited = time.Since(start)
	return l, nil
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
	now := time.Now()
	for i := 0; i < len(f.waiters); {
		w := f.waiters[i]
		us := w.us
		if us.state != stateNone {
			i++ // its own session is still being deleted; serve the next
			continue
		}
		var pick *poolState
		for _, p := range us.order {
			if p.usable(now) && p.live < p.limit(now) {
				pick = p
				break
			}
		}
		if pick == nil {
			break // every waiter takes any pool: no one behind can be served either
		}
		f.waiters = append(f.waiters[:i], f.waiters[i+1:]...)
		if pick.live >= pick.effCap {
			pick.probes++
			w.probe = true
		}
		pick.live++
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
	need := len(f.waiters) - f.reclaiming
	if need > 0 {
		for _, v := range f.keptLocked() {
			if need == 0 {
				break
			}
			if !v.pool.usable(now) {
				continue
			}
			need--
			f.reclaiming++
			f.stats.reclaims.Add(1)
			f.deleteLocked(v, true)
		}
	}
	// Wake up when a backoff that blocks the head waiter ends.
	var at time.Time
	for _, p := range f.pools {
		for _, t := range []time.Time{p.retryAt, p.downUntil} {
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

// deleteLocked starts deleting us's session in the background. When it
// ends the slot is free and waiters are dispatched.
func (f *Fleet) deleteLocked(us *userState, reclaim bool) {
	p := f.markDeletingLocked(us)
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		err := f.deleteSession(p, us.id)
		f.mu.Lock()
		defer f.mu.Unlock()
		f.deletedLocked(us, p, err, reclaim)
	}()
}

// markDeletingLocked marks us's session as being deleted and returns its pool.
func (f *Fleet) markDeletingLocked(us *userState) *poolState {
	us.state = stateDeleting
	us.keepGen++
	return us.pool
}

// deletedLocked records the end of a delete of us's session in p.
func (f *Fleet) deletedLocked(us *userState, p *poolState, err error, reclaim bool) {
	if reclaim {
		f.reclaiming--
	}
	if us.state == stateDeleting && us.pool == p {
		us.state = stateNone
		us.pool = nil
		us.allocated = false
		if len(us.turn) == 0 {
			delete(f.users, us.id)
		}
	}
	if err != nil {
		p.orphans[us.id] = true // still counted; Reap retries
		if k, wait := classify(err); k == failDown {
			f.poolDownLocked(p, err, wait)
		}
	} else {
		p.live--
	}
	f.dispatchLocked()
}

// deleteSession deletes a session; a session the pool no longer has counts
// as deleted.
func (f *Fleet) deleteSession(p *poolState, id string) error {
	// Not f.ctx: a lease released after Close must still free its slot.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := p.client(ctx)
	if err != nil {
		return err
	}
	_, err = c.DeleteSession(ctx, id, nil)
	if err == nil || errors.Is(err, sessions.ErrSessionNotFound) {
		f.stats.deletes.Add(1)
		return nil
	}
	return err
}

// release ends a lease that did its work (or failed in a way that may have
// run the command).
func (f *Fleet) release(l *Lease) {
	f.mu.Lock()
	defer f.mu.Unlock()
	us, p := l.us, l.p
	f.resolveProbeLocked(l, true)
	if us.state != stateInUse || us.pool != p {
		return
	}
	if l.allocated {
		us.allocated = true
	}
	if !p.usable(time.Now()) {
		// The pool failed under the lease: the session stays there,
		// counted, until Reap finds it again.
		p.orphans[us.id] = true
		us.state, us.pool = stateNone, nil
		f.dispatchLocked()
		return
	}
	switch {
	case f.opts.Release == ReleaseDelete || f.closed:
		f.deleteLocked(us, false)
		return
	case len(f.waiters) > f.reclaiming:
		// Someone waits for a slot: this one goes to them.
		f.reclaiming++
		f.stats.reclaims.Add(1)
		f.deleteLocked(us, true)
		return
	}
	us.state = stateKept
	us.keptSince = time.Now()
	us.keepGen++
	gen := us.keepGen
	time.AfterFunc(f.opts.KeepIdle, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if us.state == stateKept && us.keepGen == gen {
			f.deleteLocked(us, false)
		}
	})
}

// notRun handles a failure that proves the command did not run: it frees
// the lease's slot, updates what the fleet knows of the pool and reports
// true, so the call is tried again. Other failures report false.
func (f *Fleet) notRun(l *Lease, err error) bool {
	kind, wait := classify(err)
	if kind == failOther {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	us, p := l.us, l.p
	now := time.Now()
	f.resolveProbeLocked(l, false)
	switch kind {
	case failCapacity, failThrottled:
		if kind == failCapacity {
			f.stats.capacityAnswers.Add(1)
			// The pool holds no more than our other sessions there.
			p.effCap = max(0, p.live-1)
		}
		p.capStreak++
		p.retryAt = now.Add(f.backoff(p.capStreak, wait))
	case failDown:
		f.poolDownLocked(p, err, wait)
	}
	if us.state == stateInUse && us.pool == p {
		if kind == failDown && (us.allocated || l.allocated) {
			p.orphans[us.id] = true // it lives on there; Reap deletes it later
		} else {
			p.live--
		}
		us.state, us.pool, us.allocated = stateNone, nil, false
	}
	f.dispatchLocked()
	return true
}

// poolDownLocked records that p could not be reached or refused: it is
// avoided for a backoff that grows with each failure in a row.
func (f *Fleet) poolDownLocked(p *poolState, err error, wait time.Duration) {
	f.stats.failovers.Add(1)
	p.downCount++
	p.downErr = err
	p.downUntil = time.Now().Add(f.backoff(p.downCount, wait))
}

// resolveProbeLocked settles a lease granted beyond the pool's proven
// capacity: when its session was allocated, the pool holds at least as many
// of ours as now live there.
func (f *Fleet) resolveProbeLocked(l *Lease, ok bool) {
	p := l.p
	if ok && l.allocated {
		p.effCap = min(p.cfg.MaxConcurrentSessions, max(p.effCap, p.live))
		p.capStreak = 0
		p.downCount = 0
	}
	if l.probe {
		l.probe = false
		p.probes--
	}
}

// backoff is the wait before the next attempt: Retry-After when the service
// sent one, else exponential from 50 ms, capped at MaxBackoff.
func (f *Fleet) backoff(streak int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return min(retryAfter, f.opts.MaxBackoff)
	}
	d := 50 * time.Millisecond << min(streak-1, 10)
	return min(d, f.opts.MaxBackoff)
}

// ---- failure classes ----

type failKind int

const (
	failOther     failKind = iota
	failCapacity           // MaxConcurrentSessionsReached: did not run
	failThrottled          // 429 without the capacity code: did not run
	failDown               // never connected, or 503: did not run
)

// classify sorts an Execute error by what it proves (internal/outcome, the
// rules sessions applies to its own retries), and returns the service's
// Retry-After.
func classify(err error) (failKind, time.Duration) {
	c := outcome.Classify(err)
	switch c.Reason {
	case outcome.Capacity:
		return failCapacity, c.RetryAfter
	case outcome.Throttled:
		return failThrottled, c.RetryAfter
	case outcome.Unavailable, outcome.Unreachable:
		return failDown, c.RetryAfter
	case outcome.Refused:
		if c.Status == 0 {
			return failDown, 0 // DNS or TLS: this pool cannot be reached
		}
	}
	return failOther, 0
}

// ---- leases ----

// Lease is a user's session, held until Release: the hook for code that
// makes its own calls (the Run/Start layer, file transfers). Its methods are
// safe for concurrent use.
type Lease struct {
	f  *Fleet
	us *userState
	p  *poolState

	sess      *sessions.SessionClient
	allocated bool
	probe     bool
	waited    time.Duration
	ticket    chan struct{}
	released  atomic.Bool
}

func (f *Fleet) newLease(us *userState, p *poolState) *Lease {
	return &Lease{f: f, us: us, p: p, allocated: us.allocated}
}

// lease waits for a slot for us and, when allocate is set, makes sure the
// session exists, trying again after failures that prove nothing ran.
func (f *Fleet) lease(ctx context.Context, us *userState, t chan struct{}, allocate bool) (*Lease, error) {
	front := false
	for {
		l, err := f.grant(ctx, us, front)
		if err != nil {
			return nil, err
		}
		if !allocate || l.allocated {
			if _, err := l.p.client(ctx); err != nil {
				if f.notRun(l, err) {
					front = true
					continue
				}
				f.release(l)
				return nil, err
			}
			return l, nil
		}
		_, err = l.execute(ctx, sessions.ExecCommand("true"), nil)
		if err == nil {
			return l, nil
		}
		if f.notRun(l, err) {
			front = true
			continue
		}
		f.release(l)
		return nil, err
	}
}

// Pool returns the name of the pool the lease's session is in.
func (l *Lease) Pool() string { return l.p.cfg.Name }

// SessionID returns the session identifier. It is a secret.
func (l *Lease) SessionID() string { return l.us.id }

// Client returns the sessions.Client of the lease's pool, set up with the
// pool's probed contract (api-version and body dialect).
func (l *Lease) Client() *sessions.Client {
	c, _ := l.p.currentClient()
	return c
}

// Session returns a *sessions.SessionClient on the lease's session, for layers
// that take one. Do not Close it: Release decides what happens to the
// session.
func (l *Lease) Session() *sessions.SessionClient {
	if l.sess == nil {
		l.sess = l.Client().NewSessionClient(l.us.id)
	}
	return l.sess
}

// Execute runs cmd in the lease's session (sessions.Client.Execute with the
// pool's contract). The fleet does not retry it: failures are returned.
func (l *Lease) Execute(ctx context.Context, cmd sessions.Command, options *sessions.ExecuteOptions) (sessions.ExecuteResponse, error) {
	if l.released.Load() {
		return sessions.ExecuteResponse{}, errors.New("fleet: the lease was released; Acquire another")
	}
	return l.execute(ctx, cmd, options)
}

// Release ends the lease: the session is kept for the user or deleted,
// according to Options.Release, and the user's next call may start. It is
// idempotent.
func (l *Lease) Release() {
	if l.released.Swap(true) {
		return
	}
	l.f.release(l)
	if l.ticket != nil {
		l.f.leave(l.us, l.ticket)
	}
}

// String returns a loggable description of the lease (the identifier is
// redacted).
func (l *Lease) String() string {
	return "fleet.Lease(" + sessions.RedactSessionID(l.us.id) + " in " + l.p.cfg.Name + ")"
}

// noRetry makes the sessions client return 429, 503 and connection
// failures of an execution at once: the fleet decides what to do with them.
var noRetry = policy.RetryOptions{MaxRetries: -1}

// execute sends cmd with the pool's contract, learning the body dialect on
// the pool's first execution.
func (l *Lease) execute(ctx context.Context, cmd sessions.Command, o *sessions.ExecuteOptions) (sessions.ExecuteResponse, error) {
	p := l.p
	c, err := p.client(ctx)
	if err != nil {
		return sessions.ExecuteResponse{}, err
	}
	rctx := policy.WithRetryOptions(ctx, noRetry)
	resp, err := c.Execute(rctx, l.us.id, cmd, o)
	if err != nil && bodyRefused(err) {
		if alt, ok := p.alternative(ctx); ok {
			o2 := sessions.ExecuteOptions{}
			if o != nil {
				o2 = *o
			}
			if o2.OperationID != "" {
				o2.OperationID += "-d"
			}
			resp2, err2 := alt.Execute(rctx, l.us.id, cmd, &o2)
			if err2 == nil {
				p.learnDialect(alt)
				l.allocated = true
				return resp2, nil
			}
			if !bodyRefused(err2) {
				return resp2, err2
			}
		}
		return resp, err
	}
	if err == nil {
		p.learnDialect(c)
		l.allocated = true
	}
	return resp, err
}

// ---- stats ----

// PoolStats describes one pool as the fleet sees it.
type PoolStats struct {
	// Name is the pool's name.
	Name string
	// Live is the number of sessions of this fleet in the pool (in use,
	// kept, being deleted, or left behind by a fail-over).
	Live int
	// InUse is the number of sessions held by leases or calls.
	InUse int
	// Kept is the number of idle sessions kept for their users.
	Kept int
	// MaxConcurrentSessions is the configured capacity.
	MaxConcurrentSessions int
	// Limit is how many sessions the fleet allows itself in the pool now:
	// lower than MaxConcurrentSessions after capacity answers showed that
	// others hold slots.
	Limit int
	// Down reports that the pool is being avoided after it could not be
	// reached or refused requests; Err is the failure that made it so.
	Down bool
	Err  error
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
	// Failovers counts the times a pool could not be reached or answered
	// 503 (to an execution or a delete) and was avoided for a while.
	Failovers int64
	// Reclaims counts kept sessions deleted to make room for waiting users.
	Reclaims int64
	// Deletes counts sessions deleted by the fleet (release, reclaim, Reap).
	Deletes int64
}

// Stats returns a snapshot of the fleet's state.
func (f *Fleet) Stats() Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	s := Stats{
		Waiting: len(f.waiters), Grants: f.stats.grants.Load(), Reused: f.stats.reused.Load(),
		CapacityAnswers: f.stats.capacityAnswers.Load(), Failovers: f.stats.failovers.Load(),
		Reclaims: f.stats.reclaims.Load(), Deletes: f.stats.deletes.Load(),
	}
	for _, p := range f.pools {
		ps := PoolStats{Name: p.cfg.Name, Live: p.live, MaxConcurrentSessions: p.cfg.MaxConcurrentSessions, Limit: p.limit(now), Down: !p.usable(now)}
		if ps.Down {
			ps.Err = p.downErr
		}
		for _, us := range f.users {
			if us.pool != p {
				continue
			}
			switch us.state {
			case stateInUse:
				ps.InUse++
			case stateKept:
				ps.Kept++
			}
		}
		s.Pools = append(s.Pools, ps)
	}
	return s
}

// Close deletes the sessions the fleet keeps, stops the background reaper
// and waits for deletes under way. Calls waiting for a slot fail with
// ErrClosed; leases still held are deleted when released. Sessions Close
// could not delete are left to their pool's cooldown, or to Reap by the
// next Fleet with the same key.
func (f *Fleet) Close(ctx context.Context) error {
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
		f.deleteLocked(us, false)
	}
	if f.timer != nil {
		f.timer.Stop()
	}
	f.mu.Unlock()
	close(f.stop)
	done := make(chan struct{})
	go func() {
		f.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		f.cancel()
		return nil
	case <-ctx.Done():
		f.cancel()
		return fmt.Errorf("fleet: Close gave up waiting for session deletes: %w", ctx.Err())
	}
}
