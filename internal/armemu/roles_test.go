package armemu

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func identityPath(rg, name, version string) string {
	return rgPath(rg) + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/" + name + "?api-version=" + version
}

func TestUserAssignedIdentity(t *testing.T) {
	t.Parallel()
	f := setup(t, func(c *Config) { c.TenantID = "33333333-3333-3333-3333-333333333333" })
	f.eng.EnsureResourceGroup(testSub, testRG, "eastus")
	path := identityPath(testRG, "myidentity", "2024-11-30")
	resp, created := f.do(t, http.MethodPut, path, map[string]any{"location": "eastus", "tags": map[string]any{"k": "v"}})
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	assert.Equal(t, "Microsoft.ManagedIdentity/userAssignedIdentities", created["type"])
	assert.Equal(t, "/subscriptions/"+testSub+"/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/myidentity", created["id"])
	assert.Equal(t, "33333333-3333-3333-3333-333333333333", dig(created, "properties", "tenantId"))
	assert.Equal(t, "None", dig(created, "properties", "isolationScope"))
	_, err := uuid.Parse(dig(created, "properties", "principalId").(string))
	require.NoError(t, err)
	_, err = uuid.Parse(dig(created, "properties", "clientId").(string))
	require.NoError(t, err)

	resp, again := f.do(t, http.MethodPut, identityPath(testRG, "myidentity", "2023-01-31"), map[string]any{"location": "eastus"})
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, dig(created, "properties", "principalId"), dig(again, "properties", "principalId"), "an update keeps the principal")
	assert.Nil(t, dig(again, "properties", "isolationScope"), "2023-01-31 has no isolationScope")

	resp, got := f.do(t, http.MethodGet, path, nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, dig(created, "properties", "clientId"), dig(got, "properties", "clientId"))
	resp, list := f.do(t, http.MethodGet, rgPath(testRG)+"/providers/Microsoft.ManagedIdentity/userAssignedIdentities?api-version=2023-01-31", nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Len(t, list["value"], 1)

	resp, body := f.do(t, http.MethodPut, identityPath(testRG, "noloc", "2023-01-31"), map[string]any{})
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Equal(t, "LocationRequired", errCode(body))
	resp, body = f.do(t, http.MethodPut, identityPath("ghost", "x1x", "2023-01-31"), map[string]any{"location": "eastus"})
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Equal(t, "ResourceGroupNotFound", errCode(body))

	resp, _ = f.do(t, http.MethodDelete, path, nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	resp, _ = f.do(t, http.MethodDelete, path, nil)
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	resp, body = f.do(t, http.MethodGet, path, nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Equal(t, "ResourceNotFound", errCode(body))
}

func roleBody(principal, principalType string) map[string]any {
	props := map[string]any{
		"roleDefinitionId": "/subscriptions/" + testSub + "/providers/Microsoft.Authorization/roleDefinitions/" + sessionExecutor,
		"principalId":      principal,
	}
	if principalType != "" {
		props["principalType"] = principalType
	}
	return map[string]any{"properties": props}
}

func rolePath(scope, name string) string {
	return scope + "/providers/Microsoft.Authorization/roleAssignments/" + name + "?api-version=2022-04-01"
}

func TestRoleAssignmentPrincipalNotFoundThenSuccess(t *testing.T) {
	t.Parallel()
	f := setup(t, func(c *Config) { c.PrincipalNotFoundFor = time.Minute })
	f.eng.SeedPool(PoolSpec{SubscriptionID: testSub, ResourceGroup: testRG, Name: "pool", Location: "eastus", ContainerType: "Shell", MaxConcurrentSessions: 1}, "https://e")
	id := f.eng.CreateIdentity(testSub, testRG, "fresh", "eastus")
	scope := poolID(testSub, testRG, "pool")
	name := uuid.NewString()

	resp, body := f.do(t, http.MethodPut, rolePath(scope, name), roleBody(id.PrincipalID, ""))
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Equal(t, "PrincipalNotFound", errCode(body))
	assert.Contains(t, errMessage(body), "does not exist in the directory")
	resp, body = f.do(t, http.MethodPut, rolePath(scope, name), roleBody(id.PrincipalID, "User"))
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Equal(t, "PrincipalNotFound", errCode(body), "only ServicePrincipal skips the lookup")
	assert.False(t, f.eng.HasRole(RoleGrant{PrincipalID: id.PrincipalID, Scope: scope, Role: sessionExecutor}))

	f.clock.Add(time.Minute)
	resp, body = f.do(t, http.MethodPut, rolePath(scope, name), roleBody(id.PrincipalID, ""))
	require.Equal(t, http.StatusCreated, resp.StatusCode, "body: %v", body)
	assert.Equal(t, "ServicePrincipal", dig(body, "properties", "principalType"), "the emulator knows its identities are service principals")
	assert.True(t, f.eng.HasRole(RoleGrant{PrincipalID: id.PrincipalID, Scope: scope, Role: sessionExecutor}))
}

func TestRoleAssignmentServicePrincipalSkipsDelay(t *testing.T) {
	t.Parallel()
	f := setup(t, func(c *Config) { c.PrincipalNotFoundFor = time.Hour })
	f.eng.EnsureResourceGroup(testSub, testRG, "eastus")
	id := f.eng.CreateIdentity(testSub, testRG, "fresh", "eastus")
	scope := rgPath(testRG)
	resp, body := f.do(t, http.MethodPut, rolePath(scope, uuid.NewString()), roleBody(id.PrincipalID, "ServicePrincipal"))
	require.Equal(t, http.StatusCreated, resp.StatusCode, "body: %v", body)
	assert.Equal(t, "/subscriptions/"+testSub+"/providers/Microsoft.Authorization/roleDefinitions/"+sessionExecutor, dig(body, "properties", "roleDefinitionId"), "the subscription form, as Azure answers")
	assert.Equal(t, scope, dig(body, "properties", "scope"))
	assert.Equal(t, "Microsoft.Authorization/roleAssignments", body["type"])
	assert.NotEmpty(t, dig(body, "properties", "createdOn"))
}

func TestRoleAssignmentCRUDAndList(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	f.eng.SeedPool(PoolSpec{SubscriptionID: testSub, ResourceGroup: testRG, Name: "pool", Location: "eastus", ContainerType: "Shell", MaxConcurrentSessions: 1}, "https://e")
	poolScope := poolID(testSub, testRG, "pool")
	subScope := "/subscriptions/" + testSub
	user := uuid.NewString()
	other := uuid.NewString()
	name := uuid.NewString()

	resp, body := f.do(t, http.MethodPut, rolePath(poolScope, "not-a-guid"), roleBody(user, "User"))
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Equal(t, "InvalidRoleAssignmentId", errCode(body))
	resp, body = f.do(t, http.MethodPut, rolePath(poolScope, name), map[string]any{"properties": map[string]any{"roleDefinitionId": "reader", "principalId": user}})
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Equal(t, "InvalidRoleDefinitionId", errCode(body))
	resp, body = f.do(t, http.MethodPut, rolePath(poolID(testSub, testRG, "ghostpool"), name), roleBody(user, "User"))
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "the scope must exist")
	assert.Equal(t, "ResourceNotFound", errCode(body))

	resp, body = f.do(t, http.MethodPut, rolePath(poolScope, name), roleBody(user, "User"))
	require.Equal(t, http.StatusCreated, resp.StatusCode, "body: %v", body)
	resp, _ = f.do(t, http.MethodPut, rolePath(poolScope, name), roleBody(user, "User"))
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the same PUT again is idempotent")
	resp, body = f.do(t, http.MethodPut, rolePath(poolScope, uuid.NewString()), roleBody(user, "User"))
	assert.Equal(t, http.StatusConflict, resp.StatusCode)
	assert.Equal(t, "RoleAssignmentExists", errCode(body))
	resp, body = f.do(t, http.MethodPut, rolePath(poolScope, name), roleBody(other, "User"))
	assert.Equal(t, http.StatusConflict, resp.StatusCode)
	assert.Equal(t, "RoleAssignmentUpdateNotPermitted", errCode(body))
	resp, _ = f.do(t, http.MethodPut, rolePath(subScope, uuid.NewString()), roleBody(other, "Group"))
	require.Equal(t, http.StatusCreated, resp.StatusCode)

	resp, body = f.do(t, http.MethodGet, rolePath(poolScope, name), nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, user, dig(body, "properties", "principalId"))

	list := func(scope, filter string) int {
		q := scope + "/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01"
		if filter != "" {
			q += "&$filter=" + url.QueryEscape(filter)
		}
		resp, body := f.do(t, http.MethodGet, q, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, "body: %v", body)
		return len(body["value"].([]any))
	}
	assert.Equal(t, 2, list(poolScope, ""), "at and above the pool")
	assert.Equal(t, 2, list(poolScope, "atScope()"))
	assert.Equal(t, 1, list(poolScope, "principalId eq '"+user+"'"))
	assert.Equal(t, 1, list(poolScope, "atScope() and principalId eq '"+other+"'"))
	assert.Equal(t, 2, list(rgPath(testRG), ""), "below the group too")
	assert.Equal(t, 1, list(rgPath(testRG), "atScope()"), "atScope() excludes the pool-level one")
	assert.Equal(t, 1, list(subScope, "assignedTo('"+user+"')"))
	resp, body = f.do(t, http.MethodGet, poolScope+"/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01&$filter="+url.QueryEscape("roleName eq 'x'"), nil)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Equal(t, "UnsupportedQuery", errCode(body))

	resp, body = f.do(t, http.MethodDelete, rolePath(poolScope, name), nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, user, dig(body, "properties", "principalId"))
	resp, _ = f.do(t, http.MethodDelete, rolePath(poolScope, name), nil)
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	resp, body = f.do(t, http.MethodGet, rolePath(poolScope, name), nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Equal(t, "RoleAssignmentNotFound", errCode(body))
	assert.False(t, f.eng.HasRole(RoleGrant{PrincipalID: user, Scope: poolScope, Role: sessionExecutor}), "the deleted assignment no longer grants the role")
	assert.True(t, f.eng.HasRole(RoleGrant{PrincipalID: other, Scope: poolScope, Role: sessionExecutor}), "the subscription-level assignment still does")
}

// TestAssignRoleSeedsAheadOfThePool covers the data plane's grants: the
// scope need not exist yet and the principal may be any object ID, but the
// scope must be a resource ID.
func TestAssignRoleSeedsAheadOfThePool(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	scope := poolID(testSub, "later", "pool")
	id, err := f.eng.AssignRole(RoleGrant{Scope: scope, Role: sessionExecutor, PrincipalID: "alice"})
	require.NoError(t, err)
	assert.True(t, f.eng.HasRole(RoleGrant{PrincipalID: "ALICE", Scope: scope, Role: sessionExecutor}))
	assert.False(t, f.eng.HasRole(RoleGrant{PrincipalID: "bob", Scope: scope, Role: sessionExecutor}))
	_, err = f.eng.AssignRole(RoleGrant{Scope: "relative/scope", Role: sessionExecutor, PrincipalID: "alice"})
	assert.ErrorContains(t, err, "InvalidScope")

	assert.True(t, f.eng.DeleteRoleAssignment(strings.ToUpper(id)))
	assert.False(t, f.eng.HasRole(RoleGrant{PrincipalID: "alice", Scope: scope, Role: sessionExecutor}))
	assert.False(t, f.eng.DeleteRoleAssignment(id))
}
