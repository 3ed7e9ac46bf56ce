package sessions

import (
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"

	"github.com/shellpool/shellpool/internal/outcome"
)

// executeGuardMark is the operation value (policy.Request.SetOperationValue)
// that marks a POST /executions whose ambiguous failures must not be
// retried. Operation values belong to the request and survive the retry
// policy's per-try clones; unlike a context value, setting one allocates
// nothing.
type executeGuardMark struct{}

// guardExecution marks req so that executeGuard stops azcore's retry policy
// after any failure that may have run the command.
func guardExecution(req *policy.Request) {
	req.SetOperationValue(executeGuardMark{})
}

// guarded reports whether guardExecution marked req.
func guarded(req *policy.Request) bool {
	var mark executeGuardMark
	return req.OperationValue(&mark)
}

// executeGuard is a per-retry policy, so it sits between azcore's retry
// policy and the transport. For a request marked by guardExecution it turns
// every failed attempt that may have run the command into a non-retriable
// error, which the retry policy returns at once whatever its options say:
// ClientOptions.Retry, or options the caller put on the context with
// policy.WithRetryOptions. Failures that cannot have run the command (see
// safeToRetry) pass through untouched, so the retry policy's own rules
// (MaxRetries, delays, Retry-After, StatusCodes, ShouldRetry) apply to them.
//
// Policies above the retry policy (ClientOptions.PerCallPolicies) see such
// an attempt as an error that unwraps to the transport error or to the
// *azcore.ResponseError of the answer; the client unwraps it again before
// the caller of Execute sees it.
type executeGuard struct{}

// Do implements policy.Policy.
func (executeGuard) Do(req *policy.Request) (*http.Response, error) {
	resp, err := req.Next()
	if !guarded(req) {
		return resp, err
	}
	switch {
	case err != nil:
		if neverConnected(err) {
			return resp, err
		}
		return resp, &ambiguousFailure{err: err}
	case resp.StatusCode >= 200 && resp.StatusCode < 300, safeToRetry(resp, nil):
		return resp, nil
	default:
		return nil, &ambiguousFailure{resp: resp, err: runtime.NewResponseError(resp)}
	}
}

// ambiguousFailure is an attempt of a guarded execution that may have run
// the command: a transport error after the connection was made, or an
// answer (resp) other than success, 429 or 503. It implements NonRetriable,
// which stops azcore's retry policy.
type ambiguousFailure struct {
	resp *http.Response // nil for transport errors
	err  error          // the transport error, or resp as an *azcore.ResponseError
}

func (e *ambiguousFailure) Error() string { return e.err.Error() }

func (e *ambiguousFailure) Unwrap() error { return e.err }

// NonRetriable tells azcore's retry policy not to retry.
func (*ambiguousFailure) NonRetriable() {}

// unguard undoes executeGuard's wrapping: the response it held back, or the
// transport error it wrapped.
func unguard(resp *http.Response, err error) (*http.Response, error) {
	if err == nil {
		return resp, nil // before af, which escapes to the heap
	}
	var af *ambiguousFailure
	if !errors.As(err, &af) {
		return resp, err
	}
	if af.resp != nil {
		return af.resp, nil
	}
	return nil, af.err
}

// safeToRetry reports whether a failed attempt certainly did not run the
// command (internal/outcome has the rules): the connection was never
// established (dial, DNS, proxy-connect and TLS handshake failures,
// connection refused), or the service refused the request before running
// it (429, 503, 400, 401, 403, 404 and the other request errors).
// Everything else (408, 500, 502, 504, a connection dropped after the
// request was written) may have run it.
func safeToRetry(resp *http.Response, err error) bool {
	if err != nil {
		return outcome.NeverConnected(err)
	}
	if resp == nil {
		return false
	}
	return outcome.ClassifyResponse(resp, "").NotRun()
}

// neverConnected reports whether err proves the request never reached the
// server.
func neverConnected(err error) bool { return outcome.NeverConnected(err) }

// attempts counts the tries of one call; countAttempts puts it on the
// request (an operation value, shared by the retry policy's per-try clones)
// and attemptPolicy adds one per try.
type attempts struct{ n atomic.Int32 }

// countAttempts is the client's first per-call policy: it sits above the
// retry policy, so it sees the call's final failure and the number of tries
// it took, and turns a transport failure into a *transportError that says
// both (and, for an execution, whether the command ran).
type countAttempts struct{}

// Do implements policy.Policy.
func (countAttempts) Do(req *policy.Request) (*http.Response, error) {
	a := &attempts{}
	req.SetOperationValue(a)
	resp, err := req.Next()
	if err == nil {
		return resp, nil
	}
	n := int(a.n.Load())
	var af *ambiguousFailure
	if errors.As(err, &af) {
		if af.resp == nil {
			af.err = newTransportError(af.err, n, true)
		}
		return resp, err
	}
	return resp, newTransportError(err, n, guarded(req))
}

// attemptPolicy is the client's first per-retry policy: it counts the try,
// records whether the pool could be reached, and makes a transport failure
// that repeats however often it is tried (DNS "no such host", an untrusted
// certificate: outcome.Permanent) non-retriable, so the retry policy
// returns it at once instead of after its delays.
type attemptPolicy struct{ c *clientHealth }

// clientHealth is what the client's last try told about its pool.
type clientHealth struct {
	// unreachable: the last try never reached the pool.
	unreachable atomic.Bool
}

// Do implements policy.Policy.
func (p attemptPolicy) Do(req *policy.Request) (*http.Response, error) {
	var a *attempts
	if req.OperationValue(&a) && a != nil {
		a.n.Add(1)
	}
	resp, err := req.Next()
	if p.c != nil {
		p.c.unreachable.Store(err != nil && outcome.NeverConnected(err))
	}
	if err != nil && outcome.Permanent(err) {
		return resp, &permanentError{err: err}
	}
	return resp, err
}

// permanentError stops azcore's retry policy (NonRetriable).
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }
func (*permanentError) NonRetriable()   {}

// transportError is a call that got no answer from the pool: the transport
// error, how many tries were made, and what it proves. Its message starts
// with what happened to the command (for executions) or that no answer
// came, then the tries, the cause and what to do.
type transportError struct {
	err      error
	attempts int
	exec     bool
	class    outcome.Class
}

func newTransportError(err error, n int, exec bool) error {
	var pe *permanentError
	if errors.As(err, &pe) {
		err = pe.err
	}
	var te *transportError
	if errors.As(err, &te) {
		return err
	}
	return &transportError{err: err, attempts: max(n, 1), exec: exec, class: outcome.Classify(err)}
}

func (e *transportError) Error() string {
	var b strings.Builder
	if e.exec {
		b.WriteString(e.class.Phrase())
	} else {
		b.WriteString("no answer from the pool")
	}
	b.WriteString(" (")
	b.WriteString(strconv.Itoa(e.attempts))
	if e.attempts == 1 {
		b.WriteString(" attempt")
	} else {
		b.WriteString(" attempts")
	}
	switch {
	case e.class.Reason == outcome.Refused:
		b.WriteString("; not retried, it cannot succeed")
	case e.exec && !e.class.NotRun():
		b.WriteString("; not retried, so that it runs at most once")
	}
	b.WriteString("): ")
	b.WriteString(e.err.Error())
	if a := transportAdvice(e.err, e.class); a != "" {
		b.WriteString(": ")
		b.WriteString(a)
	}
	return b.String()
}

func (e *transportError) Unwrap() error { return e.err }

// transportAdvice says what to do about a transport failure.
func transportAdvice(err error, c outcome.Class) string {
	var dnsErr *net.DNSError
	switch {
	case c.Reason == outcome.Canceled:
		return ""
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return "the endpoint's host name does not exist; check the endpoint (the pool's poolManagementEndpoint, or PoolEndpoint with the right region)"
	case c.Reason == outcome.Refused && strings.Contains(err.Error(), "HTTP response to HTTPS"):
		return "the endpoint's host and port do not speak TLS; check the endpoint's port"
	case c.Reason == outcome.Refused:
		return "this client does not trust the endpoint's TLS certificate; for the emulator, trust its CA certificate (SSL_CERT_FILE=$SHELLPOOL_CA_CERT, or its Server's HTTP client as ClientOptions.Transport), otherwise check the endpoint's host"
	case c.Reason == outcome.Unreachable:
		return "nothing answered at the endpoint's host and port; check the endpoint and that the pool (or the emulator) is running"
	}
	return ""
}
