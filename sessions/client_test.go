package sessions

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPoolEndpoint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, region, want string
	}{
		{name: "short name", region: "northcentralus", want: "https://northcentralus.dynamicsessions.io/subscriptions/sub/resourceGroups/rg/sessionPools/pool"},
		{name: "display name", region: "North Central US", want: "https://northcentralus.dynamicsessions.io/subscriptions/sub/resourceGroups/rg/sessionPools/pool"},
		{name: "upper case", region: "EastUS2", want: "https://eastus2.dynamicsessions.io/subscriptions/sub/resourceGroups/rg/sessionPools/pool"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, PoolEndpoint(tc.region, "sub", "rg", "pool"))
		})
	}
	assert.Equal(t, "https://westus.dynamicsessions.io/subscriptions/s/resourceGroups/my%20rg/sessionPools/p", PoolEndpoint("West US", "s", "my rg", "p"), "segments are escaped")

	// PoolEndpoint never fails; NewClient says what is wrong with a pool
	// name before anything is sent.
	_, err := NewClient(PoolEndpoint("eastus", "sub", "rg", "My_Pool!"), &fake.TokenCredential{}, nil)
	require.ErrorIs(t, err, ErrInvalidArgument)
	assert.Contains(t, err.Error(), `names session pool "My_Pool!", which contains upper-case letters and '_', '!'`)
	assert.Contains(t, err.Error(), `such as "mypool"`)
}

func TestNewSessionID(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 100 {
		id := NewSessionID()
		require.NoError(t, ValidateSessionID(id))
		u, err := uuid.Parse(id)
		require.NoError(t, err)
		assert.Equal(t, uuid.Version(4), u.Version())
		assert.Equal(t, strings.ToLower(id), id)
		assert.False(t, seen[id], "identifiers are unique")
		seen[id] = true
	}
}

func TestValidateSessionID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, id   string
		ok         bool
		wantInText string
	}{
		{name: "uuid", id: "8c1b54a5-54b4-4bf4-a0a4-4a8e0ac3bd52", ok: true},
		{name: "four characters", id: "ab_1", ok: true},
		{name: "128 characters", id: strings.Repeat("x", 128), ok: true},
		{name: "empty", id: "", wantInText: "4 to 128"},
		{name: "three characters", id: "abc", wantInText: "4 to 128"},
		{name: "129 characters", id: strings.Repeat("y", 129), wantInText: "4 to 128"},
		{name: "dot", id: "abcd.efgh", wantInText: "[A-Za-z0-9_-]"},
		{name: "non-ASCII", id: "abcdé", wantInText: "[A-Za-z0-9_-]"},
		{name: "query injection", id: "abcd&identifier=x", wantInText: "[A-Za-z0-9_-]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := ValidateSessionID(tc.id)
			if tc.ok {
				assert.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrInvalidArgument)
			assert.Contains(t, err.Error(), tc.wantInText)
			assert.Contains(t, err.Error(), "NewSessionID", "the error says what to do")
			if len(tc.id) > 4 {
				assert.NotContains(t, err.Error(), tc.id)
			}
		})
	}
}

func TestRedactSessionID(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "8c1b…", RedactSessionID("8c1b54a5-54b4-4bf4-a0a4-4a8e0ac3bd52"))
	assert.Equal(t, "…", RedactSessionID("abcd"))
	assert.Equal(t, "…", RedactSessionID(""))
}

func TestNewClientValidation(t *testing.T) {
	t.Parallel()
	cred := &fake.TokenCredential{}
	tests := []struct {
		name     string
		endpoint string
		cred     azcore.TokenCredential
		opts     *ClientOptions
		wantName string
	}{
		{name: "empty endpoint", endpoint: " ", cred: cred, wantName: "endpoint"},
		{name: "relative endpoint", endpoint: "eastus.dynamicsessions.io/x", cred: cred, wantName: "endpoint"},
		{name: "ftp endpoint", endpoint: "ftp://host/x", cred: cred, wantName: "endpoint"},
		{name: "endpoint with query", endpoint: "https://host/x?identifier=a", cred: cred, wantName: "endpoint"},
		{name: "plain http would send the token in clear text", endpoint: "http://host/x", cred: cred, wantName: "endpoint"},
		{name: "nil credential", endpoint: "https://host", cred: nil, wantName: "cred"},
		{name: "typed-nil credential", endpoint: "https://host", cred: (*fake.TokenCredential)(nil), wantName: "cred"},
		{name: "endpoint with user and password", endpoint: "https://user:pw@host/x", cred: cred, wantName: "endpoint"},
		{name: "endpoint with a user", endpoint: "https://user@host/x", cred: cred, wantName: "endpoint"},
		{name: "PoolEndpoint with a region that is no host name", endpoint: PoolEndpoint("north central us!!", "sub", "rg", "pool"), cred: cred, wantName: "endpoint"},
		{name: "PoolEndpoint with a pool name the service refuses", endpoint: PoolEndpoint("eastus", "sub", "rg", "My_Pool!"), cred: cred, wantName: "endpoint"},
		{name: "pool name with a space", endpoint: PoolEndpoint("eastus", "sub", "rg", "my pool"), cred: cred, wantName: "endpoint"},
		{name: "hyphenated pool name", endpoint: "https://eastus.dynamicsessions.io/subscriptions/s/resourceGroups/rg/sessionPools/my-pool", cred: cred, wantName: "endpoint"},
		{name: "host with an underscore", endpoint: "https://east_us.dynamicsessions.io/x", cred: cred, wantName: "endpoint"},
		{name: "host label starting with a hyphen", endpoint: "https://-eastus.dynamicsessions.io/x", cred: cred, wantName: "endpoint"},
		{name: "port out of range", endpoint: "https://host:70000/x", cred: cred, wantName: "endpoint"},
		{name: "empty query", endpoint: "https://host/x?", cred: cred, wantName: "endpoint"},
		{name: "unknown dialect", endpoint: "https://host", cred: cred, opts: &ClientOptions{Dialect: "python"}, wantName: "ClientOptions.Dialect"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := NewClient(tc.endpoint, tc.cred, tc.opts)
			assert.Nil(t, c)
			require.ErrorIs(t, err, ErrInvalidArgument)
			var ae *ArgumentError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, tc.wantName, ae.Name)
			assert.NotContains(t, err.Error(), "pw", "user information is never echoed")
		})
	}
}

func TestNewClientAcceptsRealHosts(t *testing.T) {
	t.Parallel()
	for _, ep := range []string{
		PoolEndpoint("North Central US", "sub", "rg", "pool"),
		"https://eastus.dynamicsessions.io/subscriptions/s/resourceGroups/rg/sessionPools/pool",
		"https://127.0.0.1:8443/pool",
		"https://[::1]:8443/pool",
		"https://localhost/pool",
	} {
		_, err := NewClient(ep, &fake.TokenCredential{}, nil)
		assert.NoError(t, err, ep)
	}
}

// TestAzcoreAPIVersionIsTheOneKnob: the embedded azcore option sets the
// api-version of every request (before, azcore refused it on every call).
func TestAzcoreAPIVersionIsTheOneKnob(t *testing.T) {
	t.Parallel()
	srv := setupServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		execReply(w, http.StatusOK, execOKBody)
	})
	c := setupClient(t, srv.URL, srv, &ClientOptions{ClientOptions: azcore.ClientOptions{APIVersion: "2025-10-02-preview"}})
	_, err := c.Execute(t.Context(), testSessionID, ShellCommand("true"), nil)
	require.NoError(t, err)
	_, err = c.GetExecution(t.Context(), testSessionID, "exec-1", nil)
	require.NoError(t, err)
	for _, r := range srv.requests() {
		assert.Equal(t, []string{"2025-10-02-preview"}, r.Query["api-version"], r.Path)
	}
}

func TestNewClientAllowsHTTPWhenAskedTo(t *testing.T) {
	t.Parallel()
	c, err := NewClient("http://127.0.0.1:8080/pool/", &fake.TokenCredential{}, &ClientOptions{
		ClientOptions: azcore.ClientOptions{InsecureAllowCredentialWithHTTP: true},
	})
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:8080/pool", c.Endpoint())
}

func TestNewClientAudienceOverride(t *testing.T) {
	t.Parallel()
	var scopes []string
	cred := execScopeRecorder(func(s []string) { scopes = s })
	srv := setupServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		execReply(w, http.StatusOK, execOKBody)
	})
	c, err := NewClient(srv.URL, cred, &ClientOptions{ClientOptions: azcore.ClientOptions{
		Transport: srv.Client(),
		Cloud:     cloud.Configuration{Services: map[cloud.ServiceName]cloud.ServiceConfiguration{ServiceName: {Audience: "https://proxy.example/"}}},
	}})
	require.NoError(t, err)
	assert.Equal(t, srv.URL, c.Endpoint())
	_, err = c.Execute(t.Context(), testSessionID, ShellCommand("true"), nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"https://proxy.example/.default"}, scopes)

	c, err = NewClient(srv.URL, cred, &ClientOptions{ClientOptions: azcore.ClientOptions{Transport: srv.Client()}})
	require.NoError(t, err)
	_, err = c.Execute(t.Context(), testSessionID, ShellCommand("true"), nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"https://dynamicsessions.io/.default"}, scopes)
}

// execScopeRecorder is a credential that reports the scopes it is asked for.
type execScopeRecorder func([]string)

func (f execScopeRecorder) GetToken(_ context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	f(o.Scopes)
	return azcore.AccessToken{Token: "t", ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// TestCtxErrKeepsBothErrors: an error caused by an ended context matches
// the context's error and still reaches the underlying one.
func TestCtxErrKeepsBothErrors(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	cause := &url.Error{Op: "Post", URL: "https://host/x", Err: io.ErrUnexpectedEOF}
	err := ctxErr(ctx, cause)
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	var ue *url.Error
	require.ErrorAs(t, err, &ue)
	assert.Same(t, cause, ue)
	assert.Contains(t, err.Error(), "context canceled")
	assert.Contains(t, err.Error(), "unexpected EOF")

	redacted := redactError(ctxErr(ctx, &url.Error{Op: "Post", URL: "https://host/x?identifier=" + testSessionID, Err: io.EOF}), testSessionID)
	assert.NotContains(t, redacted.Error(), testSessionID, "redaction walks both branches")
	require.ErrorAs(t, redacted, &ue)
	assert.NotContains(t, ue.URL, testSessionID)
	assert.Same(t, ctx.Err(), context.Canceled)
	assert.NoError(t, ctxErr(context.Background(), nil))
}
