package pool

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// specExample is the shape of an azure-rest-api-specs example file.
type specExample struct {
	Parameters map[string]json.RawMessage `json:"parameters"`
	Responses  map[string]struct {
		Headers map[string]string `json:"headers"`
		Body    json.RawMessage   `json:"body"`
	} `json:"responses"`
}

func loadExample(t *testing.T, name string) specExample {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	var ex specExample
	require.NoError(t, json.Unmarshal(b, &ex))
	return ex
}

// TestDecodeSpecExamples decodes every pool body of every official example and
// checks that re-encoding loses nothing: every property the examples use is
// modelled, with the specification's names.
func TestDecodeSpecExamples(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "SessionPools_*.json"))
	require.NoError(t, err)
	require.Len(t, files, 7, "all seven 2025-02-02-preview examples are in testdata")
	for _, f := range files {
		ex := loadExample(t, filepath.Base(f))
		var bodies []struct {
			name string
			raw  json.RawMessage
		}
		if env, ok := ex.Parameters["sessionPoolEnvelope"]; ok {
			bodies = append(bodies, struct {
				name string
				raw  json.RawMessage
			}{"request", env})
		}
		for code, r := range ex.Responses {
			if len(r.Body) > 0 {
				bodies = append(bodies, struct {
					name string
					raw  json.RawMessage
				}{"response " + code, r.Body})
			}
		}
		for _, b := range bodies {
			t.Run(filepath.Base(f)+"/"+b.name, func(t *testing.T) {
				t.Parallel()
				var probe map[string]json.RawMessage
				require.NoError(t, json.Unmarshal(b.raw, &probe))
				if _, isList := probe["value"]; isList {
					var page SessionPoolCollection
					require.NoError(t, json.Unmarshal(b.raw, &page))
					require.NotEmpty(t, page.Value)
					assert.Nil(t, page.NextLink, "a null nextLink means the last page")
					var want struct{ Value json.RawMessage }
					require.NoError(t, json.Unmarshal(b.raw, &want))
					got, err := json.Marshal(page.Value)
					require.NoError(t, err)
					assert.JSONEq(t, string(want.Value), string(got))
					return
				}
				var p SessionPool
				require.NoError(t, json.Unmarshal(b.raw, &p))
				got, err := json.Marshal(p)
				require.NoError(t, err)
				assert.JSONEq(t, string(b.raw), string(got))
			})
		}
	}
}

func TestDecodeGetExampleFields(t *testing.T) {
	t.Parallel()
	ex := loadExample(t, "SessionPools_Get.json")
	var p SessionPool
	require.NoError(t, json.Unmarshal(ex.Responses["200"].Body, &p))
	require.NotNil(t, p.Properties)
	assert.Equal(t, ContainerTypeCustomContainer, p.Properties.ContainerType)
	assert.Equal(t, ProvisioningStateSucceeded, p.Properties.ProvisioningState)
	assert.Equal(t, int32(500), *p.Properties.ScaleConfiguration.MaxConcurrentSessions)
	assert.Equal(t, LifecycleTypeTimed, p.Properties.DynamicPoolConfiguration.LifecycleConfiguration.LifecycleType)
	assert.Equal(t, 0.25, *p.Properties.CustomContainerTemplate.Containers[0].Resources.CPU)
	assert.Equal(t, IdentitySettingsLifecycleMain, p.Properties.ManagedIdentitySettings[0].Lifecycle)
	assert.Equal(t, "bce8c037-3d10-44a4-a970-25f799611fc6", p.Identity.PrincipalID)
	assert.Equal(t, "https://testsessionpool.agreeableriver-3d30edf1.eastus.azurecontainerapps.io", p.Endpoint())
	assert.NoError(t, p.Validate(), "the service's own example is a valid pool")
}

func TestDecodeLegacyExecutionType(t *testing.T) {
	t.Parallel()
	ex := loadExample(t, "SessionPools_CreateOrUpdate.json")
	var p SessionPool
	require.NoError(t, json.Unmarshal(ex.Parameters["sessionPoolEnvelope"], &p))
	d := p.Properties.DynamicPoolConfiguration
	assert.Equal(t, ExecutionTypeTimed, d.ExecutionType)
	assert.Equal(t, int32(600), *d.CooldownPeriodInSeconds)
	assert.Nil(t, d.LifecycleConfiguration)
}

func TestDecodeToleratesUnknownFieldsAndCasing(t *testing.T) {
	t.Parallel()
	// Unknown fields (templateUpdateStatus is 2025-10-02-preview) and the
	// casings of the MCP tutorial and an RM example (API.md §2.3 [CONFLICT]).
	body := `{"name":"p1","futureField":{"x":1},"properties":{
		"containerType":"Shell","templateUpdateStatus":{"activeTemplate":{}},
		"mcPServerSettings":{"isMCPServerEnabled":true,"mcpServerEndpoint":"https://mcp.example"}}}`
	var p SessionPool
	require.NoError(t, json.Unmarshal([]byte(body), &p))
	require.NotNil(t, p.Properties.MCPServerSettings)
	assert.True(t, *p.Properties.MCPServerSettings.IsMCPServerEnabled)
	assert.Equal(t, "https://mcp.example", p.Properties.MCPServerSettings.MCPServerEndpoint)
	out, err := json.Marshal(p.Properties.MCPServerSettings)
	require.NoError(t, err)
	assert.JSONEq(t, `{"isMcpServerEnabled":true,"mcpServerEndpoint":"https://mcp.example"}`, string(out), "sent in the specification's casing")
}

func TestZeroValuesOmitted(t *testing.T) {
	t.Parallel()
	out, err := json.Marshal(SessionPool{Properties: &SessionPoolProperties{
		ScaleConfiguration: &ScaleConfiguration{ReadySessionInstances: to.Ptr[int32](0)},
	}})
	require.NoError(t, err)
	assert.JSONEq(t, `{"properties":{"scaleConfiguration":{"readySessionInstances":0}}}`, string(out),
		"unset fields are omitted; an explicit 0 is sent")
}

func TestSecretValueRedactedWhenPrinted(t *testing.T) {
	t.Parallel()
	p := SessionPool{Properties: &SessionPoolProperties{Secrets: []SessionPoolSecret{{Name: "pw", Value: "hunter2"}}}}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		assert.NotContains(t, fmt.Sprintf(verb, *p.Properties), "hunter2", verb)
	}
	out, err := json.Marshal(p.Properties.Secrets)
	require.NoError(t, err)
	assert.JSONEq(t, `[{"name":"pw","value":"hunter2"}]`, string(out), "the value is still sent to the service")
}

func TestNewShellPool(t *testing.T) {
	t.Parallel()
	p := NewShellPool("myshellpool", "North Central US")
	require.NoError(t, p.Validate())
	out, err := json.Marshal(p)
	require.NoError(t, err)
	assert.JSONEq(t, `{"name":"myshellpool","location":"North Central US","properties":{
		"poolManagementType":"Dynamic","containerType":"Shell",
		"scaleConfiguration":{"maxConcurrentSessions":5},
		"dynamicPoolConfiguration":{"lifecycleConfiguration":{"lifecycleType":"Timed","cooldownPeriodInSeconds":300}},
		"sessionNetworkConfiguration":{"status":"EgressEnabled"}}}`, string(out))
	// Two calls share nothing.
	q := NewShellPool("other", "eastus")
	*q.Properties.ScaleConfiguration.MaxConcurrentSessions = 9
	assert.Equal(t, int32(5), *p.Properties.ScaleConfiguration.MaxConcurrentSessions)
}

func TestEndpoint(t *testing.T) {
	t.Parallel()
	const id = "/subscriptions/sub1/resourceGroups/rg1/providers/Microsoft.App/sessionPools/myshellpool"
	tests := []struct {
		name string
		pool *SessionPool
		want string
	}{
		{"reported endpoint wins", &SessionPool{ID: id, Location: "eastus", Properties: &SessionPoolProperties{PoolManagementEndpoint: "https://reported.example"}}, "https://reported.example"},
		{"display-name region normalised", &SessionPool{ID: id, Location: "North Central US"}, "https://northcentralus.dynamicsessions.io/subscriptions/sub1/resourceGroups/rg1/sessionPools/myshellpool"},
		{"short region kept", &SessionPool{ID: id, Location: "westus2", Properties: &SessionPoolProperties{}}, "https://westus2.dynamicsessions.io/subscriptions/sub1/resourceGroups/rg1/sessionPools/myshellpool"},
		{"no id", &SessionPool{Location: "eastus"}, ""},
		{"unparsable id", &SessionPool{ID: "not-an-id", Location: "eastus"}, ""},
		{"no location", &SessionPool{ID: id}, ""},
		{"not a region", &SessionPool{ID: id, Location: "north central us!!"}, ""},
		{"region with a host part", &SessionPool{ID: id, Location: "evil.example/x"}, ""},
		{"id with a path-changing group", &SessionPool{ID: "/subscriptions/sub1/resourceGroups/../providers/Microsoft.App/sessionPools/myshellpool", Location: "eastus"}, ""},
		{"nil pool", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, tc.pool.Endpoint())
		})
	}
}

func TestResourceID(t *testing.T) {
	t.Parallel()
	id, err := ResourceID("sub1", "rg1", "myshellpool")
	require.NoError(t, err)
	assert.Equal(t, "/subscriptions/sub1/resourceGroups/rg1/providers/Microsoft.App/sessionPools/myshellpool", id.String())
	assert.Equal(t, "myshellpool", id.Name)
	assert.Equal(t, "rg1", id.ResourceGroupName)
	_, err = ResourceID("sub1", "", "p")
	assert.ErrorIs(t, err, ErrInvalidArgument)
	assert.ErrorContains(t, err, "resourceGroup")
	_, err = ResourceID("sub1", "rg", "a/b")
	assert.ErrorIs(t, err, ErrInvalidArgument)
	assert.ErrorContains(t, err, `name: "a/b"`)
}

func TestPossibleValues(t *testing.T) {
	t.Parallel()
	assert.Contains(t, PossibleContainerTypeValues(), ContainerTypeShell)
	assert.Contains(t, PossibleLifecycleTypeValues(), LifecycleTypeOnContainerExit)
	assert.Contains(t, PossibleManagedServiceIdentityTypeValues(), ManagedServiceIdentityType("SystemAssigned,UserAssigned"))
	assert.Len(t, PossibleProvisioningStateValues(), 5)
	assert.Equal(t, []RegistrationState{"NotRegistered", "Registering", "Registered", "Unregistering"}, PossibleRegistrationStateValues())
}
