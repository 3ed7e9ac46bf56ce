package sessions

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// execFailThenOK answers the first fails attempts with fail and later ones
// with a successful execution.
func execFailThenOK(fails int, fail func(w http.ResponseWriter, r *http.Request)) func(http.ResponseWriter, *http.Request, int) {
	return func(w http.ResponseWriter, r *http.Request, attempt int) {
		if attempt <= fails {
			fail(w, r)
			return
		}
		execReply(w, http.StatusOK, execOKBody)
	}
}

// execHangUp drops the connection after the request was read: the command
// may have run, and the client gets no answer.
func execHangUp(w http.ResponseWriter, _ *http.Request) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(err) // the test server is HTTP/1.1; hijacking cannot fail
	}
	_ = conn.Close()
}

func TestExecuteRetryRules(t *testing.T) {
	t.Parallel()
	status := func(code int, headers ...string) func(http.ResponseWriter, *http.Request) {
		return func(w http.ResponseWriter, _ *http.Request) {
			execReply(w, code, `{"error":{"code":"Transient","message":"try later"}}`, headers...)
		}
	}
	tests := []struct {
		name         string
		fail         func(http.ResponseWriter, *http.Request)
		optIn        bool
		wantAttempts int
		wantOK       bool
	}{
		{name: "429 with Retry-After is retried", fail: status(http.StatusTooManyRequests, "Retry-After-Ms", "5"), wantAttempts: 2, wantOK: true},
		{name: "503 is retried", fail: status(http.StatusServiceUnavailable), wantAttempts: 2, wantOK: true},
		{name: "500 is not retried", fail: status(http.StatusInternalServerError), wantAttempts: 1},
		{name: "502 is not retried", fail: status(http.StatusBadGateway), wantAttempts: 1},
		{name: "504 is not retried", fail: status(http.StatusGatewayTimeout), wantAttempts: 1},
		{name: "408 is not retried", fail: status(http.StatusRequestTimeout), wantAttempts: 1},
		{name: "dropped connection is not retried", fail: execHangUp, wantAttempts: 1},
		{name: "500 is retried with the opt-in", fail: status(http.StatusInternalServerError), optIn: true, wantAttempts: 2, wantOK: true},
		{name: "502 is retried with the opt-in", fail: status(http.StatusBadGateway), optIn: true, wantAttempts: 2, wantOK: true},
		{name: "dropped connection is retried with the opt-in", fail: execHangUp, optIn: true, wantAttempts: 2, wantOK: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := setupServer(t, execFailThenOK(1, tc.fail))
			c := setupClient(t, srv.URL+testPrefix, srv, nil)
			resp, err := c.Execute(t.Context(), testSessionID, ShellCommand("date >> log"), &ExecuteOptions{RetryAmbiguousFailures: tc.optIn})
			reqs := srv.requests()
			require.Len(t, reqs, tc.wantAttempts)
			for _, r := range reqs[1:] {
				assert.Equal(t, reqs[0].Header.Get("operation-id"), r.Header.Get("operation-id"), "retries reuse the operation-id")
				assert.Equal(t, reqs[0].Body, r.Body, "retries resend the same body")
			}
			if tc.wantOK {
				require.NoError(t, err)
				assert.Equal(t, "hi\n", resp.Stdout)
				return
			}
			require.Error(t, err)
			assert.NotContains(t, err.Error(), testSessionID)
		})
	}
}

func TestBeginExecuteRetryRules(t *testing.T) {
	t.Parallel()
	for _, optIn := range []bool{false, true} {
		t.Run(fmt.Sprintf("opt-in %v", optIn), func(t *testing.T) {
			t.Parallel()
			srv := setupServer(t, execFailThenOK(1, func(w http.ResponseWriter, _ *http.Request) {
				execReply(w, http.StatusInternalServerError, "")
			}))
			c := setupClient(t, srv.URL, srv, nil)
			_, err := c.BeginExecute(t.Context(), testSessionID, ShellCommand("true"), &BeginExecuteOptions{RetryAmbiguousFailures: optIn})
			if optIn {
				require.NoError(t, err)
				assert.Len(t, srv.requests(), 2)
			} else {
				var re *azcore.ResponseError
				require.ErrorAs(t, err, &re)
				assert.Equal(t, http.StatusInternalServerError, re.StatusCode)
				assert.Len(t, srv.requests(), 1)
			}
		})
	}
}

func TestExecuteHonoursRetryAfterSeconds(t *testing.T) {
	t.Parallel()
	srv := setupServer(t, execFailThenOK(1, func(w http.ResponseWriter, _ *http.Request) {
		execReply(w, http.StatusTooManyRequests, "", "Retry-After", "1")
	}))
	c := setupClient(t, srv.URL, srv, nil)
	start := time.Now()
	_, err := c.Execute(t.Context(), testSessionID, ShellCommand("true"), nil)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, time.Since(start), 900*time.Millisecond, "the client waits as long as Retry-After says")
	reqs := srv.requests()
	require.Len(t, reqs, 2)
	assert.NotEmpty(t, reqs[0].Header.Get("operation-id"))
	assert.Equal(t, reqs[0].Header.Get("operation-id"), reqs[1].Header.Get("operation-id"), "the retry carries the same operation-id")
}

func TestExecuteKeepsCallerRetryLimits(t *testing.T) {
	t.Parallel()
	always := func(*http.Response, error) bool { return true }
	tests := []struct {
		name         string
		retry        policy.RetryOptions  // ClientOptions.Retry
		ctxRetry     *policy.RetryOptions // per call, through policy.WithRetryOptions
		ambiguous    bool                 // ExecuteOptions.RetryAmbiguousFailures
		status       int                  // what the server always answers; 503 when zero
		wantAttempts int
	}{
		{name: "MaxRetries bounds the attempts", retry: policy.RetryOptions{MaxRetries: 2}, wantAttempts: 3},
		{name: "negative MaxRetries disables retries", retry: policy.RetryOptions{MaxRetries: -1}, wantAttempts: 1},
		{name: "StatusCodes without 503 narrows retries", retry: policy.RetryOptions{StatusCodes: []int{http.StatusTooManyRequests}}, wantAttempts: 1},
		{name: "caller ShouldRetry can veto", retry: policy.RetryOptions{ShouldRetry: func(*http.Response, error) bool { return false }}, wantAttempts: 1},
		{name: "caller ShouldRetry cannot widen to 500", retry: policy.RetryOptions{ShouldRetry: always}, status: http.StatusInternalServerError, wantAttempts: 1},
		{name: "per-call options disable retries", ctxRetry: &policy.RetryOptions{MaxRetries: -1}, wantAttempts: 1},
		{name: "per-call options bound the attempts", retry: policy.RetryOptions{MaxRetries: 5}, ctxRetry: &policy.RetryOptions{MaxRetries: 1, RetryDelay: time.Millisecond}, wantAttempts: 2},
		{name: "per-call options cannot widen to 500", ctxRetry: &policy.RetryOptions{MaxRetries: 3, RetryDelay: time.Millisecond, ShouldRetry: always}, status: http.StatusInternalServerError, wantAttempts: 1},
		{name: "per-call options cannot widen to 502", ctxRetry: &policy.RetryOptions{MaxRetries: 3, RetryDelay: time.Millisecond, StatusCodes: []int{http.StatusBadGateway}}, status: http.StatusBadGateway, wantAttempts: 1},
		{name: "per-call options apply to the opt-in", ctxRetry: &policy.RetryOptions{MaxRetries: 1, RetryDelay: time.Millisecond}, ambiguous: true, status: http.StatusInternalServerError, wantAttempts: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			status := tc.status
			if status == 0 {
				status = http.StatusServiceUnavailable
			}
			srv := setupServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
				execReply(w, status, `{"error":{"code":"Busy","message":"try later"}}`)
			})
			c := setupClient(t, srv.URL, srv, &ClientOptions{ClientOptions: azcore.ClientOptions{Retry: tc.retry}})
			ctx := t.Context()
			if tc.ctxRetry != nil {
				ctx = policy.WithRetryOptions(ctx, *tc.ctxRetry)
			}
			_, err := c.Execute(ctx, testSessionID, ShellCommand("true"), &ExecuteOptions{RetryAmbiguousFailures: tc.ambiguous})
			var re *azcore.ResponseError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, status, re.StatusCode)
			assert.Equal(t, "Busy", re.ErrorCode)
			assert.Len(t, srv.requests(), tc.wantAttempts)
		})
	}
}

// TestExecuteGuardIsInvisibleToReads: the guard that stops ambiguous
// retries of executions leaves every other request to the ordinary retry
// policy.
func TestExecuteGuardIsInvisibleToReads(t *testing.T) {
	t.Parallel()
	srv := setupServer(t, execFailThenOK(1, func(w http.ResponseWriter, _ *http.Request) {
		execReply(w, http.StatusInternalServerError, "")
	}))
	c := setupClient(t, srv.URL, srv, nil)
	_, err := c.GetExecution(t.Context(), testSessionID, "exec-1", nil)
	require.NoError(t, err)
	assert.Len(t, srv.requests(), 2, "a GET that failed with 500 is retried")
}

func TestExecuteRetriesDialFailures(t *testing.T) {
	t.Parallel()
	srv := setupServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		execReply(w, http.StatusOK, execOKBody)
	})
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	deadAddr := closed.Addr().String()
	require.NoError(t, closed.Close())

	var dials atomic.Int32
	tr := srv.Client().Transport.(*http.Transport).Clone()
	tr.DisableKeepAlives = true
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if dials.Add(1) == 1 {
			addr = deadAddr // the first connection is refused: nothing was sent
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	c := setupClient(t, srv.URL, srv, &ClientOptions{ClientOptions: azcore.ClientOptions{Transport: &http.Client{Transport: tr}}})
	resp, err := c.Execute(t.Context(), testSessionID, ShellCommand("true"), nil)
	require.NoError(t, err)
	assert.Equal(t, "0", string(resp.Status))
	assert.Equal(t, int32(2), dials.Load())
	assert.Len(t, srv.requests(), 1)
}

func TestExecuteContextCancellation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		handler func(http.ResponseWriter, *http.Request, int)
	}{
		{
			name: "while the service runs the command",
			handler: func(w http.ResponseWriter, r *http.Request, _ int) {
				select {
				case <-r.Context().Done():
				case <-time.After(10 * time.Second):
				}
			},
		},
		{
			name: "while waiting to retry",
			handler: func(w http.ResponseWriter, _ *http.Request, _ int) {
				execReply(w, http.StatusTooManyRequests, "", "Retry-After", "30")
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := setupServer(t, tc.handler)
			c := setupClient(t, srv.URL, srv, &ClientOptions{ClientOptions: azcore.ClientOptions{Retry: policy.RetryOptions{MaxRetryDelay: time.Minute}}})
			ctx, cancel := context.WithCancel(t.Context())
			time.AfterFunc(50*time.Millisecond, cancel)
			start := time.Now()
			_, err := c.Execute(ctx, testSessionID, ShellCommand("sleep 60"), nil)
			// Without cancellation the call would wait out the handler's
			// 10 s or the 30 s Retry-After: returning before that is the
			// behaviour, however slow the machine.
			assert.Less(t, time.Since(start), 10*time.Second, "cancellation ends the call before the service or Retry-After would")
			require.ErrorIs(t, err, context.Canceled)
			assert.NotContains(t, err.Error(), testSessionID)
		})
	}
}

func TestSafeToRetry(t *testing.T) {
	t.Parallel()
	dialErr := &url.Error{Op: "Post", URL: "https://x", Err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}
	tests := []struct {
		name string
		resp *http.Response
		err  error
		want bool
	}{
		{name: "dial error", err: dialErr, want: true},
		{name: "DNS error", err: &url.Error{Op: "Post", URL: "https://x", Err: &net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", Name: "x"}}}, want: true},
		{name: "bare DNS error", err: &net.DNSError{Err: "no such host", Name: "x"}, want: true},
		{name: "proxy connect error", err: &net.OpError{Op: "proxyconnect", Err: errors.New("refused")}, want: true},
		{name: "connection refused", err: fmt.Errorf("wrapped: %w", syscall.ECONNREFUSED), want: true},
		{name: "read error after writing", err: &url.Error{Op: "Post", URL: "https://x", Err: &net.OpError{Op: "read", Err: syscall.ECONNRESET}}},
		{name: "EOF", err: &url.Error{Op: "Post", URL: "https://x", Err: io.EOF}},
		// A dial cut short by the context sent nothing (the retry policy
		// stops anyway, because the context is done).
		{name: "canceled dial", err: &net.OpError{Op: "dial", Err: context.Canceled}, want: true},
		{name: "canceled after sending", err: &url.Error{Op: "Post", URL: "https://x", Err: context.Canceled}},
		{name: "429", resp: &http.Response{StatusCode: http.StatusTooManyRequests}, want: true},
		{name: "503", resp: &http.Response{StatusCode: http.StatusServiceUnavailable}, want: true},
		{name: "500", resp: &http.Response{StatusCode: http.StatusInternalServerError}},
		{name: "502", resp: &http.Response{StatusCode: http.StatusBadGateway}},
		{name: "504", resp: &http.Response{StatusCode: http.StatusGatewayTimeout}},
		{name: "408", resp: &http.Response{StatusCode: http.StatusRequestTimeout}},
		{name: "200", resp: &http.Response{StatusCode: http.StatusOK}},
		{name: "401 refused before running", resp: &http.Response{StatusCode: http.StatusUnauthorized}, want: true},
		{name: "404 pool not found", resp: &http.Response{StatusCode: http.StatusNotFound, Header: http.Header{"X-Ms-Error-Code": {"SessionPoolNotFound"}}}, want: true},
		{name: "neither", want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, safeToRetry(tc.resp, tc.err))
		})
	}
}
