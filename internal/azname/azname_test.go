package azname

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNormalizeRegion(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"North Central US": "northcentralus",
		"northcentralus":   "northcentralus",
		"East US 2":        "eastus2",
		" West\tEurope ":   "westeurope",
		"":                 "",
	} {
		assert.Equal(t, want, NormalizeRegion(in), "NormalizeRegion(%q)", in)
	}
}

func TestRegionalEndpoint(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "https://northcentralus.dynamicsessions.io/subscriptions/s%2F1/resourceGroups/my%20rg/sessionPools/p",
		RegionalEndpoint("North Central US", "s/1", "my rg", "p"))
}

func TestGUID(t *testing.T) {
	t.Parallel()
	// Python: uuid.uuid5(uuid.UUID("11fb06fb-712d-4ddd-98c7-e71bbd588830"), "a-b")
	assert.Equal(t, "2d796349-8c7e-55ec-9624-54ece82ed031", GUID("a", "b"))
	assert.Equal(t, GUID("a", "b"), GUID("a-b"), "arguments are joined with a dash")
	assert.NotEqual(t, GUID("a", "b"), GUID("ab"))
	assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, GUID("x"))
}

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
			got := GUID(tc.parts...)
			assert.Equal(t, tc.want, got)
			u, err := uuid.Parse(got)
			require.NoError(t, err)
			assert.Equal(t, uuid.Version(5), u.Version())
			assert.Equal(t, uuid.RFC4122, u.Variant())
		})
	}
	assert.NotEqual(t, GUID("ab"), GUID("a", "b"), "arguments are joined with a separator")
	assert.Equal(t, GUID("a-b"), GUID("a", "b"), "the separator is '-'")
}
