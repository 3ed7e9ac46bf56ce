package sessions_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/internal/version"
	"github.com/shellpool/shellpool/sessions"
)

// TestUserAgentNamesSessionsClient checks the User-Agent product the client
// sends: azsdk-go-shellpool-sessions/<version>, which no Azure SDK module uses.
func TestUserAgentNamesSessionsClient(t *testing.T) {
	var mu sync.Mutex
	var agents []string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		agents = append(agents, r.UserAgent())
		mu.Unlock()
		w.WriteHeader(http.StatusNotFound)
	}))
	defer srv.Close()
	c, err := sessions.NewClient(srv.URL, uaCredential{}, &sessions.ClientOptions{
		ClientOptions: azcore.ClientOptions{Transport: srv.Client()},
	})
	require.NoError(t, err)

	// Only the request matters here; the 404 answer makes the call fail.
	_, err = c.GetMetadata(context.Background(), nil)
	require.Error(t, err)

	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, agents, "the client sent no request")
	for _, ua := range agents {
		assert.Regexp(t, `^azsdk-go-shellpool-sessions/`+regexp.QuoteMeta(version.Version)+` \(`, ua)
	}
}

// uaCredential hands out a fixed token; the test server does not check it.
type uaCredential struct{}

func (uaCredential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: "ua-test-token", ExpiresOn: time.Now().Add(time.Hour)}, nil
}
