package armemu

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/internal/azname"
	"github.com/shellpool/shellpool/internal/jwt"
)

const (
	testSub = "00000000-0000-0000-0000-0000000000aa"
	testRG  = "rg"
	// sessionExecutor is the Azure ContainerApps Session Executor role GUID.
	sessionExecutor = "0fb8eba5-a2bb-4abe-b1c1-49dfad359bb0"
)

var testKey = []byte("armemu-test-signing-key")

// fakeBackend records the engine's calls.
type fakeBackend struct {
	mu      sync.Mutex
	upserts []PoolSpec
	deleted []string
	fail    error
}

func (b *fakeBackend) ProvisionPool(p PoolSpec) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fail != nil {
		return "", b.fail
	}
	b.upserts = append(b.upserts, p)
	return "https://" + azname.NormalizeRegion(p.Location) + ".dynamicsessions.io/subscriptions/" + p.SubscriptionID + "/resourceGroups/" + p.ResourceGroup + "/sessionPools/" + p.Name, nil
}

func (b *fakeBackend) PoolDeleted(p PoolSpec) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.deleted = append(b.deleted, p.SubscriptionID+"/"+p.ResourceGroup+"/"+p.Name)
}

func (b *fakeBackend) lastUpsert(t *testing.T) PoolSpec {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	require.NotEmpty(t, b.upserts, "Backend.ProvisionPool was not called")
	return b.upserts[len(b.upserts)-1]
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type fixture struct {
	eng     *Engine
	srv     *httptest.Server
	backend *fakeBackend
	clock   *clock
	token   string
}

// setup starts an Engine behind a TLS test server, the package's one
// fixture: mutate, when not nil, adjusts its Config first.
func setup(t *testing.T, mutate func(*Config)) *fixture {
	t.Helper()
	f := &fixture{backend: &fakeBackend{}, clock: &clock{t: time.Now()}}
	cfg := Config{Backend: f.backend, SigningKey: testKey, Now: f.clock.Now, BaseURL: func() string { return f.srv.URL }}
	if mutate != nil {
		mutate(&cfg)
	}
	f.eng = New(cfg)
	f.srv = httptest.NewUnstartedServer(f.eng)
	f.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // clients that hang up mid-handshake are expected
	f.srv.StartTLS()
	t.Cleanup(f.srv.Close)
	f.token = mint("https://management.azure.com", time.Hour)
	return f
}

func mint(aud string, ttl time.Duration) string {
	return jwt.Sign(testKey, jwt.Claims{Audience: aud, ObjectID: "11111111-1111-1111-1111-111111111111", ExpiresAt: time.Now().Add(ttl)})
}

// do sends one request with f.token and decodes a JSON answer.
func (f *fixture) do(t *testing.T, method, path string, body any) (*http.Response, map[string]any) {
	t.Helper()
	return f.doToken(t, method, path, body, f.token)
}

func (f *fixture) doToken(t *testing.T, method, path string, body any, token string) (*http.Response, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(b)
	}
	u := path
	if !strings.HasPrefix(u, "https://") {
		u = f.srv.URL + path
	}
	req, err := http.NewRequestWithContext(t.Context(), method, u, rd)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := f.srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var out map[string]any
	if len(bytes.TrimSpace(raw)) > 0 {
		require.NoError(t, json.Unmarshal(raw, &out), "body: %s", raw)
	}
	return resp, out
}

// credential mints emulator tokens for the requested scope.
type credential struct{}

func (credential) GetToken(_ context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	if len(o.Scopes) != 1 {
		return azcore.AccessToken{}, errors.New("want one scope")
	}
	exp := time.Now().Add(time.Hour)
	return azcore.AccessToken{Token: mint(strings.TrimSuffix(o.Scopes[0], "/.default"), time.Hour), ExpiresOn: exp}, nil
}

// pipeline is the azcore ARM pipeline (bearer policy, retries, LRO support)
// pointed at the emulator through a custom cloud configuration.
func (f *fixture) pipeline(t *testing.T) runtime.Pipeline {
	t.Helper()
	c, err := arm.NewClient("armemu.test", "v0.0.1", credential{}, &arm.ClientOptions{
		ClientOptions: policy.ClientOptions{
			Cloud: cloud.Configuration{Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
				cloud.ResourceManager: {Endpoint: f.srv.URL, Audience: "https://management.azure.com"},
			}},
			Transport: f.srv.Client(),
			Retry:     policy.RetryOptions{RetryDelay: time.Millisecond, MaxRetryDelay: time.Millisecond},
		},
		DisableRPRegistration: true,
	})
	require.NoError(t, err)
	return c.Pipeline()
}

// begin sends a request through pl and wraps the answer in an azcore poller.
func begin[T any](t *testing.T, f *fixture, pl runtime.Pipeline, method, path string, body any) (*runtime.Poller[T], error) {
	t.Helper()
	req, err := runtime.NewRequest(t.Context(), method, f.srv.URL+path)
	require.NoError(t, err)
	if body != nil {
		require.NoError(t, runtime.MarshalAsJSON(req, body))
	}
	resp, err := pl.Do(req)
	require.NoError(t, err)
	if !runtime.HasStatusCode(resp, http.StatusOK, http.StatusCreated, http.StatusAccepted, http.StatusNoContent) {
		return nil, runtime.NewResponseError(resp)
	}
	return runtime.NewPoller[T](resp, pl, nil)
}

func pollDone[T any](t *testing.T, p *runtime.Poller[T]) (T, error) {
	t.Helper()
	return p.PollUntilDone(t.Context(), &runtime.PollUntilDoneOptions{Frequency: time.Millisecond})
}

func rgPath(rg string) string { return "/subscriptions/" + testSub + "/resourceGroups/" + rg }

func poolPath(rg, name, version string) string {
	return rgPath(rg) + "/providers/Microsoft.App/sessionPools/" + name + "?api-version=" + version
}

func shellPool(location string, cooldown, max int) map[string]any {
	return map[string]any{
		"location": location,
		"properties": map[string]any{
			"poolManagementType": "Dynamic",
			"containerType":      "Shell",
			"scaleConfiguration": map[string]any{"maxConcurrentSessions": max},
			"dynamicPoolConfiguration": map[string]any{
				"lifecycleConfiguration": map[string]any{"lifecycleType": "Timed", "cooldownPeriodInSeconds": cooldown},
			},
			"sessionNetworkConfiguration": map[string]any{"status": "EgressEnabled"},
		},
	}
}

// dig walks a decoded JSON object.
func dig(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

func errCode(body map[string]any) string {
	s, _ := dig(body, "error", "code").(string)
	return s
}

func errMessage(body map[string]any) string {
	s, _ := dig(body, "error", "message").(string)
	return s
}

func jsonDecode(resp *http.Response, v any) error { return json.NewDecoder(resp.Body).Decode(v) }
