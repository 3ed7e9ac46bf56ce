package sessionstest_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/sessions"
	"github.com/shellpool/shellpool/sessions/sessionstest"
)

// A client pointed at the server's base URL, or at the pool's ARM resource
// ID, gets a 404 that names the endpoint form to use, not a 401 about the
// token's audience.
func TestDataPlaneRequestOutsideAPoolEndpoint(t *testing.T) {
	t.Parallel()
	srv := sessionstest.NewServer(&sessionstest.Options{TB: t})
	for name, endpoint := range map[string]string{
		"base URL":        srv.URL(),
		"ARM resource ID": srv.URL() + "/subscriptions/" + srv.SubscriptionID() + "/resourceGroups/" + srv.ResourceGroup() + "/providers/Microsoft.App/sessionPools/" + sessionstest.DefaultPoolName,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, err := sessions.NewClient(endpoint, srv.Credential(), &sessions.ClientOptions{ClientOptions: srv.ClientOptions()})
			require.NoError(t, err)
			_, err = c.Execute(t.Context(), sessions.NewSessionID(), sessions.ShellCommand("echo hi"), nil)
			require.Error(t, err)
			var re *azcore.ResponseError
			require.True(t, errors.As(err, &re), "%v", err)
			assert.Equal(t, http.StatusNotFound, re.StatusCode)
			assert.Contains(t, err.Error(), srv.URL()+"/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}/sessionPools/{pool}")
			assert.NotContains(t, err.Error(), "audience")
		})
	}
	// Azure Resource Manager paths are still served.
	_, err := srv.Client().Get(srv.URL() + "/metadata/endpoints?api-version=2022-09-01")
	require.NoError(t, err)
}

// The pool-name rule holds for pools the emulator serves: AddPool and
// Options.Pools refuse what the service would, saying what is wrong.
func TestEmulatorPoolNames(t *testing.T) {
	t.Parallel()
	srv := sessionstest.NewServer(&sessionstest.Options{TB: t})
	for name, want := range map[string]string{
		"My_Pool!": `contains upper-case letters and '_', '!'`,
		"my pool":  `contains ' '`,
		"my-pool":  `contains '-'`,
		"ab":       "is 2 characters long",
	} {
		_, err := srv.AddPool(sessionstest.Pool{Name: name})
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), want, name)
	}
	_, err := srv.AddPool(sessionstest.Pool{Name: "mypool"})
	assert.NoError(t, err)
	_, err = sessionstest.Start(&sessionstest.Options{Pools: []sessionstest.Pool{{Name: "My_Pool!"}}})
	assert.ErrorContains(t, err, "upper-case")
}

// Options.RequestLog sees every answered request, with its status and no
// identifier in the path.
func TestRequestLog(t *testing.T) {
	t.Parallel()
	var (
		logged = make(chan sessionstest.LoggedRequest, 16)
	)
	srv := sessionstest.NewServer(&sessionstest.Options{TB: t, RequestLog: func(l sessionstest.LoggedRequest) { logged <- l }})
	c, err := sessions.NewClient(srv.PoolEndpoint(), srv.Credential(), &sessions.ClientOptions{ClientOptions: srv.ClientOptions()})
	require.NoError(t, err)
	id := sessions.NewSessionID()
	_, err = c.Execute(t.Context(), id, sessions.ShellCommand("true"), nil)
	require.NoError(t, err)
	_, err = c.GetExecution(t.Context(), id, "0f8fad5b-d9cb-469f-a165-70867728950e", nil)
	require.Error(t, err)
	var got []sessionstest.LoggedRequest
	for len(got) < 2 {
		select {
		case l := <-logged:
			got = append(got, l)
		case <-time.After(time.Minute):
			require.FailNow(t, "no request was logged", "%v", got)
		}
	}
	assert.Equal(t, "POST", got[0].Method)
	assert.Equal(t, "/subscriptions/{id}/resourceGroups/"+srv.ResourceGroup()+"/sessionPools/"+sessionstest.DefaultPoolName+"/executions", got[0].Path)
	assert.Equal(t, http.StatusOK, got[0].Status)
	assert.Positive(t, got[0].Duration)
	assert.Equal(t, "GET", got[1].Method)
	assert.True(t, strings.HasSuffix(got[1].Path, "/executions/{id}"), got[1].Path)
	assert.Equal(t, http.StatusNotFound, got[1].Status)
	for _, l := range got {
		assert.NotContains(t, l.Path, id)
	}
}

// The defaults are what the package doc's "Live behaviour" table says: the
// 4,096-byte cap on, lost final writes and the refusal of the tutorial's
// body off.
func TestLiveBehaviourDefaults(t *testing.T) {
	t.Parallel()
	srv := sessionstest.NewServer(&sessionstest.Options{TB: t})
	for _, dialect := range sessions.PossibleDialectValues() {
		c, err := sessions.NewClient(srv.PoolEndpoint(), srv.Credential(), &sessions.ClientOptions{ClientOptions: srv.ClientOptions(), Dialect: dialect})
		require.NoError(t, err)
		id := sessions.NewSessionID()
		res, err := c.Execute(t.Context(), id, sessions.ShellCommand("head -c 5000 /dev/zero | tr '\\0' x"), nil)
		require.NoError(t, err, "dialect %q is accepted by default", dialect)
		assert.Len(t, res.Stdout, 4096, "the output cap is on by default")
		for i := range 20 {
			res, err := c.Execute(t.Context(), id, sessions.ShellCommand("echo first; echo last"), nil)
			require.NoError(t, err)
			require.Equal(t, "first\nlast\n", res.Stdout, "run %d: no final write is lost by default", i)
		}
	}
}
