// Package outcome is the one answer, shared by sessions, sessions/fleet and
// the process layer, to the questions a failed execution request raises:
// did the command certainly not run, or is its outcome unknown; can trying
// again succeed; and how long must the caller wait first.
//
// The rules (the project's docs/API.md "Errors" explains the service side):
//
//   - A request that never left the machine cannot have run anything: the
//     connection was refused or never established (dial errors, DNS
//     failures, TLS handshake failures such as an untrusted certificate).
//   - An answer that refuses the request before it is run proves it did not
//     run: 400 and the other request errors, 401, 403, 404 (pool not found,
//     or no session could be allocated), 413, 429, 503.
//   - Everything else may have run the command: a connection lost or timed
//     out after the request was written, a cancelled context, 408, 409, 500,
//     502, 504 and unknown statuses.
//
// Retrying can only help after a transient refusal (429, 503, a pool at
// capacity, a refused or timed-out connection). A DNS "no such host", a
// certificate the client does not trust, 400, 401, 403 and a pool that does
// not exist fail the same way every time.
package outcome

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
)

// Outcome says what a failed request proves about the command it carried.
type Outcome uint8

const (
	// Unknown: the command may or may not have run.
	Unknown Outcome = iota
	// NotRun: the command certainly did not run.
	NotRun
)

// String returns "not run" or "unknown".
func (o Outcome) String() string {
	if o == NotRun {
		return "not run"
	}
	return "unknown"
}

// Reason sorts failures by what the caller should do about them.
type Reason uint8

const (
	// Other: an answer or failure that leaves the outcome unknown, or an
	// error that is not about a request at all.
	Other Reason = iota
	// Capacity: the pool reached maxConcurrentSessions and allocates no new
	// session (an answer with a capacity error code). Not run; retry later.
	Capacity
	// Throttled: 429 without a capacity code. Not run; retry after
	// RetryAfter.
	Throttled
	// Unavailable: 503. Not run; the pool is overloaded or being updated,
	// retry after RetryAfter (or elsewhere).
	Unavailable
	// Unreachable: the connection was refused, could not be dialled in
	// time, or its TLS handshake timed out. Not run; the host may come back.
	Unreachable
	// Refused: a failure that repeats however often it is tried: DNS "no
	// such host", a certificate the client does not trust or a TLS
	// handshake that cannot succeed, and answers 400, 401, 403, 404 (other
	// than capacity), 405, 411, 413, 414, 415, 422, 431. Not run; do not
	// retry.
	Refused
	// Canceled: the caller's context ended. The outcome is unknown unless
	// the request never left the machine.
	Canceled
)

var reasonNames = [...]string{"other", "capacity", "throttled", "unavailable", "unreachable", "refused", "canceled"}

// String returns a lower-case name of the reason.
func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "reason(" + strconv.Itoa(int(r)) + ")"
}

// Class is what Classify learned from a failure.
type Class struct {
	// Outcome says whether the command certainly did not run.
	Outcome Outcome
	// Reason sorts the failure (see the constants).
	Reason Reason
	// Retryable reports that the same request may succeed if sent again
	// later: Capacity, Throttled, Unavailable and Unreachable.
	Retryable bool
	// RetryAfter is the service's Retry-After (retry-after-ms preferred),
	// zero when it sent none.
	RetryAfter time.Duration
	// Status is the HTTP status of the answer, zero for transport errors.
	Status int
}

// NotRun reports that the command certainly did not run.
func (c Class) NotRun() bool { return c.Outcome == NotRun }

// Phrase is the clause an error message uses for the outcome: "the command
// did not run" or "the command may or may not have run".
func (c Class) Phrase() string {
	if c.Outcome == NotRun {
		return "the command did not run"
	}
	return "the command may or may not have run"
}

// Classify sorts err, an error returned for a request that carried a
// command (an execution), by what it proves. A nil err gives the zero
// Class (Unknown, Other). Errors from sessions wrap *azcore.ResponseError,
// which Classify reaches with errors.As.
func Classify(err error) Class {
	if err == nil {
		return Class{}
	}
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		var h http.Header
		if re.RawResponse != nil {
			h = re.RawResponse.Header
		}
		return ofStatus(re.StatusCode, re.ErrorCode, h)
	}
	return ofTransport(err)
}

// ClassifyResponse sorts a non-success answer to an execution request.
// errorCode is the service's error code (x-ms-error-code or the body's
// error.code), "" when unknown.
func ClassifyResponse(resp *http.Response, errorCode string) Class {
	if resp == nil {
		return Class{}
	}
	if errorCode == "" {
		errorCode = resp.Header.Get("x-ms-error-code")
	}
	return ofStatus(resp.StatusCode, errorCode, resp.Header)
}

func ofStatus(status int, code string, h http.Header) Class {
	c := Class{Status: status, RetryAfter: RetryAfter(h)}
	switch {
	case status >= 200 && status < 300:
		return Class{Status: status}
	case IsCapacityCode(code):
		c.Outcome, c.Reason, c.Retryable = NotRun, Capacity, true
	case status == http.StatusTooManyRequests:
		c.Outcome, c.Reason, c.Retryable = NotRun, Throttled, true
	case status == http.StatusServiceUnavailable:
		c.Outcome, c.Reason, c.Retryable = NotRun, Unavailable, true
	case refusedStatus(status):
		c.Outcome, c.Reason = NotRun, Refused
	default:
		c.Outcome, c.Reason = Unknown, Other
	}
	return c
}

// refusedStatus lists answers that refuse a request before running it and
// repeat if it is sent again unchanged.
func refusedStatus(status int) bool {
	switch status {
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden,
		http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusLengthRequired,
		http.StatusRequestEntityTooLarge, http.StatusRequestURITooLong,
		http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity,
		http.StatusRequestHeaderFieldsTooLarge:
		return true
	}
	return false
}

// IsCapacityCode reports whether an error code says the pool reached
// maxConcurrentSessions (MaxConcurrentSessionsReached and the variants
// public sources name).
func IsCapacityCode(code string) bool {
	c := strings.ToLower(code)
	return strings.Contains(c, "capacity") || strings.Contains(c, "maxconcurrent") || strings.Contains(c, "nomoresessions")
}

func ofTransport(err error) Class {
	switch {
	case Permanent(err):
		return Class{Outcome: NotRun, Reason: Refused}
	case NeverConnected(err):
		return Class{Outcome: NotRun, Reason: Unreachable, Retryable: true}
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return Class{Outcome: Unknown, Reason: Canceled}
	}
	return Class{}
}

// NeverConnected reports whether err proves that the request never reached
// the server: a dial, proxy-connect or DNS failure, a refused connection, or
// a TLS handshake that failed or timed out. Such a request can be sent again
// without running anything twice.
func NeverConnected(err error) bool {
	if err == nil {
		return false
	}
	if Permanent(err) {
		return true
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && (opErr.Op == "dial" || opErr.Op == "proxyconnect") {
		return true
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	// net/http's handshake timeout has no exported type.
	return strings.Contains(err.Error(), "TLS handshake timeout")
}

// Permanent reports a transport failure that cannot succeed when retried
// unchanged: DNS says the host does not exist, or the TLS handshake failed
// (the server's certificate is not trusted or does not match the host, or
// the server does not speak TLS). The request was never sent.
func Permanent(err error) bool {
	if err == nil {
		return false
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
		return true
	}
	var (
		certErr    *tls.CertificateVerificationError
		unknownCA  x509.UnknownAuthorityError
		hostErr    x509.HostnameError
		invalidErr x509.CertificateInvalidError
		recordErr  tls.RecordHeaderError
		alertErr   tls.AlertError
	)
	switch {
	case errors.As(err, &certErr), errors.As(err, &unknownCA), errors.As(err, &hostErr),
		errors.As(err, &invalidErr), errors.As(err, &recordErr):
		return true
	case errors.As(err, &alertErr):
		// An alert during the handshake (bad certificate, protocol
		// version): the connection never carried the request.
		return handshakeAlert(alertErr)
	}
	// net/http reports a tls.RecordHeaderError from a plain-HTTP server
	// with an error of no exported type.
	return strings.Contains(err.Error(), "server gave HTTP response to HTTPS client")
}

// handshakeAlert reports TLS alerts that only a handshake sends.
func handshakeAlert(a tls.AlertError) bool {
	switch a {
	case 40, 42, 43, 44, 45, 46, 47, 48, 70, 71, 112, 116, 120: // handshake_failure .. no_application_protocol
		return true
	}
	return false
}

// RetryAfter reads retry-after-ms or Retry-After (seconds or an HTTP
// date) from h; zero when absent or not in the future.
func RetryAfter(h http.Header) time.Duration {
	if h == nil {
		return 0
	}
	if v := h.Get("retry-after-ms"); v != "" {
		if ms, err := strconv.ParseInt(v, 10, 64); err == nil && ms > 0 {
			return time.Duration(ms) * time.Millisecond
		}
	}
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s > 0 {
			return time.Duration(s) * time.Second
		}
		return 0
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}
