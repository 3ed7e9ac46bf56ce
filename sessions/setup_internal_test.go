package sessions

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/stretchr/testify/require"
)

// testPrefix is the path of a regional pool endpoint. Tests use it as a
// path prefix so that a URL built without the endpoint's path fails.
const testPrefix = "/subscriptions/s/resourceGroups/rg/sessionPools/pool"

// testSessionID is a valid identifier that tests look for in errors.
const testSessionID = "9f2c4e1a-secret-session-7d3b"

// recordedRequest is one request the test server received.
type recordedRequest struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte
}

// testServer is a TLS server that records requests and answers through
// a per-test handler; attempt counts requests from 1.
type testServer struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []recordedRequest
}

func setupServer(t testing.TB, handler func(w http.ResponseWriter, r *http.Request, attempt int)) *testServer {
	t.Helper()
	s := &testServer{}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.reqs = append(s.reqs, recordedRequest{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: body})
		n := len(s.reqs)
		s.mu.Unlock()
		handler(w, r, n)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *testServer) requests() []recordedRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]recordedRequest(nil), s.reqs...)
}

// setupClient returns a client for endpoint that trusts s, with
// millisecond retry delays unless o sets its own.
func setupClient(t testing.TB, endpoint string, s *testServer, o *ClientOptions) *Client {
	t.Helper()
	if o == nil {
		o = &ClientOptions{}
	}
	if o.Transport == nil {
		o.Transport = s.Client()
	}
	if o.Retry.RetryDelay == 0 {
		o.Retry.RetryDelay = time.Millisecond
	}
	if o.Retry.MaxRetryDelay == 0 {
		o.Retry.MaxRetryDelay = 2 * time.Second
	}
	c, err := NewClient(endpoint, &fake.TokenCredential{}, o)
	require.NoError(t, err)
	return c
}

// execReply writes a JSON answer.
func execReply(w http.ResponseWriter, status int, body string, headers ...string) {
	for i := 0; i+1 < len(headers); i += 2 {
		w.Header().Set(headers[i], headers[i+1])
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}
