package azname

import (
	"testing"

	"github.com/stretchr/testify/assert"
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
