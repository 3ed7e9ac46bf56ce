package armemu

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/internal/jwt"
)

// setIdentityEnv points azidentity at the emulator's token endpoint the way
// Azure App Service / Container Apps do, and clears variables that would
// select another credential.
func setIdentityEnv(t *testing.T, f *fixture) {
	mi := httptest.NewServer(f.eng.IdentityHandler())
	t.Cleanup(mi.Close)
	for _, k := range []string{"AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE", "AZURE_TOKEN_CREDENTIALS",
		"AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_USERNAME", "MSI_ENDPOINT", "MSI_SECRET", "IMDS_ENDPOINT", "IDENTITY_SERVER_THUMBPRINT"} {
		t.Setenv(k, "") // restores the variable after the test
		require.NoError(t, os.Unsetenv(k))
	}
	t.Setenv("IDENTITY_ENDPOINT", mi.URL+"/msi/token")
	t.Setenv("IDENTITY_HEADER", f.eng.IdentityHeader())
}

func TestManagedIdentityCredentialAgainstEmulator(t *testing.T) {
	f := setup(t, nil)
	// azidentity caches managed identity tokens process-wide by identity and
	// scope: a unique name and scope keep repeated runs (-count) apart.
	id := f.eng.CreateIdentity(testSub, testRG, "app"+uuid.NewString()[:8], "eastus")
	setIdentityEnv(t, f)
	uniqueScope := "https://" + uuid.NewString() + ".test"

	cred, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{ID: azidentity.ClientID(id.ClientID)})
	require.NoError(t, err)
	before := time.Now()
	tok, err := cred.GetToken(t.Context(), policy.TokenRequestOptions{Scopes: []string{"https://dynamicsessions.io/.default"}})
	after := time.Now()
	require.NoError(t, err)
	claims, err := jwt.Verify(testKey, tok.Token)
	require.NoError(t, err)
	assert.Equal(t, id.PrincipalID, claims.ObjectID)
	assert.Equal(t, "https://dynamicsessions.io", claims.Audience)
	assert.Equal(t, id.TenantID, claims.TenantID)
	// Valid for miTokenLifetime from when it was minted (bounds, not a tolerance).
	assert.False(t, tok.ExpiresOn.Before(before.Add(miTokenLifetime).Truncate(time.Second)), "expires %v", tok.ExpiresOn)
	assert.False(t, tok.ExpiresOn.After(after.Add(miTokenLifetime)), "expires %v", tok.ExpiresOn)

	byResource, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{ID: azidentity.ResourceID(id.ID)})
	require.NoError(t, err)
	tok, err = byResource.GetToken(t.Context(), policy.TokenRequestOptions{Scopes: []string{"https://management.azure.com/.default"}})
	require.NoError(t, err)
	claims, err = jwt.Verify(testKey, tok.Token)
	require.NoError(t, err)
	assert.Equal(t, id.PrincipalID, claims.ObjectID)

	// The ARM token from the identity endpoint is accepted by ServeHTTP.
	resp, _ := f.doToken(t, http.MethodGet, rgPath(testRG)+"?api-version=2021-04-01", nil, tok.Token)
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	system, err := azidentity.NewManagedIdentityCredential(nil)
	require.NoError(t, err)
	tok, err = system.GetToken(t.Context(), policy.TokenRequestOptions{Scopes: []string{uniqueScope + "/.default"}})
	require.NoError(t, err)
	claims, err = jwt.Verify(testKey, tok.Token)
	require.NoError(t, err)
	assert.Equal(t, f.eng.SystemIdentity().PrincipalID, claims.ObjectID)
	assert.Equal(t, uniqueScope, claims.Audience)

	unknown, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{ID: azidentity.ClientID("99999999-9999-9999-9999-999999999999")})
	require.NoError(t, err)
	_, err = unknown.GetToken(t.Context(), policy.TokenRequestOptions{Scopes: []string{"https://dynamicsessions.io/.default"}})
	require.Error(t, err)
}

func TestDefaultAzureCredentialAgainstEmulator(t *testing.T) {
	f := setup(t, nil)
	id := f.eng.CreateIdentity(testSub, testRG, "appid", "eastus")
	setIdentityEnv(t, f)
	t.Setenv("AZURE_CLIENT_ID", id.ClientID) // how DefaultAzureCredential selects a user-assigned identity
	cred, err := azidentity.NewDefaultAzureCredential(nil)
	require.NoError(t, err)
	tok, err := cred.GetToken(t.Context(), policy.TokenRequestOptions{Scopes: []string{"https://dynamicsessions.io/.default"}})
	require.NoError(t, err)
	claims, err := jwt.Verify(testKey, tok.Token)
	require.NoError(t, err)
	assert.Equal(t, id.PrincipalID, claims.ObjectID)
}

func TestIdentityEndpointErrors(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	id := f.eng.CreateIdentity(testSub, testRG, "appid", "eastus")
	mi := httptest.NewServer(f.eng.IdentityHandler())
	t.Cleanup(mi.Close)
	cases := []struct {
		name   string
		header string
		query  url.Values
		status int
		oid    string
	}{
		{"missing header", "", url.Values{"api-version": {"2019-08-01"}, "resource": {"https://dynamicsessions.io"}}, http.StatusBadRequest, ""},
		{"wrong header", "nope", url.Values{"api-version": {"2019-08-01"}, "resource": {"https://dynamicsessions.io"}}, http.StatusUnauthorized, ""},
		{"wrong api-version", f.eng.IdentityHeader(), url.Values{"api-version": {"2018-02-01"}, "resource": {"https://dynamicsessions.io"}}, http.StatusBadRequest, ""},
		{"missing resource", f.eng.IdentityHeader(), url.Values{"api-version": {"2019-08-01"}}, http.StatusBadRequest, ""},
		{"unknown client", f.eng.IdentityHeader(), url.Values{"api-version": {"2019-08-01"}, "resource": {"r"}, "client_id": {"x"}}, http.StatusBadRequest, ""},
		{"two selectors", f.eng.IdentityHeader(), url.Values{"api-version": {"2019-08-01"}, "resource": {"r"}, "client_id": {id.ClientID}, "principal_id": {id.PrincipalID}}, http.StatusBadRequest, ""},
		{"principal_id", f.eng.IdentityHeader(), url.Values{"api-version": {"2019-08-01"}, "resource": {"r"}, "principal_id": {id.PrincipalID}}, http.StatusOK, id.PrincipalID},
		{"object_id", f.eng.IdentityHeader(), url.Values{"api-version": {"2019-08-01"}, "resource": {"r"}, "object_id": {id.PrincipalID}}, http.StatusOK, id.PrincipalID},
		{"mi_res_id", f.eng.IdentityHeader(), url.Values{"api-version": {"2019-08-01"}, "resource": {"r"}, "mi_res_id": {id.ID}}, http.StatusOK, id.PrincipalID},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, mi.URL+"?"+tc.query.Encode(), nil)
			require.NoError(t, err)
			if tc.header != "" {
				req.Header.Set("X-IDENTITY-HEADER", tc.header)
			}
			resp, err := mi.Client().Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			assert.Equal(t, tc.status, resp.StatusCode)
			if tc.oid == "" {
				return
			}
			var body map[string]string
			require.NoError(t, jsonDecode(resp, &body))
			claims, err := jwt.Verify(testKey, body["access_token"])
			require.NoError(t, err)
			assert.Equal(t, tc.oid, claims.ObjectID)
			assert.Equal(t, "Bearer", body["token_type"])
			assert.Equal(t, id.ClientID, body["client_id"])
			assert.Equal(t, "r", body["resource"])
			assert.NotEmpty(t, body["expires_on"])
		})
	}
}
