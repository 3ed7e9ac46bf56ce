package sessionstest_test

import (
	"net/http"
	"os"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/identity"
	"github.com/shellpool/shellpool/internal/jwt"
	"github.com/shellpool/shellpool/sessions"
	"github.com/shellpool/shellpool/sessions/sessionstest"
)

// TestClientSecretCredentialSignsInToTheEmulator: azidentity's
// ClientSecretCredential, pointed at the server by Cloud() (with
// DisableInstanceDiscovery, as for any private cloud), gets tokens for
// ServicePrincipal() from the emulator's Entra ID, as PrincipalID(), and
// they work against ARM and (with the role) the data plane.
func TestClientSecretCredentialSignsInToTheEmulator(t *testing.T) {
	t.Parallel()
	srv := sessionstest.NewServer(&sessionstest.Options{TB: t, RBAC: true})
	clientID, secret := srv.ServicePrincipal()
	require.NotEmpty(t, clientID)
	require.NotEmpty(t, secret)
	// As for any private cloud, instance discovery (which asks
	// login.microsoftonline.com about the authority) is turned off.
	opts := &azidentity.ClientSecretCredentialOptions{ClientOptions: srv.ClientOptions(), DisableInstanceDiscovery: true}
	cred, err := azidentity.NewClientSecretCredential(srv.TenantID(), clientID, secret,
		opts)
	require.NoError(t, err)

	for _, aud := range []string{sessions.Audience, identity.ARMAudience} {
		tok, err := cred.GetToken(t.Context(), policy.TokenRequestOptions{Scopes: []string{aud + "/.default"}})
		require.NoError(t, err)
		c, err := jwt.Parse(tok.Token)
		require.NoError(t, err)
		assert.Equal(t, aud, c.Audience)
		assert.Equal(t, srv.PrincipalID(), c.ObjectID)
		assert.Equal(t, srv.TenantID(), c.TenantID)
		assert.Equal(t, clientID, c.AppID)
	}

	// The token works for ARM: list the subscriptions as the Azure CLI does.
	tok, err := cred.GetToken(t.Context(), policy.TokenRequestOptions{Scopes: []string{identity.ARMAudience + "/.default"}})
	require.NoError(t, err)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL()+"/subscriptions?api-version=2019-11-01", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	// And for the data plane once the principal holds the role.
	c, err := sessions.NewClient(srv.PoolEndpoint(), cred, &sessions.ClientOptions{ClientOptions: srv.ClientOptions()})
	require.NoError(t, err)
	_, err = c.Execute(t.Context(), sessions.NewSessionID(), sessions.ShellCommand("true"), nil)
	require.ErrorIs(t, err, sessions.ErrForbidden)
	srv.GrantSessionExecutor(srv.PrincipalID(), sessionstest.DefaultPoolName)
	_, err = c.Execute(t.Context(), sessions.NewSessionID(), sessions.ShellCommand("true"), nil)
	require.NoError(t, err)

	// A wrong secret is refused with Entra ID's error, which says what to do.
	bad, err := azidentity.NewClientSecretCredential(srv.TenantID(), clientID, "wrong",
		opts)
	require.NoError(t, err)
	_, err = bad.GetToken(t.Context(), policy.TokenRequestOptions{Scopes: []string{sessions.Audience + "/.default"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "AADSTS7000215")
	assert.NotContains(t, err.Error(), secret)
}

// TestManagedIdentityCredentialCloudShell: with only MSI_ENDPOINT set (Cloud
// Shell's protocol, the one az login --identity uses), azidentity's
// ManagedIdentityCredential gets tokens from the emulator for the system
// identity.
func TestManagedIdentityCredentialCloudShell(t *testing.T) {
	// Not parallel: it sets the managed identity environment variables.
	srv := sessionstest.NewServer(&sessionstest.Options{TB: t})
	endpoint, _, err := srv.IdentityEndpoint()
	require.NoError(t, err)
	for _, k := range []string{"AZURE_CLIENT_ID", "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_SECRET", "IMDS_ENDPOINT", "IDENTITY_SERVER_THUMBPRINT", "AZURE_POD_IDENTITY_AUTHORITY_HOST"} {
		t.Setenv(k, "")
		require.NoError(t, os.Unsetenv(k))
	}
	t.Setenv("MSI_ENDPOINT", endpoint)
	cred, err := azidentity.NewManagedIdentityCredential(nil)
	require.NoError(t, err)
	var tc azcore.TokenCredential = cred
	tok, err := tc.GetToken(t.Context(), policy.TokenRequestOptions{Scopes: []string{sessions.Audience + "/.default"}})
	require.NoError(t, err)
	c, err := jwt.Parse(tok.Token)
	require.NoError(t, err)
	assert.Equal(t, sessions.Audience, c.Audience)
	assert.Equal(t, srv.PrincipalID(), c.ObjectID)
}
