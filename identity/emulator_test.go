//go:build unix

package identity_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/identity"
	"github.com/shellpool/shellpool/pool"
	"github.com/shellpool/shellpool/sessions"
	"github.com/shellpool/shellpool/sessions/sessionstest"
)

// These tests run the tutorial end to end against the module's emulator
// (sessions/sessionstest, RBAC on): the pool package deploys the pool, this
// package creates the identity and assigns Session Executor, and the sessions
// package proves the data plane's answer before and after.

const (
	tutorialRG   = "tutorial-rg"
	tutorialPool = "myshellpool"
	tutorialUAMI = "myshellpool-uami"
	tutorialLoc  = "northcentralus"
)

type emulator struct {
	srv   *sessionstest.Server
	pools *pool.Client
	ids   *identity.Client
}

func newEmulator(t *testing.T, principalNotFoundFor time.Duration) *emulator {
	t.Helper()
	srv := sessionstest.NewServer(&sessionstest.Options{
		RBAC: true, ResourceGroup: tutorialRG, PrincipalNotFoundFor: principalNotFoundFor, TB: t,
	})
	co := srv.ClientOptions()
	co.Retry = policy.RetryOptions{RetryDelay: time.Millisecond, MaxRetryDelay: time.Millisecond}
	armOpts := arm.ClientOptions{ClientOptions: co}
	pc, err := pool.NewClient(srv.SubscriptionID(), srv.Credential(), &pool.ClientOptions{ClientOptions: armOpts})
	require.NoError(t, err)
	ic, err := identity.NewClient(srv.SubscriptionID(), srv.Credential(), &identity.ClientOptions{ClientOptions: armOpts})
	require.NoError(t, err)
	return &emulator{srv: srv, pools: pc, ids: ic}
}

// deploy creates the resource group and deploys tmpl into it.
func (e *emulator) deploy(t *testing.T, tmpl *pool.Template) {
	t.Helper()
	ctx := t.Context()
	_, err := e.pools.CreateOrUpdateResourceGroup(ctx, tutorialRG, pool.ResourceGroup{Location: tutorialLoc}, nil)
	require.NoError(t, err)
	p, err := e.pools.BeginDeploy(ctx, tutorialRG, "", tmpl, nil)
	require.NoError(t, err)
	_, err = p.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: time.Millisecond})
	require.NoError(t, err)
}

// execute runs "echo ok" in the pool as cred.
func (e *emulator) execute(t *testing.T, endpoint string, cred azcore.TokenCredential) (string, error) {
	t.Helper()
	sc, err := sessions.NewClient(endpoint, cred, &sessions.ClientOptions{ClientOptions: e.srv.ClientOptions()})
	require.NoError(t, err)
	res, err := sc.Execute(t.Context(), sessions.NewSessionID(), sessions.ShellCommand("echo ok"), nil)
	return res.Stdout, err
}

func statusOf(t *testing.T, err error) int {
	t.Helper()
	var re *azcore.ResponseError
	require.ErrorAs(t, err, &re)
	return re.StatusCode
}

// TestEmulatorTutorialFlow is the tutorial with this module: deploy the pool,
// create a user-assigned identity, assign it Session Executor on the pool
// (PrincipalNotFound while the new identity replicates is retried), verify the
// assignment, get a token for the right audience, run a command as the
// identity, and delete the resource group.
func TestEmulatorTutorialFlow(t *testing.T) {
	t.Parallel()
	e := newEmulator(t, 150*time.Millisecond)
	ctx := t.Context()
	e.deploy(t, pool.NewTemplate(pool.NewShellPool(tutorialPool, "North Central US")))

	got, err := e.pools.Get(ctx, tutorialRG, tutorialPool, nil)
	require.NoError(t, err)
	require.NotNil(t, got.Properties)
	assert.Equal(t, pool.ProvisioningStateSucceeded, got.Properties.ProvisioningState)
	endpoint := got.Endpoint()
	require.NotEmpty(t, endpoint)

	created, err := e.ids.CreateOrUpdateIdentity(ctx, tutorialRG, tutorialUAMI, tutorialLoc, nil)
	require.NoError(t, err)
	assert.True(t, created.Created)
	require.NotEmpty(t, created.PrincipalID)
	assert.NotEmpty(t, created.ClientID)
	uamiID, err := identity.ResourceID(e.srv.SubscriptionID(), tutorialRG, tutorialUAMI)
	require.NoError(t, err)
	assert.True(t, strings.EqualFold(uamiID.String(), created.ID), "ID %q", created.ID)
	asIdentity := e.srv.CredentialFor(created.PrincipalID)

	// The token has the data plane's audience and names the identity; an
	// ARM token would be refused, and Check says why.
	tok, err := identity.GetToken(ctx, asIdentity, sessions.Audience, nil)
	require.NoError(t, err)
	assert.NoError(t, tok.Check())
	claims, err := tok.Claims()
	require.NoError(t, err)
	assert.Equal(t, created.PrincipalID, claims.ObjectID)
	armTok, err := identity.GetToken(ctx, asIdentity, identity.ARMAudience, nil)
	require.NoError(t, err)
	armClaims, err := armTok.Claims()
	require.NoError(t, err)
	assert.ErrorIs(t, armClaims.Check(sessions.Audience), identity.ErrWrongAudience)

	// RBAC denies the identity until it holds the role.
	_, err = e.execute(t, endpoint, asIdentity)
	require.Error(t, err)
	assert.Equal(t, http.StatusForbidden, statusOf(t, err))

	// principalType User makes ARM look the new principal up, which fails
	// with PrincipalNotFound until it has replicated: AssignRole retries.
	assigned, err := e.ids.AssignSessionExecutor(ctx, got.ID, created.PrincipalID, &identity.AssignRoleOptions{
		PrincipalType: identity.PrincipalTypeUser, RetryDelay: 10 * time.Millisecond, MaxRetryDelay: 20 * time.Millisecond,
	})
	require.NoError(t, err)
	assert.Greater(t, assigned.Attempts, 1, "PrincipalNotFound was retried")
	assert.Equal(t, identity.RoleAssignmentName(got.ID, created.PrincipalID, identity.SessionExecutorRoleID), assigned.Name)
	assert.True(t, identity.SameRoleDefinition(identity.SessionExecutorRoleID, assigned.RoleDefinitionID))

	again, err := e.ids.AssignSessionExecutor(ctx, got.ID, created.PrincipalID, nil)
	require.NoError(t, err)
	assert.Equal(t, assigned.Name, again.Name, "repeating the assignment is idempotent")
	assert.Equal(t, 1, again.Attempts)

	// Verify role assignment (az role assignment list --scope $POOL_ID).
	found := 0
	for pager := e.ids.NewListRoleAssignmentsPager(got.ID, nil); pager.More(); {
		page, err := pager.NextPage(ctx)
		require.NoError(t, err)
		for _, ra := range page.Value {
			if strings.EqualFold(ra.PrincipalID, created.PrincipalID) &&
				identity.SameRoleDefinition(ra.RoleDefinitionID, identity.SessionExecutorRoleDefinitionID(e.srv.SubscriptionID())) {
				found++
			}
		}
	}
	assert.Equal(t, 1, found, "one Session Executor assignment for the identity")
	one, err := e.ids.GetRoleAssignment(ctx, got.ID, assigned.Name, nil)
	require.NoError(t, err)
	assert.Equal(t, created.PrincipalID, one.PrincipalID)

	out, err := e.execute(t, endpoint, asIdentity)
	require.NoError(t, err)
	assert.Equal(t, "ok\n", out)

	// Clean up: deleting the group removes the pool and the identity.
	del, err := e.pools.BeginDeleteResourceGroup(ctx, tutorialRG, nil)
	require.NoError(t, err)
	_, err = del.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: time.Millisecond})
	require.NoError(t, err)
	_, err = e.pools.Get(ctx, tutorialRG, tutorialPool, nil)
	assert.Equal(t, http.StatusNotFound, statusOf(t, err))
	_, err = e.ids.GetIdentity(ctx, tutorialRG, tutorialUAMI, nil)
	assert.Equal(t, http.StatusNotFound, statusOf(t, err))
	_, err = e.execute(t, endpoint, asIdentity)
	assert.Error(t, err, "the data plane no longer serves the pool")
	_, err = e.ids.GetRoleAssignment(ctx, got.ID, assigned.Name, nil)
	assert.Equal(t, http.StatusNotFound, statusOf(t, err), "the pool's role assignments went with it")
}

// TestEmulatorPrincipalNotFoundGivesUp: when the bound passes before the new
// principal replicates, AssignRole stops and says why, even with
// context.Background().
func TestEmulatorPrincipalNotFoundGivesUp(t *testing.T) {
	t.Parallel()
	e := newEmulator(t, time.Hour)
	e.deploy(t, pool.NewTemplate(pool.NewShellPool(tutorialPool, tutorialLoc)))
	created, err := e.ids.CreateOrUpdateIdentity(t.Context(), tutorialRG, tutorialUAMI, tutorialLoc, nil)
	require.NoError(t, err)
	poolID, err := pool.ResourceID(e.srv.SubscriptionID(), tutorialRG, tutorialPool)
	require.NoError(t, err)

	_, err = e.ids.AssignSessionExecutor(context.Background(), poolID.String(), created.PrincipalID, &identity.AssignRoleOptions{
		PrincipalType: identity.PrincipalTypeUser, RetryDelay: 5 * time.Millisecond, PrincipalNotFoundTimeout: 50 * time.Millisecond,
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "PrincipalNotFoundTimeout")
	var se *identity.ServiceError
	require.ErrorAs(t, err, &se)
	require.NotNil(t, se.Response)
	assert.Equal(t, "PrincipalNotFound", se.Response.ErrorCode)

	// The default principalType, ServicePrincipal, needs no wait.
	res, err := e.ids.AssignSessionExecutor(t.Context(), poolID.String(), created.PrincipalID, nil)
	require.NoError(t, err)
	assert.Equal(t, 1, res.Attempts)
}

// TestEmulatorTemplateWithIdentity deploys the pool, the identity and its
// role assignment in one template (pool.Template.AddResources with this
// package's template resources); assigning the role again afterwards meets
// the template's assignment (RoleAssignmentExists) and succeeds.
func TestEmulatorTemplateWithIdentity(t *testing.T) {
	t.Parallel()
	e := newEmulator(t, time.Hour)
	ctx := t.Context()
	tmpl := pool.NewTemplate(pool.NewShellPool(tutorialPool, tutorialLoc))
	require.NoError(t, tmpl.AddResources(
		identity.ManagedIdentityResource(tutorialUAMI, tutorialLoc),
		identity.SessionExecutorAssignmentResource(tutorialPool, tutorialUAMI),
	))
	e.deploy(t, tmpl)

	uami, err := e.ids.GetIdentity(ctx, tutorialRG, tutorialUAMI, nil)
	require.NoError(t, err)
	require.NotEmpty(t, uami.PrincipalID)
	got, err := e.pools.Get(ctx, tutorialRG, tutorialPool, nil)
	require.NoError(t, err)

	out, err := e.execute(t, got.Endpoint(), e.srv.CredentialFor(uami.PrincipalID))
	require.NoError(t, err, "the template's role assignment lets the identity run commands")
	assert.Equal(t, "ok\n", out)

	res, err := e.ids.AssignSessionExecutor(ctx, got.ID, uami.PrincipalID, nil)
	require.NoError(t, err)
	assert.True(t, res.Existing, "409 RoleAssignmentExists counts as success")
	assert.NotEqual(t, identity.RoleAssignmentName(got.ID, uami.PrincipalID, identity.SessionExecutorRoleID), res.Name,
		"the existing assignment is the template's, under its own name")

	var se *identity.ServiceError
	_, err = e.ids.AssignRole(ctx, got.ID, identity.SessionExecutorRoleID, "not-a-guid", nil)
	assert.False(t, errors.As(err, &se))
	assert.ErrorIs(t, err, identity.ErrInvalidArgument)
}
