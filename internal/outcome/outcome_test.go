package outcome_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"syscall"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/internal/outcome"
)

func answer(t *testing.T, status int, code string, h http.Header) error {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "https://pool.example/executions", nil)
	require.NoError(t, err)
	if h == nil {
		h = http.Header{}
	}
	if code != "" {
		h.Set("x-ms-error-code", code)
	}
	resp := &http.Response{StatusCode: status, Header: h, Request: req, Body: http.NoBody}
	err = runtime.NewResponseError(resp)
	var re *azcore.ResponseError
	require.ErrorAs(t, err, &re)
	return fmt.Errorf("sessions: wrapped: %w", err)
}

func TestClassifyAnswers(t *testing.T) {
	ra := http.Header{"Retry-After": {"2"}}
	cases := []struct {
		name      string
		status    int
		code      string
		h         http.Header
		want      outcome.Outcome
		reason    outcome.Reason
		retryable bool
		after     time.Duration
	}{
		{"429 with Retry-After", 429, "", ra, outcome.NotRun, outcome.Throttled, true, 2 * time.Second},
		{"429 capacity", 429, "MaxConcurrentSessionsReached", nil, outcome.NotRun, outcome.Capacity, true, 0},
		{"404 capacity", 404, "MaxConcurrentSessionsReached", http.Header{"Retry-After-Ms": {"1500"}}, outcome.NotRun, outcome.Capacity, true, 1500 * time.Millisecond},
		{"503", 503, "ServiceUnavailable", ra, outcome.NotRun, outcome.Unavailable, true, 2 * time.Second},
		{"401", 401, "", nil, outcome.NotRun, outcome.Refused, false, 0},
		{"403", 403, "", nil, outcome.NotRun, outcome.Refused, false, 0},
		{"404 pool not found", 404, "SessionPoolNotFound", nil, outcome.NotRun, outcome.Refused, false, 0},
		{"400", 400, "InvalidApiVersionParameter", nil, outcome.NotRun, outcome.Refused, false, 0},
		{"408", 408, "", nil, outcome.Unknown, outcome.Other, false, 0},
		{"500", 500, "", nil, outcome.Unknown, outcome.Other, false, 0},
		{"502", 502, "", nil, outcome.Unknown, outcome.Other, false, 0},
		{"504", 504, "", nil, outcome.Unknown, outcome.Other, false, 0},
		{"409", 409, "", nil, outcome.Unknown, outcome.Other, false, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := outcome.Classify(answer(t, c.status, c.code, c.h))
			assert.Equal(t, c.want, got.Outcome)
			assert.Equal(t, c.reason, got.Reason, got.Reason.String())
			assert.Equal(t, c.retryable, got.Retryable)
			assert.Equal(t, c.after, got.RetryAfter)
			assert.Equal(t, c.status, got.Status)
		})
	}
}

// TestClassifyRealTransportFailures provokes the failures for real: a
// refused connection, an untrusted certificate, plain HTTP spoken to a TLS
// client, and a connection dropped after the request was read.
func TestClassifyRealTransportFailures(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closedAddr := ln.Addr().String()
	require.NoError(t, ln.Close())

	tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	plainSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer plainSrv.Close()
	dropSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close() // the request was read: it may have run
		}
	}))
	defer dropSrv.Close()

	untrusting := &http.Client{Transport: &http.Transport{}}
	trusting := dropSrv.Client()
	post := func(c *http.Client, u string) error {
		resp, err := c.Post(u, "application/json", nil)
		if err == nil {
			resp.Body.Close()
			return errors.New("no error")
		}
		return err
	}
	cases := []struct {
		name      string
		err       error
		want      outcome.Outcome
		reason    outcome.Reason
		retryable bool
	}{
		{"connection refused", post(untrusting, "https://"+closedAddr+"/"), outcome.NotRun, outcome.Unreachable, true},
		{"untrusted certificate", post(untrusting, tlsSrv.URL), outcome.NotRun, outcome.Refused, false},
		{"plain HTTP server", post(untrusting, "https"+plainSrv.URL[len("http"):]), outcome.NotRun, outcome.Refused, false},
		{"dropped after the request", post(trusting, dropSrv.URL), outcome.Unknown, outcome.Other, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := outcome.Classify(c.err)
			assert.Equal(t, c.want, got.Outcome, "%v", c.err)
			assert.Equal(t, c.reason, got.Reason, "%v: %s", c.err, got.Reason)
			assert.Equal(t, c.retryable, got.Retryable)
		})
	}
}

func TestClassifyConstructedTransportFailures(t *testing.T) {
	wrap := func(err error) error { return &url.Error{Op: "Post", URL: "https://pool.example/executions", Err: err} }
	noHost := wrap(&net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "pool.example", IsNotFound: true}})
	dnsTimeout := wrap(&net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "i/o timeout", Name: "pool.example", IsTimeout: true}})
	readReset := wrap(&net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET})
	alert := wrap(tls.AlertError(42))

	c := outcome.Classify(noHost)
	assert.Equal(t, outcome.Class{Outcome: outcome.NotRun, Reason: outcome.Refused}, c, "DNS no such host is not retryable")
	assert.True(t, outcome.Permanent(noHost))

	c = outcome.Classify(dnsTimeout)
	assert.Equal(t, outcome.Class{Outcome: outcome.NotRun, Reason: outcome.Unreachable, Retryable: true}, c, "a DNS timeout may pass")
	assert.False(t, outcome.Permanent(dnsTimeout))

	assert.Equal(t, outcome.Unknown, outcome.Classify(readReset).Outcome, "a reset after writing may have run")
	assert.Equal(t, outcome.Refused, outcome.Classify(alert).Reason)

	ctxErr := wrap(context.DeadlineExceeded)
	c = outcome.Classify(ctxErr)
	assert.Equal(t, outcome.Unknown, c.Outcome)
	assert.Equal(t, outcome.Canceled, c.Reason)
	dialCanceled := wrap(&net.OpError{Op: "dial", Net: "tcp", Err: context.Canceled})
	assert.Equal(t, outcome.NotRun, outcome.Classify(dialCanceled).Outcome, "a dial cut short sent nothing")
	assert.Equal(t, outcome.NotRun, outcome.Classify(wrap(errors.New("net/http: TLS handshake timeout"))).Outcome)
	assert.Equal(t, outcome.Class{}, outcome.Classify(nil))
	assert.Equal(t, outcome.Class{}, outcome.Classify(errors.New("decode: unexpected EOF")))
}

func TestPhrase(t *testing.T) {
	assert.Equal(t, "the command did not run", outcome.Class{Outcome: outcome.NotRun}.Phrase())
	assert.Equal(t, "the command may or may not have run", outcome.Class{}.Phrase())
	assert.Equal(t, "throttled", outcome.Throttled.String())
	assert.Equal(t, "not run", outcome.NotRun.String())
}

func TestRetryAfter(t *testing.T) {
	assert.Equal(t, 1500*time.Millisecond, outcome.RetryAfter(http.Header{"Retry-After-Ms": {"1500"}, "Retry-After": {"2"}}))
	assert.Equal(t, 3*time.Second, outcome.RetryAfter(http.Header{"Retry-After": {"3"}}))
	assert.Zero(t, outcome.RetryAfter(http.Header{"Retry-After": {"0"}}))
	assert.Zero(t, outcome.RetryAfter(http.Header{"Retry-After": {"soon"}}))
	assert.Zero(t, outcome.RetryAfter(nil))
	d := outcome.RetryAfter(http.Header{"Retry-After": {time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)}})
	assert.Greater(t, d, 58*time.Minute)
	assert.Zero(t, outcome.RetryAfter(http.Header{"Retry-After": {time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)}}))

	resp := &http.Response{StatusCode: 429, Header: http.Header{"Retry-After": {"1"}}}
	c := outcome.ClassifyResponse(resp, "")
	assert.Equal(t, outcome.Class{Outcome: outcome.NotRun, Reason: outcome.Throttled, Retryable: true, RetryAfter: time.Second, Status: 429}, c)
	assert.Equal(t, outcome.Capacity, outcome.ClassifyResponse(&http.Response{StatusCode: 404, Header: http.Header{"X-Ms-Error-Code": {"MaxConcurrentSessionsReached"}}}, "").Reason)
}
