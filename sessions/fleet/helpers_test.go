package fleet_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/sessions"
	"github.com/shellpool/shellpool/sessions/fleet"
	"github.com/shellpool/shellpool/sessions/sessionstest"
)

// testKey is the identifier key of the tests (never use a fixed key in a
// service).
var testKey = bytes.Repeat([]byte{0x5a}, 32)

// newEmu starts an emulator with the named pools, each with capacity slots.
func newEmu(t testing.TB, capacity int, o *sessionstest.Options, names ...string) *sessionstest.Server {
	t.Helper()
	if o == nil {
		o = &sessionstest.Options{}
	}
	o.TB = t
	for _, n := range names {
		o.Pools = append(o.Pools, sessionstest.Pool{Name: n, MaxConcurrentSessions: capacity})
	}
	srv, err := sessionstest.Start(o)
	if errors.Is(err, sessionstest.ErrNoBash) {
		t.Skip(err) // Windows without Git for Windows or MSYS2
	}
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	return srv
}

// poolsOf describes the emulator's pools (host-form endpoints, which
// SetPoolControl can make unreachable) to a fleet.
func poolsOf(srv *sessionstest.Server, capacity int, names ...string) []fleet.Pool {
	var out []fleet.Pool
	for _, n := range names {
		out = append(out, fleet.Pool{
			Name: n, Endpoint: srv.PoolHostEndpoint(n), Credential: srv.Credential(),
			ClientOptions:         &sessions.ClientOptions{ClientOptions: srv.ClientOptions()},
			MaxConcurrentSessions: capacity,
		})
	}
	return out
}

// newFleet creates a fleet over the emulator's pools; edit adjusts the options.
func newFleet(t testing.TB, srv *sessionstest.Server, capacity int, names []string, edit func(*fleet.Options)) *fleet.Fleet {
	t.Helper()
	o := &fleet.Options{IDs: fleet.IDs{Key: testKey}, Pools: poolsOf(srv, capacity, names...), MaxBackoff: 200 * time.Millisecond}
	if edit != nil {
		edit(o)
	}
	f, err := fleet.New(o)
	require.NoError(t, err)
	t.Cleanup(func() { _ = f.Close(t.Context()) })
	return f
}

// rawClient is a plain sessions client for one emulator pool.
func rawClient(t testing.TB, srv *sessionstest.Server, pool string) *sessions.Client {
	t.Helper()
	c, err := sessions.NewClient(srv.PoolHostEndpoint(pool), srv.Credential(), &sessions.ClientOptions{ClientOptions: srv.ClientOptions()})
	require.NoError(t, err)
	return c
}
