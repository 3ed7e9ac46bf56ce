// Package fleet runs many users' commands over one or more shell session
// pools: the layer a service (an agent platform, a CI sandbox, per-user
// shells) uses instead of juggling session identifiers, capacity and
// clean-up itself.
//
//   - Per-user sessions: IDs derives each session identifier from a key
//     your service holds (HMAC-SHA256 of tenant, user and purpose, with an
//     epoch for rotation), so a user always lands in their own session and
//     nobody can guess another's. Identifiers carry a documented prefix and
//     a keyed check, so the layer recognises its own sessions (IDs.Owns).
//   - Capacity: a limiter sized from each pool's maxConcurrentSessions (set
//     by hand or read with PoolFromARM) makes callers wait in line instead
//     of failing with sessions.ErrPoolAtCapacity. Capacity answers (404 or
//     429 MaxConcurrentSessionsReached: the command did not run) are tried
//     again with backoff, honouring Retry-After, within the caller's
//     context. Fair: a user's calls run one at a time, and users waiting
//     for a slot are served first come, first served, so one busy user
//     cannot starve the others.
//   - Slot hygiene: a released session is kept for its user's next call
//     until idle for Options.KeepIdle (or deleted at once with
//     ReleaseDelete), and is reclaimed as soon as another user waits.
//     Reap lists every pool's sessions and deletes only this layer's that
//     are idle or expired, never a foreign one.
//   - Several pools: users map to pools by rendezvous hashing (stable, and
//     adding a pool moves few users), spill over to another pool when
//     theirs is full, and fail over when a pool cannot be reached or
//     answers 503; a user's live session stays where it is.
//   - Contract probe: on a pool's first use the fleet learns which of
//     Pool.APIVersions it accepts and, on its first execution, whether it
//     takes the specification's shell body or the tutorial's (a 400 naming
//     the fields), and remembers both (Fleet.Contract).
//
// Execute runs one command. Acquire and Do hand out a Lease for several
// calls in one session; Lease.Session and Lease.Client are the hook for
// layers that take a *sessions.SessionClient or a client and identifier.
//
// A command is never sent twice after an answer that leaves open whether it
// ran: the fleet resends only after capacity answers, 429, 503 and
// connections that were never established, and a 400 naming the body's
// fields while it learns a pool's dialect.
//
// # Example
//
//	f, err := fleet.New(&fleet.Options{
//		IDs: fleet.IDs{Key: key}, // 32 secret bytes
//		Pools: []fleet.Pool{
//			{Name: "eastus", Endpoint: eastEndpoint, Credential: cred, MaxConcurrentSessions: 100},
//			{Name: "westus", Endpoint: westEndpoint, Credential: cred, MaxConcurrentSessions: 100},
//		},
//	})
//	if err != nil { ... }
//	defer f.Close(context.Background())
//	resp, err := f.Execute(ctx, fleet.User{Tenant: "acme", ID: "alice"}, sessions.ShellCommand("ls"), nil)
package fleet
