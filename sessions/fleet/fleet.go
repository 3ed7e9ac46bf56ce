package fleet

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/google/uuid"

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
	// DefaultKeepIdle. Keep it below the pools' cooldown period. A kept
	// session is deleted sooner when a user of this fleet waits for a
	// slot, or after a second when a listing shows its pool full.
	KeepIdle time.Duration
	// ReapIdle is how long a session of this layer (IDs.Owns) that this
	// Fleet is not using must have been idle, by its lastAccessedAt, before
	// Reap deletes it; default DefaultReapIdle. Keep it above your longest
	// command, since another process with the same key may be running one.
	ReapIdle time.Duration
	// ReapInterval, when positive, runs Reap in the background at this
	// interval until Close.
	ReapInterval time.Duration
	// MaxBackoff bounds the fleet's own backoff between attempts after a
	// capacity answer or a pool failure, and the Retry-After of a capacity
	// answer; default DefaultMaxBackoff. The Retry-After of a 429 or 503
	// is always honoured in full (up to five minutes), even when it is
	// longer.
	MaxBackoff time.Duration
}

// Fleet runs users' commands over one or more session pools: each user in
// their own session (identifier from IDs), callers queued fairly when the
// pools are full instead of failing, sessions released and deleted in the
// background so that none leak, users spread over pools with spill-over and
// fail-over. It is safe for concurrent use; create one per service replica
// and Close it at the end.
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

	// janitors counts the pools' janitor goroutines; janitorsIdle, when
	// set, is closed when the last one stops (Close waits on it).
	janitors     int
	janitorsIdle chan struct{}

	wg     sync.WaitGroup // the reaper
	stop   chan struct{}  // closed by Close
	ctx    context.Context
	cancel context.CancelFunc
	stats  counters
}

type counters struct {
	capacityAnswers, throttled, failovers, reclaims, yielded, deletes, deleteFailures, grants, reused, lists atomic.Int64
}

type poolState struct {
	cfg   Pool
	index int

	// guarded by Fleet.mu
	live      int       // sessions of this fleet in the pool: in use, kept or doomed
	inUse     int       // held by leases
	kept      int       // idle, kept for their users
	effCap    int       // what the pool proved to hold for us (<= cap)
	notBefore time.Time // no request to the pool before (Retry-After, backoff)
	// capNotBefore: no new session in the pool before (a capacity
	// answer's Retry-After), unless a slot is seen to free first.
	capNotBefore time.Time
	halfOpen     bool      // after a refusal: one new session at a time until one works
	trials       int       // new sessions granted while halfOpen, not yet resolved
	streak       int       // refusals in a row
	downUntil    time.Time // unreachable or refusing until
	downErr      error
	downCount    int
	probes       int                // slots granted beyond effCap, not yet resolved
	doomed       map[string]*doomed // sessions to delete, still counted in live
	janitor      bool               // a janitor goroutine runs for the pool
	kick         chan struct{}      // wakes the janitor
	nextList     time.Time          // the janitor's next listing
	listFails    int                // listings failed in a row

	// contract (guarded by cmu)
	cmu      sync.Mutex
	probed   bool
	contract Contract
	clients  map[sessions.Dialect]*sessions.Client
}

// doomed is a session the fleet deletes in the background.
type doomed struct {
	id       string
	reclaim  bool // deleted to make room for a waiter
	attempts int  // failed deletes in this round
	rounds   int  // rounds that ended with the pool still listing it
	since    time.Time
	nextAt   time.Time
	inflight bool
	lastErr  error
	// listedStuck: a listing (or a failed attempt at one) came after the
	// attempts of this round ran out.
	listedStuck bool
}

type sessionState int

const (
	stateNone  sessionState = iota // no session of the user is held
	stateInUse                     // a lease holds it
	stateKept                      // idle, kept for the user's next call
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
	trial   bool // granted while the pool was half open
	reused  bool // granted the user's kept session
	since   time.Time
}

// New creates a Fleet. It checks the options and returns a
// *sessions.ArgumentError for a missing key, pool or capacity; it sends
// nothing (each pool's contract is probed on its first use). When
// IDs.Replica is empty, New picks a random one: see "Running several
// replicas" in the package doc.
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
	if opts.ReapInterval < 0 {
		return nil, argumentError("Options.ReapInterval", "is negative; use zero (no background reaper) or a positive interval")
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
	if f.ids.Replica == "" {
		var b [6]byte
		_, _ = rand.Read(b[:])
		f.ids.Replica = hex.EncodeToString(b[:])
	}
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
		ps := &poolState{cfg: p, index: i, effCap: p.MaxConcurrentSessions, doomed: map[string]*doomed{},
			kick: make(chan struct{}, 1), clients: map[sessions.Dialect]*sessions.Client{}}
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

// Replica returns the replica name mixed into this fleet's session
// identifiers (IDs.Replica, or the random one New picked).
func (f *Fleet) Replica() string { return f.ids.Replica }

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
// Input is checked first: a bad user, command or option returns a
// *sessions.ArgumentError at once, without a request or a slot.
//
// Answers that prove the command did not run are absorbed: capacity
// answers (404 or 429 MaxConcurrentSessionsReached) and 429 wait,
// honouring Retry-After, and try again; a pool that cannot be reached or
// answers 503 is avoided for a while and the call moves to another pool.
// Any other failure is returned, and a command is never sent twice after an
// answer that leaves open whether it ran. The contract probe (see Contract)
// runs on a pool's first call. If ctx ends first, the error matches
// ctx.Err() and never ErrPoolAtCapacity.
//
// With ReleaseKeep, consecutive calls of one user in this replica usually
// share a session (files persist), but a session may be reclaimed for
// another user between calls; hold a Lease (Acquire or Do) when state must
// persist. Calls of the same user in other replicas run in their own
// sessions (see "Running several replicas" in the package doc).
func (f *Fleet) Execute(ctx context.Context, u User, cmd sessions.Command, options *ExecuteOptions) (ExecuteResponse, error) {
	var o ExecuteOptions
	if options != nil {
		o = *options
	}
	if _, err := f.ids.ID(u); err != nil {
		return ExecuteResponse{}, err
	}
	if err := sessions.ValidateCommand(cmd); err != nil {
		return ExecuteResponse{}, err
	}
	if err := validateOperationID(o.OperationID); err != nil {
		return ExecuteResponse{}, err
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
	if ctx == nil {
		return nil, argumentError("ctx", "is nil; pass a context such as context.Background()")
	}
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
	if fn == nil {
		return argumentError("fn", "is nil; pass the function to run with the lease")
	}
	if _, err := f.ids.ID(u); err != nil {
		return err
	}
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
	if ctx == nil {
		return argumentError("ctx", "is nil; pass a context such as context.Background()")
	}
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
		// The pool order ignores the replica: every replica sends a user
		// to the same pools.
		shared := f.ids
		shared.Replica = ""
		us = &userState{id: id, order: f.rendezvous(shared.make(shared.Key, u))}
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

// validateOperationID checks ExecuteOptions.OperationID, leaving room for
// the suffixes the fleet adds to attempts after one that did not run.
func validateOperationID(id string) error {
	if len(id) > maxOperationID {
		return argumentError("ExecuteOptions.OperationID", fmt.Sprintf("has %d characters; use at most %d (a UUID has 36), or leave it empty", len(id), maxOperationID))
	}
	if err := sessions.ValidateOperationID(id); err != nil {
		var ae *sessions.ArgumentError
		if errors.As(err, &ae) {
			return argumentError("ExecuteOptions.OperationID", ae.Reason)
		}
		return err
	}
	return nil
}

// maxOperationID leaves room for "-{attempt}-d" within the 256 characters
// sessions accepts.
const maxOperationID = 240
