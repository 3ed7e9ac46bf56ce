//go:build unix

package pool_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/pool"
	"github.com/shellpool/shellpool/sessions"
	"github.com/shellpool/shellpool/sessions/sessionstest"
)

// These tests run the pool client against the module's emulator
// (sessions/sessionstest with its ARM side), so requests, pollers and pagers
// meet a stateful server rather than scripted answers.

// emuRG is the emulator's own resource group (Options.ResourceGroup), where
// Server.GrantSessionExecutor grants; otherRG is one the tests create.
const (
	emuRG   = "tutorial-rg"
	otherRG = "other-rg"
)

var emuPoll = &runtime.PollUntilDoneOptions{Frequency: time.Millisecond}

func newEmulator(t *testing.T) (*sessionstest.Server, *pool.Client) {
	t.Helper()
	srv := sessionstest.NewServer(&sessionstest.Options{RBAC: true, ResourceGroup: emuRG, TB: t})
	co := srv.ClientOptions()
	co.Retry = policy.RetryOptions{RetryDelay: time.Millisecond, MaxRetryDelay: time.Millisecond}
	c, err := pool.NewClient(srv.SubscriptionID(), srv.Credential(), &pool.ClientOptions{ClientOptions: arm.ClientOptions{ClientOptions: co}})
	require.NoError(t, err)
	return srv, c
}

func sessionsClient(t *testing.T, srv *sessionstest.Server, endpoint string, cred azcore.TokenCredential) *sessions.Client {
	t.Helper()
	sc, err := sessions.NewClient(endpoint, cred, &sessions.ClientOptions{ClientOptions: srv.ClientOptions()})
	require.NoError(t, err)
	return sc
}

// TestEmulatorTutorialDeployment follows the tutorial with the pool client:
// register Microsoft.App, create the resource group, deploy deploy.json
// as the tutorial writes it, verify the pool, run a command once the role is
// granted, and delete the group.
func TestEmulatorTutorialDeployment(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	ctx := t.Context()

	reg, err := c.BeginRegisterProvider(ctx, pool.ProviderNamespace, nil)
	require.NoError(t, err)
	prov, err := reg.PollUntilDone(ctx, emuPoll)
	require.NoError(t, err)
	assert.Equal(t, pool.RegistrationStateRegistered, prov.RegistrationState)

	group, err := c.CreateOrUpdateResourceGroup(ctx, emuRG, pool.ResourceGroup{Location: "northcentralus"}, nil)
	require.NoError(t, err)
	assert.True(t, strings.EqualFold(group.Name, emuRG), "group name %q", group.Name)

	deployJSON, err := os.ReadFile(filepath.Join("testdata", "tutorial_deploy.json"))
	require.NoError(t, err)
	dep, err := c.BeginDeployJSON(ctx, emuRG, "", deployJSON, nil)
	require.NoError(t, err)
	deployed, err := dep.PollUntilDone(ctx, emuPoll)
	require.NoError(t, err)
	require.NotNil(t, deployed.Properties)
	assert.Equal(t, "Succeeded", deployed.Properties.ProvisioningState)
	assert.True(t, strings.HasPrefix(deployed.Name, "shellpool-"), "a unique default deployment name, got %q", deployed.Name)

	got, err := c.Get(ctx, emuRG, "myshellpool", nil)
	require.NoError(t, err)
	require.NotNil(t, got.Properties)
	assert.Equal(t, pool.ProvisioningStateSucceeded, got.Properties.ProvisioningState)
	assert.Equal(t, pool.ContainerTypeShell, got.Properties.ContainerType)
	wantID, err := pool.ResourceID(srv.SubscriptionID(), emuRG, "myshellpool")
	require.NoError(t, err)
	assert.True(t, strings.EqualFold(wantID.String(), got.ID), "ID %q, want %q", got.ID, wantID)
	endpoint := got.Endpoint()
	require.NotEmpty(t, endpoint)

	// The data plane serves the endpoint, and RBAC denies the caller until
	// it holds Session Executor on the pool.
	sc := sessionsClient(t, srv, endpoint, srv.Credential())
	_, err = sc.Execute(ctx, sessions.NewSessionID(), sessions.ShellCommand("echo ok"), nil)
	require.Error(t, err)
	var re *azcore.ResponseError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, http.StatusForbidden, re.StatusCode)

	srv.GrantSessionExecutor(srv.PrincipalID(), "myshellpool")
	res, err := sc.Execute(ctx, sessions.NewSessionID(), sessions.ShellCommand("echo ok"), nil)
	require.NoError(t, err)
	assert.Equal(t, "ok\n", res.Stdout)

	// Clean up: deleting the group removes the pool.
	del, err := c.BeginDeleteResourceGroup(ctx, emuRG, nil)
	require.NoError(t, err)
	_, err = del.PollUntilDone(ctx, emuPoll)
	require.NoError(t, err)
	_, err = c.Get(ctx, emuRG, "myshellpool", nil)
	require.ErrorAs(t, err, &re)
	assert.Equal(t, http.StatusNotFound, re.StatusCode)
	_, err = c.GetResourceGroup(ctx, emuRG, nil)
	require.ErrorAs(t, err, &re)
	assert.Equal(t, http.StatusNotFound, re.StatusCode)
	for pager := c.NewListBySubscriptionPager(nil); pager.More(); {
		page, err := pager.NextPage(ctx)
		require.NoError(t, err)
		for _, p := range page.Value {
			assert.False(t, strings.EqualFold(p.Name, "myshellpool"), "pool %s survived its group", p.ID)
		}
	}
}

// TestEmulatorPoolLifecycle drives the session pool operations directly:
// create, list, update, delete.
func TestEmulatorPoolLifecycle(t *testing.T) {
	t.Parallel()
	_, c := newEmulator(t)
	ctx := t.Context()
	_, err := c.CreateOrUpdateResourceGroup(ctx, otherRG, pool.ResourceGroup{Location: "eastus"}, nil)
	require.NoError(t, err)

	for _, name := range []string{"poolone", "pooltwo"} {
		p, err := c.BeginCreateOrUpdate(ctx, otherRG, name, *pool.NewShellPool(name, "eastus"), nil)
		require.NoError(t, err)
		created, err := p.PollUntilDone(ctx, emuPoll)
		require.NoError(t, err)
		require.NotNil(t, created.Properties)
		assert.Equal(t, pool.ProvisioningStateSucceeded, created.Properties.ProvisioningState, name)
		assert.NotEmpty(t, created.Endpoint(), name)
	}

	var names []string
	for pager := c.NewListByResourceGroupPager(otherRG, nil); pager.More(); {
		page, err := pager.NextPage(ctx)
		require.NoError(t, err)
		for _, p := range page.Value {
			names = append(names, p.Name)
		}
	}
	assert.ElementsMatch(t, []string{"poolone", "pooltwo"}, names)

	up, err := c.BeginUpdate(ctx, otherRG, "poolone", pool.SessionPoolUpdate{Properties: &pool.SessionPoolUpdateProperties{
		ScaleConfiguration: &pool.ScaleConfiguration{MaxConcurrentSessions: to.Ptr[int32](9)},
	}}, nil)
	require.NoError(t, err)
	_, err = up.PollUntilDone(ctx, emuPoll)
	require.NoError(t, err)
	got, err := c.Get(ctx, otherRG, "poolone", nil)
	require.NoError(t, err)
	require.NotNil(t, got.Properties.ScaleConfiguration)
	assert.Equal(t, int32(9), *got.Properties.ScaleConfiguration.MaxConcurrentSessions)

	del, err := c.BeginDelete(ctx, otherRG, "poolone", nil)
	require.NoError(t, err)
	_, err = del.PollUntilDone(ctx, emuPoll)
	require.NoError(t, err)
	_, err = c.Get(ctx, otherRG, "poolone", nil)
	var re *azcore.ResponseError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, http.StatusNotFound, re.StatusCode)
}

// TestEmulatorDeploymentFailure deploys a template the emulator rejects and
// reads the reason back.
func TestEmulatorDeploymentFailure(t *testing.T) {
	t.Parallel()
	_, c := newEmulator(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, err := c.CreateOrUpdateResourceGroup(ctx, otherRG, pool.ResourceGroup{Location: "eastus"}, nil)
	require.NoError(t, err)
	tmpl := `{"$schema":"https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#","contentVersion":"1.0.0.0",
		"resources":[{"type":"Microsoft.App/sessionPools","apiVersion":"2025-02-02-preview","name":"[uniqueString('x')]","location":"eastus","properties":{"containerType":"Shell"}}]}`
	p, err := c.BeginDeployJSON(ctx, otherRG, "bad", []byte(tmpl), nil)
	if err == nil {
		_, err = p.PollUntilDone(ctx, emuPoll)
	}
	require.Error(t, err)
	var re *azcore.ResponseError
	require.True(t, errors.As(err, &re), "got %v", err)
	assert.NotEmpty(t, re.ErrorCode)
}

// TestEmulatorTemplateWithResourceGroupLocation renders a pool whose location
// is [resourceGroup().location], which Render leaves for ARM, and deploys it:
// the pool lands in the group's region.
func TestEmulatorTemplateWithResourceGroupLocation(t *testing.T) {
	t.Parallel()
	_, c := newEmulator(t)
	ctx := t.Context()
	_, err := c.CreateOrUpdateResourceGroup(ctx, otherRG, pool.ResourceGroup{Location: "westus2"}, nil)
	require.NoError(t, err)
	tmpl := pool.NewTemplate(pool.NewShellPool("rglocpool", "[resourceGroup().location]"))
	_, err = tmpl.Render()
	require.NoError(t, err)
	p, err := c.BeginDeploy(ctx, otherRG, "", tmpl, nil)
	require.NoError(t, err)
	_, err = p.PollUntilDone(ctx, emuPoll)
	require.NoError(t, err)
	got, err := c.Get(ctx, otherRG, "rglocpool", nil)
	require.NoError(t, err)
	assert.Equal(t, "westus2", pool.NormalizeRegion(got.Location))
}
