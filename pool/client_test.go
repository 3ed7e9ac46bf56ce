package pool

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	tutorialPoolBody = `{"location":"North Central US","properties":{"poolManagementType":"Dynamic","containerType":"Shell",
		"scaleConfiguration":{"maxConcurrentSessions":5},
		"dynamicPoolConfiguration":{"lifecycleConfiguration":{"lifecycleType":"Timed","cooldownPeriodInSeconds":300}},
		"sessionNetworkConfiguration":{"status":"EgressEnabled"}}}`
	poolResponse = `{"id":"/subscriptions/sub1/resourceGroups/rg1/providers/Microsoft.App/sessionPools/myshellpool",
		"name":"myshellpool","type":"Microsoft.App/sessionPools","location":"North Central US",
		"properties":{"provisioningState":"%s","containerType":"Shell","poolManagementType":"Dynamic",
		"poolManagementEndpoint":"https://northcentralus.dynamicsessions.io/subscriptions/sub1/resourceGroups/rg1/sessionPools/myshellpool"}}`
	armError = `{"error":{"code":"%s","message":"%s"}}`
)

func poolBody(state string) string { return sprintf(poolResponse, state) }

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// assertCall checks one recorded request.
func assertCall(t *testing.T, c call, method, path, apiVersion, body string) {
	t.Helper()
	assert.Equal(t, method, c.Method)
	assert.Equal(t, path, c.Path)
	assert.Equal(t, apiVersion, c.APIVersion)
	assert.Equal(t, "Bearer fake_token", c.Auth, "requests carry the ARM bearer token")
	if body == "" {
		assert.Empty(t, c.Body)
	} else {
		assert.JSONEq(t, body, c.Body)
	}
}

func requireResponseError(t *testing.T, err error, status int, code string) *azcore.ResponseError {
	t.Helper()
	var re *azcore.ResponseError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, status, re.StatusCode)
	assert.Equal(t, code, re.ErrorCode)
	return re
}

func TestNewClientRejectsBadInput(t *testing.T) {
	t.Parallel()
	_, err := NewClient("", &fake.TokenCredential{}, nil)
	assert.ErrorIs(t, err, ErrInvalidArgument)
	_, err = NewClient("a/b", &fake.TokenCredential{}, nil)
	assert.ErrorIs(t, err, ErrInvalidArgument)
	_, err = NewClient("sub", nil, nil)
	assert.ErrorIs(t, err, ErrInvalidArgument)
	c, err := NewClient("sub", &fake.TokenCredential{}, nil)
	require.NoError(t, err)
	assert.Equal(t, "sub", c.SubscriptionID())
}

func TestCreateOrUpdateAsyncOperation(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.On(http.MethodPut, testPoolPath, step{Status: 201, Body: poolBody("InProgress"),
		Headers: map[string]string{"Azure-AsyncOperation": "{base}/subscriptions/sub1/providers/Microsoft.App/locations/northcentralus/operationStatuses/op1?api-version=2025-02-02-preview"}})
	f.On(http.MethodGet, "/subscriptions/sub1/providers/Microsoft.App/locations/northcentralus/operationStatuses/op1",
		step{Status: 200, Body: `{"status":"InProgress"}`}, step{Status: 200, Body: `{"status":"Succeeded"}`})
	f.On(http.MethodGet, testPoolPath, step{Status: 200, Body: poolBody("Succeeded")})
	c := f.client(t)

	p := NewShellPool("ignored", "North Central US")
	// Read-only fields are not sent.
	p.ID, p.Properties.ProvisioningState, p.Properties.NodeCount = "/x", ProvisioningStateFailed, to.Ptr[int32](3)
	poller, err := c.BeginCreateOrUpdate(t.Context(), testRG, "myshellpool", *p, nil)
	require.NoError(t, err)
	res, err := poller.PollUntilDone(t.Context(), pollFast)
	require.NoError(t, err)
	assert.Equal(t, ProvisioningStateSucceeded, res.Properties.ProvisioningState)
	assert.Equal(t, "https://northcentralus.dynamicsessions.io/subscriptions/sub1/resourceGroups/rg1/sessionPools/myshellpool", res.Endpoint())

	calls := f.Requests()
	require.Len(t, calls, 4)
	assertCall(t, calls[0], http.MethodPut, testPoolPath, "2025-02-02-preview", tutorialPoolBody)
	assertCall(t, calls[1], http.MethodGet, "/subscriptions/sub1/providers/Microsoft.App/locations/northcentralus/operationStatuses/op1", "2025-02-02-preview", "")
	assertCall(t, calls[2], http.MethodGet, "/subscriptions/sub1/providers/Microsoft.App/locations/northcentralus/operationStatuses/op1", "2025-02-02-preview", "")
	assertCall(t, calls[3], http.MethodGet, testPoolPath, "2025-02-02-preview", "")
}

func TestCreateOrUpdateSynchronous(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.On(http.MethodPut, testPoolPath, step{Status: 200, Body: poolBody("Succeeded")})
	c := f.client(t)
	poller, err := c.BeginCreateOrUpdate(t.Context(), testRG, "myshellpool", *NewShellPool("myshellpool", "North Central US"), nil)
	require.NoError(t, err)
	assert.True(t, poller.Done(), "a 200 with a terminal state needs no polling")
	res, err := poller.PollUntilDone(t.Context(), pollFast)
	require.NoError(t, err)
	assert.Equal(t, "myshellpool", res.Name)
	assert.Len(t, f.Requests(), 1)
}

func TestCreateOrUpdateAPIVersionOverride(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.On(http.MethodPut, testPoolPath, step{Status: 200, Body: poolBody("Succeeded")})
	opts := f.options()
	opts.APIVersion = "2025-10-02-preview"
	c, err := NewClient(testSub, &fake.TokenCredential{}, opts)
	require.NoError(t, err)
	_, err = c.BeginCreateOrUpdate(t.Context(), testRG, "myshellpool", *NewShellPool("x", "North Central US"), nil)
	require.NoError(t, err)
	assert.Equal(t, "2025-10-02-preview", f.Requests()[0].APIVersion)
}

func TestCreateOrUpdateFailures(t *testing.T) {
	t.Parallel()
	t.Run("rejected request", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		f.On(http.MethodPut, testPoolPath, step{Status: 400, Body: sprintf(armError, "InvalidContainerType", "containerType Shell is not supported")})
		_, err := f.client(t).BeginCreateOrUpdate(t.Context(), testRG, "myshellpool", *NewShellPool("x", "eastus"), nil)
		re := requireResponseError(t, err, 400, "InvalidContainerType")
		assert.Contains(t, re.Error(), "containerType Shell is not supported")
	})
	t.Run("operation failed", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		f.On(http.MethodPut, testPoolPath, step{Status: 201, Body: poolBody("InProgress"),
			Headers: map[string]string{"Azure-AsyncOperation": "{base}/ops/op2"}})
		f.On(http.MethodGet, "/ops/op2", step{Status: 200, Body: `{"status":"Failed","error":{"code":"SessionPoolProvisioningFailed","message":"quota exceeded"}}`})
		poller, err := f.client(t).BeginCreateOrUpdate(t.Context(), testRG, "myshellpool", *NewShellPool("x", "eastus"), nil)
		require.NoError(t, err)
		_, err = poller.PollUntilDone(t.Context(), pollFast)
		re := requireResponseError(t, err, 200, "SessionPoolProvisioningFailed")
		assert.Contains(t, re.Error(), "quota exceeded")
	})
}

func TestValidationBeforeAnyRequest(t *testing.T) {
	t.Parallel()
	f := setup(t)
	c := f.client(t)
	ctx := t.Context()
	bad := NewShellPool("", "")
	bad.Properties.ScaleConfiguration.MaxConcurrentSessions = to.Ptr[int32](0)
	tests := []struct {
		name string
		call func() error
	}{
		{"invalid pool", func() error {
			_, err := c.BeginCreateOrUpdate(ctx, testRG, "my-pool", *bad, nil)
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Len(t, ve.Problems, 3, "name, location and maxConcurrentSessions")
			return err
		}},
		{"bad resource group", func() error {
			_, err := c.BeginCreateOrUpdate(ctx, "bad/group", "myshellpool", *NewShellPool("", "eastus"), nil)
			return err
		}},
		{"invalid update", func() error {
			_, err := c.BeginUpdate(ctx, testRG, "myshellpool", SessionPoolUpdate{Properties: &SessionPoolUpdateProperties{
				ScaleConfiguration: &ScaleConfiguration{MaxConcurrentSessions: to.Ptr[int32](-1)}}}, nil)
			return err
		}},
		{"get without name", func() error { _, err := c.Get(ctx, testRG, "", nil); return err }},
		{"delete without group", func() error { _, err := c.BeginDelete(ctx, "", "myshellpool", nil); return err }},
		{"list with bad group", func() error {
			_, err := c.NewListByResourceGroupPager("group.", nil).NextPage(ctx)
			return err
		}},
		{"deploy with bad name", func() error {
			_, err := c.BeginDeploy(ctx, testRG, "bad name!", NewTemplate(NewShellPool("myshellpool", "eastus")), nil)
			return err
		}},
		{"deploy nil template", func() error { _, err := c.BeginDeploy(ctx, testRG, "", nil, nil); return err }},
		{"deploy invalid template", func() error {
			_, err := c.BeginDeploy(ctx, testRG, "", NewTemplate(NewShellPool("Bad", "eastus")), nil)
			return err
		}},
		{"deploy non-object JSON", func() error { _, err := c.BeginDeployJSON(ctx, testRG, "", []byte(`[1,2]`), nil); return err }},
		{"group without location", func() error {
			_, err := c.CreateOrUpdateResourceGroup(ctx, testRG, ResourceGroup{}, nil)
			return err
		}},
		{"group name too long", func() error {
			_, err := c.GetResourceGroup(ctx, string(make([]byte, 91)), nil)
			return err
		}},
		{"register empty namespace", func() error { _, err := c.BeginRegisterProvider(ctx, "", nil); return err }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalidArgument)
		})
	}
	assert.Empty(t, f.Requests(), "nothing is sent for invalid input")
}

func TestGet(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ex := loadExample(t, "SessionPools_Get.json")
	f.On(http.MethodGet, "/subscriptions/sub1/resourceGroups/rg1/providers/Microsoft.App/sessionPools/testsessionpool", step{Status: 200, Body: string(ex.Responses["200"].Body)})
	f.On(http.MethodGet, "/subscriptions/sub1/resourceGroups/rg1/providers/Microsoft.App/sessionPools/missing",
		step{Status: 404, Headers: map[string]string{"x-ms-error-code": "ResourceNotFound"}, Body: sprintf(armError, "ResourceNotFound", "The Resource 'Microsoft.App/sessionPools/missing' under resource group 'rg1' was not found.")})
	c := f.client(t)

	res, err := c.Get(t.Context(), testRG, "testsessionpool", nil)
	require.NoError(t, err)
	assert.Equal(t, ContainerTypeCustomContainer, res.Properties.ContainerType)
	assert.Equal(t, "https://testsessionpool.agreeableriver-3d30edf1.eastus.azurecontainerapps.io", res.Endpoint())

	_, err = c.Get(t.Context(), testRG, "missing", nil)
	re := requireResponseError(t, err, 404, "ResourceNotFound")
	assert.Contains(t, re.Error(), "was not found")
	assert.True(t, strings.HasPrefix(err.Error(), `pool: session pool "missing" was not found in resource group "rg1" (ResourceNotFound): deploy it first`), "a 404 says what to do: %v", err)

	calls := f.Requests()
	require.Len(t, calls, 2)
	assertCall(t, calls[0], http.MethodGet, "/subscriptions/sub1/resourceGroups/rg1/providers/Microsoft.App/sessionPools/testsessionpool", "2025-02-02-preview", "")
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	ex := loadExample(t, "SessionPools_Patch.json")
	var upd SessionPoolUpdate
	require.NoError(t, json.Unmarshal(ex.Parameters["sessionPoolEnvelope"], &upd))
	const examplePath = "/subscriptions/sub1/resourceGroups/rg1/providers/Microsoft.App/sessionPools/testsessionpool"

	t.Run("202 with Location", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		f.On(http.MethodPatch, examplePath, step{Status: 202, Headers: map[string]string{
			"Location": "{base}/subscriptions/sub1/providers/Microsoft.App/locations/eastus/operationResults/op3?api-version=2025-02-02-preview"}})
		f.On(http.MethodGet, "/subscriptions/sub1/providers/Microsoft.App/locations/eastus/operationResults/op3",
			step{Status: 202}, step{Status: 200, Body: string(ex.Responses["200"].Body)})
		poller, err := f.client(t).BeginUpdate(t.Context(), testRG, "testsessionpool", upd, nil)
		require.NoError(t, err)
		res, err := poller.PollUntilDone(t.Context(), pollFast)
		require.NoError(t, err)
		assert.Equal(t, int32(500), *res.Properties.ScaleConfiguration.MaxConcurrentSessions)
		calls := f.Requests()
		require.Len(t, calls, 3)
		assertCall(t, calls[0], http.MethodPatch, examplePath, "2025-02-02-preview", string(ex.Parameters["sessionPoolEnvelope"]))
		assertCall(t, calls[2], http.MethodGet, "/subscriptions/sub1/providers/Microsoft.App/locations/eastus/operationResults/op3", "2025-02-02-preview", "")
	})
	t.Run("200 synchronous", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		f.On(http.MethodPatch, testPoolPath, step{Status: 200, Body: poolBody("Succeeded")})
		tags := SessionPoolUpdate{Tags: map[string]string{"env": "dev"}}
		poller, err := f.client(t).BeginUpdate(t.Context(), testRG, "myshellpool", tags, nil)
		require.NoError(t, err)
		res, err := poller.PollUntilDone(t.Context(), pollFast)
		require.NoError(t, err)
		assert.Equal(t, "myshellpool", res.Name)
		calls := f.Requests()
		require.Len(t, calls, 1)
		assertCall(t, calls[0], http.MethodPatch, testPoolPath, "2025-02-02-preview", `{"tags":{"env":"dev"}}`)
	})
}

func TestDelete(t *testing.T) {
	t.Parallel()
	t.Run("202 with Location", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		f.On(http.MethodDelete, testPoolPath, step{Status: 202, Headers: map[string]string{
			"Location": "{base}/subscriptions/sub1/providers/Microsoft.App/locations/eastus/operationResults/op4?api-version=2025-02-02-preview"}})
		f.On(http.MethodGet, "/subscriptions/sub1/providers/Microsoft.App/locations/eastus/operationResults/op4", step{Status: 202}, step{Status: 204})
		poller, err := f.client(t).BeginDelete(t.Context(), testRG, "myshellpool", nil)
		require.NoError(t, err)
		_, err = poller.PollUntilDone(t.Context(), pollFast)
		require.NoError(t, err)
		calls := f.Requests()
		require.Len(t, calls, 3)
		assertCall(t, calls[0], http.MethodDelete, testPoolPath, "2025-02-02-preview", "")
	})
	t.Run("204 absent", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		f.On(http.MethodDelete, testPoolPath, step{Status: 204})
		poller, err := f.client(t).BeginDelete(t.Context(), testRG, "myshellpool", nil)
		require.NoError(t, err)
		assert.True(t, poller.Done())
		_, err = poller.PollUntilDone(t.Context(), pollFast)
		require.NoError(t, err)
		assert.Len(t, f.Requests(), 1)
	})
	t.Run("conflict", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		f.On(http.MethodDelete, testPoolPath, step{Status: 409, Body: sprintf(armError, "Conflict", "an operation is in progress")})
		_, err := f.client(t).BeginDelete(t.Context(), testRG, "myshellpool", nil)
		requireResponseError(t, err, 409, "Conflict")
	})
}

func TestResumeToken(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.On(http.MethodPut, testPoolPath, step{Status: 201, Body: poolBody("InProgress"),
		Headers: map[string]string{"Azure-AsyncOperation": "{base}/ops/op5"}})
	f.On(http.MethodGet, "/ops/op5", step{Status: 200, Body: `{"status":"InProgress"}`}, step{Status: 200, Body: `{"status":"Succeeded"}`})
	f.On(http.MethodGet, testPoolPath, step{Status: 200, Body: poolBody("Succeeded")})
	c := f.client(t)
	poller, err := c.BeginCreateOrUpdate(t.Context(), testRG, "myshellpool", *NewShellPool("x", "eastus"), nil)
	require.NoError(t, err)
	_, err = poller.Poll(t.Context())
	require.NoError(t, err)
	require.False(t, poller.Done())
	token, err := poller.ResumeToken()
	require.NoError(t, err)

	resumed, err := c.BeginCreateOrUpdate(t.Context(), "", "", SessionPool{}, &BeginCreateOrUpdateOptions{ResumeToken: token})
	require.NoError(t, err)
	res, err := resumed.PollUntilDone(t.Context(), pollFast)
	require.NoError(t, err)
	assert.Equal(t, ProvisioningStateSucceeded, res.Properties.ProvisioningState)
	assert.Len(t, f.Requests(), 4, "PUT, two status reads, final GET: resuming sends no new PUT")

	_, err = c.BeginDelete(t.Context(), "", "", &BeginDeleteOptions{ResumeToken: token})
	assert.Error(t, err, "a token only resumes the operation kind it came from")
}

func TestListPagers(t *testing.T) {
	t.Parallel()
	t.Run("by resource group follows nextLink", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		const path = "/subscriptions/sub1/resourceGroups/rg1/providers/Microsoft.App/sessionPools"
		f.On(http.MethodGet, path,
			step{Status: 200, Body: `{"value":[` + poolBody("Succeeded") + `],"nextLink":"{base}` + path + `?api-version=2025-02-02-preview&$skiptoken=page2"}`},
			step{Status: 200, Body: `{"value":[{"name":"second"}],"nextLink":null}`})
		pager := f.client(t).NewListByResourceGroupPager(testRG, nil)
		assert.Empty(t, f.Requests(), "creating a pager sends nothing")
		var names []string
		for pager.More() {
			page, err := pager.NextPage(t.Context())
			require.NoError(t, err)
			for _, p := range page.Value {
				names = append(names, p.Name)
			}
		}
		assert.Equal(t, []string{"myshellpool", "second"}, names)
		calls := f.Requests()
		require.Len(t, calls, 2)
		assertCall(t, calls[0], http.MethodGet, path, "2025-02-02-preview", "")
		assert.Equal(t, "page2", calls[1].Query.Get("$skiptoken"), "the nextLink is followed as given")
		assert.Equal(t, []string{"2025-02-02-preview"}, calls[1].Query["api-version"], "api-version is not duplicated")
	})
	t.Run("by subscription", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		ex := loadExample(t, "SessionPools_ListBySubscription.json")
		f.On(http.MethodGet, "/subscriptions/sub1/providers/Microsoft.App/sessionPools", step{Status: 200, Body: string(ex.Responses["200"].Body)})
		pager := f.client(t).NewListBySubscriptionPager(nil)
		page, err := pager.NextPage(t.Context())
		require.NoError(t, err)
		require.Len(t, page.Value, 1)
		assert.Equal(t, "testsessionpool", page.Value[0].Name)
		assert.False(t, pager.More())
	})
	t.Run("error page", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		f.On(http.MethodGet, "/subscriptions/sub1/providers/Microsoft.App/sessionPools", step{Status: 403, Body: sprintf(armError, "AuthorizationFailed", "no access")})
		_, err := f.client(t).NewListBySubscriptionPager(nil).NextPage(t.Context())
		requireResponseError(t, err, 403, "AuthorizationFailed")
	})
}

func TestDeploy(t *testing.T) {
	t.Parallel()
	const deployPath = "/subscriptions/sub1/resourcegroups/rg1/providers/Microsoft.Resources/deployments/"
	tutorial := NewTemplate(NewShellPool("myshellpool", "North Central US"))
	rendered, err := tutorial.Render()
	require.NoError(t, err)

	t.Run("template with parameters, async operation", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		f.On(http.MethodPut, deployPath+"dep1", step{Status: 201, Body: `{"name":"dep1","properties":{"provisioningState":"Accepted"}}`,
			Headers: map[string]string{"Azure-AsyncOperation": "{base}" + deployPath + "dep1/operationStatuses/op6?api-version=2021-04-01"}})
		f.On(http.MethodGet, deployPath+"dep1/operationStatuses/op6", step{Status: 200, Body: `{"status":"Running"}`}, step{Status: 200, Body: `{"status":"Succeeded"}`})
		f.On(http.MethodGet, deployPath+"dep1", step{Status: 200, Body: `{"id":"/x/dep1","name":"dep1","properties":{"provisioningState":"Succeeded","mode":"Incremental",
			"outputs":{"endpoint":{"type":"String","value":"https://e"}},"outputResources":[{"id":"` + testPoolPath + `"}]}}`})
		param := &Template{Pools: []*SessionPool{NewShellPool("", "")}, Parameterize: true}
		poller, err := f.client(t).BeginDeploy(t.Context(), testRG, "dep1", param, &BeginDeployOptions{Parameters: map[string]any{"name": "myshellpool", "location": "northcentralus"}})
		require.NoError(t, err)
		res, err := poller.PollUntilDone(t.Context(), pollFast)
		require.NoError(t, err)
		assert.Equal(t, "Succeeded", res.Properties.ProvisioningState)
		assert.Equal(t, testPoolPath, res.Properties.OutputResources[0].ID)
		assert.Equal(t, map[string]any{"type": "String", "value": "https://e"}, res.Properties.Outputs["endpoint"])

		paramDoc, err := param.Render()
		require.NoError(t, err)
		calls := f.Requests()
		require.Len(t, calls, 4)
		assertCall(t, calls[0], http.MethodPut, deployPath+"dep1", "2021-04-01",
			`{"properties":{"mode":"Incremental","template":`+string(paramDoc)+`,
			"parameters":{"name":{"value":"myshellpool"},"location":{"value":"northcentralus"}}}}`)
		assertCall(t, calls[3], http.MethodGet, deployPath+"dep1", "2021-04-01", "")
	})
	t.Run("raw deploy.json with comments, unique name, options", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		raw := append([]byte("// deploy.json\n"), rendered...)
		var name string
		f.HTTPServer().Config.Handler = wrapCapture(f, func(path string) { name = path })
		c := f.client(t)
		_, err := c.BeginDeployJSON(t.Context(), testRG, "", raw, &BeginDeployOptions{Mode: DeploymentModeComplete, APIVersion: "2024-03-01"})
		require.NoError(t, err)
		assert.Regexp(t, regexp.MustCompile(`^`+regexp.QuoteMeta(deployPath)+`shellpool-\d{8}-\d{6}-[0-9a-f]{8}$`), name)
		calls := f.Requests()
		require.Len(t, calls, 1)
		assertCall(t, calls[0], http.MethodPut, name, "2024-03-01", `{"properties":{"mode":"Complete","template":`+string(rendered)+`}}`)
		assert.NotEqual(t, NewDeploymentName(), NewDeploymentName(), "names are unique")
	})
	t.Run("failed deployment and its details", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		f.On(http.MethodPut, deployPath+"dep2", step{Status: 201, Body: `{"properties":{"provisioningState":"Accepted"}}`,
			Headers: map[string]string{"Azure-AsyncOperation": "{base}" + deployPath + "dep2/operationStatuses/op7"}})
		f.On(http.MethodGet, deployPath+"dep2/operationStatuses/op7", step{Status: 200,
			Body: `{"status":"Failed","error":{"code":"DeploymentFailed","message":"At least one resource deployment operation failed."}}`})
		f.On(http.MethodGet, deployPath+"dep2", step{Status: 200, Body: `{"name":"dep2","properties":{"provisioningState":"Failed","correlationId":"c1",
			"error":{"code":"DeploymentFailed","message":"At least one resource deployment operation failed.",
			"details":[{"code":"InvalidParameter","message":"maxConcurrentSessions too high","target":"myshellpool"}]}}}`})
		c := f.client(t)
		poller, err := c.BeginDeploy(t.Context(), testRG, "dep2", tutorial, nil)
		require.NoError(t, err)
		_, err = poller.PollUntilDone(t.Context(), pollFast)
		requireResponseError(t, err, 200, "DeploymentFailed")

		d, err := c.GetDeployment(t.Context(), testRG, "dep2", nil)
		require.NoError(t, err)
		assert.Equal(t, "Failed", d.Properties.ProvisioningState)
		require.NotNil(t, d.Properties.Error)
		assert.Equal(t, "InvalidParameter", d.Properties.Error.Details[0].Code)
		assert.Equal(t, "DeploymentFailed: At least one resource deployment operation failed. (details: InvalidParameter: maxConcurrentSessions too high (target myshellpool))",
			d.Properties.Error.String())
	})
	t.Run("invalid template rejected by ARM", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		f.On(http.MethodPut, deployPath+"dep3", step{Status: 400, Body: sprintf(armError, "InvalidTemplate", "Deployment template validation failed")})
		_, err := f.client(t).BeginDeployJSON(t.Context(), testRG, "dep3", json.RawMessage(`{"resources":[]}`), nil)
		requireResponseError(t, err, 400, "InvalidTemplate")
	})
}

// wrapCapture records the path of each PUT and answers it with 201 and a
// terminal state.
func wrapCapture(f *fakeARM, got func(path string)) http.Handler {
	next := f.HTTPServer().Config.Handler
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			path := r.URL.Path[len("/arm"):]
			got(path)
			f.On(http.MethodPut, path, step{Status: 201, Body: `{"properties":{"provisioningState":"Succeeded"}}`})
		}
		next.ServeHTTP(w, r)
	})
}

func TestResourceGroups(t *testing.T) {
	t.Parallel()
	const rgPath = "/subscriptions/sub1/resourcegroups/rg1"
	f := setup(t)
	f.On(http.MethodPut, rgPath, step{Status: 201, Body: `{"id":"/subscriptions/sub1/resourceGroups/rg1","name":"rg1","location":"northcentralus","properties":{"provisioningState":"Succeeded"}}`})
	f.On(http.MethodGet, rgPath, step{Status: 200, Body: `{"name":"rg1","location":"northcentralus","tags":{"a":"b"}}`})
	f.On(http.MethodDelete, rgPath, step{Status: 202, Headers: map[string]string{"Location": "{base}/subscriptions/sub1/operationresults/rgdel?api-version=2021-04-01"}})
	f.On(http.MethodGet, "/subscriptions/sub1/operationresults/rgdel", step{Status: 202}, step{Status: 200})
	c := f.client(t)

	created, err := c.CreateOrUpdateResourceGroup(t.Context(), testRG, ResourceGroup{Location: "northcentralus", Tags: map[string]string{"a": "b"}, Name: "ignored"}, nil)
	require.NoError(t, err)
	assert.Equal(t, "Succeeded", created.Properties.ProvisioningState)
	got, err := c.GetResourceGroup(t.Context(), testRG, nil)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"a": "b"}, got.Tags)
	poller, err := c.BeginDeleteResourceGroup(t.Context(), testRG, nil)
	require.NoError(t, err)
	_, err = poller.PollUntilDone(t.Context(), pollFast)
	require.NoError(t, err)

	calls := f.Requests()
	require.Len(t, calls, 5)
	assertCall(t, calls[0], http.MethodPut, rgPath, "2021-04-01", `{"location":"northcentralus","tags":{"a":"b"}}`)
	assertCall(t, calls[1], http.MethodGet, rgPath, "2021-04-01", "")
	assertCall(t, calls[2], http.MethodDelete, rgPath, "2021-04-01", "")
	assertCall(t, calls[4], http.MethodGet, "/subscriptions/sub1/operationresults/rgdel", "2021-04-01", "")
}

func TestRegisterProvider(t *testing.T) {
	t.Parallel()
	const provPath = "/subscriptions/sub1/providers/Microsoft.App"
	t.Run("polls until Registered", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		f.On(http.MethodPost, provPath+"/register", step{Status: 200, Body: `{"namespace":"Microsoft.App","registrationState":"Registering"}`})
		f.On(http.MethodGet, provPath,
			step{Status: 200, Body: `{"namespace":"Microsoft.App","registrationState":"Registering"}`},
			step{Status: 200, Body: `{"id":"/subscriptions/sub1/providers/Microsoft.App","namespace":"Microsoft.App","registrationState":"Registered","resourceTypes":[{"resourceType":"sessionPools","apiVersions":["2025-02-02-preview"]}]}`})
		c := f.client(t)
		poller, err := c.BeginRegisterProvider(t.Context(), ProviderNamespace, nil)
		require.NoError(t, err)
		require.False(t, poller.Done())
		_, err = poller.Poll(t.Context())
		require.NoError(t, err)
		token, err := poller.ResumeToken()
		require.NoError(t, err)

		resumed, err := c.BeginRegisterProvider(t.Context(), "", &BeginRegisterProviderOptions{ResumeToken: token})
		require.NoError(t, err)
		res, err := resumed.PollUntilDone(t.Context(), pollFast)
		require.NoError(t, err)
		assert.Equal(t, RegistrationStateRegistered, res.RegistrationState)
		assert.Equal(t, "sessionPools", res.ResourceTypes[0].ResourceType)

		calls := f.Requests()
		require.Len(t, calls, 3)
		assertCall(t, calls[0], http.MethodPost, provPath+"/register", "2021-04-01", "")
		assertCall(t, calls[1], http.MethodGet, provPath, "2021-04-01", "")
		assertCall(t, calls[2], http.MethodGet, provPath, "2021-04-01", "")
	})
	t.Run("already registered", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		f.On(http.MethodPost, provPath+"/register", step{Status: 200, Body: `{"namespace":"Microsoft.App","registrationState":"Registered"}`})
		poller, err := f.client(t).BeginRegisterProvider(t.Context(), ProviderNamespace, nil)
		require.NoError(t, err)
		require.True(t, poller.Done())
		res, err := poller.PollUntilDone(t.Context(), pollFast)
		require.NoError(t, err)
		assert.Equal(t, RegistrationStateRegistered, res.RegistrationState)
		assert.Len(t, f.Requests(), 1)
	})
	t.Run("failure while polling", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		f.On(http.MethodPost, provPath+"/register", step{Status: 200, Body: `{"registrationState":"Registering"}`})
		f.On(http.MethodGet, provPath, step{Status: 403, Body: sprintf(armError, "AuthorizationFailed", "cannot read providers")})
		poller, err := f.client(t).BeginRegisterProvider(t.Context(), ProviderNamespace, nil)
		require.NoError(t, err)
		_, err = poller.PollUntilDone(t.Context(), pollFast)
		requireResponseError(t, err, 403, "AuthorizationFailed")
	})
	t.Run("get provider", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		f.On(http.MethodGet, provPath, step{Status: 200, Body: `{"namespace":"Microsoft.App","registrationState":"NotRegistered"}`})
		res, err := f.client(t).GetProvider(t.Context(), ProviderNamespace, nil)
		require.NoError(t, err)
		assert.Equal(t, RegistrationStateNotRegistered, res.RegistrationState)
	})
}

// azcore's APIVersion is the one api-version knob: it applies to session pool
// operations and leaves resource groups on their own api-version, and azcore
// does not refuse it.
func TestAzcoreAPIVersionIsThePoolAPIVersion(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.On(http.MethodGet, testPoolPath, step{Status: 200, Body: poolBody("Succeeded")})
	f.On(http.MethodGet, "/subscriptions/sub1/resourcegroups/rg1", step{Status: 200, Body: `{"name":"rg1","location":"eastus"}`})
	opts := f.options()
	opts.APIVersion = "2025-07-01"
	c, err := NewClient(testSub, &fake.TokenCredential{}, opts)
	require.NoError(t, err)
	_, err = c.Get(t.Context(), testRG, "myshellpool", nil)
	require.NoError(t, err)
	_, err = c.GetResourceGroup(t.Context(), testRG, nil)
	require.NoError(t, err)
	reqs := f.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, "2025-07-01", reqs[0].APIVersion, "the session pool request")
	assert.Equal(t, DefaultResourcesAPIVersion, reqs[1].APIVersion, "the resource group request")
	assert.Equal(t, "2025-07-01", opts.APIVersion, "the caller's options are not changed")
}
