package fleet

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/shellpool/shellpool/internal/outcome"
	"github.com/shellpool/shellpool/sessions"
)

// Contract is what the fleet learned about a pool on its first use: which
// data-plane api-versions it accepts and which execution body it needs.
// Public sources disagree on both (API.md §1.2, §1.5.2), so one service can
// meet pools that differ.
type Contract struct {
	// APIVersion is the api-version the fleet sends to the pool: the first
	// of Pool.APIVersions the pool accepted, or ClientOptions.APIVersion.
	APIVersion string
	// Accepted and Rejected list the probed api-versions the pool accepted
	// and refused (400 naming the api-version). Both are empty when
	// ClientOptions.APIVersion fixed the version.
	Accepted, Rejected []string
	// Dialect is the execution body the pool takes: sessions.DialectSpec
	// (the specification's) unless an execution with it was refused with a
	// 400 naming the body's fields and the tutorial's body then worked.
	Dialect sessions.Dialect
	// DialectKnown reports that an execution has succeeded with Dialect.
	DialectKnown bool
}

// Contract returns what the fleet has learned about the named pool, and
// false when the pool is unknown or has not been used yet.
func (f *Fleet) Contract(pool string) (Contract, bool) {
	p := f.byName[pool]
	if p == nil {
		return Contract{}, false
	}
	p.cmu.Lock()
	defer p.cmu.Unlock()
	if !p.probed {
		return Contract{}, false
	}
	c := p.contract
	c.Accepted = slices.Clone(c.Accepted)
	c.Rejected = slices.Clone(c.Rejected)
	return c, true
}

// fleetRetry is the retry policy of clients whose Pool.ClientOptions.Retry
// is zero: quick retries of idempotent calls, and none of 429 and 503,
// which the fleet handles itself (capacity waits, fail-over).
var fleetRetry = policy.RetryOptions{
	MaxRetries:    2,
	RetryDelay:    100 * time.Millisecond,
	MaxRetryDelay: time.Second,
	StatusCodes:   []int{http.StatusRequestTimeout, http.StatusInternalServerError, http.StatusBadGateway, http.StatusGatewayTimeout},
}

// newClient builds a sessions.Client for the pool with apiVersion and
// dialect ("" keeps what ClientOptions says).
func (p *poolState) newClient(apiVersion string, d sessions.Dialect) (*sessions.Client, error) {
	var o sessions.ClientOptions
	if p.cfg.ClientOptions != nil {
		o = *p.cfg.ClientOptions
	}
	if apiVersion != "" {
		o.APIVersion = apiVersion
	}
	if d != "" || p.cfg.ClientOptions == nil || p.cfg.ClientOptions.Dialect == "" {
		o.Dialect = d
	}
	if isZeroRetry(o.Retry) {
		o.Retry = fleetRetry
	}
	return sessions.NewClient(p.cfg.Endpoint, p.cfg.Credential, &o)
}

func isZeroRetry(r policy.RetryOptions) bool {
	return r.MaxRetries == 0 && r.TryTimeout == 0 && r.RetryDelay == 0 && r.MaxRetryDelay == 0 && r.StatusCodes == nil && r.ShouldRetry == nil
}

// client returns the pool's client, probing the contract on first use.
func (p *poolState) client(ctx context.Context) (*sessions.Client, error) {
	p.cmu.Lock()
	defer p.cmu.Unlock()
	if !p.probed {
		if err := p.probeLocked(ctx); err != nil {
			return nil, err
		}
	}
	return p.clients[p.contract.Dialect], nil
}

// currentClient returns the pool's client without probing.
func (p *poolState) currentClient() (*sessions.Client, error) {
	p.cmu.Lock()
	defer p.cmu.Unlock()
	if c := p.clients[p.contract.Dialect]; c != nil {
		return c, nil
	}
	c, err := p.newClient(p.contract.APIVersion, p.contract.Dialect)
	if err != nil {
		return nil, err
	}
	p.clients[p.contract.Dialect] = c
	return c, nil
}

// probeLocked learns which api-version to send: the fixed one, or the first
// of Pool.APIVersions that GET /metadata does not refuse as an invalid
// api-version. It sends nothing session-scoped, so it allocates nothing.
func (p *poolState) probeLocked(ctx context.Context) error {
	fixedDialect := sessions.DialectSpec
	if p.cfg.ClientOptions != nil {
		fixedDialect = p.cfg.ClientOptions.Dialect
	}
	if p.cfg.ClientOptions != nil && p.cfg.ClientOptions.APIVersion != "" {
		c, err := p.newClient("", fixedDialect)
		if err != nil {
			return err
		}
		p.contract = Contract{APIVersion: p.cfg.ClientOptions.APIVersion, Dialect: fixedDialect}
		p.clients = map[sessions.Dialect]*sessions.Client{fixedDialect: c}
		p.probed = true
		return nil
	}
	var ct Contract
	ct.Dialect = fixedDialect
	var chosen *sessions.Client
	var firstErr error
	for _, v := range p.cfg.APIVersions {
		c, err := p.newClient(v, fixedDialect)
		if err != nil {
			return err
		}
		_, err = c.GetMetadata(policy.WithRetryOptions(ctx, noRetry), nil)
		switch {
		case err == nil:
			ct.Accepted = append(ct.Accepted, v)
		case apiVersionRefused(err):
			ct.Rejected = append(ct.Rejected, v)
			continue
		default:
			if c := outcome.Classify(err); c.Reason == outcome.Unavailable || c.Reason == outcome.Unreachable || c.Reason == outcome.Throttled || (c.Reason == outcome.Refused && c.Status == 0) {
				return err // try another pool, or later; probe again then
			}
			if errors.Is(err, sessions.ErrUnauthorized) || errors.Is(err, sessions.ErrForbidden) || ctx.Err() != nil {
				return err
			}
			// Some other answer (a pool without /metadata): the version was
			// not refused; take it, unverified.
			ct.Accepted = append(ct.Accepted, v)
			if firstErr == nil {
				firstErr = err
			}
		}
		if chosen == nil {
			chosen = c
			ct.APIVersion = v
		}
	}
	if chosen == nil {
		return argumentError("Pool.APIVersions", fmt.Sprintf("pool %q refused every api-version probed (%s); add one it accepts (its 400 answer lists them) or set ClientOptions.APIVersion", p.cfg.Name, strings.Join(ct.Rejected, ", ")))
	}
	p.contract = ct
	p.clients = map[sessions.Dialect]*sessions.Client{ct.Dialect: chosen}
	p.probed = true
	return nil
}

// alternative returns a client with the other body dialect while the
// pool's dialect is not known yet and was not fixed by ClientOptions.
func (p *poolState) alternative(context.Context) (*sessions.Client, bool) {
	p.cmu.Lock()
	defer p.cmu.Unlock()
	if p.contract.DialectKnown || (p.cfg.ClientOptions != nil && p.cfg.ClientOptions.Dialect != "") {
		return nil, false
	}
	other := sessions.DialectTutorial
	if p.contract.Dialect == sessions.DialectTutorial {
		other = sessions.DialectSpec
	}
	if c := p.clients[other]; c != nil {
		return c, true
	}
	c, err := p.newClient(p.contract.APIVersion, other)
	if err != nil {
		return nil, false
	}
	p.clients[other] = c
	return c, true
}

// learnDialect records that an execution with c's dialect succeeded.
func (p *poolState) learnDialect(c *sessions.Client) {
	p.cmu.Lock()
	defer p.cmu.Unlock()
	if p.contract.DialectKnown {
		return
	}
	for d, x := range p.clients {
		if x == c {
			p.contract.Dialect = d
			p.contract.DialectKnown = true
			return
		}
	}
}

// bodyRefused reports a 400 that names execution body fields: the pool
// wants the other dialect (or the body is wrong either way).
func bodyRefused(err error) bool {
	var re *azcore.ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusBadRequest || apiVersionRefused(err) {
		return false
	}
	msg := err.Error()
	for _, f := range []string{"codeInputType", "executionType", "shellCommand", "execCommandAndArgs", "command"} {
		if strings.Contains(msg, f) {
			return true
		}
	}
	return false
}

// apiVersionRefused reports a 400 that refuses the api-version.
func apiVersionRefused(err error) bool {
	var re *azcore.ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusBadRequest {
		return false
	}
	code := strings.ToLower(re.ErrorCode)
	return strings.Contains(code, "apiversion") || strings.Contains(strings.ToLower(err.Error()), "api-version")
}
