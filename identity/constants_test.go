package identity_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/shellpool/shellpool/identity"
)

func TestRoleAssignmentNameNormalisation(t *testing.T) {
	t.Parallel()
	scope := "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.App/sessionPools/pool"
	base := identity.RoleAssignmentName(scope, "11111111-1111-1111-1111-111111111111", identity.SessionExecutorRoleDefinitionID("00000000-0000-0000-0000-000000000000"))
	assert.Equal(t, "78e3d882-0f33-5f52-b113-08ea1a9098e2", base, "guid(toLower(scope), toLower(principal), toLower(role GUID))")
	tests := []struct{ name, scope, principal, role string }{
		{"trailing slash", scope + "/", "11111111-1111-1111-1111-111111111111", identity.SessionExecutorRoleID},
		{"upper case", "/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.APP/SESSIONPOOLS/POOL", "11111111-1111-1111-1111-111111111111", "0FB8EBA5-A2BB-4ABE-B1C1-49DFAD359BB0"},
		{"tenant role form", scope, "11111111-1111-1111-1111-111111111111", "/providers/Microsoft.Authorization/roleDefinitions/0fb8eba5-a2bb-4abe-b1c1-49dfad359bb0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, base, identity.RoleAssignmentName(tc.scope, tc.principal, tc.role))
		})
	}
}

func TestRoleDefinitionIDs(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "/subscriptions/s1/providers/Microsoft.Authorization/roleDefinitions/0fb8eba5-a2bb-4abe-b1c1-49dfad359bb0",
		identity.SessionExecutorRoleDefinitionID("s1"))
	assert.Equal(t, "/subscriptions/s1/providers/Microsoft.Authorization/roleDefinitions/r1", identity.RoleDefinitionID("s1", "r1"))

	tests := []struct {
		name string
		a, b string
		want bool
	}{
		{"subscription vs tenant form", identity.SessionExecutorRoleDefinitionID("s1"), "/providers/Microsoft.Authorization/roleDefinitions/0fb8eba5-a2bb-4abe-b1c1-49dfad359bb0", true},
		{"bare GUID, other case", "0FB8EBA5-A2BB-4ABE-B1C1-49DFAD359BB0", identity.SessionExecutorRoleDefinitionID("s1"), true},
		{"trailing slash", identity.SessionExecutorRoleDefinitionID("s1") + "/", identity.SessionExecutorRoleID, true},
		{"other role", identity.SessionExecutorRoleDefinitionID("s1"), identity.RoleDefinitionID("s1", "acdd72a7-3385-48ef-bd42-f606fba81ae7"), false},
		{"empty", "", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, identity.SameRoleDefinition(tc.a, tc.b))
		})
	}
}
