package fleet

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/shellpool/shellpool/sessions"
)

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
	trial     bool
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
