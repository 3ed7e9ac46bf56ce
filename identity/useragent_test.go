package identity_test

import (
	"context"
	"regexp"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/identity"
	"github.com/shellpool/shellpool/internal/armfake"
	"github.com/shellpool/shellpool/internal/version"
)

// TestUserAgentNamesIdentityClient checks the User-Agent product the client sends:
// azsdk-go-shellpool-identity/<version>, which no Azure SDK module uses.
func TestUserAgentNamesIdentityClient(t *testing.T) {
	t.Parallel()
	f := armfake.New(t)
	// Only the request matters; the 404 makes the call fail.
	f.Handle(func(int, armfake.Request) (int, string) { return 404, `{"error":{"code":"NotFound"}}` })
	c, err := identity.NewClient("00000000-0000-0000-0000-000000000001", &fake.TokenCredential{}, &identity.ClientOptions{ClientOptions: f.ClientOptions()})
	require.NoError(t, err)
	_, err = c.GetIdentity(context.Background(), "rg", "myidentity", nil)
	require.Error(t, err)

	reqs := f.Requests()
	require.NotEmpty(t, reqs, "the client sent no request")
	for _, r := range reqs {
		assert.Regexp(t, `^azsdk-go-shellpool-identity/`+regexp.QuoteMeta(version.Version)+` \(`, r.UserAgent)
	}
}
