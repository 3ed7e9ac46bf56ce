package identity_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/identity"
	"github.com/shellpool/shellpool/internal/version"
)

// TestUserAgentNamesIdentityClient checks the User-Agent product the client sends:
// azsdk-go-shellpool-identity/<version>, which no Azure SDK module uses.
func TestUserAgentNamesIdentityClient(t *testing.T) {
	var mu sync.Mutex
	var agents []string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		agents = append(agents, r.UserAgent())
		mu.Unlock()
		w.WriteHeader(http.StatusNotFound)
	}))
	defer srv.Close()
	c, err := identity.NewClient("00000000-0000-0000-0000-000000000001", uaCredential{}, &identity.ClientOptions{
		ClientOptions: arm.ClientOptions{ClientOptions: azcore.ClientOptions{
			Cloud: cloud.Configuration{Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
				cloud.ResourceManager: {Endpoint: srv.URL, Audience: "https://management.azure.com"},
			}},
			Transport: srv.Client(),
		}},
	})
	require.NoError(t, err)

	// Only the request matters here; the 404 answer makes the call fail.
	_, err = c.GetIdentity(context.Background(), "rg", "myidentity", nil)
	require.Error(t, err)

	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, agents, "the client sent no request")
	for _, ua := range agents {
		assert.Regexp(t, `^azsdk-go-shellpool-identity/`+regexp.QuoteMeta(version.Version)+` \(`, ua)
	}
}

// uaCredential hands out a fixed token; the test server does not check it.
type uaCredential struct{}

func (uaCredential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: "ua-test-token", ExpiresOn: time.Now().Add(time.Hour)}, nil
}
