package pool

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata (go test ./pool -update)")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "missing golden file: run go test ./pool -update")
	assert.Equal(t, string(want), string(got), "output differs from %s: review, then run go test ./pool -update", path)
}

// extensionTemplate adds what the identity package adds: a user-assigned
// identity and a Session Executor role assignment scoped to the pool.
func extensionTemplate() *Template {
	t := NewTemplate(NewShellPool("myshellpool", "North Central US"))
	t.Parameterize = true
	uami := "resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', concat(parameters('name'), '-uami'))"
	t.Resources = append(t.Resources,
		TemplateResource{
			APIVersion: "2023-01-31",
			Name:       "[concat(parameters('name'), '-uami')]",
			Type:       "Microsoft.ManagedIdentity/userAssignedIdentities",
			Location:   "[parameters('location')]",
		},
		TemplateResource{
			APIVersion: "2022-04-01",
			Name:       "[guid(" + t.PoolIDExpression(0) + ", " + uami + ", '0fb8eba5-a2bb-4abe-b1c1-49dfad359bb0')]",
			Type:       "Microsoft.Authorization/roleAssignments",
			Scope:      "[" + t.PoolIDExpression(0) + "]",
			DependsOn:  []string{"[" + t.PoolIDExpression(0) + "]", "[" + uami + "]"},
			Properties: map[string]any{
				"roleDefinitionId": "[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '0fb8eba5-a2bb-4abe-b1c1-49dfad359bb0')]",
				"principalId":      "[reference(" + uami + ", '2023-01-31').principalId]",
				"principalType":    "ServicePrincipal",
			},
		},
	)
	t.Outputs = map[string]TemplateOutput{
		"endpoint": {Type: "String", Value: "[reference(" + t.PoolIDExpression(0) + ").poolManagementEndpoint]"},
	}
	return t
}

func TestTemplateGolden(t *testing.T) {
	t.Parallel()
	second := NewShellPool("secondpool", "eastus")
	second.Tags = map[string]string{"team": "b", "env": "dev"}
	second.Properties.ScaleConfiguration.MaxConcurrentSessions = to.Ptr[int32](20)
	second.Properties.SessionNetworkConfiguration.Status = SessionNetworkStatusEgressDisabled
	// Read-only fields of a pool read from ARM are left out of templates.
	second.ID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.App/sessionPools/secondpool"
	second.Properties.ProvisioningState = ProvisioningStateSucceeded
	second.Properties.PoolManagementEndpoint = "https://eastus.dynamicsessions.io/x"
	second.Properties.NodeCount = to.Ptr[int32](1)

	tests := []struct {
		name     string
		template *Template
		file     string
	}{
		{"tutorial", NewTemplate(NewShellPool("myshellpool", "North Central US")), "template_tutorial.golden.json"},
		{"parameters", &Template{Pools: []*SessionPool{NewShellPool("", "")}, Parameterize: true}, "template_parameters.golden.json"},
		{"multiple pools", NewTemplate(NewShellPool("myshellpool", "North Central US"), second), "template_multi.golden.json"},
		{"extension resources", extensionTemplate(), "template_extension.golden.json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := tc.template.Render()
			require.NoError(t, err)
			golden(t, tc.file, got)
			again, err := tc.template.Render()
			require.NoError(t, err)
			assert.Equal(t, string(got), string(again), "rendering is deterministic")
		})
	}
}

// TestTemplateMatchesTutorial is the acceptance test of the issue: the
// tutorial's inputs render the tutorial's deploy.json, except that the type is
// spelled as the specification spells it.
func TestTemplateMatchesTutorial(t *testing.T) {
	t.Parallel()
	tutorial, err := os.ReadFile(filepath.Join("testdata", "tutorial_deploy.json"))
	require.NoError(t, err)
	want := strings.Replace(string(tutorial), `"Microsoft.App/sessionpools"`, `"Microsoft.App/sessionPools"`, 1)
	require.NotEqual(t, string(tutorial), want, "the tutorial spells the type in lower case")

	got, err := NewTemplate(NewShellPool("myshellpool", "North Central US")).Render()
	require.NoError(t, err)
	assert.JSONEq(t, want, string(got))

	compact, err := json.Marshal(NewTemplate(NewShellPool("myshellpool", "North Central US")))
	require.NoError(t, err)
	assert.JSONEq(t, want, string(compact), "MarshalJSON renders the same document")
}

func TestTemplateParametersForm(t *testing.T) {
	t.Parallel()
	got, err := (&Template{Pools: []*SessionPool{NewShellPool("ignored", "ignored")}, Parameterize: true}).Render()
	require.NoError(t, err)
	var doc struct {
		Parameters map[string]any
		Resources  []map[string]any
	}
	require.NoError(t, json.Unmarshal(got, &doc))
	assert.Equal(t, map[string]any{"name": map[string]any{"type": "String"}, "location": map[string]any{"type": "String"}}, doc.Parameters)
	assert.Equal(t, "[parameters('name')]", doc.Resources[0]["name"])
	assert.Equal(t, "[parameters('location')]", doc.Resources[0]["location"])
}

func TestTemplateErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		template *Template
		want     string
	}{
		{"empty", &Template{}, "at least one pool"},
		{"parameters with two pools", &Template{Pools: []*SessionPool{NewShellPool("aaa", "x"), NewShellPool("bbb", "x")}, Parameterize: true}, "exactly one pool"},
		{"parameter name taken", &Template{Pools: []*SessionPool{NewShellPool("aaa", "x")}, Parameterize: true, Parameters: map[string]TemplateParameter{"name": {Type: "String"}}}, "parameters.name"},
		{"invalid pool", NewTemplate(NewShellPool("Bad-Name", "x")), "template pool 0"},
		{"unknown function", &Template{Resources: []TemplateResource{{Type: "x/y", APIVersion: "1", Name: "n", Location: "[resourceGroop().location]"}}}, "resourceGroop()"},
		{"unknown nested function", &Template{Resources: []TemplateResource{{Type: "x/y", APIVersion: "1", Name: "[concat('a', uniqueStrin('b'))]"}}}, "uniqueStrin()"},
		{"unbalanced parenthesis", &Template{Resources: []TemplateResource{{Type: "x/y", APIVersion: "1", Name: "[concat('a', uniqueString('b')]"}}}, "malformed"},
		{"unbalanced bracket", &Template{Resources: []TemplateResource{{Type: "x/y", APIVersion: "1", Name: "[split('a.b', '.')[0]]]"}}}, "malformed"},
		{"unclosed string", &Template{Resources: []TemplateResource{{Type: "x/y", APIVersion: "1", Name: "[concat('a, 'b')]"}}}, "malformed"},
		{"undeclared parameter", &Template{Resources: []TemplateResource{{Type: "x/y", APIVersion: "1", Name: "[parameters('poolName')]"}}}, `parameter "poolName"`},
		{"undeclared variable", &Template{Resources: []TemplateResource{{Type: "x/y", APIVersion: "1", Name: "[variables('v')]"}}}, `variable "v"`},
		{"pool name expression mistake", NewTemplate(NewShellPool("[concat('pool', uniqueString(resourceGroup().id)]", "eastus")), "malformed"},
		{"pool region not a region", NewTemplate(NewShellPool("mypool", "Not A Region!!")), "location"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := tc.template.Render()
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalidArgument)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestTemplateAcceptsExpressionsItCannotEvaluate: valid ARM that only ARM
// can evaluate is rendered, not refused.
func TestTemplateAcceptsExpressionsItCannotEvaluate(t *testing.T) {
	t.Parallel()
	p := NewShellPool("[concat('pool', uniqueString(resourceGroup().id))]", "[resourceGroup().location]")
	tmpl := NewTemplate(p)
	tmpl.Parameters = map[string]TemplateParameter{"suffix": {Type: "String", DefaultValue: "x"}}
	tmpl.Variables = map[string]any{"base": "[uniqueString(subscription().subscriptionId, resourceGroup().id)]"}
	tmpl.Resources = []TemplateResource{{
		Type: "Microsoft.ManagedIdentity/userAssignedIdentities", APIVersion: "2023-01-31",
		Name:     "[format('{0}-{1}', variables('base'), parameters('suffix'))]",
		Location: "[resourceGroup().location]",
		Tags:     map[string]string{"when": "[utcNow()]", "first": "[split('a.b', '.')[0]]", "keys": "[listKeys(resourceId('x/y', 'n'), '1').keys[0].value]"},
		Properties: map[string]any{
			"udf":  "[contoso.uniqueName('a')]",
			"cond": "[if(equals(toUpper(parameters('suffix')), 'X'), 'yes', 'no')]",
		},
	}}
	out, err := tmpl.Render()
	require.NoError(t, err)
	assert.Contains(t, string(out), `"location": "[resourceGroup().location]"`)
	assert.Contains(t, string(out), `uniqueString(resourceGroup().id)`)
}

func TestTemplateExpressionHelpers(t *testing.T) {
	t.Parallel()
	lit := NewTemplate(NewShellPool("myshellpool", "eastus"))
	assert.Equal(t, "'myshellpool'", lit.PoolNameExpression(0))
	assert.Equal(t, "resourceId('Microsoft.App/sessionPools', 'myshellpool')", lit.PoolIDExpression(0))
	assert.Empty(t, lit.PoolIDExpression(1))
	assert.Empty(t, lit.PoolNameExpression(-1))
	param := &Template{Pools: []*SessionPool{NewShellPool("", "")}, Parameterize: true}
	assert.Equal(t, "resourceId('Microsoft.App/sessionPools', parameters('name'))", param.PoolIDExpression(0))
	// Escaped literals ("[[") and quoted text are not function calls.
	escaped := &Template{Resources: []TemplateResource{{Type: "x/y", APIVersion: "1", Name: "[[notAnExpression()]", Properties: map[string]any{"s": "[format('{0} uniqueString(x)', 'a')]"}}}}
	_, err := escaped.Render()
	assert.NoError(t, err)
}

func TestParseTemplate(t *testing.T) {
	t.Parallel()
	tutorial, err := os.ReadFile(filepath.Join("testdata", "tutorial_deploy.json"))
	require.NoError(t, err)
	want := NewShellPool("myshellpool", "North Central US")

	t.Run("tutorial deploy.json", func(t *testing.T) {
		t.Parallel()
		pools, err := ParseTemplate(tutorial, nil)
		require.NoError(t, err)
		require.Len(t, pools, 1)
		assert.Equal(t, want, pools[0])
	})
	t.Run("tutorial revision with # comment", func(t *testing.T) {
		t.Parallel()
		commented := strings.Replace(string(tutorial), `"location": "North Central US",`,
			`"location": "North Central US", # must match $LOCATION`, 1)
		commented = "// deploy.json\n/* block\n comment */" + commented
		require.NotEqual(t, string(tutorial), commented)
		pools, err := ParseTemplate([]byte(commented), nil)
		require.NoError(t, err)
		assert.Equal(t, want, pools[0])
	})
	t.Run("round trip of the parameters form", func(t *testing.T) {
		t.Parallel()
		doc, err := (&Template{Pools: []*SessionPool{NewShellPool("", "")}, Parameterize: true}).Render()
		require.NoError(t, err)
		pools, err := ParseTemplate(doc, map[string]any{"name": "myshellpool", "location": "North Central US"})
		require.NoError(t, err)
		assert.Equal(t, want, pools[0])
	})
	t.Run("defaults, variables, numbers and escapes", func(t *testing.T) {
		t.Parallel()
		doc := `{"parameters":{"name":{"type":"String","defaultValue":"dflt"},"max":{"type":"Int"},"loc":{"type":"String","defaultValue":"[parameters('region')]"},"region":{"type":"String","defaultValue":"westus2"}},
			"variables":{"egress":"EgressDisabled"},
			"resources":[{"type":"microsoft.app/SESSIONPOOLS","name":"[parameters('name')]","location":"[parameters('loc')]",
				"tags":{"note":"[[literal]"},
				"properties":{"containerType":"Shell","scaleConfiguration":{"maxConcurrentSessions":"[parameters('max')]"},
				"sessionNetworkConfiguration":{"status":"[variables('egress')]"}}},
				{"type":"Microsoft.ManagedIdentity/userAssignedIdentities","name":"[resourceGroup().name]"}]}`
		pools, err := ParseTemplate([]byte(doc), map[string]any{"max": 7})
		require.NoError(t, err)
		require.Len(t, pools, 1, "other resource types are skipped")
		p := pools[0]
		assert.Equal(t, "dflt", p.Name)
		assert.Equal(t, "westus2", p.Location)
		assert.Equal(t, "[literal]", p.Tags["note"])
		assert.Equal(t, int32(7), *p.Properties.ScaleConfiguration.MaxConcurrentSessions)
		assert.Equal(t, SessionNetworkStatusEgressDisabled, p.Properties.SessionNetworkConfiguration.Status)
	})
	t.Run("condition false skips the pool", func(t *testing.T) {
		t.Parallel()
		doc := `{"parameters":{"on":{"type":"Bool"}},"resources":[
			{"type":"Microsoft.App/sessionPools","name":"one","condition":"[parameters('on')]","properties":{"containerType":"Shell"}},
			{"type":"Microsoft.App/sessionPools","name":"two","properties":{"containerType":"Shell"}}]}`
		pools, err := ParseTemplate([]byte(doc), map[string]any{"on": false})
		require.NoError(t, err)
		require.Len(t, pools, 1)
		assert.Equal(t, "two", pools[0].Name)
	})
}

func TestParseTemplateErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		doc    string
		params map[string]any
		want   []string // every substring must appear in the one error
	}{
		{"not json", `{"resources": [`, nil, []string{"not a JSON object"}},
		{"no resources", `{"$schema":"x"}`, nil, []string{"resources: is missing"}},
		{"no pools", `{"resources":[{"type":"Microsoft.Storage/storageAccounts","name":"s"}]}`, nil, []string{"no Microsoft.App/sessionPools resources"}},
		{"missing parameter value", `{"parameters":{"name":{"type":"String"}},"resources":[{"type":"Microsoft.App/sessionPools","name":"[parameters('name')]"}]}`, nil,
			[]string{`resources[0].name`, `needs a value for parameter "name"`}},
		{"undeclared parameter reference", `{"resources":[{"type":"Microsoft.App/sessionPools","name":"[parameters('nope')]"}]}`, nil, []string{`parameter "nope", which the template does not declare`}},
		{"undeclared parameter passed", `{"parameters":{"name":{"type":"String"}},"resources":[{"type":"Microsoft.App/sessionPools","name":"[parameters('name')]"}]}`,
			map[string]any{"name": "ok", "extra": 1}, []string{"parameters.extra: is passed but the template does not declare it"}},
		{"every unresolvable expression named", `{"resources":[{"type":"Microsoft.App/sessionPools","name":"[uniqueString(resourceGroup().id)]","location":"[resourceGroup().location]"}]}`, nil,
			[]string{`resources[0].name: expression "[uniqueString(resourceGroup().id)]"`, `resources[0].location: expression "[resourceGroup().location]"`}},
		{"copy loop", `{"resources":[{"type":"Microsoft.App/sessionPools","name":"p","copy":{"name":"c","count":2}}]}`, nil, []string{"copy loops are not supported"}},
		{"self-referencing default", `{"parameters":{"a":{"type":"String","defaultValue":"[parameters('a')]"}},"resources":[{"type":"Microsoft.App/sessionPools","name":"[parameters('a')]"}]}`, nil, []string{"nest too deeply"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pools, err := ParseTemplate([]byte(tc.doc), tc.params)
			require.Error(t, err)
			assert.Nil(t, pools)
			assert.ErrorIs(t, err, ErrInvalidArgument)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestStripComments(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"hash to end of line", "{\"a\": 1, # note\n\"b\": 2}", "{\"a\": 1, \n\"b\": 2}"},
		{"hash inside string kept", `{"a": "x # y", "b": "// z"}`, `{"a": "x # y", "b": "// z"}`},
		{"escaped quote in string", `{"a": "q\" # not a comment"}`, `{"a": "q\" # not a comment"}`},
		{"block comment", `{"a": /* c */ 1}`, `{"a":   1}`},
		{"line comment at end", "{}// end", "{}"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, string(stripComments([]byte(tc.in))))
		})
	}
}

// identityShapedResources are written inline in the shape of
// identity.ManagedIdentityResource("myshellpool-uami", "northcentralus") and
// identity.SessionExecutorAssignmentResource("myshellpool", "myshellpool-uami")
// (pool must not import identity): maps with []any and nested maps, and a
// scope in the relative "Microsoft.App/sessionPools/{name}" form.
func identityShapedResources() []map[string]any {
	uami := "resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', 'myshellpool-uami')"
	poolID := "resourceId('Microsoft.App/sessionPools', 'myshellpool')"
	role := "subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '0fb8eba5-a2bb-4abe-b1c1-49dfad359bb0')"
	return []map[string]any{
		{
			"type":       "Microsoft.ManagedIdentity/userAssignedIdentities",
			"apiVersion": "2023-01-31",
			"name":       "myshellpool-uami",
			"location":   "northcentralus",
		},
		{
			"type":       "Microsoft.Authorization/roleAssignments",
			"apiVersion": "2022-04-01",
			"scope":      "Microsoft.App/sessionPools/myshellpool",
			"name":       "[guid(" + poolID + ", " + uami + ", " + role + ")]",
			"dependsOn":  []any{"[" + poolID + "]", "[" + uami + "]"},
			"properties": map[string]any{
				"roleDefinitionId": "[" + role + "]",
				"principalId":      "[reference(" + uami + ", '2023-01-31').principalId]",
				"principalType":    "ServicePrincipal",
			},
		},
	}
}

// identityShapedTyped is identityShapedResources as TemplateResources, the
// form identity's builders return.
func identityShapedTyped() []TemplateResource {
	uami := "resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', 'myshellpool-uami')"
	poolID := "resourceId('Microsoft.App/sessionPools', 'myshellpool')"
	role := "subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '0fb8eba5-a2bb-4abe-b1c1-49dfad359bb0')"
	return []TemplateResource{
		{Type: "Microsoft.ManagedIdentity/userAssignedIdentities", APIVersion: "2023-01-31", Name: "myshellpool-uami", Location: "northcentralus"},
		{
			Type: "Microsoft.Authorization/roleAssignments", APIVersion: "2022-04-01",
			Scope:     "Microsoft.App/sessionPools/myshellpool",
			Name:      "[guid(" + poolID + ", " + uami + ", " + role + ")]",
			DependsOn: []string{"[" + poolID + "]", "[" + uami + "]"},
			Properties: map[string]any{
				"roleDefinitionId": "[" + role + "]",
				"principalId":      "[reference(" + uami + ", '2023-01-31').principalId]",
				"principalType":    "ServicePrincipal",
			},
		},
	}
}

func TestTemplateAddResources(t *testing.T) {
	t.Parallel()
	tmpl := NewTemplate(NewShellPool("myshellpool", "northcentralus"))
	require.NoError(t, tmpl.AddResources(identityShapedTyped()...))
	require.Len(t, tmpl.Resources, 2)

	got, err := tmpl.Render()
	require.NoError(t, err)
	var doc struct {
		Resources []json.RawMessage `json:"resources"`
	}
	require.NoError(t, json.Unmarshal(got, &doc))
	require.Len(t, doc.Resources, 3, "the pool, then the added resources")
	assert.Contains(t, string(doc.Resources[0]), `"type": "Microsoft.App/sessionPools"`)
	for i, want := range identityShapedResources() {
		w, err := json.Marshal(want)
		require.NoError(t, err)
		assert.JSONEq(t, string(w), string(doc.Resources[i+1]), "resource %d is rendered exactly as given", i+1)
	}
	again, err := tmpl.Render()
	require.NoError(t, err)
	assert.Equal(t, string(got), string(again), "rendering is deterministic")
}

func TestTemplateResourceExtra(t *testing.T) {
	t.Parallel()
	r := TemplateResource{Type: "Microsoft.Storage/storageAccounts", APIVersion: "2023-01-01", Name: "s<1>", Location: "eastus",
		Extra: map[string]any{"sku": map[string]any{"name": "Standard_LRS"}, "kind": "StorageV2"}}
	b, err := json.Marshal(r)
	require.NoError(t, err)
	assert.Equal(t, `{"apiVersion":"2023-01-01","name":"s\u003c1\u003e","type":"Microsoft.Storage/storageAccounts","location":"eastus","kind":"StorageV2","sku":{"name":"Standard_LRS"}}`, string(b),
		"fields in order, then Extra's keys sorted; json.Marshal's HTML escaping applies")
	tmpl := NewTemplate(NewShellPool("myshellpool", "northcentralus"))
	require.NoError(t, tmpl.AddResources(r))
	out, err := tmpl.Render()
	require.NoError(t, err)
	assert.Contains(t, string(out), `"name": "s<1>",`, "Render does not escape HTML")
	assert.Contains(t, string(out), `"kind": "StorageV2",`)
}

func TestTemplateAddResourcesErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		resources []TemplateResource
		want      []string
	}{
		{"missing required fields", []TemplateResource{{Location: "eastus"}},
			[]string{"resources[1].type: is required", "resources[1].apiVersion: is required", "resources[1].name: is required"}},
		{"extra key that is a field", []TemplateResource{{Type: "x/y", APIVersion: "1", Name: "n", Extra: map[string]any{"location": "eastus"}}},
			[]string{`resources[1].Extra["location"]: is a key TemplateResource renders from its own field`}},
		{"unencodable extra", []TemplateResource{{Type: "x/y", APIVersion: "1", Name: "n", Extra: map[string]any{"copy": func() {}}}},
			[]string{"resources[1]: cannot be encoded as JSON"}},
		{"every bad resource named", []TemplateResource{identityShapedTyped()[0], {Name: "n"}, {Type: "x/y", APIVersion: "1", Name: "n", Extra: map[string]any{"": 1}}},
			[]string{"resources[2].type: is required", `resources[3].Extra[""]: is a key`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tmpl := NewTemplate(NewShellPool("myshellpool", "northcentralus"))
			err := tmpl.AddResources(tc.resources...)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalidArgument)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.Empty(t, tmpl.Resources, "nothing is added when any resource is bad")
		})
	}
	t.Run("render checks resources added directly", func(t *testing.T) {
		t.Parallel()
		tmpl := NewTemplate(NewShellPool("myshellpool", "northcentralus"))
		tmpl.Resources = append(tmpl.Resources, TemplateResource{Type: "x/y", Name: "n"})
		_, err := tmpl.Render()
		require.ErrorIs(t, err, ErrInvalidArgument)
		assert.Contains(t, err.Error(), "resources[1].apiVersion: is required")
	})
}
