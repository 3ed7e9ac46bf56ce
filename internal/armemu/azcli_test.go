package armemu

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/internal/jwt"
)

// Raw requests in the shapes the Azure CLI (2.45, msrestazure and MSAL
// Python) and azidentity send.

func sendRaw(t *testing.T, c *http.Client, method, u string, header http.Header, body string) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, u, rd)
	require.NoError(t, err)
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var out map[string]any
	if len(bytes.TrimSpace(raw)) > 0 && raw[0] == '{' {
		require.NoError(t, json.Unmarshal(raw, &out), "body: %s", raw)
	}
	return resp.StatusCode, out
}

func claimsOf(t *testing.T, v any) jwt.Claims {
	t.Helper()
	tok, ok := v.(string)
	require.True(t, ok, "access_token is a string")
	c, err := jwt.Verify(testKey, tok)
	require.NoError(t, err)
	return c
}

// TestMSIAppService2017 is msrestazure's get_msi_token_webapp: GET
// {MSI_ENDPOINT}/?resource=...&api-version=2017-09-01[&clientid=] with the
// secret header.
func TestMSIAppService2017(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	id := f.eng.CreateIdentity(testSub, testRG, "cli-identity", "eastus")
	mi := httptest.NewServer(f.eng.IdentityHandler())
	t.Cleanup(mi.Close)
	secret := http.Header{"Secret": {f.eng.IdentityHeader()}}
	base := mi.URL + "/msi/token/?resource=https://management.core.windows.net/&api-version=2017-09-01"

	before := time.Now()
	status, body := sendRaw(t, mi.Client(), http.MethodGet, base, secret, "")
	after := time.Now()
	require.Equal(t, http.StatusOK, status, "%v", body)
	c := claimsOf(t, body["access_token"])
	assert.Equal(t, f.eng.SystemIdentity().PrincipalID, c.ObjectID)
	assert.Equal(t, "https://management.core.windows.net/", c.Audience)
	assert.Equal(t, "Bearer", body["token_type"])
	assert.Equal(t, "https://management.core.windows.net/", body["resource"])
	exp, err := time.Parse("01/02/2006 15:04:05 -07:00", body["expires_on"].(string))
	require.NoError(t, err, "2017-09-01 answers expires_on as a date")
	// Valid for a day from when it was minted (bounds, not a tolerance).
	assert.False(t, exp.Before(before.Add(24*time.Hour).Truncate(time.Second)), "expires %v", exp)
	assert.False(t, exp.After(after.Add(24*time.Hour)), "expires %v", exp)

	status, body = sendRaw(t, mi.Client(), http.MethodGet, base+"&clientid="+id.ClientID, secret, "")
	require.Equal(t, http.StatusOK, status, "%v", body)
	assert.Equal(t, id.PrincipalID, claimsOf(t, body["access_token"]).ObjectID, "clientid= selects the user-assigned identity")
	assert.Equal(t, id.ClientID, body["client_id"])

	status, body = sendRaw(t, mi.Client(), http.MethodGet, base+"&clientid=00000000-0000-0000-0000-00000000dead", secret, "")
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, body["message"], "create the identity first")
	status, body = sendRaw(t, mi.Client(), http.MethodGet, base, nil, "")
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, body["message"], "MSI_SECRET")
	status, _ = sendRaw(t, mi.Client(), http.MethodGet, base, http.Header{"Secret": {"wrong"}}, "")
	assert.Equal(t, http.StatusUnauthorized, status)
}

// TestMSICloudShell is msrestazure's get_msi_token (az login --identity with
// MSI_ENDPOINT alone): POST a form with Metadata: true.
func TestMSICloudShell(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	id := f.eng.CreateIdentity(testSub, testRG, "cs-identity", "eastus")
	mi := httptest.NewServer(f.eng.IdentityHandler())
	t.Cleanup(mi.Close)
	form := http.Header{"Metadata": {"true"}, "Content-Type": {"application/x-www-form-urlencoded"}}

	status, body := sendRaw(t, mi.Client(), http.MethodPost, mi.URL+"/msi/token", form, "resource=https%3A%2F%2Fdynamicsessions.io")
	require.Equal(t, http.StatusOK, status, "%v", body)
	c := claimsOf(t, body["access_token"])
	assert.Equal(t, "https://dynamicsessions.io", c.Audience)
	assert.Equal(t, f.eng.SystemIdentity().PrincipalID, c.ObjectID)
	on, err := strconv.ParseInt(body["expires_on"].(string), 10, 64)
	require.NoError(t, err, "Cloud Shell answers epoch seconds")
	assert.InDelta(t, time.Now().Add(24*time.Hour).Unix(), on, 60)
	assert.Equal(t, "86400", body["expires_in"])

	status, body = sendRaw(t, mi.Client(), http.MethodPost, mi.URL+"/msi/token", form, "resource=https%3A%2F%2Fdynamicsessions.io&client_id="+id.ClientID)
	require.Equal(t, http.StatusOK, status, "%v", body)
	assert.Equal(t, id.PrincipalID, claimsOf(t, body["access_token"]).ObjectID)

	status, body = sendRaw(t, mi.Client(), http.MethodPost, mi.URL+"/msi/token", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, "resource=x")
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, body["message"], "Metadata: true")
	status, body = sendRaw(t, mi.Client(), http.MethodPost, mi.URL+"/msi/token", form, "")
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, body["message"], "resource parameter is required")
	status, _ = sendRaw(t, mi.Client(), http.MethodPut, mi.URL+"/msi/token", form, "")
	assert.Equal(t, http.StatusMethodNotAllowed, status)
}

// TestEntraClientCredentials is MSAL's client credentials flow: OpenID
// discovery, instance discovery, then POST /{tenant}/oauth2/v2.0/token.
func TestEntraClientCredentials(t *testing.T) {
	t.Parallel()
	f := setup(t, func(c *Config) {
		c.TenantID = "44444444-4444-4444-4444-444444444444"
		c.ClientID = "55555555-5555-5555-5555-555555555555"
		c.ClientSecret = "s3cret"
		c.SystemPrincipalID = "66666666-6666-6666-6666-666666666666"
	})
	cl := f.srv.Client()
	tenant := "44444444-4444-4444-4444-444444444444"

	status, oidc := sendRaw(t, cl, http.MethodGet, f.srv.URL+"/"+tenant+"/v2.0/.well-known/openid-configuration", nil, "")
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, f.srv.URL+"/"+tenant+"/oauth2/v2.0/token", oidc["token_endpoint"])
	assert.Equal(t, f.srv.URL+"/"+tenant+"/oauth2/v2.0/authorize", oidc["authorization_endpoint"])
	assert.Equal(t, f.srv.URL+"/"+tenant+"/v2.0", oidc["issuer"])
	status, oidc = sendRaw(t, cl, http.MethodGet, f.srv.URL+"/organizations/.well-known/openid-configuration", nil, "")
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, f.srv.URL+"/organizations/oauth2/token", oidc["token_endpoint"])
	status, body := sendRaw(t, cl, http.MethodGet, f.srv.URL+"/77777777-7777-7777-7777-777777777777/v2.0/.well-known/openid-configuration", nil, "")
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "invalid_tenant", body["error"])

	status, body = sendRaw(t, cl, http.MethodGet, f.srv.URL+"/common/discovery/instance?api-version=1.1&authorization_endpoint="+
		url.QueryEscape(f.srv.URL+"/"+tenant+"/oauth2/v2.0/authorize"), nil, "")
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, f.srv.URL+"/"+tenant+"/v2.0/.well-known/openid-configuration", body["tenant_discovery_endpoint"])

	form := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	tokenURL := f.srv.URL + "/" + tenant + "/oauth2/v2.0/token"
	good := url.Values{"grant_type": {"client_credentials"}, "client_id": {"55555555-5555-5555-5555-555555555555"},
		"client_secret": {"s3cret"}, "scope": {"https://management.core.windows.net//.default"}, "client_info": {"1"}}
	status, body = sendRaw(t, cl, http.MethodPost, tokenURL, form, good.Encode())
	require.Equal(t, http.StatusOK, status, "%v", body)
	assert.Equal(t, "Bearer", body["token_type"])
	assert.InDelta(t, 3600, body["expires_in"], 1)
	c := claimsOf(t, body["access_token"])
	assert.Equal(t, "https://management.core.windows.net/", c.Audience)
	assert.Equal(t, "66666666-6666-6666-6666-666666666666", c.ObjectID, "the service principal is the system identity's principal")
	assert.Equal(t, "55555555-5555-5555-5555-555555555555", c.AppID)
	assert.Equal(t, tenant, c.TenantID)
	// The token is accepted by ARM.
	resp, subs := f.doToken(t, http.MethodGet, "/subscriptions?api-version=2022-12-01", nil, body["access_token"].(string))
	assert.Equal(t, http.StatusOK, resp.StatusCode, "%v", subs)

	// The v1 endpoint (resource=) answers in v1's shape.
	v1 := url.Values{"grant_type": {"client_credentials"}, "client_id": {"55555555-5555-5555-5555-555555555555"},
		"client_secret": {"s3cret"}, "resource": {"https://dynamicsessions.io"}}
	status, body = sendRaw(t, cl, http.MethodPost, f.srv.URL+"/"+tenant+"/oauth2/token", form, v1.Encode())
	require.Equal(t, http.StatusOK, status, "%v", body)
	assert.Equal(t, "https://dynamicsessions.io", body["resource"])
	assert.IsType(t, "", body["expires_in"], "v1 answers strings")
	assert.Equal(t, "https://dynamicsessions.io", claimsOf(t, body["access_token"]).Audience)

	// The ADFS form of the authority (what az login --service-principal
	// uses with a cloud whose activeDirectory ends in /adfs): MSAL reads
	// /adfs/.well-known/openid-configuration and sends scope to the v1-style
	// token endpoint; ADFS answers expires_in as a number.
	status, oidc = sendRaw(t, cl, http.MethodGet, f.srv.URL+"/adfs/.well-known/openid-configuration", nil, "")
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, f.srv.URL+"/adfs/oauth2/token", oidc["token_endpoint"])
	adfs := url.Values{"grant_type": {"client_credentials"}, "client_id": {"55555555-5555-5555-5555-555555555555"},
		"client_secret": {"s3cret"}, "scope": {"https://dynamicsessions.io/.default"}}
	status, body = sendRaw(t, cl, http.MethodPost, f.srv.URL+"/adfs/oauth2/token", form, adfs.Encode())
	require.Equal(t, http.StatusOK, status, "%v", body)
	assert.InDelta(t, 3600, body["expires_in"], 1, "a number")
	assert.Equal(t, "66666666-6666-6666-6666-666666666666", claimsOf(t, body["access_token"]).ObjectID)
	assert.Equal(t, "https://dynamicsessions.io", claimsOf(t, body["access_token"]).Audience)

	for _, tc := range []struct {
		name   string
		change func(url.Values)
		path   string
		status int
		code   string
		aadsts string
	}{
		{"wrong secret", func(v url.Values) { v.Set("client_secret", "nope") }, "", http.StatusUnauthorized, "invalid_client", "AADSTS7000215"},
		{"unknown client", func(v url.Values) { v.Set("client_id", "88888888-8888-8888-8888-888888888888") }, "", http.StatusBadRequest, "unauthorized_client", "AADSTS700016"},
		{"no .default scope", func(v url.Values) { v.Set("scope", "openid") }, "", http.StatusBadRequest, "invalid_scope", "AADSTS1002012"},
		{"password grant", func(v url.Values) { v.Set("grant_type", "password") }, "", http.StatusBadRequest, "unsupported_grant_type", "AADSTS70003"},
		{"unknown tenant", func(url.Values) {}, "/99999999-9999-9999-9999-999999999999/oauth2/v2.0/token", http.StatusBadRequest, "invalid_tenant", "AADSTS90002"},
		{"organizations", func(url.Values) {}, "/organizations/oauth2/v2.0/token", http.StatusBadRequest, "invalid_request", "AADSTS900023"},
	} {
		v := url.Values{}
		for k, vs := range good {
			v[k] = append([]string(nil), vs...)
		}
		tc.change(v)
		u := tokenURL
		if tc.path != "" {
			u = f.srv.URL + tc.path
		}
		status, body := sendRaw(t, cl, http.MethodPost, u, form, v.Encode())
		assert.Equal(t, tc.status, status, tc.name)
		assert.Equal(t, tc.code, body["error"], tc.name)
		assert.Contains(t, body["error_description"], tc.aadsts, tc.name)
		assert.NotContains(t, body["error_description"], "s3cret", tc.name)
	}
}

// TestCloudMetadataWithoutToken is what az cloud register reads.
func TestCloudMetadataWithoutToken(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	status, body := sendRaw(t, f.srv.Client(), http.MethodGet, f.srv.URL+"/metadata/endpoints?api-version=2015-01-01", nil, "")
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, f.srv.URL+"/", dig(body, "authentication", "loginEndpoint"))
	assert.Equal(t, []any{"https://management.core.windows.net/", "https://management.azure.com/"}, dig(body, "authentication", "audiences"))
	assert.Equal(t, f.srv.URL+"/", body["graphEndpoint"])

	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, f.srv.URL+"/metadata/endpoints?api-version=2022-09-01", nil)
	require.NoError(t, err)
	resp, err := f.srv.Client().Do(req)
	require.NoError(t, err)
	var clouds []map[string]any
	require.NoError(t, jsonDecode(resp, &clouds))
	_ = resp.Body.Close()
	require.Len(t, clouds, 1)
	assert.Equal(t, f.srv.URL+"/", clouds[0]["microsoftGraphResourceId"])
	assert.Equal(t, f.srv.URL+"/", clouds[0]["resourceManager"])

	status, body = sendRaw(t, f.srv.Client(), http.MethodGet, f.srv.URL+"/metadata/endpoints?api-version=1999-01-01", nil, "")
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "InvalidApiVersionParameter", errCode(body))
}

// TestSubscriptionsAndTenants is what every az login lists.
func TestSubscriptionsAndTenants(t *testing.T) {
	t.Parallel()
	f := setup(t, func(c *Config) {
		c.SubscriptionID = testSub
		c.TenantID = "44444444-4444-4444-4444-444444444444"
	})
	f.eng.EnsureResourceGroup("00000000-0000-0000-0000-0000000000bb", "other", "eastus")
	resp, body := f.do(t, http.MethodGet, "/subscriptions?api-version=2019-11-01", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	subs := body["value"].([]any)
	require.Len(t, subs, 2, "the configured subscription and the one a group lives in")
	assert.Equal(t, testSub, dig(subs[0], "subscriptionId"))
	assert.Equal(t, "/subscriptions/"+testSub, dig(subs[0], "id"))
	assert.Equal(t, "Enabled", dig(subs[0], "state"))
	assert.Equal(t, "44444444-4444-4444-4444-444444444444", dig(subs[0], "tenantId"))
	assert.Equal(t, "00000000-0000-0000-0000-0000000000bb", dig(subs[1], "subscriptionId"))

	resp, body = f.do(t, http.MethodGet, "/subscriptions/"+testSub+"?api-version=2022-12-01", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, testSub, body["subscriptionId"])
	resp, body = f.do(t, http.MethodGet, "/subscriptions/00000000-0000-0000-0000-0000000000cc?api-version=2022-12-01", nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Equal(t, "SubscriptionNotFound", errCode(body))
	resp, body = f.do(t, http.MethodGet, "/subscriptions?api-version=2010-01-01", nil)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Equal(t, "InvalidApiVersionParameter", errCode(body))
	resp, _ = f.doToken(t, http.MethodGet, "/subscriptions?api-version=2019-11-01", nil, "")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "subscriptions need a token")

	resp, body = f.do(t, http.MethodGet, "/tenants?api-version=2019-11-01", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "44444444-4444-4444-4444-444444444444", dig(body["value"].([]any)[0], "tenantId"))
}

// TestGraphForRoleAssignments is what az role assignment create/list ask
// Microsoft Graph.
func TestGraphForRoleAssignments(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	id := f.eng.CreateIdentity(testSub, testRG, "graph-identity", "eastus")
	sys := f.eng.SystemIdentity()
	graph := mint("https://graph.microsoft.com", time.Hour)
	own := mint(f.srv.URL+"/", time.Hour) // az cloud register's microsoftGraphResourceId

	list := func(filter, token string) (int, map[string]any) {
		return sendRaw(t, f.srv.Client(), http.MethodGet, f.srv.URL+"/v1.0/servicePrincipals?$filter="+url.QueryEscape(filter),
			http.Header{"Authorization": {"Bearer " + token}}, "")
	}
	status, body := list("servicePrincipalNames/any(c:c eq '"+id.ClientID+"')", graph)
	require.Equal(t, http.StatusOK, status, "%v", body)
	require.Len(t, body["value"], 1)
	assert.Equal(t, id.PrincipalID, dig(body["value"].([]any)[0], "id"))
	assert.Equal(t, "ManagedIdentity", dig(body["value"].([]any)[0], "servicePrincipalType"))
	status, body = list("servicePrincipalNames/any(c:c eq '"+id.PrincipalID+"')", own)
	require.Equal(t, http.StatusOK, status, "%v", body)
	assert.Empty(t, body["value"], "an object ID is not a service principal name")
	status, body = list("appId eq '"+sys.ClientID+"'", own)
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, sys.PrincipalID, dig(body["value"].([]any)[0], "id"))
	status, body = list("accountEnabled eq true", graph)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "Request_UnsupportedQuery", errCode(body))
	status, body = list("appId eq 'x'", mint("https://management.azure.com", time.Hour))
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Equal(t, "InvalidAuthenticationToken", errCode(body))

	status, body = sendRaw(t, f.srv.Client(), http.MethodPost, f.srv.URL+"/v1.0/directoryObjects/getByIds",
		http.Header{"Authorization": {"Bearer " + graph}, "Content-Type": {"application/json"}},
		`{"ids": ["`+id.PrincipalID+`", "`+sys.PrincipalID+`", "00000000-0000-0000-0000-00000000dead"], "types": ["user", "group", "servicePrincipal", "directoryObjectPartnerReference"]}`)
	require.Equal(t, http.StatusOK, status, "%v", body)
	objs := body["value"].([]any)
	require.Len(t, objs, 2, "unknown IDs are left out")
	assert.Equal(t, "#microsoft.graph.servicePrincipal", dig(objs[0], "@odata.type"))
	assert.Equal(t, id.PrincipalID, dig(objs[0], "id"))
	assert.Equal(t, []any{id.ClientID, "https://identity.azure.net/" + id.ClientID}, dig(objs[0], "servicePrincipalNames"))
	assert.Equal(t, sys.PrincipalID, dig(objs[1], "id"))

	status, body = sendRaw(t, f.srv.Client(), http.MethodGet, f.srv.URL+"/v1.0/servicePrincipals/"+id.PrincipalID, http.Header{"Authorization": {"Bearer " + graph}}, "")
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, "graph-identity", body["displayName"])
	status, body = sendRaw(t, f.srv.Client(), http.MethodGet, f.srv.URL+"/v1.0/servicePrincipals/00000000-0000-0000-0000-00000000dead", http.Header{"Authorization": {"Bearer " + graph}}, "")
	assert.Equal(t, http.StatusNotFound, status)
	assert.Equal(t, "Request_ResourceNotFound", errCode(body))
}

// TestRoleDefinitions is what az role assignment list and --role by name
// read.
func TestRoleDefinitions(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	f.eng.SeedPool(PoolSpec{SubscriptionID: testSub, ResourceGroup: testRG, Name: "pool", Location: "eastus", ContainerType: "Shell", MaxConcurrentSessions: 1}, "https://e")
	scope := poolID(testSub, testRG, "pool")
	resp, body := f.do(t, http.MethodGet, scope+"/providers/Microsoft.Authorization/roleDefinitions?api-version=2022-04-01", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%v", body)
	names := map[string]string{}
	for _, d := range body["value"].([]any) {
		names[dig(d, "id").(string)] = dig(d, "properties", "roleName").(string)
	}
	want := "/subscriptions/" + testSub + "/providers/Microsoft.Authorization/roleDefinitions/" + sessionExecutor
	assert.Equal(t, "Azure ContainerApps Session Executor", names[want], "IDs in the subscription form, as role assignments carry them")
	assert.Equal(t, "Owner", names["/subscriptions/"+testSub+"/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635"])

	resp, body = f.do(t, http.MethodGet, scope+"/providers/Microsoft.Authorization/roleDefinitions?api-version=2022-04-01&$filter="+url.QueryEscape("roleName eq 'Azure ContainerApps Session Executor'"), nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Len(t, body["value"], 1)
	assert.Equal(t, sessionExecutor, dig(body["value"].([]any)[0], "name"))
	assert.Equal(t, "BuiltInRole", dig(body["value"].([]any)[0], "properties", "type"))

	resp, body = f.do(t, http.MethodGet, "/subscriptions/"+testSub+"/providers/Microsoft.Authorization/roleDefinitions/"+sessionExecutor+"?api-version=2022-04-01", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, want, body["id"])
	resp, body = f.do(t, http.MethodGet, "/providers/Microsoft.Authorization/roleDefinitions/"+sessionExecutor+"?api-version=2022-04-01", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "/providers/Microsoft.Authorization/roleDefinitions/"+sessionExecutor, body["id"])
	resp, body = f.do(t, http.MethodGet, "/subscriptions/"+testSub+"/providers/Microsoft.Authorization/roleDefinitions/00000000-0000-0000-0000-00000000dead?api-version=2022-04-01", nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Equal(t, "RoleDefinitionDoesNotExist", errCode(body))
	resp, body = f.do(t, http.MethodGet, rgPath("ghost")+"/providers/Microsoft.Authorization/roleDefinitions?api-version=2022-04-01", nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Equal(t, "ResourceGroupNotFound", errCode(body))
	resp, body = f.do(t, http.MethodGet, scope+"/providers/Microsoft.Authorization/roleDefinitions?api-version=2022-04-01&$filter="+url.QueryEscape("permissions eq 'x'"), nil)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Equal(t, "UnsupportedQuery", errCode(body))
}

// TestRoleAssignmentSecondCreateAsTheCLIDoes: the CLI creates with a fresh
// name, gets 409 "role assignment already exists", lists at the scope
// (atScope()) and keeps the one whose roleDefinitionId equals
// /subscriptions/{sub}/providers/.../roleDefinitions/{guid} exactly.
func TestRoleAssignmentSecondCreateAsTheCLIDoes(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	f.eng.SeedPool(PoolSpec{SubscriptionID: testSub, ResourceGroup: testRG, Name: "pool", Location: "eastus", ContainerType: "Shell", MaxConcurrentSessions: 1}, "https://e")
	id := f.eng.CreateIdentity(testSub, testRG, "ra-identity", "eastus")
	scope := poolID(testSub, testRG, "pool")
	resp, first := f.do(t, http.MethodPut, rolePath(scope, "11111111-0000-4000-8000-000000000001"), roleBody(id.PrincipalID, "ServicePrincipal"))
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%v", first)
	resp, body := f.do(t, http.MethodPut, rolePath(scope, "11111111-0000-4000-8000-000000000002"), roleBody(id.PrincipalID, "ServicePrincipal"))
	require.Equal(t, http.StatusConflict, resp.StatusCode)
	assert.Contains(t, errMessage(body), "role assignment already exists", "the CLI recognises the conflict by this text")

	resp, body = f.do(t, http.MethodGet, scope+"/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01&$filter="+url.QueryEscape("atScope()"), nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	want := "/subscriptions/" + testSub + "/providers/Microsoft.Authorization/roleDefinitions/" + sessionExecutor
	var found []any
	for _, ra := range body["value"].([]any) {
		if dig(ra, "properties", "roleDefinitionId") == want && dig(ra, "properties", "principalId") == id.PrincipalID {
			found = append(found, ra)
		}
	}
	require.Len(t, found, 1)
	assert.Equal(t, first["id"], dig(found[0], "id"))
}

// TestDeploymentValidateAndJSONC is az deployment group create: validate
// first, then PUT, both with the CLI's body: properties without the
// template, then `template:` unquoted and the file as written, comments
// and all.
func TestDeploymentValidateAndJSONC(t *testing.T) {
	t.Parallel()
	f := setup(t, func(c *Config) { c.LROPolls = -1 })
	f.eng.EnsureResourceGroup(testSub, testRG, "eastus")
	template := `{
    // the tutorial's pool
    "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
    "contentVersion": "1.0.0.0", /* block comment */
    "resources": [
        {
            "apiVersion": "2025-02-02-preview",
            "name": "jsoncpool",
            "type": "Microsoft.App/sessionpools",
            "location": "North Central US",
            "properties": {
                "poolManagementType": "Dynamic",
                "containerType": "Shell",
                "scaleConfiguration": {"maxConcurrentSessions": 5,},
                "dynamicPoolConfiguration": {"lifecycleConfiguration": {"lifecycleType": "Timed", "cooldownPeriodInSeconds": 300}},
                "sessionNetworkConfiguration": {"status": "EgressEnabled"}
            }
        }
    ]
}`
	// The CLI's JsonCTemplatePolicy puts the template inside properties.
	body := `{"properties": {"parameters": {}, "mode": "Incremental", template:` + template + `}}`
	dep := rgPath(testRG) + "/providers/Microsoft.Resources/deployments/tutorial"
	hdr := http.Header{"Authorization": {"Bearer " + f.token}, "Content-Type": {"application/json"}}

	status, v := sendRaw(t, f.srv.Client(), http.MethodPost, f.srv.URL+dep+"/validate?api-version=2021-04-01", hdr, body)
	require.Equal(t, http.StatusOK, status, "%v", v)
	assert.Equal(t, "Succeeded", dig(v, "properties", "provisioningState"))
	assert.Equal(t, []any{map[string]any{"id": "/subscriptions/" + testSub + "/resourceGroups/" + testRG + "/providers/Microsoft.App/sessionPools/jsoncpool"}}, dig(v, "properties", "validatedResources"))
	f.backend.mu.Lock()
	assert.Empty(t, f.backend.upserts, "validate deploys nothing")
	f.backend.mu.Unlock()
	resp, _ := f.do(t, http.MethodGet, dep+"?api-version=2021-04-01", nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "validate stores no deployment")

	status, v = sendRaw(t, f.srv.Client(), http.MethodPut, f.srv.URL+dep+"?api-version=2021-04-01", hdr, body)
	require.Equal(t, http.StatusCreated, status, "%v", v)
	assert.Equal(t, "jsoncpool", f.backend.lastUpsert(t).Name)

	bad := `{"properties": {"mode": "Incremental", template: {"resources": [{"type": "Microsoft.App/sessionPools", "apiVersion": "2025-02-02-preview", "name": "[concat('a', parameters('missing'))]", "location": "eastus"}]}}}`
	status, v = sendRaw(t, f.srv.Client(), http.MethodPost, f.srv.URL+dep+"/validate?api-version=2021-04-01", hdr, bad)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "InvalidTemplate", errCode(v))
	status, v = sendRaw(t, f.srv.Client(), http.MethodPost, f.srv.URL+rgPath("ghost")+"/providers/Microsoft.Resources/deployments/x/validate?api-version=2021-04-01", hdr, body)
	assert.Equal(t, http.StatusNotFound, status)
	assert.Equal(t, "ResourceGroupNotFound", errCode(v))
	status, v = sendRaw(t, f.srv.Client(), http.MethodPost, f.srv.URL+dep+"/validate?api-version=2021-04-01", hdr, `{"properties": {template: {"a": 1`)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "InvalidRequestContent", errCode(v))
}

func TestJSONCToJSON(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`{a: 1, "b": "x // not a comment", c: [1, 2,], d: {e: true,},}`: `{"a": 1, "b": "x // not a comment", "c": [1, 2], "d": {"e": true}}`,
		"{\n // line\n \"k\": /* c */ null, \"s\": \"q\\\"/*x*/\"}":     "{\n \n \"k\":   null, \"s\": \"q\\\"/*x*/\"}",
		`{"n": 1e5, "m": -2.5E-3}`:                                      `{"n": 1e5, "m": -2.5E-3}`,
	} {
		got, err := jsoncToJSON([]byte(in))
		require.NoError(t, err, in)
		assert.Equal(t, want, string(got), in)
		var v any
		assert.NoError(t, json.Unmarshal(got, &v), "%s gives valid JSON", in)
	}
	_, err := jsoncToJSON([]byte(`{"a": "open`))
	assert.ErrorContains(t, err, "unterminated string")
	_, err = jsoncToJSON([]byte(`{/* open`))
	assert.ErrorContains(t, err, "unterminated /*")
}

// TestAPIVersionsNewestFirst: every published api-version of the served
// types is accepted (the CLI uses 2022-01-31-preview for identities) and
// provider answers list them newest first.
func TestAPIVersionsNewestFirst(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	f.eng.EnsureResourceGroup(testSub, testRG, "eastus")
	resp, body := f.do(t, http.MethodPut, identityPath(testRG, "preview-identity", "2022-01-31-preview"), map[string]any{"location": "eastus"})
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%v", body)
	for ns, typ := range map[string]string{"Microsoft.App": "sessionPools", "Microsoft.ManagedIdentity": "userAssignedIdentities", "Microsoft.Authorization": "roleAssignments", "Microsoft.Resources": "deployments"} {
		resp, body := f.do(t, http.MethodGet, "/subscriptions/"+testSub+"/providers/"+ns+"?api-version=2021-04-01", nil)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		var versions []string
		for _, rt := range body["resourceTypes"].([]any) {
			if dig(rt, "resourceType") == typ {
				for _, v := range dig(rt, "apiVersions").([]any) {
					versions = append(versions, v.(string))
				}
			}
		}
		require.NotEmpty(t, versions, ns)
		for i := 1; i < len(versions); i++ {
			assert.Greater(t, versions[i-1][:10], versions[i][:10], "%s lists newest first: %v", ns, versions)
		}
	}
	assert.Contains(t, identityAPIVersions, "2022-01-31-preview")
	assert.Contains(t, identityAPIVersions, "2015-08-31-preview")
}
