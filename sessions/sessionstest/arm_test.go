package sessionstest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/internal/jwt"
	"github.com/shellpool/shellpool/sessions"
	"github.com/shellpool/shellpool/sessions/sessionstest"
)

// TestRBACFollowsARMAndManagedIdentity is the tutorial's identity flow: a
// user-assigned identity created through ARM gets tokens from the managed
// identity endpoint through azidentity; the data plane answers 403 until a
// role assignment made through ARM grants Session Executor, and again after
// it is deleted; deleting the resource group removes the pool, its sessions
// and their processes.
func TestRBACFollowsARMAndManagedIdentity(t *testing.T) {
	// Not parallel: it sets the managed identity environment variables.
	srv := sessionstest.NewServer(&sessionstest.Options{TB: t, RBAC: true, PrincipalNotFoundFor: time.Hour})
	a := newARMClient(t, srv)
	ctx := t.Context()

	resp, ident := a.send(ctx, http.MethodPut, a.rg()+"/providers/Microsoft.ManagedIdentity/userAssignedIdentities/app", "2023-01-31",
		map[string]any{"location": "northcentralus"})
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%v", ident)
	principalID, _ := ident["properties"].(map[string]any)["principalId"].(string)
	clientID, _ := ident["properties"].(map[string]any)["clientId"].(string)
	require.NotEmpty(t, principalID)

	endpoint, header, err := srv.IdentityEndpoint()
	require.NoError(t, err)
	for _, k := range []string{"AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE", "MSI_ENDPOINT", "MSI_SECRET", "IMDS_ENDPOINT", "IDENTITY_SERVER_THUMBPRINT"} {
		t.Setenv(k, "")
		require.NoError(t, os.Unsetenv(k))
	}
	t.Setenv("IDENTITY_ENDPOINT", endpoint)
	t.Setenv("IDENTITY_HEADER", header)
	cred, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{ID: azidentity.ClientID(clientID)})
	require.NoError(t, err)
	c := newClient(t, srv, srv.PoolEndpoint(), cred)
	run := func() error {
		_, err := c.Execute(ctx, sessions.NewSessionID(), sessions.ShellCommand("true"), nil)
		return err
	}
	require.ErrorIs(t, run(), sessions.ErrForbidden, "no role yet")

	poolScope := a.rg() + "/providers/Microsoft.App/sessionPools/" + sessionstest.DefaultPoolName
	_, resp, body := a.assignExecutor(poolScope, principalID, "")
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Equal(t, "PrincipalNotFound", body["error"].(map[string]any)["code"], "a just-created identity is not replicated yet")
	require.ErrorIs(t, run(), sessions.ErrForbidden, "a refused assignment grants nothing")

	assignment, resp, body := a.assignExecutor(poolScope, principalID, "ServicePrincipal")
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%v", body)
	require.NoError(t, run(), "the role assigned through ARM reaches the data plane")

	resp, _ = a.send(ctx, http.MethodDelete, assignment, "2022-04-01", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.ErrorIs(t, run(), sessions.ErrForbidden, "deleting the assignment revokes access")

	_, resp, body = a.assignExecutor(a.rg(), principalID, "ServicePrincipal")
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%v", body)
	sid := sessions.NewSessionID()
	out, err := c.Execute(ctx, sid, sessions.ShellCommand("sleep 1000 >/dev/null 2>&1 & echo $!"), nil)
	require.NoError(t, err, "a role on the resource group covers its pools")
	bg, err := strconv.Atoi(strings.TrimSpace(out.Stdout))
	require.NoError(t, err)
	bg = srv.HostPID(sessionstest.DefaultPoolName, sid, bg)
	require.True(t, sessionstest.ProcessAlive(bg))
	dir, ok := srv.SessionDir(sessionstest.DefaultPoolName, sid)
	require.True(t, ok)

	require.NoError(t, a.lro(ctx, http.MethodDelete, a.rg(), "2021-04-01", nil))
	err = run()
	var re *azcore.ResponseError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, http.StatusNotFound, re.StatusCode)
	assert.Equal(t, "SessionPoolNotFound", re.ErrorCode)
	assert.Equal(t, 0, srv.SessionCount(sessionstest.DefaultPoolName))
	assert.NoDirExists(t, dir)
	assert.False(t, sessionstest.ProcessAlive(bg), "the session's background process was killed")
	assert.Equal(t, 0, srv.ProcessCount())
	resp, _ = a.send(ctx, http.MethodGet, assignment, "2022-04-01", nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "assignments inside the group are gone")
}

// TestARMPoolLifecycleWithRunningCommands deletes, through ARM, a pool whose
// session is running a command, while other goroutines assign roles,
// grant them directly and execute: nothing deadlocks, the command's process
// group is killed and the ARM side keeps answering.
func TestARMPoolLifecycleWithRunningCommands(t *testing.T) {
	t.Parallel()
	srv := sessionstest.NewServer(&sessionstest.Options{TB: t})
	a := newARMClient(t, srv)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	poolPath := a.rg() + "/providers/Microsoft.App/sessionPools/armpool"
	require.NoError(t, a.lro(ctx, http.MethodPut, poolPath, "2025-02-02-preview", shellPoolBody(20)))
	resp, pool := a.send(ctx, http.MethodGet, poolPath, "2025-02-02-preview", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	endpoint, _ := pool["properties"].(map[string]any)["poolManagementEndpoint"].(string)
	assert.Equal(t, srv.PoolEndpointFor("armpool"), endpoint, "poolManagementEndpoint is the emulator's regional-form URL")
	c := newClient(t, srv, endpoint, srv.Credential())

	sid := sessions.NewSessionID()
	_, err := c.BeginExecute(ctx, sid, sessions.ShellCommand("echo $$ > pid; exec sleep 1000"), nil)
	require.NoError(t, err)
	dir, ok := srv.SessionDir("armpool", sid)
	require.True(t, ok)
	var pid int
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(dir + "/pid")
		pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil && pid > 0
	}, 2*time.Minute, time.Millisecond)
	pid = srv.HostPID("armpool", sid, pid)

	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; ; j++ {
				select {
				case <-stop:
					return
				default:
				}
				switch i {
				case 0:
					srv.GrantSessionExecutor(uuid.NewString(), "armpool")
				case 1:
					path, body := a.executorAssignment(poolPath, uuid.NewString(), "ServicePrincipal")
					if resp, err := a.do(ctx, http.MethodPut, path, "2022-04-01", body); assert.NoError(t, err) {
						resp.Body.Close()
					}
				case 2:
					_, _ = c.Execute(ctx, sessions.NewSessionID(), sessions.ShellCommand("true"), nil)
				}
			}
		}()
	}
	require.NoError(t, a.lro(ctx, http.MethodDelete, poolPath, "2025-02-02-preview", nil))
	close(stop)
	wg.Wait()

	assert.False(t, sessionstest.ProcessAlive(pid), "the running command was killed with its pool")
	assert.NoDirExists(t, dir)
	resp, _ = a.send(ctx, http.MethodGet, poolPath, "2025-02-02-preview", nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp, _ = a.send(ctx, http.MethodGet, a.rg(), "2021-04-01", nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the ARM side still answers")
}

// TestAddAndRemovePoolShowInARM keeps the two sides in step for pools added
// and removed with the Server's own methods.
func TestAddAndRemovePoolShowInARM(t *testing.T) {
	t.Parallel()
	srv := sessionstest.NewServer(&sessionstest.Options{TB: t, RBAC: true})
	a := newARMClient(t, srv)
	ctx := t.Context()
	_, err := srv.AddPool(sessionstest.Pool{Name: "extra", MaxConcurrentSessions: 2, Cooldown: 10 * time.Minute})
	require.NoError(t, err)
	path := a.rg() + "/providers/Microsoft.App/sessionPools/extra"
	resp, body := a.send(ctx, http.MethodGet, path, "2025-02-02-preview", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	props, _ := body["properties"].(map[string]any)
	assert.Equal(t, srv.PoolEndpointFor("extra"), props["poolManagementEndpoint"])
	assert.Equal(t, "Succeeded", props["provisioningState"])
	assert.EqualValues(t, 2, props["scaleConfiguration"].(map[string]any)["maxConcurrentSessions"])

	srv.GrantSessionExecutor(srv.PrincipalID(), "extra")
	srv.GrantSessionExecutor(srv.PrincipalID(), "extra")
	resp, body = a.send(ctx, http.MethodGet, path+"/providers/Microsoft.Authorization/roleAssignments", "2022-04-01", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	list, _ := body["value"].([]any)
	require.Len(t, list, 1, "GrantSessionExecutor is visible to ARM clients, once")
	c := newClient(t, srv, srv.PoolEndpointFor("extra"), srv.Credential())
	_, err = c.Execute(ctx, sessions.NewSessionID(), sessions.ShellCommand("true"), nil)
	require.NoError(t, err)
	id, _ := list[0].(map[string]any)["id"].(string)
	resp, _ = a.send(ctx, http.MethodDelete, id, "2022-04-01", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	_, err = c.Execute(ctx, sessions.NewSessionID(), sessions.ShellCommand("true"), nil)
	require.ErrorIs(t, err, sessions.ErrForbidden, "deleting the one assignment through ARM revokes the grant")
	srv.GrantSessionExecutor(srv.PrincipalID(), "extra")

	require.True(t, srv.RemovePool("extra"))
	resp, _ = a.send(ctx, http.MethodGet, path, "2025-02-02-preview", nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp, body = a.send(ctx, http.MethodGet, a.rg()+"/providers/Microsoft.Authorization/roleAssignments", "2022-04-01", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Empty(t, body["value"], "assignments scoped to the removed pool are gone")
	assert.False(t, srv.RemovePool("extra"))
}

// The system-assigned managed identity (a token request without a client ID,
// as DefaultAzureCredential sends) is the server's own principal, so one
// GrantSessionExecutor covers Credential and DefaultAzureCredential alike.
func TestSystemManagedIdentityIsThePrincipal(t *testing.T) {
	t.Parallel()
	srv := sessionstest.NewServer(&sessionstest.Options{TB: t, RBAC: true})
	endpoint, header, err := srv.IdentityEndpoint()
	require.NoError(t, err)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, endpoint+"?api-version=2019-08-01&resource="+sessions.Audience, nil)
	require.NoError(t, err)
	req.Header.Set("X-IDENTITY-HEADER", header)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&tok))
	claims, err := jwt.Parse(tok.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, srv.PrincipalID(), claims.ObjectID)

	c := newClient(t, srv, srv.PoolEndpoint(), staticToken(tok.AccessToken))
	_, err = c.Execute(t.Context(), sessions.NewSessionID(), sessions.ShellCommand("true"), nil)
	require.ErrorIs(t, err, sessions.ErrForbidden, "no role yet")
	srv.GrantSessionExecutor(srv.PrincipalID(), sessionstest.DefaultPoolName)
	_, err = c.Execute(t.Context(), sessions.NewSessionID(), sessions.ShellCommand("true"), nil)
	require.NoError(t, err, "the grant to PrincipalID covers the managed identity's token")
}

// staticToken is a credential that always returns one token.
type staticToken string

func (s staticToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: string(s), ExpiresOn: time.Now().Add(time.Hour)}, nil
}
