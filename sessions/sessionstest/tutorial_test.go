//go:build unix

package sessionstest_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/identity"
	"github.com/shellpool/shellpool/pool"
	"github.com/shellpool/shellpool/sessions"
	"github.com/shellpool/shellpool/sessions/sessionstest"
)

// isolateTutorialEnv makes StartTutorial's changes to the environment
// revert when the test ends (t.Setenv also keeps the test sequential).
func isolateTutorialEnv(t *testing.T, kv ...string) {
	t.Helper()
	for _, name := range []string{
		sessionstest.EnvEndpoint, sessionstest.EnvCACert, "IDENTITY_ENDPOINT", "IDENTITY_HEADER",
		"AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_TOKEN_CREDENTIALS", "AZURE_SUBSCRIPTION_ID",
	} {
		t.Setenv(name, "")
		require.NoError(t, os.Unsetenv(name))
	}
	for i := 0; i+1 < len(kv); i += 2 {
		t.Setenv(kv[i], kv[i+1])
	}
}

type tutorialClients struct {
	pools *pool.Client
	ids   *identity.Client
}

func clientsFor(t *testing.T, tut *sessionstest.Tutorial, cred azcore.TokenCredential) tutorialClients {
	t.Helper()
	o := arm.ClientOptions{ClientOptions: tut.ClientOptions}
	pools, err := pool.NewClient(tut.SubscriptionID, cred, &pool.ClientOptions{ClientOptions: o})
	require.NoError(t, err)
	ids, err := identity.NewClient(tut.SubscriptionID, cred, &identity.ClientOptions{ClientOptions: o})
	require.NoError(t, err)
	return tutorialClients{pools, ids}
}

func isNotFound(err error) bool {
	var re *azcore.ResponseError
	return errors.As(err, &re) && re.StatusCode == http.StatusNotFound
}

func TestStartTutorialDoesTheEarlierSteps(t *testing.T) {
	ctx := t.Context()
	rg, poolName := sessionstest.TutorialResourceGroup, sessionstest.TutorialPool
	for _, step := range []sessionstest.TutorialStep{
		sessionstest.StepSetup, sessionstest.StepDeployPool, sessionstest.StepCreateIdentity, sessionstest.StepAssignRole,
		sessionstest.StepGetToken, sessionstest.StepExecute, sessionstest.StepVerify, sessionstest.StepCleanup,
	} {
		isolateTutorialEnv(t, "AZURE_CLIENT_ID", "11111111-1111-1111-1111-111111111111")
		tut, err := sessionstest.StartTutorial(step, nil)
		require.NoError(t, err, "step %d", step)
		srv := tut.Server()
		require.NotNil(t, srv, "an emulator in this process")
		assert.False(t, tut.Shared)
		assert.Equal(t, srv.URL(), tut.URL)
		assert.Equal(t, sessionstest.DefaultSubscriptionID, tut.SubscriptionID)
		endpoint, header, err := srv.IdentityEndpoint()
		require.NoError(t, err)
		assert.Equal(t, endpoint, os.Getenv("IDENTITY_ENDPOINT"), "azidentity is pointed at the emulator")
		assert.Equal(t, header, os.Getenv("IDENTITY_HEADER"))
		_, set := os.LookupEnv("AZURE_CLIENT_ID")
		assert.False(t, set, "AZURE_CLIENT_ID would pick another identity")

		c := clientsFor(t, tut, srv.Credential())
		_, err = c.pools.GetResourceGroup(ctx, rg, nil)
		if step == sessionstest.StepSetup {
			assert.True(t, isNotFound(err), "step %d: no resource group yet: %v", step, err)
		} else {
			assert.NoError(t, err, "step %d: the resource group exists", step)
		}
		p, err := c.pools.Get(ctx, rg, poolName, nil)
		if step <= sessionstest.StepDeployPool {
			assert.True(t, isNotFound(err), "step %d: no pool yet: %v", step, err)
		} else {
			require.NoError(t, err, "step %d: the pool exists", step)
		}
		uami, err := c.ids.GetIdentity(ctx, rg, poolName+"-uami", nil)
		if step <= sessionstest.StepCreateIdentity {
			assert.True(t, isNotFound(err), "step %d: no identity yet: %v", step, err)
		} else {
			require.NoError(t, err, "step %d: the identity exists", step)
		}
		if step > sessionstest.StepCreateIdentity {
			holders := map[string]bool{}
			pager := c.ids.NewListRoleAssignmentsPager(p.ID, nil)
			for pager.More() {
				page, err := pager.NextPage(ctx)
				require.NoError(t, err)
				for _, ra := range page.Value {
					holders[ra.PrincipalID] = true
				}
			}
			granted := step > sessionstest.StepAssignRole
			assert.Equal(t, granted, holders[uami.PrincipalID], "step %d: the identity holds the role", step)
			assert.Equal(t, granted, holders[srv.PrincipalID()], "step %d: the signed-in principal holds the role", step)

			client, err := sessions.NewClient(p.Endpoint(), srv.Credential(), &sessions.ClientOptions{ClientOptions: tut.ClientOptions})
			require.NoError(t, err)
			resp, err := client.Execute(ctx, sessions.NewSessionID(), sessions.ShellCommand("echo hi"), nil)
			if granted {
				require.NoError(t, err, "step %d", step)
				assert.Equal(t, "hi\n", resp.Stdout)
			} else {
				var re *azcore.ResponseError
				require.ErrorAs(t, err, &re, "step %d: RBAC is on, as in Azure", step)
				assert.Equal(t, http.StatusForbidden, re.StatusCode)
			}
		}
		tut.Close()
		resp, err := srv.Client().Get(srv.URL() + "/") // no retries
		if err == nil {
			resp.Body.Close()
		}
		assert.Error(t, err, "Close stops the emulator")
	}
}

func TestStartTutorialUsesTheOptions(t *testing.T) {
	isolateTutorialEnv(t)
	o := &sessionstest.TutorialOptions{
		SubscriptionID: "11111111-2222-3333-4444-555555555555", ResourceGroup: "other-rg", Pool: "otherpool", Location: "westeurope",
	}
	tut, err := sessionstest.StartTutorial(sessionstest.StepExecute, o)
	require.NoError(t, err)
	defer tut.Close()
	assert.Equal(t, o.SubscriptionID, tut.SubscriptionID)
	c := clientsFor(t, tut, tut.Server().Credential())
	p, err := c.pools.Get(t.Context(), "other-rg", "otherpool", nil)
	require.NoError(t, err)
	assert.Equal(t, "westeurope", p.Location)
	_, err = c.ids.GetIdentity(t.Context(), "other-rg", "otherpool-uami", nil)
	assert.NoError(t, err)
}

func TestStartTutorialRefusesAnUnknownStep(t *testing.T) {
	isolateTutorialEnv(t)
	for _, step := range []sessionstest.TutorialStep{0, sessionstest.StepCleanup + 1} {
		_, err := sessionstest.StartTutorial(step, nil)
		assert.ErrorContains(t, err, "use one of StepSetup ... StepCleanup")
	}
}

// shared starts an emulator the way examples/emulator does and returns the
// variables its env file sets.
func shared(t *testing.T) (*sessionstest.Server, []string) {
	t.Helper()
	srv := sessionstest.NewServer(&sessionstest.Options{TB: t, ResourceGroup: sessionstest.TutorialResourceGroup,
		Pools: []sessionstest.Pool{{Name: sessionstest.TutorialPool}}})
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(caFile, srv.CACertPEM(), 0o600))
	endpoint, header, err := srv.IdentityEndpoint()
	require.NoError(t, err)
	return srv, []string{
		sessionstest.EnvEndpoint, srv.URL(), sessionstest.EnvCACert, caFile,
		"IDENTITY_ENDPOINT", endpoint, "IDENTITY_HEADER", header, "AZURE_SUBSCRIPTION_ID", srv.SubscriptionID(),
	}
}

func TestStartTutorialJoinsTheStandaloneEmulator(t *testing.T) {
	srv, env := shared(t)
	isolateTutorialEnv(t, env...)
	tut, err := sessionstest.StartTutorial(sessionstest.StepExecute, nil)
	require.NoError(t, err)
	assert.True(t, tut.Shared)
	assert.Nil(t, tut.Server())
	assert.Equal(t, srv.URL(), tut.URL)
	assert.Equal(t, srv.SubscriptionID(), tut.SubscriptionID)

	ctx := t.Context()
	c := clientsFor(t, tut, srv.Credential())
	p, err := c.pools.Get(ctx, sessionstest.TutorialResourceGroup, sessionstest.TutorialPool, nil)
	require.NoError(t, err, "the client options trust the emulator's certificate")
	_, err = c.ids.GetIdentity(ctx, sessionstest.TutorialResourceGroup, sessionstest.TutorialPool+"-uami", nil)
	assert.True(t, isNotFound(err), "nothing is seeded in a shared emulator: %v", err)

	for _, endpoint := range []string{p.Endpoint(), srv.PoolHostEndpoint(sessionstest.TutorialPool)} {
		client, err := sessions.NewClient(endpoint, srv.Credential(), &sessions.ClientOptions{ClientOptions: tut.ClientOptions})
		require.NoError(t, err)
		resp, err := client.Execute(ctx, sessions.NewSessionID(), sessions.ShellCommand("echo shared"), nil)
		require.NoError(t, err, endpoint)
		assert.Equal(t, "shared\n", resp.Stdout)
	}

	tut.Close()
	_, err = c.pools.Get(context.Background(), sessionstest.TutorialResourceGroup, sessionstest.TutorialPool, nil)
	assert.NoError(t, err, "Close leaves a shared emulator running")
}

func TestStartTutorialSaysWhatIsMissing(t *testing.T) {
	_, env := shared(t)
	vars := map[string]string{}
	for i := 0; i+1 < len(env); i += 2 {
		vars[env[i]] = env[i+1]
	}
	for _, tt := range []struct{ name, unset, set, value, want string }{
		{name: "no CA", unset: sessionstest.EnvCACert, want: "SHELLPOOL_ENDPOINT is set but SHELLPOOL_CA_CERT is not; source the env file"},
		{name: "no identity endpoint", unset: "IDENTITY_ENDPOINT", want: "SHELLPOOL_ENDPOINT is set but IDENTITY_ENDPOINT is not; source the env file"},
		{name: "CA file gone", set: sessionstest.EnvCACert, value: filepath.Join(t.TempDir(), "gone.pem"), want: "is the emulator still running?"},
		{name: "not https", set: sessionstest.EnvEndpoint, value: "http://127.0.0.1:1", want: "is not an https:// URL"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var kv []string
			for k, v := range vars {
				if k == tt.unset {
					continue
				}
				if k == tt.set {
					v = tt.value
				}
				kv = append(kv, k, v)
			}
			isolateTutorialEnv(t, kv...)
			_, err := sessionstest.StartTutorial(sessionstest.StepExecute, nil)
			assert.ErrorContains(t, err, tt.want)
		})
	}
}
