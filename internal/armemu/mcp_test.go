package armemu

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mcpPool is the MCP tutorial's pool body, with its own casing of the
// settings key and flag.
func mcpPool(settingsKey, enabledKey string, enabled any) map[string]any {
	b := shellPool("eastus", 300, 5)
	b["properties"].(map[string]any)[settingsKey] = map[string]any{enabledKey: enabled}
	return b
}

func TestMCPSettingsAnyCasingStoredAndAnsweredInSpecCasing(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ settings, enabled string }{
		{"mcpServerSettings", "isMcpServerEnabled"}, // specification
		{"mcpServerSettings", "isMCPServerEnabled"}, // MCP tutorial
		{"mcPServerSettings", "isMCpServerEnabled"}, // an RM example
		{"MCPServerSettings", "ISMCPSERVERENABLED"},
	} {
		t.Run(c.settings+"/"+c.enabled, func(t *testing.T) {
			t.Parallel()
			f := setup(t, nil)
			f.eng.EnsureResourceGroup(testSub, testRG, "eastus")
			path := poolPath(testRG, "mcppool", "2025-02-02-preview")
			resp, _ := f.do(t, http.MethodPut, path, mcpPool(c.settings, c.enabled, true))
			require.Equal(t, http.StatusCreated, resp.StatusCode)
			_, body := f.do(t, http.MethodGet, path, nil)
			props := body["properties"].(map[string]any)
			assert.Equal(t, map[string]any{
				"isMcpServerEnabled": true, "isMcpServerApiKeyDisabled": false,
				"mcpServerEndpoint": props["poolManagementEndpoint"].(string) + "/mcp",
			}, props["mcpServerSettings"])
			if c.settings != "mcpServerSettings" {
				assert.NotContains(t, props, c.settings, "answered in the specification's casing only")
			}
			spec, ok := f.eng.Pool(testSub, testRG, "mcppool")
			require.True(t, ok)
			assert.True(t, spec.MCPServerEnabled)
			assert.NotEmpty(t, spec.MCPServerAPIKey, "an enabled server has a key")
		})
	}
}

func TestMCPCredentialsFetchRotate(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	f.eng.EnsureResourceGroup(testSub, testRG, "eastus")
	base := rgPath(testRG) + "/providers/Microsoft.App/sessionPools/mcppool"
	resp, _ := f.do(t, http.MethodPut, base+"?api-version=2025-10-02-preview", mcpPool("mcpServerSettings", "isMcpServerEnabled", true))
	require.Equal(t, http.StatusCreated, resp.StatusCode)

	// The tutorial spells the action fetchMCPServerCredentials.
	resp, body := f.do(t, http.MethodPost, base+"/fetchMCPServerCredentials?api-version=2025-02-02-preview", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%v", body)
	key1, _ := body["apiKey"].(string)
	require.NotEmpty(t, key1)
	assert.Len(t, body, 1, "the body is the specification's McpServerCredential: {apiKey}")
	_, body = f.do(t, http.MethodPost, base+"/fetchMcpServerCredentials?api-version=2025-10-02-preview", nil)
	assert.Equal(t, key1, body["apiKey"], "fetch does not change the key")

	resp, body = f.do(t, http.MethodPost, base+"/rotateMcpServerCredentials?api-version=2025-10-02-preview", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	key2, _ := body["apiKey"].(string)
	require.NotEmpty(t, key2)
	assert.NotEqual(t, key1, key2, "rotation makes a new key")
	spec, _ := f.eng.Pool(testSub, testRG, "mcppool")
	assert.Equal(t, key2, spec.MCPServerAPIKey, "the data plane sees only the new key")
	_, body = f.do(t, http.MethodPost, base+"/fetchMcpServerCredentials?api-version=2025-10-02-preview", nil)
	assert.Equal(t, key2, body["apiKey"])

	resp, _ = f.do(t, http.MethodPut, base+"?api-version=2025-10-02-preview", mcpPool("mcpServerSettings", "isMcpServerEnabled", true))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	spec, _ = f.eng.Pool(testSub, testRG, "mcppool")
	assert.Equal(t, key2, spec.MCPServerAPIKey, "updating the pool keeps the key")

	resp, body = f.do(t, http.MethodGet, base+"/fetchMcpServerCredentials?api-version=2025-10-02-preview", nil)
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode, "%v", body)
}

func TestMCPCredentialsErrors(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	f.eng.EnsureResourceGroup(testSub, testRG, "eastus")
	plain := rgPath(testRG) + "/providers/Microsoft.App/sessionPools/plainpool"
	resp, _ := f.do(t, http.MethodPut, plain+"?api-version=2025-10-02-preview", shellPool("eastus", 300, 5))
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	off := rgPath(testRG) + "/providers/Microsoft.App/sessionPools/offpool"
	resp, _ = f.do(t, http.MethodPut, off+"?api-version=2025-10-02-preview", mcpPool("mcpServerSettings", "isMcpServerEnabled", false))
	require.Equal(t, http.StatusCreated, resp.StatusCode)

	for _, path := range []string{plain, off} {
		for _, action := range []string{"fetchMcpServerCredentials", "rotateMcpServerCredentials"} {
			resp, body := f.do(t, http.MethodPost, path+"/"+action+"?api-version=2025-10-02-preview", nil)
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
			assert.Equal(t, "SessionMCPServerNotEnabled", errCode(body))
			assert.Contains(t, errMessage(body), "does not have MCP Server enabled")
		}
	}
	resp, body := f.do(t, http.MethodPost, rgPath(testRG)+"/providers/Microsoft.App/sessionPools/nopool/fetchMcpServerCredentials?api-version=2025-10-02-preview", nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Equal(t, "ResourceNotFound", errCode(body))

	resp, body = f.do(t, http.MethodPut, rgPath(testRG)+"/providers/Microsoft.App/sessionPools/badpool?api-version=2025-10-02-preview", mcpPool("mcpServerSettings", "isMcpServerEnabled", "yes"))
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Contains(t, errMessage(body), "must be a boolean")
}

// A version without the MCP server (2026-01-01 removed it) neither shows nor
// changes the settings, and has no credential actions.
func TestMCPSettingsOnlyInVersionsThatHaveThem(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	f.eng.EnsureResourceGroup(testSub, testRG, "eastus")
	base := rgPath(testRG) + "/providers/Microsoft.App/sessionPools/mcppool"
	resp, _ := f.do(t, http.MethodPut, base+"?api-version=2025-02-02-preview", mcpPool("mcpServerSettings", "isMcpServerEnabled", true))
	require.Equal(t, http.StatusCreated, resp.StatusCode)

	_, body := f.do(t, http.MethodGet, base+"?api-version=2026-01-01", nil)
	assert.Nil(t, dig(body, "properties", "mcpServerSettings"), "2026-01-01 has no mcpServerSettings")
	resp, body = f.do(t, http.MethodPost, base+"/fetchMcpServerCredentials?api-version=2026-01-01", nil)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Equal(t, "InvalidApiVersionParameter", errCode(body))
	assert.Contains(t, errMessage(body), "2025-10-02-preview")

	resp, _ = f.do(t, http.MethodPut, base+"?api-version=2026-01-01", shellPool("eastus", 300, 5))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	spec, _ := f.eng.Pool(testSub, testRG, "mcppool")
	assert.True(t, spec.MCPServerEnabled, "a PUT in a version without the setting leaves it alone")
	_, body = f.do(t, http.MethodGet, base+"?api-version=2025-10-02-preview", nil)
	assert.Equal(t, true, dig(body, "properties", "mcpServerSettings", "isMcpServerEnabled"))

	resp, _ = f.do(t, http.MethodPut, base+"?api-version=2025-10-02-preview", shellPool("eastus", 300, 5))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	spec, _ = f.eng.Pool(testSub, testRG, "mcppool")
	assert.False(t, spec.MCPServerEnabled, "a PUT without the settings in a version that has them turns the server off")
	resp, body = f.do(t, http.MethodPost, base+"/fetchMcpServerCredentials?api-version=2025-10-02-preview", nil)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Equal(t, "SessionMCPServerNotEnabled", errCode(body))
}

// Live CustomContainer pools accept the setting and drop it.
func TestMCPDroppedForCustomContainerPools(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	f.eng.EnsureResourceGroup(testSub, testRG, "eastus")
	b := shellPool("eastus", 300, 5)
	props := b["properties"].(map[string]any)
	props["containerType"] = "CustomContainer"
	props["environmentId"] = "/subscriptions/" + testSub + "/resourceGroups/rg/providers/Microsoft.App/managedEnvironments/env"
	props["customContainerTemplate"] = map[string]any{"containers": []any{map[string]any{"image": "example.azurecr.io/app:1", "name": "app"}}}
	props["mcpServerSettings"] = map[string]any{"isMcpServerEnabled": true}
	base := rgPath(testRG) + "/providers/Microsoft.App/sessionPools/custompool"
	resp, body := f.do(t, http.MethodPut, base+"?api-version=2025-10-02-preview", b)
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%v", body)
	_, body = f.do(t, http.MethodGet, base+"?api-version=2025-10-02-preview", nil)
	v, present := body["properties"].(map[string]any)["mcpServerSettings"]
	assert.True(t, present)
	assert.Nil(t, v, "mcpServerSettings comes back null")
	resp, body = f.do(t, http.MethodPost, base+"/fetchMcpServerCredentials?api-version=2025-10-02-preview", nil)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Equal(t, "SessionMCPServerNotEnabled", errCode(body))
}
