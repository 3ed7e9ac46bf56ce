// The examples run real commands in the emulator, which needs bash; on
// Windows, where bash may be missing, they are not built (the tests skip
// there instead).

//go:build !windows

package fleet_test

import (
	"context"
	"crypto/rand"
	"fmt"

	"github.com/shellpool/shellpool/sessions"
	"github.com/shellpool/shellpool/sessions/fleet"
	"github.com/shellpool/shellpool/sessions/sessionstest"
)

// Two users over two pools: each runs in their own session.
func Example() {
	srv := sessionstest.NewServer(&sessionstest.Options{Pools: []sessionstest.Pool{{Name: "east"}, {Name: "west"}}})
	defer srv.Close()
	key := make([]byte, 32) // keep the real one in a secret store
	if _, err := rand.Read(key); err != nil {
		panic(err)
	}
	var pools []fleet.Pool
	for _, name := range []string{"east", "west"} {
		pools = append(pools, fleet.Pool{
			Name: name, Endpoint: srv.PoolEndpointFor(name), Credential: srv.Credential(),
			ClientOptions:         &sessions.ClientOptions{ClientOptions: srv.ClientOptions()},
			MaxConcurrentSessions: sessionstest.DefaultMaxConcurrentSessions,
		})
	}
	f, err := fleet.New(&fleet.Options{IDs: fleet.IDs{Key: key}, Pools: pools})
	if err != nil {
		panic(err)
	}
	defer f.Close(context.Background())

	ctx := context.Background()
	for _, name := range []string{"alice", "bob"} {
		u := fleet.User{Tenant: "acme", ID: name}
		if _, err := f.Execute(ctx, u, sessions.ShellCommand("echo "+name+" > owner.txt"), nil); err != nil {
			panic(err)
		}
	}
	r, err := f.Execute(ctx, fleet.User{Tenant: "acme", ID: "alice"}, sessions.ShellCommand("cat owner.txt"), nil)
	if err != nil {
		panic(err)
	}
	fmt.Print(r.Stdout)
	res, err := f.Reap(ctx, &fleet.ReapOptions{All: true})
	if err != nil {
		panic(err)
	}
	fmt.Println("reaped:", res.Deleted)
	// Output:
	// alice
	// reaped: 2
}
