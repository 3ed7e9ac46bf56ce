package identity_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/identity"
)

// TestGUIDKnownAnswers checks GUID against values computed independently
// with Python's uuid.uuid5(UUID("11fb06fb-712d-4ddd-98c7-e71bbd588830"),
// "-".join(args)), the algorithm ARM's guid() documents (RFC 4122 §4.3, name
// space 11fb06fb-…, arguments joined with "-").
func TestGUIDKnownAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		parts []string
		want  string
	}{
		{"one argument", []string{"abc"}, "a9b46cc2-65a6-5559-9f14-7091827ab32f"},
		{"three arguments", []string{"a", "b", "c"}, "a98fa280-e03f-5afa-8d8e-92d0a9c201e8"},
		{"role assignment", []string{
			"/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/rg/providers/microsoft.app/sessionpools/pool",
			"11111111-1111-1111-1111-111111111111", "0fb8eba5-a2bb-4abe-b1c1-49dfad359bb0",
		}, "78e3d882-0f33-5f52-b113-08ea1a9098e2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := identity.GUID(tc.parts...)
			assert.Equal(t, tc.want, got)
			u, err := uuid.Parse(got)
			require.NoError(t, err)
			assert.Equal(t, uuid.Version(5), u.Version())
			assert.Equal(t, uuid.RFC4122, u.Variant())
		})
	}
	assert.NotEqual(t, identity.GUID("ab"), identity.GUID("a", "b"), "arguments are joined with a separator")
	assert.Equal(t, identity.GUID("a-b"), identity.GUID("a", "b"), "the separator is '-'")
}

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
