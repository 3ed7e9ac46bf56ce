package pool

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/stretchr/testify/require"
)

// The fake ARM server of these tests: a TLS httptest server with scripted
// responses per route and a record of every request. Its base URL has a
// path prefix (/arm) so that a request built without the configured
// endpoint fails.

const (
	testSub      = "sub1"
	testRG       = "rg1"
	testPoolPath = "/subscriptions/sub1/resourceGroups/rg1/providers/Microsoft.App/sessionPools/myshellpool"
)

var pollFast = &runtime.PollUntilDoneOptions{Frequency: time.Millisecond}

// step is one scripted response; "{base}" in headers and body becomes the
// server's ARM base URL.
type step struct {
	status  int
	headers map[string]string
	body    string
}

// call is one recorded request.
type call struct {
	Method     string
	Path       string // without the /arm prefix
	APIVersion string
	Query      url.Values
	Body       string
	Auth       string
}

type fakeARM struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	calls  []call
	routes map[string][]step
}

func newFakeARM(t *testing.T) *fakeARM {
	t.Helper()
	f := &fakeARM{t: t, routes: map[string][]step{}}
	f.srv = httptest.NewTLSServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeARM) base() string { return f.srv.URL + "/arm" }

// on scripts the responses of method+path; the last step repeats.
func (f *fakeARM) on(method, path string, steps ...step) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.routes[method+" "+path] = append(f.routes[method+" "+path], steps...)
}

func (f *fakeARM) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	path, ok := strings.CutPrefix(r.URL.Path, "/arm")
	f.mu.Lock()
	f.calls = append(f.calls, call{
		Method: r.Method, Path: path, APIVersion: r.URL.Query().Get("api-version"),
		Query: r.URL.Query(), Body: string(body), Auth: r.Header.Get("Authorization"),
	})
	key := r.Method + " " + path
	steps := f.routes[key]
	var s step
	if ok && len(steps) > 0 {
		s = steps[0]
		if len(steps) > 1 {
			f.routes[key] = steps[1:]
		}
	}
	f.mu.Unlock()
	if !ok || len(steps) == 0 {
		f.t.Errorf("fake ARM: unexpected request %s %s", r.Method, r.URL)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"error":{"code":"NoRoute","message":"fake ARM has no route for this request"}}`)
		return
	}
	for k, v := range s.headers {
		w.Header().Set(k, strings.ReplaceAll(v, "{base}", f.base()))
	}
	if s.body != "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(s.status)
	_, _ = io.WriteString(w, strings.ReplaceAll(s.body, "{base}", f.base()))
}

func (f *fakeARM) requests() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

func (f *fakeARM) options() *ClientOptions {
	return &ClientOptions{ClientOptions: arm.ClientOptions{ClientOptions: policy.ClientOptions{
		Cloud: cloud.Configuration{
			ActiveDirectoryAuthorityHost: "https://login.microsoftonline.com/",
			Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
				cloud.ResourceManager: {Endpoint: f.base(), Audience: "https://management.azure.com"},
			},
		},
		Transport: f.srv.Client(),
		Retry:     policy.RetryOptions{RetryDelay: time.Millisecond, MaxRetryDelay: time.Millisecond},
	}}}
}

func (f *fakeARM) client(t *testing.T) *Client {
	t.Helper()
	c, err := NewClient(testSub, &fake.TokenCredential{}, f.options())
	require.NoError(t, err)
	return c
}
