package identity_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/identity"
	"github.com/shellpool/shellpool/pool"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

// golden compares v, marshalled as indented JSON, with testdata/name.
func golden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	require.NoError(t, err)
	got = append(got, '\n')
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./identity -update to create %s", path)
	assert.Equal(t, string(want), string(got))
}

func TestTemplateResourcesGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		resources []pool.TemplateResource
	}{
		{"template_literal.json", []pool.TemplateResource{
			identity.ManagedIdentityResource("mypool-uami", "eastus"),
			identity.SessionExecutorAssignmentResource("mypool", "mypool-uami"),
		}},
		{"template_parameters.json", []pool.TemplateResource{
			identity.ManagedIdentityResource("[parameters('identityName')]", "[parameters('location')]"),
			identity.SessionExecutorAssignmentResource("[parameters('name')]", "[variables('identityName')]"),
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			golden(t, tc.name, tc.resources)
		})
	}
}

func TestSessionExecutorAssignmentResource(t *testing.T) {
	t.Parallel()
	r := identity.SessionExecutorAssignmentResource("pool's", "id")
	props, ok := r.Properties.(map[string]any)
	require.True(t, ok)
	assert.Equal(t, "ServicePrincipal", props["principalType"])
	assert.Equal(t, "Microsoft.Authorization/roleAssignments", r.Type)
	assert.Equal(t, "Microsoft.App/sessionPools/pool's", r.Scope)
	assert.Contains(t, r.Name, "resourceId('Microsoft.App/sessionPools', 'pool''s')", "quotes in literals are doubled")
	assert.Equal(t, "[reference(resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', 'id'), '2023-01-31').principalId]", props["principalId"])
	assert.Equal(t, "[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '0fb8eba5-a2bb-4abe-b1c1-49dfad359bb0')]", props["roleDefinitionId"])
	assert.Equal(t, []string{"[resourceId('Microsoft.App/sessionPools', 'pool''s')]", "[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', 'id')]"}, r.DependsOn)
}

// TestTemplateUsesOnlySupportedFunctions keeps the resources within the
// template functions the emulator evaluates.
func TestTemplateUsesOnlySupportedFunctions(t *testing.T) {
	t.Parallel()
	supported := map[string]bool{
		"parameters": true, "variables": true, "resourceId": true, "subscriptionResourceId": true,
		"guid": true, "reference": true, "concat": true, "format": true, "toLower": true,
	}
	call := regexp.MustCompile(`([A-Za-z]+)\(`)
	var walk func(v any)
	count := 0
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		case string:
			if !strings.HasPrefix(x, "[") {
				return
			}
			for _, m := range call.FindAllStringSubmatch(x, -1) {
				count++
				assert.True(t, supported[m[1]], "unsupported template function %s in %s", m[1], x)
			}
		}
	}
	for _, r := range []pool.TemplateResource{
		identity.SessionExecutorAssignmentResource("[parameters('name')]", "uami"),
		identity.ManagedIdentityResource("[parameters('n')]", "[parameters('l')]"),
	} {
		b, err := json.Marshal(r)
		require.NoError(t, err)
		var v any
		require.NoError(t, json.Unmarshal(b, &v))
		walk(v)
	}
	assert.Greater(t, count, 5, "the walk saw the expressions")
}
