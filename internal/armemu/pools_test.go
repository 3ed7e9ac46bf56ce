package armemu

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSessionPoolCreateThroughAzcorePoller(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	f.eng.EnsureResourceGroup(testSub, testRG, "eastus")
	pl := f.pipeline(t)
	p, err := begin[map[string]any](t, f, pl, http.MethodPut, poolPath(testRG, "shellpool1", "2025-02-02-preview"), shellPool("North Central US", 600, 7))
	require.NoError(t, err)
	got, err := pollDone(t, p)
	require.NoError(t, err)

	spec := f.backend.lastUpsert(t)
	assert.Equal(t, PoolSpec{SubscriptionID: testSub, ResourceGroup: testRG, Name: "shellpool1", Location: "North Central US",
		ContainerType: "Shell", MaxConcurrentSessions: 7, Cooldown: 600 * time.Second, EgressEnabled: true}, spec)
	stored, ok := f.eng.Pool(testSub, testRG, "SHELLPOOL1")
	require.True(t, ok, "the engine serves the pool's spec to the data plane")
	assert.NotZero(t, stored.Serial)
	stored.Serial, stored.Created = 0, time.Time{}
	assert.Equal(t, spec, stored)
	assert.Equal(t, poolID(testSub, testRG, "shellpool1"), got["id"])
	assert.Equal(t, "Microsoft.App/sessionPools", got["type"])
	assert.Equal(t, "Succeeded", dig(got, "properties", "provisioningState"))
	assert.Equal(t, "https://northcentralus.dynamicsessions.io/subscriptions/"+testSub+"/resourceGroups/rg/sessionPools/shellpool1", dig(got, "properties", "poolManagementEndpoint"))
	assert.Equal(t, "Shell", dig(got, "properties", "containerType"))
}

func TestSessionPoolRawLROSequence(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	f.eng.EnsureResourceGroup(testSub, testRG, "eastus")
	path := poolPath(testRG, "shellpool", "2025-10-02-preview")
	resp, body := f.do(t, http.MethodPut, path, shellPool("eastus", 300, 5))
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	assert.Equal(t, "InProgress", dig(body, "properties", "provisioningState"))
	async := resp.Header.Get("Azure-AsyncOperation")
	require.NotEmpty(t, async)

	_, st := f.do(t, http.MethodGet, async, nil)
	assert.Equal(t, "InProgress", st["status"])
	_, st = f.do(t, http.MethodGet, async, nil)
	assert.Equal(t, "Succeeded", st["status"])
	_, body = f.do(t, http.MethodGet, path, nil)
	assert.Equal(t, "Succeeded", dig(body, "properties", "provisioningState"))

	resp, body = f.do(t, http.MethodPut, path, shellPool("eastus", 400, 5))
	assert.Equal(t, http.StatusOK, resp.StatusCode, "a PUT on an existing pool answers 200")
	assert.NotEmpty(t, resp.Header.Get("Azure-AsyncOperation"))
	assert.Equal(t, "InProgress", dig(body, "properties", "provisioningState"))
	_, body = f.do(t, http.MethodGet, path, nil)
	assert.Equal(t, "InProgress", dig(body, "properties", "provisioningState"), "GET reports the provisioning state too")
	_, body = f.do(t, http.MethodGet, path, nil)
	assert.Equal(t, "Succeeded", dig(body, "properties", "provisioningState"))
}

func TestSessionPoolValidation(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	f.eng.EnsureResourceGroup(testSub, testRG, "eastus")
	with := func(edit func(props map[string]any)) map[string]any {
		b := shellPool("eastus", 300, 5)
		edit(b["properties"].(map[string]any))
		return b
	}
	lifecycle := func(lc map[string]any) func(map[string]any) {
		return func(p map[string]any) { p["dynamicPoolConfiguration"] = map[string]any{"lifecycleConfiguration": lc} }
	}
	cases := []struct {
		name   string
		rg     string
		pool   string
		body   map[string]any
		status int
		code   string
		field  string
	}{
		{"hyphen in name", testRG, "my-pool", shellPool("eastus", 300, 5), 400, "InvalidResourceName", "name"},
		{"name too short", testRG, "ab", shellPool("eastus", 300, 5), 400, "InvalidResourceName", "name"},
		{"upper-case name", testRG, "MyPool", shellPool("eastus", 300, 5), 400, "InvalidResourceName", "name"},
		{"missing location", testRG, "pool", shellPool("", 300, 5), 400, "LocationRequired", "location"},
		{"missing resource group", "nope", "pool", shellPool("eastus", 300, 5), 404, "ResourceGroupNotFound", ""},
		{"missing containerType", testRG, "pool", with(func(p map[string]any) { delete(p, "containerType") }), 400, "ValidationError", "containerType"},
		{"unknown containerType", testRG, "pool", with(func(p map[string]any) { p["containerType"] = "Java" }), 400, "ValidationError", "containerType"},
		{"cooldown too low", testRG, "pool", shellPool("eastus", 299, 5), 400, "ValidationError", "cooldownPeriodInSeconds"},
		{"cooldown too high", testRG, "pool", shellPool("eastus", 3601, 5), 400, "ValidationError", "cooldownPeriodInSeconds"},
		{"timed without cooldown", testRG, "pool", with(lifecycle(map[string]any{"lifecycleType": "Timed"})), 400, "ValidationError", "cooldownPeriodInSeconds"},
		{"timed with maxAlive", testRG, "pool", with(lifecycle(map[string]any{"lifecycleType": "Timed", "cooldownPeriodInSeconds": 300, "maxAlivePeriodInSeconds": 60})), 400, "ValidationError", "maxAlivePeriodInSeconds"},
		{"OnContainerExit on Shell", testRG, "pool", with(lifecycle(map[string]any{"lifecycleType": "OnContainerExit", "maxAlivePeriodInSeconds": 60})), 400, "ValidationError", "CustomContainer"},
		{"zero sessions", testRG, "pool", shellPool("eastus", 300, 0), 400, "ValidationError", "maxConcurrentSessions"},
		{"ready not below max", testRG, "pool", with(func(p map[string]any) {
			p["scaleConfiguration"] = map[string]any{"maxConcurrentSessions": 5, "readySessionInstances": 5}
		}), 400, "ValidationError", "readySessionInstances"},
		{"template on Shell", testRG, "pool", with(func(p map[string]any) { p["customContainerTemplate"] = map[string]any{} }), 400, "ValidationError", "customContainerTemplate"},
		{"custom without template", testRG, "pool", with(func(p map[string]any) {
			p["containerType"] = "CustomContainer"
			p["environmentId"] = "/subscriptions/x/resourceGroups/rg/providers/Microsoft.App/managedEnvironments/env"
		}), 400, "ValidationError", "customContainerTemplate"},
		{"custom without environment", testRG, "pool", with(func(p map[string]any) {
			p["containerType"] = "CustomContainer"
			p["customContainerTemplate"] = map[string]any{"containers": []any{}}
		}), 400, "ValidationError", "environmentId"},
		{"bad egress status", testRG, "pool", with(func(p map[string]any) { p["sessionNetworkConfiguration"] = map[string]any{"status": "Open"} }), 400, "ValidationError", "sessionNetworkConfiguration"},
		{"legacy executionType accepted", testRG, "legacy", with(func(p map[string]any) {
			p["dynamicPoolConfiguration"] = map[string]any{"executionType": "Timed", "cooldownPeriodInSeconds": 310}
		}), 201, "", ""},
		{"legacy cooldown checked", testRG, "legacy2", with(func(p map[string]any) {
			p["dynamicPoolConfiguration"] = map[string]any{"executionType": "Timed", "cooldownPeriodInSeconds": 10}
		}), 400, "ValidationError", "cooldownPeriodInSeconds"},
		{"no lifecycle defaults to timed", testRG, "nolifecycle", with(func(p map[string]any) { delete(p, "dynamicPoolConfiguration") }), 201, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp, body := f.do(t, http.MethodPut, poolPath(tc.rg, tc.pool, "2025-02-02-preview"), tc.body)
			assert.Equal(t, tc.status, resp.StatusCode, "body: %v", body)
			assert.Equal(t, tc.code, errCode(body))
			assert.Contains(t, errMessage(body), tc.field)
		})
	}
}

func TestSessionPoolSpecExample(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("testdata/SessionPools_CreateOrUpdate.json")
	require.NoError(t, err)
	var ex struct {
		Parameters struct {
			APIVersion string         `json:"api-version"`
			Envelope   map[string]any `json:"sessionPoolEnvelope"`
		} `json:"parameters"`
		Responses map[string]struct {
			Body map[string]any `json:"body"`
		} `json:"responses"`
	}
	require.NoError(t, json.Unmarshal(raw, &ex))
	f := setup(t, nil)
	f.eng.EnsureResourceGroup(testSub, testRG, "eastus")
	resp, body := f.do(t, http.MethodPut, poolPath(testRG, "testsessionpool", ex.Parameters.APIVersion), ex.Parameters.Envelope)
	require.Equal(t, http.StatusCreated, resp.StatusCode, "body: %v", body)
	want := ex.Responses["201"].Body
	for _, field := range []string{"name", "type", "location"} {
		assert.Equal(t, want[field], body[field], field)
	}
	for _, field := range []string{"environmentId", "poolManagementType", "containerType", "scaleConfiguration", "dynamicPoolConfiguration", "customContainerTemplate", "sessionNetworkConfiguration", "managedIdentitySettings"} {
		assert.Equal(t, dig(want, "properties", field), dig(body, "properties", field), field)
	}
	assert.Equal(t, "SystemAssigned", dig(body, "identity", "type"))
	assert.NotEmpty(t, dig(body, "identity", "principalId"))
	spec := f.backend.lastUpsert(t)
	assert.Equal(t, "CustomContainer", spec.ContainerType)
	assert.Equal(t, 600*time.Second, spec.Cooldown)
	assert.Equal(t, 500, spec.MaxConcurrentSessions)
}

func TestSessionPoolSecretsNeverReturned(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	f.eng.EnsureResourceGroup(testSub, testRG, "eastus")
	b := shellPool("eastus", 300, 5)
	b["properties"].(map[string]any)["secrets"] = []any{map[string]any{"name": "s1", "value": "hunter2-secret"}}
	_, body := f.do(t, http.MethodPut, poolPath(testRG, "secretpool", "2025-02-02-preview"), b)
	raw, err := json.Marshal(body)
	require.NoError(t, err)
	assert.NotContains(t, string(raw), "hunter2-secret")
	assert.Contains(t, string(raw), `"name":"s1"`)
}

func TestSessionPoolBackendFailure(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	f.eng.EnsureResourceGroup(testSub, testRG, "eastus")
	f.backend.fail = errors.New("container type PythonLTS is not supported by this emulator")
	resp, body := f.do(t, http.MethodPut, poolPath(testRG, "pypool", "2025-02-02-preview"), shellPool("eastus", 300, 5))
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Contains(t, errMessage(body), "not supported by this emulator")
	resp, _ = f.do(t, http.MethodGet, poolPath(testRG, "pypool", "2025-02-02-preview"), nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "a refused pool is not stored")
}

func TestSessionPoolPatch(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	f.eng.EnsureResourceGroup(testSub, testRG, "eastus")
	pl := f.pipeline(t)
	path := poolPath(testRG, "patchpool", "2025-02-02-preview")
	p, err := begin[map[string]any](t, f, pl, http.MethodPut, path, shellPool("eastus", 300, 5))
	require.NoError(t, err)
	_, err = pollDone(t, p)
	require.NoError(t, err)

	patch := map[string]any{"tags": map[string]any{"env": "test"}, "properties": map[string]any{"scaleConfiguration": map[string]any{"maxConcurrentSessions": 9}}}
	pp, err := begin[map[string]any](t, f, pl, http.MethodPatch, path, patch)
	require.NoError(t, err)
	got, err := pollDone(t, pp)
	require.NoError(t, err)
	assert.Equal(t, float64(9), dig(got, "properties", "scaleConfiguration", "maxConcurrentSessions"))
	assert.Equal(t, "test", dig(got, "tags", "env"))
	assert.Equal(t, float64(300), dig(got, "properties", "dynamicPoolConfiguration", "lifecycleConfiguration", "cooldownPeriodInSeconds"), "untouched properties are kept")
	assert.Equal(t, 9, f.backend.lastUpsert(t).MaxConcurrentSessions)

	// A Location-only client sees 202 then 200 with the pool.
	resp, _ := f.do(t, http.MethodPatch, path, map[string]any{"properties": map[string]any{"sessionNetworkConfiguration": map[string]any{"status": "EgressDisabled"}}})
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	loc := resp.Header.Get("Location")
	resp, _ = f.do(t, http.MethodGet, loc, nil)
	assert.Equal(t, http.StatusAccepted, resp.StatusCode)
	resp, body := f.do(t, http.MethodGet, loc, nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "EgressDisabled", dig(body, "properties", "sessionNetworkConfiguration", "status"))
	assert.False(t, f.backend.lastUpsert(t).EgressEnabled)

	cases := []struct {
		name  string
		patch map[string]any
		field string
	}{
		{"containerType", map[string]any{"properties": map[string]any{"containerType": "PythonLTS"}}, "containerType"},
		{"environmentId", map[string]any{"properties": map[string]any{"environmentId": "/x"}}, "environmentId"},
		{"poolManagementType", map[string]any{"properties": map[string]any{"poolManagementType": "Manual"}}, "poolManagementType"},
		{"invalid result", map[string]any{"properties": map[string]any{"dynamicPoolConfiguration": map[string]any{"lifecycleConfiguration": map[string]any{"cooldownPeriodInSeconds": 5}}}}, "cooldownPeriodInSeconds"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := begin[map[string]any](t, f, pl, http.MethodPatch, path, tc.patch)
			require.Error(t, err)
			assert.Equal(t, "ValidationError", responseCode(t, err))
			assert.Contains(t, err.Error(), tc.field)
		})
	}
	resp, body = f.do(t, http.MethodPatch, poolPath(testRG, "absent", "2025-02-02-preview"), patch)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Equal(t, "ResourceNotFound", errCode(body))
}

func TestSessionPoolDelete(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	f.eng.EnsureResourceGroup(testSub, testRG, "eastus")
	pl := f.pipeline(t)
	path := poolPath(testRG, "delpool", "2025-02-02-preview")
	resp, _ := f.do(t, http.MethodPut, path, shellPool("eastus", 300, 5))
	require.Equal(t, http.StatusCreated, resp.StatusCode)

	p, err := begin[struct{}](t, f, pl, http.MethodDelete, path, nil)
	require.NoError(t, err)
	_, err = pollDone(t, p)
	require.NoError(t, err)
	f.backend.mu.Lock()
	assert.Equal(t, []string{testSub + "/" + testRG + "/delpool"}, f.backend.deleted)
	f.backend.mu.Unlock()
	resp, _ = f.do(t, http.MethodGet, path, nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp, _ = f.do(t, http.MethodDelete, path, nil)
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
}

func TestSessionPoolListPaging(t *testing.T) {
	t.Parallel()
	f := setup(t, func(c *Config) { c.PageSize = 2 })
	f.eng.EnsureResourceGroup(testSub, testRG, "eastus")
	f.eng.EnsureResourceGroup(testSub, "rg2", "eastus")
	for i := range 3 {
		resp, _ := f.do(t, http.MethodPut, poolPath(testRG, fmt.Sprintf("pool%d", i), "2025-02-02-preview"), shellPool("eastus", 300, 5))
		require.Equal(t, http.StatusCreated, resp.StatusCode)
	}
	f.eng.SeedPool(PoolSpec{SubscriptionID: testSub, ResourceGroup: "rg2", Name: "seeded", Location: "eastus", ContainerType: "Shell", MaxConcurrentSessions: 3}, "https://seeded.example")

	collect := func(path string) []string {
		var names []string
		next := path
		for pages := 0; next != ""; pages++ {
			require.Less(t, pages, 10)
			resp, body := f.do(t, http.MethodGet, next, nil)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			for _, v := range body["value"].([]any) {
				names = append(names, v.(map[string]any)["name"].(string))
				assert.LessOrEqual(t, len(body["value"].([]any)), 2)
			}
			next, _ = body["nextLink"].(string)
		}
		return names
	}
	assert.Equal(t, []string{"pool0", "pool1", "pool2"}, collect(rgPath(testRG)+"/providers/Microsoft.App/sessionPools?api-version=2025-02-02-preview"))
	assert.Equal(t, []string{"pool0", "pool1", "pool2", "seeded"}, collect("/subscriptions/"+testSub+"/providers/Microsoft.App/sessionPools?api-version=2025-02-02-preview"))

	_, body := f.do(t, http.MethodGet, poolPath("rg2", "seeded", "2026-01-01"), nil)
	assert.Equal(t, "https://seeded.example", dig(body, "properties", "poolManagementEndpoint"))
	assert.Equal(t, "Succeeded", dig(body, "properties", "provisioningState"))
	assert.True(t, strings.HasSuffix(body["id"].(string), "/sessionPools/seeded"))
}

// TestEngineIsThePoolStore covers the lookups the data plane serves
// requests from: the engine holds every pool's settings.
func TestEngineIsThePoolStore(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	_, ok := f.eng.FirstPool()
	assert.False(t, ok, "no pool yet")
	a := f.eng.SeedPool(PoolSpec{SubscriptionID: testSub, ResourceGroup: "rg2", Name: "same", Location: "eastus", ContainerType: "Shell", MaxConcurrentSessions: 3, Cooldown: 50 * time.Millisecond}, "https://a")
	b := f.eng.SeedPool(PoolSpec{SubscriptionID: testSub, ResourceGroup: testRG, Name: "same", Location: "eastus", ContainerType: "Shell", MaxConcurrentSessions: 4, Cooldown: -1}, "https://b")
	require.NotZero(t, a.Serial)
	assert.Greater(t, b.Serial, a.Serial, "serials follow creation order")

	first, ok := f.eng.FirstPool()
	require.True(t, ok)
	assert.Equal(t, a.Serial, first.Serial, "the oldest pool comes first")
	named, ok := f.eng.PoolNamed(testSub, testRG, "SAME")
	require.True(t, ok)
	assert.Equal(t, b.Serial, named.Serial, "the preferred group wins")
	named, ok = f.eng.PoolNamed(testSub, "elsewhere", "same")
	require.True(t, ok)
	assert.Equal(t, a.Serial, named.Serial, "else the oldest with the name")
	_, ok = f.eng.PoolNamed(testSub, testRG, "nosuch")
	assert.False(t, ok)
	assert.Len(t, f.eng.Pools(), 2)

	again := f.eng.SeedPool(PoolSpec{SubscriptionID: testSub, ResourceGroup: "RG2", Name: "SAME", Location: "eastus", ContainerType: "Shell", MaxConcurrentSessions: 9, Cooldown: time.Hour}, "https://a")
	assert.Equal(t, a.Serial, again.Serial, "replacing the settings keeps the serial")
	assert.Equal(t, a.Created, again.Created)
	got, ok := f.eng.Pool(testSub, "rg2", "same")
	require.True(t, ok)
	assert.Equal(t, 9, got.MaxConcurrentSessions)
	assert.Equal(t, time.Hour, got.Cooldown, "sub-second and long cooldowns are kept as given")
	assert.Len(t, f.eng.Pools(), 2)

	gone, ok := f.eng.ForgetPool(testSub, "rg2", "same")
	require.True(t, ok)
	assert.Equal(t, a.Serial, gone.Serial)
	_, ok = f.eng.Pool(testSub, "rg2", "same")
	assert.False(t, ok)
	_, ok = f.eng.ForgetPool(testSub, "rg2", "same")
	assert.False(t, ok)
	re := f.eng.SeedPool(PoolSpec{SubscriptionID: testSub, ResourceGroup: "rg2", Name: "same", Location: "eastus", ContainerType: "Shell", MaxConcurrentSessions: 3}, "https://a")
	assert.Greater(t, re.Serial, b.Serial, "a pool created again gets a new serial")
}
