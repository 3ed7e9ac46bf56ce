package sessions

import (
	"context"
	"errors"
	"net"
	"net/http"
	"slices"
	"syscall"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// executeRetryContext returns ctx carrying the retry options for a POST
// /executions. By default they are the client's ClientOptions.Retry with a
// ShouldRetry that accepts only failures after which the command cannot have
// run (see safeToRetry). With ambiguous set, ctx is returned unchanged, so
// the client's (or the caller's per-call) retry options apply as they are.
func (c *Client) executeRetryContext(ctx context.Context, ambiguous bool) context.Context {
	if ambiguous {
		return ctx
	}
	return policy.WithRetryOptions(ctx, restrictRetryOptions(c.retry))
}

// restrictRetryOptions keeps the caller's counts and delays and narrows what
// is retried to safeToRetry. A caller-supplied ShouldRetry or StatusCodes
// list can narrow it further, never widen it.
func restrictRetryOptions(o policy.RetryOptions) policy.RetryOptions {
	userShould := o.ShouldRetry
	userCodes := slices.Clone(o.StatusCodes)
	o.StatusCodes = nil
	o.ShouldRetry = func(resp *http.Response, err error) bool {
		if !safeToRetry(resp, err) {
			return false
		}
		if err == nil && userCodes != nil && !slices.Contains(userCodes, resp.StatusCode) {
			return false
		}
		if userShould != nil {
			return userShould(resp, err)
		}
		return true
	}
	return o
}

// safeToRetry reports whether a failed attempt certainly did not run the
// command: the connection was never established (dial, DNS and proxy-connect
// failures, connection refused), or the service answered 429 Too Many
// Requests or 503 Service Unavailable, both of which refuse the request
// before running it. Everything else — 408, 500, 502, 504, a connection
// dropped after the request was written, a TLS failure — may have run it.
func safeToRetry(resp *http.Response, err error) bool {
	if err != nil {
		return neverConnected(err)
	}
	if resp == nil {
		return false
	}
	return resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable
}

// neverConnected reports whether err proves the request never reached the
// server.
func neverConnected(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && (opErr.Op == "dial" || opErr.Op == "proxyconnect") {
		return true
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}
