package identity_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/identity"
)

const (
	testSub       = "00000000-0000-0000-0000-000000000001"
	testPrincipal = "11111111-1111-1111-1111-111111111111"
	otherPrinc    = "22222222-2222-2222-2222-222222222222"
	// basePath is prefixed to the fake's URL so that a request built from an
	// absolute path instead of the configured endpoint fails.
	basePath = "/arm"
)

// recorded is one request the fake ARM server received.
type recorded struct {
	Method string
	Path   string // URL path without basePath
	Query  map[string]string
	Body   string
	Auth   string
	Host   string
}

// armFake is an httptest TLS server standing in for Azure Resource Manager.
// handle answers each request; it sees the request's index (0-based).
type armFake struct {
	mu     sync.Mutex
	reqs   []recorded
	handle func(i int, r recorded) (status int, body string)
}

func (f *armFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	q := map[string]string{}
	for k, v := range r.URL.Query() {
		q[k] = v[0]
	}
	rec := recorded{Method: r.Method, Path: strings.TrimPrefix(r.URL.Path, basePath), Query: q, Body: string(b), Auth: r.Header.Get("Authorization"), Host: r.Host}
	if !strings.HasPrefix(r.URL.Path, basePath+"/") {
		http.Error(w, "request outside the configured endpoint", http.StatusTeapot)
		return
	}
	f.mu.Lock()
	i := len(f.reqs)
	f.reqs = append(f.reqs, rec)
	f.mu.Unlock()
	status, body := f.handle(i, rec)
	if body != "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func (f *armFake) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.reqs...)
}

// newFake starts a fake ARM server and returns a Client pointed at it.
func newFake(t *testing.T, handle func(i int, r recorded) (int, string)) (*identity.Client, *armFake) {
	t.Helper()
	f := &armFake{handle: handle}
	srv := httptest.NewTLSServer(f)
	t.Cleanup(srv.Close)
	c, err := identity.NewClient(testSub, &fake.TokenCredential{}, &identity.ClientOptions{
		ClientOptions: arm.ClientOptions{ClientOptions: policy.ClientOptions{
			Cloud: cloud.Configuration{Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
				cloud.ResourceManager: {Endpoint: srv.URL + basePath, Audience: "https://management.azure.com"},
			}},
			Transport: srv.Client(),
			Retry:     policy.RetryOptions{RetryDelay: time.Millisecond, MaxRetryDelay: time.Millisecond},
		}},
	})
	require.NoError(t, err)
	return c, f
}

// armError is an ARM error body.
func armError(code, msg string) string {
	b, _ := json.Marshal(map[string]any{"error": map[string]string{"code": code, "message": msg}})
	return string(b)
}

// newFakeWith is newFake with extra client options (API versions).
func newFakeWith(t *testing.T, o *identity.ClientOptions, handle func(i int, r recorded) (int, string)) (*identity.Client, *armFake) {
	t.Helper()
	f := &armFake{handle: handle}
	srv := httptest.NewTLSServer(f)
	t.Cleanup(srv.Close)
	opts := *o
	opts.Cloud = cloud.Configuration{Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
		cloud.ResourceManager: {Endpoint: srv.URL + basePath, Audience: "https://management.azure.com"},
	}}
	opts.Transport = srv.Client()
	opts.Retry = policy.RetryOptions{RetryDelay: time.Millisecond, MaxRetryDelay: time.Millisecond}
	c, err := identity.NewClient(testSub, &fake.TokenCredential{}, &opts)
	require.NoError(t, err)
	return c, f
}
