package fleet_test

import (
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/pool"
	"github.com/shellpool/shellpool/sessions"
	"github.com/shellpool/shellpool/sessions/fleet"
)

func TestPoolFromARM(t *testing.T) {
	t.Parallel()
	srv := newEmu(t, 7, nil, "east")
	armClient, err := pool.NewClient(srv.SubscriptionID(), srv.Credential(), &pool.ClientOptions{ClientOptions: arm.ClientOptions{ClientOptions: srv.ClientOptions()}})
	require.NoError(t, err)
	p, err := fleet.PoolFromARM(t.Context(), armClient, srv.ResourceGroup(), "east", srv.Credential(), &sessions.ClientOptions{ClientOptions: srv.ClientOptions()})
	require.NoError(t, err)
	assert.Equal(t, "east", p.Name)
	assert.Equal(t, 7, p.MaxConcurrentSessions, "capacity read from scaleConfiguration.maxConcurrentSessions")
	assert.Equal(t, srv.PoolEndpointFor("east"), p.Endpoint)

	f, err := fleet.New(&fleet.Options{IDs: fleet.IDs{Key: testKey}, Pools: []fleet.Pool{p}})
	require.NoError(t, err)
	defer f.Close(t.Context())
	r, err := f.Execute(t.Context(), fleet.User{ID: "alice"}, sessions.ShellCommand("echo ok"), nil)
	require.NoError(t, err)
	assert.Equal(t, "ok\n", r.Stdout)

	_, err = fleet.PoolFromARM(t.Context(), armClient, srv.ResourceGroup(), "missing", srv.Credential(), nil)
	assert.Error(t, err)
	_, err = fleet.PoolFromARM(t.Context(), nil, "rg", "x", srv.Credential(), nil)
	assert.ErrorIs(t, err, sessions.ErrInvalidArgument)
}
