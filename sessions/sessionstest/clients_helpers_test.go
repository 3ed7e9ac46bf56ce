package sessionstest_test

import (
	"context"
	"net/http"
	goruntime "runtime"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/identity"
	"github.com/shellpool/shellpool/sessions"
	"github.com/shellpool/shellpool/sessions/sessionstest"
)

// Helpers of the tests that drive the emulator through the real clients.

func newClient(t *testing.T, srv *sessionstest.Server, endpoint string, cred azcore.TokenCredential) *sessions.Client {
	t.Helper()
	o := srv.ClientOptions()
	o.Retry = policy.RetryOptions{RetryDelay: time.Millisecond, MaxRetryDelay: 5 * time.Millisecond}
	c, err := sessions.NewClient(endpoint, cred, &sessions.ClientOptions{ClientOptions: o})
	require.NoError(t, err)
	return c
}

// armCredential hands out tokens for ARM whatever scope is asked.
type armCredential struct{ srv *sessionstest.Server }

func (a armCredential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: a.srv.Token(identity.ARMAudience, a.srv.PrincipalID()), ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// armClient drives the emulator's ARM side through azcore's own ARM
// pipeline (bearer policy, retries, LRO pollers), as Azure's generated ARM
// clients do.
type armClient struct {
	t   *testing.T
	srv *sessionstest.Server
	pl  runtime.Pipeline
}

func newARMClient(t *testing.T, srv *sessionstest.Server) *armClient {
	t.Helper()
	o := srv.ClientOptions()
	o.Retry = policy.RetryOptions{RetryDelay: time.Millisecond, MaxRetryDelay: time.Millisecond}
	c, err := arm.NewClient("sessionstest.test", "v0.0.1", srv.Credential(), &arm.ClientOptions{ClientOptions: o, DisableRPRegistration: true})
	require.NoError(t, err)
	return &armClient{t: t, srv: srv, pl: c.Pipeline()}
}

// rg is the resource ID of the server's resource group.
func (a *armClient) rg() string {
	return "/subscriptions/" + a.srv.SubscriptionID() + "/resourceGroups/" + a.srv.ResourceGroup()
}

// do sends one request through the ARM pipeline. It does not fail the test
// itself, so other goroutines may use it.
func (a *armClient) do(ctx context.Context, method, path, apiVersion string, body any) (*http.Response, error) {
	req, err := runtime.NewRequest(ctx, method, a.srv.URL()+path+"?api-version="+apiVersion)
	if err != nil {
		return nil, err
	}
	if body != nil {
		if err := runtime.MarshalAsJSON(req, body); err != nil {
			return nil, err
		}
	}
	return a.pl.Do(req)
}

// send sends one request and decodes the JSON answer (nil when empty).
func (a *armClient) send(ctx context.Context, method, path, apiVersion string, body any) (*http.Response, map[string]any) {
	a.t.Helper()
	resp, err := a.do(ctx, method, path, apiVersion, body)
	require.NoError(a.t, err)
	defer resp.Body.Close()
	var m map[string]any
	if resp.ContentLength != 0 && resp.StatusCode != http.StatusNoContent {
		_ = runtime.UnmarshalAsJSON(resp, &m)
	}
	return resp, m
}

// lro sends a request that starts a long-running operation and waits for
// it with an azcore poller.
func (a *armClient) lro(ctx context.Context, method, path, apiVersion string, body any) error {
	a.t.Helper()
	resp, err := a.do(ctx, method, path, apiVersion, body)
	require.NoError(a.t, err)
	if !runtime.HasStatusCode(resp, http.StatusOK, http.StatusCreated, http.StatusAccepted) {
		return runtime.NewResponseError(resp)
	}
	p, err := runtime.NewPoller[map[string]any](resp, a.pl, nil)
	require.NoError(a.t, err)
	_, err = p.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: time.Millisecond})
	return err
}

// executorAssignment returns the path (below scope) and body of a new
// Session Executor role assignment.
func (a *armClient) executorAssignment(scope, principalID, principalType string) (string, map[string]any) {
	props := map[string]any{
		"roleDefinitionId": "/subscriptions/" + a.srv.SubscriptionID() + "/providers/Microsoft.Authorization/roleDefinitions/" + identity.SessionExecutorRoleID,
		"principalId":      principalID,
	}
	if principalType != "" {
		props["principalType"] = principalType
	}
	return scope + "/providers/Microsoft.Authorization/roleAssignments/" + uuid.NewString(), map[string]any{"properties": props}
}

// assignExecutor PUTs a Session Executor role assignment at scope.
func (a *armClient) assignExecutor(scope, principalID, principalType string) (string, *http.Response, map[string]any) {
	a.t.Helper()
	path, body := a.executorAssignment(scope, principalID, principalType)
	resp, out := a.send(a.t.Context(), http.MethodPut, path, "2022-04-01", body)
	return path, resp, out
}

func shellPoolBody(maxSessions int) map[string]any {
	return map[string]any{"location": "North Central US", "properties": map[string]any{
		"containerType": "Shell", "poolManagementType": "Dynamic",
		"scaleConfiguration":          map[string]any{"maxConcurrentSessions": maxSessions},
		"dynamicPoolConfiguration":    map[string]any{"lifecycleConfiguration": map[string]any{"lifecycleType": "Timed", "cooldownPeriodInSeconds": 300}},
		"sessionNetworkConfiguration": map[string]any{"status": "EgressEnabled"},
	}}
}

// needUnix skips a test that relies on Unix commands or processes.
func needUnix(t *testing.T) {
	t.Helper()
	if goruntime.GOOS == "windows" {
		t.Skip("needs Unix processes and paths")
	}
}
