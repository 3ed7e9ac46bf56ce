package armemu

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/internal/jwt"
)

func TestAuthentication(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	badSig := jwt.Sign([]byte("other key"), jwt.Claims{Audience: "https://management.azure.com", ExpiresAt: time.Now().Add(time.Hour)})
	cases := []struct {
		name   string
		header string
		status int
		code   string
	}{
		{"no header", "", http.StatusUnauthorized, "AuthenticationFailed"},
		{"not bearer", "Basic abc", http.StatusUnauthorized, "AuthenticationFailed"},
		{"bad signature", "Bearer " + badSig, http.StatusUnauthorized, "InvalidAuthenticationToken"},
		{"data-plane audience", "Bearer " + mint("https://dynamicsessions.io", time.Hour), http.StatusUnauthorized, "InvalidAuthenticationToken"},
		{"expired", "Bearer " + mint("https://management.azure.com", -time.Minute), http.StatusUnauthorized, "ExpiredAuthenticationToken"},
		{"trailing slash audience", "Bearer " + mint("https://management.azure.com/", time.Hour), http.StatusNotFound, "ResourceGroupNotFound"},
		{"classic audience", "Bearer " + mint("https://management.core.windows.net/", time.Hour), http.StatusNotFound, "ResourceGroupNotFound"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, f.srv.URL+rgPath("missing")+"?api-version=2021-04-01", nil)
			require.NoError(t, err)
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			resp, err := f.srv.Client().Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			var sb bytes.Buffer
			_, err = sb.ReadFrom(resp.Body)
			require.NoError(t, err)
			assert.Equal(t, tc.status, resp.StatusCode)
			assert.Contains(t, sb.String(), `"code":"`+tc.code+`"`)
			if _, tok, ok := strings.Cut(tc.header, " "); ok && len(tok) > 20 {
				assert.NotContains(t, sb.String(), tok, "the token must never be echoed")
			}
		})
	}
}

func TestAPIVersions(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	f.eng.EnsureResourceGroup(testSub, testRG, "eastus")
	cases := []struct {
		name, path string
		status     int
		code       string
	}{
		{"pool bad version", poolPath(testRG, "p1", "2021-04-01"), http.StatusBadRequest, "InvalidApiVersionParameter"},
		{"pool missing version", rgPath(testRG) + "/providers/Microsoft.App/sessionPools/p1", http.StatusBadRequest, "MissingApiVersionParameter"},
		{"pool good version", poolPath(testRG, "p1", "2026-01-01"), http.StatusNotFound, "ResourceNotFound"},
		{"resource group bad version", rgPath(testRG) + "?api-version=2025-02-02-preview", http.StatusBadRequest, "InvalidApiVersionParameter"},
		{"resource group good version", rgPath(testRG) + "?api-version=2025-04-01", http.StatusOK, ""},
		{"identity bad version", rgPath(testRG) + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1?api-version=2021-04-01", http.StatusBadRequest, "InvalidApiVersionParameter"},
		{"identity good version", rgPath(testRG) + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1?api-version=2024-11-30", http.StatusNotFound, "ResourceNotFound"},
		{"role bad version", rgPath(testRG) + "/providers/Microsoft.Authorization/roleAssignments?api-version=2021-04-01", http.StatusBadRequest, "InvalidApiVersionParameter"},
		{"role good version", rgPath(testRG) + "/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01", http.StatusOK, ""},
		{"lower-case fixed segments", "/subscriptions/" + testSub + "/resourcegroups/" + testRG + "/providers/microsoft.app/sessionpools?api-version=2025-02-02-preview", http.StatusOK, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp, body := f.do(t, http.MethodGet, tc.path, nil)
			assert.Equal(t, tc.status, resp.StatusCode)
			assert.Equal(t, tc.code, errCode(body))
		})
	}
	_, body := f.do(t, http.MethodGet, poolPath(testRG, "p1", "1999-01-01"), nil)
	assert.Equal(t, "The api-version '1999-01-01' is invalid. The supported versions are '"+strings.Join(poolAPIVersions, ",")+"'.", errMessage(body))
}

func TestResourceGroupLifecycle(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	path := rgPath("Group1") + "?api-version=2021-04-01"

	resp, body := f.do(t, http.MethodPut, path, map[string]any{"location": "East US", "tags": map[string]any{"a": "b"}})
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	assert.Equal(t, "/subscriptions/"+testSub+"/resourceGroups/Group1", body["id"])
	assert.Equal(t, "eastus", body["location"])
	assert.Equal(t, "Succeeded", dig(body, "properties", "provisioningState"))

	resp, _ = f.do(t, http.MethodPut, path, map[string]any{"location": "eastus"})
	assert.Equal(t, http.StatusOK, resp.StatusCode, "an existing group is updated")
	resp, body = f.do(t, http.MethodPut, path, map[string]any{"location": "westus"})
	assert.Equal(t, http.StatusConflict, resp.StatusCode)
	assert.Equal(t, "InvalidResourceGroupLocation", errCode(body))
	resp, body = f.do(t, http.MethodPut, rgPath("nolocation")+"?api-version=2021-04-01", map[string]any{})
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Equal(t, "LocationRequired", errCode(body))

	resp, body = f.do(t, http.MethodGet, rgPath("group1")+"?api-version=2021-04-01", nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode, "names are case-insensitive")
	assert.Equal(t, "Group1", body["name"])
	resp, _ = f.do(t, http.MethodHead, path, nil)
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)

	// Location LRO: 202 while running, then 200.
	resp, _ = f.do(t, http.MethodDelete, path, nil)
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	loc := resp.Header.Get("Location")
	require.True(t, strings.HasPrefix(loc, f.srv.URL+"/subscriptions/"+testSub+"/operationresults/"), loc)
	assert.NotEmpty(t, resp.Header.Get("Retry-After-Ms"))
	resp, _ = f.do(t, http.MethodGet, loc, nil)
	assert.Equal(t, http.StatusAccepted, resp.StatusCode)
	resp, _ = f.do(t, http.MethodGet, loc, nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	resp, body = f.do(t, http.MethodGet, path, nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Equal(t, "ResourceGroupNotFound", errCode(body))
	resp, _ = f.do(t, http.MethodHead, path, nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp, body = f.do(t, http.MethodDelete, path, nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Equal(t, "ResourceGroupNotFound", errCode(body))
}

func TestResourceGroupDeleteRemovesEverything(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	pl := f.pipeline(t)
	f.eng.EnsureResourceGroup(testSub, testRG, "eastus")
	f.eng.EnsureResourceGroup(testSub, "other", "eastus")
	p, err := begin[map[string]any](t, f, pl, http.MethodPut, poolPath(testRG, "pool1", "2025-02-02-preview"), shellPool("East US", 300, 5))
	require.NoError(t, err)
	_, err = pollDone(t, p)
	require.NoError(t, err)
	p, err = begin[map[string]any](t, f, pl, http.MethodPut, poolPath("other", "keep", "2025-02-02-preview"), shellPool("East US", 300, 5))
	require.NoError(t, err)
	_, err = pollDone(t, p)
	require.NoError(t, err)
	id := f.eng.CreateIdentity(testSub, testRG, "caller", "eastus")
	poolScope := poolID(testSub, testRG, "pool1")
	assignment, err := f.eng.AssignRole(RoleGrant{Scope: poolScope, Role: sessionExecutor, PrincipalID: id.PrincipalID})
	require.NoError(t, err)
	other, err := f.eng.AssignRole(RoleGrant{Scope: "/subscriptions/" + testSub, Role: sessionExecutor, PrincipalID: id.PrincipalID})
	require.NoError(t, err)

	del, err := begin[map[string]any](t, f, pl, http.MethodDelete, rgPath(testRG)+"?api-version=2021-04-01", nil)
	require.NoError(t, err)
	_, err = pollDone(t, del)
	require.NoError(t, err)

	f.backend.mu.Lock()
	assert.Equal(t, []string{testSub + "/" + testRG + "/pool1"}, f.backend.deleted)
	f.backend.mu.Unlock()
	resp, _ := f.do(t, http.MethodGet, assignment+"?api-version=2022-04-01", nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "the assignment on the pool is gone")
	resp, _ = f.do(t, http.MethodGet, other+"?api-version=2022-04-01", nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the subscription-level assignment survives")
	resp, _ = f.do(t, http.MethodGet, poolPath(testRG, "pool1", "2025-02-02-preview"), nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp, _ = f.do(t, http.MethodGet, rgPath(testRG)+"/providers/Microsoft.ManagedIdentity/userAssignedIdentities/caller?api-version=2023-01-31", nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp, _ = f.do(t, http.MethodGet, poolPath("other", "keep", "2025-02-02-preview"), nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode, "other groups are untouched")
}

func TestProviderRegistration(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	base := "/subscriptions/" + testSub + "/providers/Microsoft.App"
	_, body := f.do(t, http.MethodGet, base+"?api-version=2021-04-01", nil)
	assert.Equal(t, "NotRegistered", body["registrationState"])
	resp, body := f.do(t, http.MethodPost, base+"/register?api-version=2021-04-01", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "Registering", body["registrationState"])
	assert.Equal(t, "Microsoft.App", body["namespace"])
	assert.NotEmpty(t, resp.Header.Get("Retry-After-Ms"), "pollers learn when to look again")
	resp, body = f.do(t, http.MethodGet, base+"?api-version=2021-04-01", nil)
	assert.Equal(t, "Registering", body["registrationState"])
	assert.NotEmpty(t, resp.Header.Get("Retry-After-Ms"))
	resp, body = f.do(t, http.MethodGet, strings.ToLower(base)+"?api-version=2021-04-01", nil)
	assert.Equal(t, "Registered", body["registrationState"])
	assert.Empty(t, resp.Header.Get("Retry-After-Ms"), "nothing to wait for once registered")
	_, body = f.do(t, http.MethodPost, base+"/register?api-version=2021-04-01", nil)
	assert.Equal(t, "Registered", body["registrationState"], "registering again keeps the state")
}

func TestUnknownRoute(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	resp, body := f.do(t, http.MethodGet, "/subscriptions/"+testSub+"/resourceGroups/rg/providers/Microsoft.Web/sites/x?api-version=2021-04-01", nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Equal(t, "NotFound", errCode(body))
	resp, body = f.do(t, http.MethodGet, "/subscriptions/"+testSub+"/operationresults/nope", nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Equal(t, "OperationNotFound", errCode(body))
}

// responseCode extracts the ARM error code of a failed azcore call.
func responseCode(t *testing.T, err error) string {
	t.Helper()
	var re *azcore.ResponseError
	require.ErrorAs(t, err, &re)
	return re.ErrorCode
}

// TestOperationsAreBounded keeps the engine's memory bounded: past
// maxOperations, the oldest operation is forgotten.
func TestOperationsAreBounded(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	f.eng.mu.Lock()
	first := f.eng.newOp("InProgress")
	var last *operation
	for range maxOperations {
		last = f.eng.newOp("InProgress")
	}
	n := len(f.eng.ops)
	f.eng.mu.Unlock()
	assert.Equal(t, maxOperations, n)
	resp, body := f.do(t, http.MethodGet, "/subscriptions/"+testSub+"/operationresults/"+first.id+"?api-version=2021-04-01", nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Equal(t, "OperationNotFound", errCode(body))
	resp, _ = f.do(t, http.MethodGet, "/subscriptions/"+testSub+"/operationresults/"+last.id+"?api-version=2021-04-01", nil)
	assert.Equal(t, http.StatusAccepted, resp.StatusCode, "the newest is still running")
}

// TestTokensUseTheRealClock moves Config.Now far away: ARM still accepts
// real tokens and the identity endpoint still mints tokens valid now.
func TestTokensUseTheRealClock(t *testing.T) {
	t.Parallel()
	for _, shift := range []time.Duration{-365 * 24 * time.Hour, 365 * 24 * time.Hour} {
		f := setup(t, nil)
		f.clock.Add(shift)
		f.eng.EnsureResourceGroup(testSub, testRG, "eastus")
		resp, body := f.do(t, http.MethodGet, rgPath(testRG)+"?api-version=2021-04-01", nil)
		assert.Equal(t, http.StatusOK, resp.StatusCode, "shift %v: %v", shift, body)

		mi := httptest.NewServer(f.eng.IdentityHandler())
		req, err := http.NewRequest(http.MethodGet, mi.URL+"?api-version=2019-08-01&resource=https://dynamicsessions.io", nil)
		require.NoError(t, err)
		req.Header.Set("X-IDENTITY-HEADER", f.eng.IdentityHeader())
		before := time.Now()
		r, err := mi.Client().Do(req)
		after := time.Now()
		require.NoError(t, err)
		var tok struct {
			ExpiresOn string `json:"expires_on"`
		}
		require.NoError(t, jsonDecode(r, &tok))
		r.Body.Close()
		mi.Close()
		exp, err := strconv.ParseInt(tok.ExpiresOn, 10, 64)
		require.NoError(t, err)
		// Valid for miTokenLifetime from when it was minted, on the real clock.
		assert.GreaterOrEqual(t, exp, before.Add(miTokenLifetime).Unix(), "shift %v", shift)
		assert.LessOrEqual(t, exp, after.Add(miTokenLifetime).Unix()+1, "shift %v", shift)
	}
}
