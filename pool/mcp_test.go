package pool

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every casing public sources use decodes; encoding uses the specification's.
func TestMCPSettingsRoundTripEveryCasing(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ settings, enabled, keyDisabled, endpoint string }{
		{"mcpServerSettings", "isMcpServerEnabled", "isMcpServerApiKeyDisabled", "mcpServerEndpoint"}, // specification
		{"mcpServerSettings", "isMCPServerEnabled", "isMCPServerApiKeyDisabled", "mcpServerEndpoint"}, // MCP tutorial
		{"mcPServerSettings", "isMCpServerEnabled", "isMCpServerApiKeyDisabled", "mcPServerEndpoint"}, // an RM example
		{"MCPServerSettings", "IsMCPServerEnabled", "IsMCPServerAPIKeyDisabled", "MCPServerEndpoint"}, // Go field names
	} {
		t.Run(c.settings+"/"+c.enabled, func(t *testing.T) {
			t.Parallel()
			body := fmt.Sprintf(`{"name":"mcppool","location":"eastus","properties":{"containerType":"Shell",%q:{%q:true,%q:true,%q:"https://eastus.dynamicsessions.io/x/mcp"}}}`,
				c.settings, c.enabled, c.keyDisabled, c.endpoint)
			var p SessionPool
			require.NoError(t, json.Unmarshal([]byte(body), &p))
			m := p.Properties.MCPServerSettings
			require.NotNil(t, m)
			require.NotNil(t, m.IsMCPServerEnabled)
			assert.True(t, *m.IsMCPServerEnabled)
			require.NotNil(t, m.IsMCPServerAPIKeyDisabled)
			assert.True(t, *m.IsMCPServerAPIKeyDisabled)
			assert.Equal(t, "https://eastus.dynamicsessions.io/x/mcp", p.MCPEndpoint())

			out, err := json.Marshal(p.putBody())
			require.NoError(t, err)
			assert.Contains(t, string(out), `"mcpServerSettings":{"isMcpServerEnabled":true,"isMcpServerApiKeyDisabled":true}`,
				"sent in the specification's casing, without the read-only endpoint")
			var back SessionPool
			require.NoError(t, json.Unmarshal(out, &back))
			assert.Equal(t, m.IsMCPServerEnabled, back.Properties.MCPServerSettings.IsMCPServerEnabled)
			assert.Equal(t, m.IsMCPServerAPIKeyDisabled, back.Properties.MCPServerSettings.IsMCPServerAPIKeyDisabled)
		})
	}
}

func TestSupportsMCPServer(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]bool{
		"2025-02-02-preview": true, "2025-10-02-preview": true, "2026-02-01-preview": true, "2025-10-02-PREVIEW": true,
		"2026-01-01": false, "2025-07-01": false, "2025-01-01": false, "2024-10-02-preview": false, "": false, "preview": false,
	} {
		assert.Equal(t, want, SupportsMCPServer(v), v)
	}
}

func TestWithMCPServer(t *testing.T) {
	t.Parallel()
	p := NewShellPool("mcppool", "eastus", WithMCPServer())
	require.NotNil(t, p.Properties.MCPServerSettings)
	assert.True(t, *p.Properties.MCPServerSettings.IsMCPServerEnabled)
	assert.Nil(t, p.Properties.MCPServerSettings.IsMCPServerAPIKeyDisabled, "the key stays required")
	assert.Nil(t, NewShellPool("plainpool", "eastus").Properties.MCPServerSettings)
	assert.NoError(t, p.Validate())
}

func TestMCPSettingsNeedAnAPIVersionThatHasThem(t *testing.T) {
	t.Parallel()
	p := NewShellPool("mcppool", "eastus", WithMCPServer())
	for _, v := range []string{"2026-01-01", "2025-07-01", "2024-10-02-preview"} {
		_, err := (&Template{Pools: []*SessionPool{p}, APIVersion: v}).Render()
		require.Error(t, err, v)
		assert.ErrorIs(t, err, ErrInvalidArgument)
		assert.Contains(t, err.Error(), "properties.mcpServerSettings: cannot be sent: api-version "+v+" has no MCP server")
		assert.Contains(t, err.Error(), "use api-version 2025-10-02-preview", "the message names a version that has it")
	}
	for _, v := range []string{"", "2025-02-02-preview", "2025-10-02-preview"} {
		out, err := (&Template{Pools: []*SessionPool{p}, APIVersion: v}).Render()
		require.NoError(t, err, v)
		assert.Contains(t, string(out), `"isMcpServerEnabled": true`)
	}
	_, err := (&Template{Pools: []*SessionPool{NewShellPool("plainpool", "eastus")}, APIVersion: "2026-01-01"}).Render()
	assert.NoError(t, err, "a pool without MCP settings renders with any version")

	custom := NewShellPool("custompool", "eastus", WithMCPServer())
	custom.Properties.ContainerType = ContainerTypeCustomContainer
	custom.Properties.EnvironmentID = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.App/managedEnvironments/env"
	custom.Properties.CustomContainerTemplate = &CustomContainerTemplate{Containers: []SessionContainer{{Image: "example.azurecr.io/app:1"}}}
	err = custom.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "properties.mcpServerSettings.isMcpServerEnabled: cannot be true for a CustomContainer pool")
	custom.Properties.MCPServerSettings.IsMCPServerEnabled = to.Ptr(false)
	assert.NoError(t, custom.Validate())
}

func TestMCPAPIKeyNeverPrints(t *testing.T) {
	t.Parallel()
	const secret = "k3y-s3cr3t-value"
	var cred FetchMCPServerCredentialsResponse
	require.NoError(t, json.Unmarshal([]byte(`{"apiKey":"`+secret+`"}`), &cred))
	assert.Equal(t, secret, cred.APIKey.Reveal())

	type holder struct {
		key MCPAPIKey // unexported: fmt cannot call its methods
	}
	var printed []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10s", "%T"} {
		printed = append(printed, fmt.Sprintf(verb, cred), fmt.Sprintf(verb, cred.APIKey), fmt.Sprintf(verb, &cred),
			fmt.Sprintf(verb, holder{cred.APIKey}), fmt.Sprintf(verb, []MCPAPIKey{cred.APIKey}))
	}
	j, err := json.Marshal(cred)
	require.NoError(t, err)
	printed = append(printed, string(j))
	assert.JSONEq(t, `{"apiKey":"REDACTED"}`, string(j))
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("credential", "key", cred.APIKey, "cred", cred)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("credential", "key", cred.APIKey)
	printed = append(printed, logged.String())
	for _, s := range printed {
		assert.NotContains(t, s, secret)
		assert.NotContains(t, s, fmt.Sprintf("%x", secret), "not even hex-encoded")
	}
	assert.Contains(t, fmt.Sprintf("%v", cred), "REDACTED")
	assert.Equal(t, "pool.MCPAPIKey(REDACTED)", fmt.Sprintf("%#v", cred.APIKey))
	assert.Contains(t, logged.String(), "REDACTED")
	assert.Empty(t, MCPAPIKey{}.String(), "an empty key prints as empty")
	assert.True(t, MCPAPIKey{}.IsZero())
	assert.Equal(t, "x", NewMCPAPIKey("x").Reveal())
	assert.False(t, strings.Contains(fmt.Sprint(NewMCPAPIKey("abc")), "abc"))
}

func TestMCPNotEnabledErrorIsTyped(t *testing.T) {
	t.Parallel()
	err := error(&mcpNotEnabledError{pool: "p"})
	assert.ErrorIs(t, err, ErrMCPServerNotEnabled)
	assert.False(t, errors.Is(err, ErrInvalidArgument))
}

// The MCP tutorial's deploy.json, in its own casing, parses to a valid pool
// with the MCP server on.
func TestParseMCPTutorialTemplate(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("testdata", "tutorial_mcp_deploy.json"))
	require.NoError(t, err)
	pools, err := ParseTemplate(data, map[string]any{"name": "mcppool", "location": "westus2"})
	require.NoError(t, err)
	require.Len(t, pools, 1)
	p := pools[0]
	require.NotNil(t, p.Properties.MCPServerSettings)
	assert.True(t, *p.Properties.MCPServerSettings.IsMCPServerEnabled, "isMCPServerEnabled decodes")
	assert.Equal(t, int32(300), *p.Properties.DynamicPoolConfiguration.LifecycleConfiguration.CooldownPeriodInSeconds, "coolDownPeriodInSeconds decodes")
	assert.NoError(t, p.Validate())
	out, err := NewTemplate(p).Render()
	require.NoError(t, err)
	assert.Contains(t, string(out), `"isMcpServerEnabled": true`, "rendered in the specification's casing")
	assert.NotContains(t, string(out), "isMCPServerEnabled")
}
