package sessions_test

import (
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/sessions"
)

// tryCounter counts the tries that reach the HTTP client.
type tryCounter struct {
	next  policy.Transporter
	tries atomic.Int32
}

func (c *tryCounter) Do(r *http.Request) (*http.Response, error) {
	c.tries.Add(1)
	return c.next.Do(r)
}

// failingTransport fails every try with err before anything is sent.
type failingTransport struct{ err error }

func (f failingTransport) Do(*http.Request) (*http.Response, error) { return nil, f.err }

func transportClient(t *testing.T, endpoint string, next policy.Transporter) (*sessions.Client, *tryCounter) {
	t.Helper()
	ct := &tryCounter{next: next}
	c, err := sessions.NewClient(endpoint+testPrefix, &fake.TokenCredential{}, &sessions.ClientOptions{
		ClientOptions: azcore.ClientOptions{
			Transport: ct,
			Retry:     policy.RetryOptions{MaxRetries: 3, RetryDelay: time.Millisecond, MaxRetryDelay: 2 * time.Millisecond},
		},
	})
	require.NoError(t, err)
	return c, ct
}

func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// TestTransportFailuresSayWhatRanAndHowOften: issue 27 items 4 and 5. The
// error says "did not run" only when the command certainly did not run,
// "may or may not have run" only when that is unknown, how many attempts
// were made, and failures that cannot succeed are tried once.
func TestTransportFailuresSayWhatRanAndHowOften(t *testing.T) {
	t.Parallel()
	untrusted := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	untrusted.Config.ErrorLog = log.New(io.Discard, "", 0)
	untrusted.StartTLS()
	t.Cleanup(untrusted.Close)
	dropper := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			conn.Close() // the request was read: the command may have run
		}
	}))
	t.Cleanup(dropper.Close)
	noHost := &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "pool.invalid", IsNotFound: true}}

	cases := []struct {
		name     string
		endpoint string
		next     policy.Transporter
		tries    int32
		says     []string
	}{
		{"connection refused", "https://" + closedAddr(t), &http.Client{}, 4,
			[]string{"the command did not run (4 attempts)", "nothing answered"}},
		{"untrusted certificate", untrusted.URL, &http.Client{}, 1,
			[]string{"the command did not run (1 attempt; not retried, it cannot succeed)", "certificate"}},
		{"no such host", "https://pool.invalid", failingTransport{noHost}, 1,
			[]string{"the command did not run (1 attempt; not retried, it cannot succeed)", "host name does not exist"}},
		{"dropped after the request", dropper.URL, dropper.Client(), 1,
			[]string{"the command may or may not have run (1 attempt; not retried, so that it runs at most once)"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, ct := transportClient(t, tc.endpoint, tc.next)
			_, err := c.Execute(context.Background(), testSessionID, sessions.ShellCommand("echo hi"), nil)
			require.Error(t, err)
			assert.Equal(t, tc.tries, ct.tries.Load(), "tries")
			for _, s := range tc.says {
				assert.Contains(t, err.Error(), s)
			}
			if tc.tries == 1 && tc.name != "dropped after the request" {
				assert.NotContains(t, err.Error(), "may or may not")
			}
			assert.NotContains(t, err.Error(), testSessionID)
		})
	}
}

// TestCloseAfterUnreachablePoolTriesOnce: a deferred Close after the pool
// could not be reached sends one try, not the retry policy's four, so it
// does not hold up the program's exit; a reachable pool gets the retries.
func TestCloseAfterUnreachablePoolTriesOnce(t *testing.T) {
	t.Parallel()
	c, ct := transportClient(t, "https://"+closedAddr(t), &http.Client{})
	s := c.NewSessionClient(testSessionID)
	_, err := s.Execute(context.Background(), sessions.ShellCommand("true"), nil)
	require.Error(t, err)
	require.Equal(t, int32(4), ct.tries.Load(), "the execution was retried")
	err = s.Close(context.Background())
	require.Error(t, err)
	assert.Equal(t, int32(5), ct.tries.Load(), "Close tried once")
	assert.Contains(t, err.Error(), "no answer from the pool (1 attempt)")

	// The same client with a delete that fails after connecting (500) is
	// retried as usual: the bound applies only after an unreachable pool.
	var deletes atomic.Int32
	w := setupWire(t, func(rw http.ResponseWriter, r *http.Request) {
		deletes.Add(1)
		writeServiceError(rw, http.StatusInternalServerError, "InternalServerError")
	})
	err = w.client.NewSessionClient(testSessionID).Close(context.Background())
	require.Error(t, err)
	assert.Equal(t, int32(3), deletes.Load(), "MaxRetries 2: three tries")
}
