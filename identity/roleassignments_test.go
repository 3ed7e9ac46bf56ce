package identity_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/identity"
)

const (
	poolID        = "/subscriptions/" + testSub + "/resourceGroups/rg/providers/Microsoft.App/sessionPools/pool"
	executorDefID = "/subscriptions/" + testSub + "/providers/Microsoft.Authorization/roleDefinitions/0fb8eba5-a2bb-4abe-b1c1-49dfad359bb0"
	readerGUID    = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
	raCollection  = poolID + "/providers/Microsoft.Authorization/roleAssignments"
)

var fastRetry = &identity.AssignRoleOptions{RetryDelay: time.Millisecond, MaxRetryDelay: 2 * time.Millisecond}

// raBody is a role assignment as the service returns it: the role definition
// in the tenant-level form (AUTHZ RoleAssignments_CreateForResource example).
func raBody(name, principal, roleGUID, scope string) string {
	b, _ := json.Marshal(map[string]any{
		"id":   scope + "/providers/Microsoft.Authorization/roleAssignments/" + name,
		"name": name,
		"type": "Microsoft.Authorization/roleAssignments",
		"properties": map[string]any{
			"roleDefinitionId": "/providers/Microsoft.Authorization/roleDefinitions/" + roleGUID,
			"principalId":      principal,
			"principalType":    "ServicePrincipal",
			"scope":            scope,
			"createdOn":        "2024-05-01T10:00:00Z",
		},
	})
	return string(b)
}

// echoPut answers a PUT with the assignment it describes.
func echoPut(status int) func(int, recorded) (int, string) {
	return func(_ int, r recorded) (int, string) {
		name := r.Path[strings.LastIndexByte(r.Path, '/')+1:]
		scope := strings.TrimSuffix(r.Path, "/providers/Microsoft.Authorization/roleAssignments/"+name)
		var b struct {
			Properties struct{ RoleDefinitionID, PrincipalID string }
		}
		_ = json.Unmarshal([]byte(r.Body), &b)
		guid := b.Properties.RoleDefinitionID[strings.LastIndexByte(b.Properties.RoleDefinitionID, '/')+1:]
		return status, raBody(name, b.Properties.PrincipalID, guid, scope)
	}
}

func TestAssignSessionExecutorRequest(t *testing.T) {
	t.Parallel()
	c, f := setup(t, echoPut(http.StatusCreated))
	resp, err := c.AssignSessionExecutor(t.Context(), poolID, testPrincipal, nil)
	require.NoError(t, err)

	wantName := identity.RoleAssignmentName(poolID, testPrincipal, executorDefID)
	reqs := f.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, http.MethodPut, reqs[0].Method)
	assert.Equal(t, raCollection+"/"+wantName, reqs[0].Path)
	assert.Equal(t, url.Values{"api-version": {"2022-04-01"}}, reqs[0].Query)
	assert.JSONEq(t, `{"properties":{"roleDefinitionId":"`+executorDefID+`","principalId":"`+testPrincipal+`","principalType":"ServicePrincipal"}}`, reqs[0].Body)

	assert.Equal(t, wantName, resp.Name)
	assert.Equal(t, testPrincipal, resp.PrincipalID)
	assert.True(t, identity.SameRoleDefinition(resp.RoleDefinitionID, executorDefID), "service answers with the tenant form %q", resp.RoleDefinitionID)
	assert.Equal(t, identity.PrincipalTypeServicePrincipal, resp.PrincipalType)
	assert.Equal(t, poolID, resp.Scope)
	assert.Equal(t, time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC), resp.CreatedOn.UTC())
	assert.False(t, resp.Existing)
	assert.Equal(t, 1, resp.Attempts)
}

func TestAssignRoleOptionsInBody(t *testing.T) {
	t.Parallel()
	c, f := setup(t, echoPut(http.StatusCreated))
	name := "66666666-6666-6666-6666-666666666666"
	_, err := c.AssignRole(t.Context(), poolID+"/", readerGUID, testPrincipal, &identity.AssignRoleOptions{
		Name: name, PrincipalType: identity.PrincipalTypeUser, Description: "dev access",
	})
	require.NoError(t, err)
	reqs := f.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, raCollection+"/"+name, reqs[0].Path, "trailing slash of the scope is dropped; Name overrides")
	assert.JSONEq(t, `{"properties":{"roleDefinitionId":"/subscriptions/`+testSub+`/providers/Microsoft.Authorization/roleDefinitions/`+readerGUID+`",
		"principalId":"`+testPrincipal+`","principalType":"User","description":"dev access"}}`, reqs[0].Body,
		"a bare role GUID is expanded with the scope's subscription")
}

func TestAssignRoleDeterministicName(t *testing.T) {
	t.Parallel()
	c, f := setup(t, echoPut(http.StatusOK))
	assign := func(scope, role, principal string) string {
		t.Helper()
		resp, err := c.AssignRole(t.Context(), scope, role, principal, nil)
		require.NoError(t, err)
		return resp.Name
	}
	first := assign(poolID, executorDefID, testPrincipal)
	again := assign(poolID, executorDefID, testPrincipal)
	assert.Equal(t, first, again, "same scope, role and principal: same name (idempotent)")
	assert.Equal(t, first, assign(strings.ToLower(poolID), "/providers/Microsoft.Authorization/roleDefinitions/0FB8EBA5-A2BB-4ABE-B1C1-49DFAD359BB0", strings.ToUpper(testPrincipal)),
		"case and the role definition ID's form do not change the name")

	others := map[string]string{
		"other principal": assign(poolID, executorDefID, otherPrinc),
		"other scope":     assign("/subscriptions/"+testSub+"/resourceGroups/rg", executorDefID, testPrincipal),
		"other role":      assign(poolID, readerGUID, testPrincipal),
	}
	seen := map[string]string{first: "first"}
	for what, name := range others {
		assert.NotContains(t, seen, name, "%s gives a distinct name", what)
		seen[name] = what
	}
	for _, r := range f.Requests() {
		name := r.Path[strings.LastIndexByte(r.Path, '/')+1:]
		_, ok := seen[name]
		assert.True(t, ok, "every PUT used one of the derived names, got %s", name)
	}
}

func TestAssignRolePrincipalNotFoundRetried(t *testing.T) {
	t.Parallel()
	c, f := setup(t, func(i int, r recorded) (int, string) {
		if i < 2 {
			return http.StatusBadRequest, armError("PrincipalNotFound", "Principal "+testPrincipal+" does not exist in the directory.")
		}
		return echoPut(http.StatusCreated)(i, r)
	})
	resp, err := c.AssignSessionExecutor(t.Context(), poolID, testPrincipal, fastRetry)
	require.NoError(t, err)
	assert.Equal(t, 3, resp.Attempts)
	assert.Equal(t, testPrincipal, resp.PrincipalID)
	reqs := f.Requests()
	require.Len(t, reqs, 3)
	for _, r := range reqs {
		assert.Equal(t, reqs[0].Path, r.Path, "every retry PUTs the same name")
		assert.JSONEq(t, reqs[0].Body, r.Body, "every retry sends the same body")
	}
}

// TestAssignRolePrincipalNotFoundGivesUpWithContext: when ctx ends during
// the retries, AssignRole stops and the error matches ctx.Err(). The fake
// cancels ctx while answering the third attempt, so the outcome does not
// depend on how fast the machine is.
func TestAssignRolePrincipalNotFoundGivesUpWithContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	c, f := setup(t, func(i int, _ recorded) (int, string) {
		if i == 2 {
			cancel()
		}
		return http.StatusBadRequest, armError("PrincipalNotFound", "Principal does not exist in the directory.")
	})
	resp, err := c.AssignSessionExecutor(ctx, poolID, testPrincipal, fastRetry)
	require.Error(t, err)
	assert.ErrorIs(t, err, context.Canceled)
	var re *azcore.ResponseError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "PrincipalNotFound", re.ErrorCode)
	var se *identity.ServiceError
	require.ErrorAs(t, err, &se)
	assert.Contains(t, err.Error(), "replication")
	assert.Len(t, f.Requests(), 3, "no attempt after ctx ended")
	assert.Equal(t, 3, resp.Attempts)
}

func TestAssignRoleExistsIsSuccess(t *testing.T) {
	t.Parallel()
	conflict := armError("RoleAssignmentExists", "The role assignment already exists.")
	t.Run("same name", func(t *testing.T) {
		t.Parallel()
		name := identity.RoleAssignmentName(poolID, testPrincipal, executorDefID)
		c, f := setup(t, func(i int, r recorded) (int, string) {
			if r.Method == http.MethodPut {
				return http.StatusConflict, conflict
			}
			return http.StatusOK, raBody(name, testPrincipal, identity.SessionExecutorRoleID, poolID)
		})
		resp, err := c.AssignSessionExecutor(t.Context(), poolID, testPrincipal, nil)
		require.NoError(t, err)
		assert.True(t, resp.Existing)
		assert.Equal(t, name, resp.Name)
		reqs := f.Requests()
		require.Len(t, reqs, 2)
		assert.Equal(t, http.MethodGet, reqs[1].Method)
		assert.Equal(t, raCollection+"/"+name, reqs[1].Path)
	})
	t.Run("another name", func(t *testing.T) {
		t.Parallel()
		existing := "77777777-7777-7777-7777-777777777777"
		c, f := setup(t, func(i int, r recorded) (int, string) {
			switch {
			case r.Method == http.MethodPut:
				return http.StatusConflict, conflict
			case strings.HasSuffix(r.Path, "/roleAssignments"):
				return http.StatusOK, `{"value":[` +
					raBody("88888888-8888-8888-8888-888888888888", testPrincipal, readerGUID, poolID) + `,` +
					raBody(existing, testPrincipal, identity.SessionExecutorRoleID, poolID) + `]}`
			default:
				return http.StatusNotFound, armError("RoleAssignmentNotFound", "The role assignment does not exist.")
			}
		})
		resp, err := c.AssignSessionExecutor(t.Context(), poolID, testPrincipal, nil)
		require.NoError(t, err)
		assert.True(t, resp.Existing)
		assert.Equal(t, existing, resp.Name, "the assignment holding the same role, found by listing")
		reqs := f.Requests()
		require.Len(t, reqs, 3)
		assert.Equal(t, raCollection, reqs[2].Path)
		assert.Equal(t, "principalId eq '"+testPrincipal+"'", reqs[2].Query.Get("$filter"))
	})
}

func TestAssignRoleForbiddenSaysWhichPermission(t *testing.T) {
	t.Parallel()
	c, f := setup(t, func(int, recorded) (int, string) {
		return http.StatusForbidden, armError("AuthorizationFailed", "The client does not have authorization to perform action 'Microsoft.Authorization/roleAssignments/write'.")
	})
	_, err := c.AssignSessionExecutor(t.Context(), poolID, testPrincipal, fastRetry)
	require.Error(t, err)
	var re *azcore.ResponseError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, http.StatusForbidden, re.StatusCode)
	assert.Equal(t, "AuthorizationFailed", re.ErrorCode)
	msg := err.Error()
	assert.Contains(t, msg, "Microsoft.Authorization/roleAssignments/write")
	assert.Contains(t, msg, "User Access Administrator")
	assert.Contains(t, msg, "does not have authorization", "the service's message is kept")
	assert.NotContains(t, msg, "fake_token")
	assert.Len(t, f.Requests(), 1, "403 is not retried")
}

func TestAssignRoleOtherErrorsNotRetried(t *testing.T) {
	t.Parallel()
	c, f := setup(t, func(int, recorded) (int, string) {
		return http.StatusBadRequest, armError("InvalidRoleDefinitionId", "The role definition ID is not valid.")
	})
	_, err := c.AssignRole(t.Context(), poolID, executorDefID, testPrincipal, fastRetry)
	var re *azcore.ResponseError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "InvalidRoleDefinitionId", re.ErrorCode)
	assert.Len(t, f.Requests(), 1)
}

func TestAssignRoleArgumentsRefusedBeforeSending(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                   string
		scope, role, principal string
		options                *identity.AssignRoleOptions
		param                  string
	}{
		{"empty scope", "", executorDefID, testPrincipal, nil, "scope"},
		{"scope with query", poolID + "?x=1", executorDefID, testPrincipal, nil, "scope"},
		{"principal is a name", poolID, executorDefID, "pool-uami", nil, "principalID"},
		{"role is a name", poolID, "Session Executor", testPrincipal, nil, "roleDefinitionID"},
		{"role ID without GUID", poolID, "/providers/Microsoft.Authorization/roleDefinitions/executor", testPrincipal, nil, "roleDefinitionID"},
		{"name not a GUID", poolID, executorDefID, testPrincipal, &identity.AssignRoleOptions{Name: "mine"}, "AssignRoleOptions.Name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, f := setup(t, echoPut(http.StatusCreated))
			_, err := c.AssignRole(t.Context(), tc.scope, tc.role, tc.principal, tc.options)
			var ae *identity.ArgumentError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, tc.param, ae.Name)
			assert.Empty(t, f.Requests())
		})
	}
	t.Run("not a pool", func(t *testing.T) {
		t.Parallel()
		c, f := setup(t, echoPut(http.StatusCreated))
		_, err := c.AssignSessionExecutor(t.Context(), "/subscriptions/"+testSub+"/resourceGroups/rg", testPrincipal, nil)
		require.ErrorIs(t, err, identity.ErrInvalidArgument)
		assert.Contains(t, err.Error(), "sessionPools")
		assert.Empty(t, f.Requests())
	})
}

func TestListRoleAssignments(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		options    *identity.ListRoleAssignmentsOptions
		wantFilter string
	}{
		{"everything", nil, ""},
		{"principal", &identity.ListRoleAssignmentsOptions{PrincipalID: testPrincipal}, "principalId eq '" + testPrincipal + "'"},
		{"at scope", &identity.ListRoleAssignmentsOptions{AtScope: true}, "atScope()"},
		{"combined", &identity.ListRoleAssignmentsOptions{AtScope: true, PrincipalID: testPrincipal}, "atScope() and principalId eq '" + testPrincipal + "'"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, f := setup(t, func(i int, r recorded) (int, string) {
				if i == 0 {
					next := "https://" + r.Host + basePath + raCollection + "?api-version=2022-04-01&$skiptoken=page2"
					return http.StatusOK, `{"value":[` + raBody("a1a1a1a1-0000-0000-0000-000000000000", testPrincipal, identity.SessionExecutorRoleID, poolID) + `],"nextLink":"` + next + `"}`
				}
				return http.StatusOK, `{"value":[` + raBody("b2b2b2b2-0000-0000-0000-000000000000", otherPrinc, readerGUID, poolID) + `]}`
			})
			pager := c.NewListRoleAssignmentsPager(poolID, tc.options)
			assert.Empty(t, f.Requests(), "the constructor sends nothing")
			var got []*identity.RoleAssignment
			for pager.More() {
				page, err := pager.NextPage(t.Context())
				require.NoError(t, err)
				got = append(got, page.Value...)
			}
			require.Len(t, got, 2, "both pages")
			assert.Equal(t, "a1a1a1a1-0000-0000-0000-000000000000", got[0].Name)
			assert.Equal(t, otherPrinc, got[1].PrincipalID)
			assert.True(t, identity.SameRoleDefinition(got[1].RoleDefinitionID, readerGUID))

			reqs := f.Requests()
			require.Len(t, reqs, 2)
			assert.Equal(t, http.MethodGet, reqs[0].Method)
			assert.Equal(t, raCollection, reqs[0].Path)
			assert.Equal(t, "2022-04-01", reqs[0].Query.Get("api-version"))
			assert.Equal(t, tc.wantFilter, reqs[0].Query.Get("$filter"))
			assert.Equal(t, "page2", reqs[1].Query.Get("$skiptoken"), "the second page follows nextLink")
		})
	}
}

func TestListRoleAssignmentsBadInputOnFirstPage(t *testing.T) {
	t.Parallel()
	c, f := setup(t, func(int, recorded) (int, string) { return http.StatusOK, `{"value":[]}` })
	pager := c.NewListRoleAssignmentsPager(poolID, &identity.ListRoleAssignmentsOptions{PrincipalID: "someone"})
	_, err := pager.NextPage(t.Context())
	require.ErrorIs(t, err, identity.ErrInvalidArgument)
	assert.Empty(t, f.Requests())
}

func TestGetAndDeleteRoleAssignment(t *testing.T) {
	t.Parallel()
	name := "a1a1a1a1-0000-0000-0000-000000000000"
	t.Run("get", func(t *testing.T) {
		t.Parallel()
		c, f := setup(t, func(int, recorded) (int, string) {
			return http.StatusOK, raBody(name, testPrincipal, identity.SessionExecutorRoleID, poolID)
		})
		resp, err := c.GetRoleAssignment(t.Context(), poolID, name, nil)
		require.NoError(t, err)
		assert.Equal(t, testPrincipal, resp.PrincipalID)
		reqs := f.Requests()
		require.Len(t, reqs, 1)
		assert.Equal(t, http.MethodGet, reqs[0].Method)
		assert.Equal(t, raCollection+"/"+name, reqs[0].Path)
	})
	tests := []struct {
		name        string
		status      int
		body        string
		wantExisted bool
	}{
		{"delete existing", http.StatusOK, raBody(name, testPrincipal, identity.SessionExecutorRoleID, poolID), true},
		{"delete absent", http.StatusNoContent, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, f := setup(t, func(int, recorded) (int, string) { return tc.status, tc.body })
			resp, err := c.DeleteRoleAssignment(t.Context(), poolID, name, nil)
			require.NoError(t, err)
			assert.Equal(t, tc.wantExisted, resp.Existed)
			if tc.wantExisted {
				assert.Equal(t, name, resp.Name)
			}
			reqs := f.Requests()
			require.Len(t, reqs, 1)
			assert.Equal(t, http.MethodDelete, reqs[0].Method)
			assert.Equal(t, raCollection+"/"+name, reqs[0].Path)
			assert.Equal(t, "2022-04-01", reqs[0].Query.Get("api-version"))
		})
	}
	t.Run("delete forbidden", func(t *testing.T) {
		t.Parallel()
		c, _ := setup(t, func(int, recorded) (int, string) {
			return http.StatusForbidden, armError("AuthorizationFailed", "no")
		})
		_, err := c.DeleteRoleAssignment(t.Context(), poolID, name, nil)
		var re *azcore.ResponseError
		require.ErrorAs(t, err, &re)
		assert.Equal(t, http.StatusForbidden, re.StatusCode)
		assert.Contains(t, err.Error(), "Microsoft.Authorization/roleAssignments/delete")
	})
}
