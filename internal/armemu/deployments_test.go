package armemu

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func deploymentPath(rg, name string) string {
	return "/subscriptions/" + testSub + "/resourcegroups/" + rg + "/providers/Microsoft.Resources/deployments/" + name + "?api-version=2020-10-01"
}

// tutorialTemplate deploys a pool, an identity and a Session Executor role
// assignment for the identity on the pool, with the expressions templates
// commonly use.
const tutorialTemplate = `{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "contentVersion": "1.0.0.0",
  "parameters": {
    "name": {"type": "String"},
    "location": {"type": "String", "defaultValue": "[resourceGroup().location]"},
    "identityName": {"type": "String", "defaultValue": "[format('{0}-id', parameters('name'))]"},
    "maxSessions": {"type": "Int", "defaultValue": 4}
  },
  "variables": {
    "roleId": "0fb8eba5-a2bb-4abe-b1c1-49dfad359bb0",
    "poolId": "[resourceId('Microsoft.App/sessionPools', parameters('name'))]",
    "literal": "[[not an expression]"
  },
  "resources": [
    {
      "type": "Microsoft.Authorization/roleAssignments",
      "apiVersion": "2022-04-01",
      "name": "[guid(variables('poolId'), parameters('identityName'), variables('roleId'))]",
      "scope": "[concat('Microsoft.App/sessionPools/', parameters('name'))]",
      "dependsOn": ["[variables('poolId')]", "[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', parameters('identityName'))]"],
      "properties": {
        "roleDefinitionId": "[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', variables('roleId'))]",
        "principalId": "[reference(resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', parameters('identityName')), '2023-01-31').principalId]",
        "principalType": "ServicePrincipal"
      }
    },
    {
      "type": "Microsoft.App/sessionpools",
      "apiVersion": "2025-02-02-preview",
      "name": "[parameters('name')]",
      "location": "[parameters('location')]",
      "tags": {"note": "[variables('literal')]"},
      "properties": {
        "poolManagementType": "Dynamic",
        "containerType": "Shell",
        "scaleConfiguration": {"maxConcurrentSessions": "[parameters('maxSessions')]"},
        "dynamicPoolConfiguration": {"lifecycleConfiguration": {"lifecycleType": "Timed", "cooldownPeriodInSeconds": 300}},
        "sessionNetworkConfiguration": {"status": "EgressEnabled"}
      }
    },
    {
      "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
      "apiVersion": "2023-01-31",
      "name": "[parameters('identityName')]",
      "location": "[toLower(parameters('location'))]"
    }
  ],
  "outputs": {
    "endpoint": {"type": "String", "value": "[reference(parameters('name')).poolManagementEndpoint]"},
    "clientId": {"type": "String", "value": "[reference(resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', parameters('identityName'))).properties.clientId]"}
  }
}`

func deploymentBody(t *testing.T, template string, params map[string]any) map[string]any {
	t.Helper()
	var tmpl map[string]any
	require.NoError(t, json.Unmarshal([]byte(template), &tmpl))
	wrapped := map[string]any{}
	for k, v := range params {
		wrapped[k] = map[string]any{"value": v}
	}
	return map[string]any{"properties": map[string]any{"mode": "Incremental", "template": tmpl, "parameters": wrapped}}
}

func TestDeploymentOfPoolIdentityAndRole(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	f.eng.EnsureResourceGroup(testSub, testRG, "North Central US")
	pl := f.pipeline(t)
	p, err := begin[map[string]any](t, f, pl, http.MethodPut, deploymentPath(testRG, "deploy1"), deploymentBody(t, tutorialTemplate, map[string]any{"name": "tutpool"}))
	require.NoError(t, err)
	got, err := pollDone(t, p)
	require.NoError(t, err)
	assert.Equal(t, "Succeeded", dig(got, "properties", "provisioningState"))

	spec := f.backend.lastUpsert(t)
	assert.Equal(t, "tutpool", spec.Name)
	assert.Equal(t, 4, spec.MaxConcurrentSessions, "the parameter's default value is used")
	assert.Equal(t, "northcentralus", spec.Location, "resourceGroup().location")

	_, ident := f.do(t, http.MethodGet, rgPath(testRG)+"/providers/Microsoft.ManagedIdentity/userAssignedIdentities/tutpool-id?api-version=2023-01-31", nil)
	principal, _ := dig(ident, "properties", "principalId").(string)
	require.NotEmpty(t, principal)
	poolScope := poolID(testSub, testRG, "tutpool")
	assert.True(t, f.eng.HasRole(RoleGrant{PrincipalID: principal, Scope: poolScope, Role: sessionExecutor}))

	// guid() is UUIDv5 in ARM's namespace over the arguments joined by "-".
	wantName := uuid.NewSHA1(uuid.MustParse("11fb06fb-712d-4ddd-98c7-e71bbd588830"), []byte(poolScope+"-tutpool-id-"+sessionExecutor)).String()
	resp, ra := f.do(t, http.MethodGet, poolScope+"/providers/Microsoft.Authorization/roleAssignments/"+wantName+"?api-version=2022-04-01", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "ServicePrincipal", dig(ra, "properties", "principalType"))
	assert.Equal(t, poolScope, dig(ra, "properties", "scope"))
	assert.Equal(t, principal, dig(ra, "properties", "principalId"))
	assert.Equal(t, "/subscriptions/"+testSub+"/providers/Microsoft.Authorization/roleDefinitions/"+sessionExecutor, dig(ra, "properties", "roleDefinitionId"))

	_, pool := f.do(t, http.MethodGet, poolPath(testRG, "tutpool", "2025-02-02-preview"), nil)
	assert.Equal(t, "[not an expression]", dig(pool, "tags", "note"), "the [[ escape yields a literal")

	_, dep := f.do(t, http.MethodGet, deploymentPath(testRG, "deploy1"), nil)
	assert.Equal(t, "Succeeded", dig(dep, "properties", "provisioningState"))
	assert.Len(t, dig(dep, "properties", "outputResources"), 3)
	assert.Equal(t, dig(pool, "properties", "poolManagementEndpoint"), dig(dep, "properties", "outputs", "endpoint", "value"))
	assert.Equal(t, dig(ident, "properties", "clientId"), dig(dep, "properties", "outputs", "clientId", "value"))
	assert.Equal(t, "tutpool", dig(dep, "properties", "parameters", "name", "value"))

	// Deploying again is idempotent.
	p, err = begin[map[string]any](t, f, pl, http.MethodPut, deploymentPath(testRG, "deploy2"), deploymentBody(t, tutorialTemplate, map[string]any{"name": "tutpool"}))
	require.NoError(t, err)
	_, err = pollDone(t, p)
	require.NoError(t, err)
}

func TestDeploymentRawStates(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	f.eng.EnsureResourceGroup(testSub, testRG, "eastus")
	resp, body := f.do(t, http.MethodPut, deploymentPath(testRG, "d"), deploymentBody(t, tutorialTemplate, map[string]any{"name": "rawpool"}))
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	assert.Equal(t, "Accepted", dig(body, "properties", "provisioningState"))
	async := resp.Header.Get("Azure-AsyncOperation")
	assert.Contains(t, async, "/providers/Microsoft.Resources/deployments/d/operationStatuses/")
	_, body = f.do(t, http.MethodGet, deploymentPath(testRG, "d"), nil)
	assert.Equal(t, "Running", dig(body, "properties", "provisioningState"))
	_, st := f.do(t, http.MethodGet, async, nil)
	assert.Equal(t, "Succeeded", st["status"])
}

func TestDeploymentInvalidTemplate(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	f.eng.EnsureResourceGroup(testSub, testRG, "eastus")
	poolRes := func(name string) string {
		return `{"type":"Microsoft.App/sessionPools","apiVersion":"2025-02-02-preview","name":` + name + `,"location":"eastus",
		  "properties":{"containerType":"Shell","scaleConfiguration":{"maxConcurrentSessions":5}}}`
	}
	tmpl := func(params, resources string) string {
		return `{"contentVersion":"1.0.0.0","parameters":{` + params + `},"resources":[` + resources + `]}`
	}
	cases := []struct {
		name     string
		template string
		params   map[string]any
		contains string
	}{
		{"unsupported function", tmpl(``, poolRes(`"[uniqueString(resourceGroup().id)]"`)), nil, "[uniqueString(resourceGroup().id)]"},
		{"syntax error", tmpl(``, poolRes(`"[concat('a', ]"`)), nil, "[concat('a', ]"},
		{"missing parameter value", tmpl(`"name":{"type":"String"}`, poolRes(`"[parameters('name')]"`)), nil, "'name' is not provided"},
		{"undeclared parameter", tmpl(``, poolRes(`"[parameters('nope')]"`)), nil, "[parameters('nope')]"},
		{"extra deployment parameter", tmpl(``, poolRes(`"abc"`)), map[string]any{"extra": 1}, "'extra'"},
		{"unknown variable", tmpl(``, poolRes(`"[variables('v')]"`)), nil, "[variables('v')]"},
		{"unsupported resource type", tmpl(``, `{"type":"Microsoft.Storage/storageAccounts","name":"x"}`), nil, "Microsoft.Storage/storageAccounts"},
		{"unknown dependency", tmpl(``, `{"type":"Microsoft.App/sessionPools","name":"abc","dependsOn":["ghost"],"location":"eastus","properties":{}}`), nil, "'ghost'"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			name := strings.ReplaceAll(tc.name, " ", "-")
			resp, body := f.do(t, http.MethodPut, deploymentPath(testRG, name), deploymentBody(t, tc.template, tc.params))
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
			assert.Equal(t, "InvalidTemplate", errCode(body))
			assert.Contains(t, errMessage(body), tc.contains)
			_, dep := f.do(t, http.MethodGet, deploymentPath(testRG, name), nil)
			assert.Equal(t, "Failed", dig(dep, "properties", "provisioningState"))
			assert.Equal(t, "InvalidTemplate", dig(dep, "properties", "error", "code"))
		})
	}
	f.backend.mu.Lock()
	assert.Empty(t, f.backend.upserts, "nothing is deployed from an invalid template")
	f.backend.mu.Unlock()
}

func TestDeploymentResourceFailure(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	f.eng.EnsureResourceGroup(testSub, testRG, "eastus")
	pl := f.pipeline(t)
	template := `{"resources":[{"type":"Microsoft.App/sessionPools","name":"badpool","location":"eastus",
	  "properties":{"containerType":"Shell","dynamicPoolConfiguration":{"lifecycleConfiguration":{"lifecycleType":"Timed","cooldownPeriodInSeconds":100}}}}]}`
	p, err := begin[map[string]any](t, f, pl, http.MethodPut, deploymentPath(testRG, "bad"), deploymentBody(t, template, nil))
	require.NoError(t, err, "resource errors surface through the operation, not the PUT")
	_, err = pollDone(t, p)
	require.Error(t, err)
	assert.Equal(t, "DeploymentFailed", responseCode(t, err))

	_, dep := f.do(t, http.MethodGet, deploymentPath(testRG, "bad"), nil)
	assert.Equal(t, "Failed", dig(dep, "properties", "provisioningState"))
	assert.Equal(t, "DeploymentFailed", dig(dep, "properties", "error", "code"))
	details, _ := dig(dep, "properties", "error", "details").([]any)
	require.Len(t, details, 1)
	assert.Equal(t, "ValidationError", dig(details[0], "code"))
	assert.Contains(t, dig(details[0], "message"), "cooldownPeriodInSeconds")
}

func TestDeploymentNeedsResourceGroup(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	resp, body := f.do(t, http.MethodPut, deploymentPath("ghost", "d"), deploymentBody(t, tutorialTemplate, map[string]any{"name": "x"}))
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Equal(t, "ResourceGroupNotFound", errCode(body))
}

func TestTemplateFunctions(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	f.eng.EnsureResourceGroup(testSub, testRG, "eastus")
	ctx := &evalCtx{e: f.eng, sub: testSub, rg: testRG, params: map[string]any{"p": "Val"}, paramDecl: map[string]bool{"p": true},
		vars: map[string]any{"v": "[concat(parameters('p'), '-x')]", "self": "[variables('self')]"}, varCache: map[string]any{}, varBusy: map[string]bool{}}
	cases := []struct {
		expr string
		want any
	}{
		{"[parameters('P')]", "Val"},
		{"[variables('v')]", "Val-x"},
		{"[toLower(variables('v'))]", "val-x"},
		{"[format('{0}/{1}{{2}}', 'a', 7)]", "a/7{2}"},
		{"['it''s']", "it's"},
		{"[resourceId('Microsoft.App/sessionPools', 'p1')]", "/subscriptions/" + testSub + "/resourceGroups/rg/providers/Microsoft.App/sessionPools/p1"},
		{"[resourceId('other', 'Microsoft.App/sessionPools', 'p1')]", "/subscriptions/" + testSub + "/resourceGroups/other/providers/Microsoft.App/sessionPools/p1"},
		{"[resourceId('s2', 'g2', 'Microsoft.Sql/servers/databases', 'a', 'b')]", "/subscriptions/s2/resourceGroups/g2/providers/Microsoft.Sql/servers/a/databases/b"},
		{"[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'r')]", "/subscriptions/" + testSub + "/providers/Microsoft.Authorization/roleDefinitions/r"},
		{"[guid('a', 'b')]", uuid.NewSHA1(uuid.MustParse("11fb06fb-712d-4ddd-98c7-e71bbd588830"), []byte("a-b")).String()},
		{"[concat('a', 'b', 'c')]", "abc"},
		{"[subscription().subscriptionId]", testSub},
		{"[resourceGroup().name]", testRG},
		{"[[escaped]", "[escaped]"},
		{"plain", "plain"},
	}
	for _, tc := range cases {
		t.Run(tc.expr, func(t *testing.T) {
			got, err := ctx.evalValue(tc.expr)
			require.Nil(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	_, err := ctx.evalValue("[variables('self')]")
	require.NotNil(t, err)
	assert.Contains(t, err.msg, "refers to itself")
	_, err = ctx.evalValue("[reference('x')]")
	require.NotNil(t, err)
	assert.Contains(t, err.msg, "[reference('x')]")
}
