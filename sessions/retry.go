package sessions

import (
	"errors"
	"net/http"

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
