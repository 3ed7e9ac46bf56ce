// Package fleet runs many users' commands over one or more shell session
// pools: the layer a service (an agent platform, a CI sandbox, per-user
// shells) uses instead of juggling session identifiers, capacity and
// clean-up itself.
//
//   - Per-user sessions: IDs derives each session identifier from a key
//     your service holds (HMAC-SHA256 of tenant, user and purpose, with an
//     epoch for rotation and the replica's name), so a user always lands
//     in their own session and nobody can guess another's. Identifiers
//     carry a documented lower-case prefix and a keyed check, so the layer
//     recognises its own sessions (IDs.Owns).
//   - Capacity: a limiter sized from each pool's maxConcurrentSessions (set
//     by hand or read with PoolFromARM) makes callers wait in line instead
//     of failing with sessions.ErrPoolAtCapacity. Fair: a user's calls run
//     one at a time, and users waiting for a slot are served first come,
//     first served, so one busy user cannot starve the others.
//   - Retry-After, per pool: after a 429 or 503 (to any request) no
//     request goes to that pool before its Retry-After has passed (or the
//     fleet's jittered exponential backoff when it sent none), and then one
//     new session at a time until one works, so a throttled pool sees one
//     request per Retry-After rather than one per waiting caller. A
//     capacity answer (404 or 429 MaxConcurrentSessionsReached) holds new
//     sessions in that pool back until its Retry-After (which estimates
//     when an idle session expires, so it is honoured up to
//     Options.MaxBackoff) or until the fleet frees a slot there itself.
//   - Capacity accounting that converges: every session the fleet
//     allocated is in use, kept, or being deleted in the background, and
//     holds its slot until the service confirms it is gone. Deletes are
//     retried (at most five in a row, honouring Retry-After and the pool's
//     backoff); then, and whenever the pool is full while this fleet keeps
//     idle sessions there, the fleet lists the pool's sessions and trusts
//     the listing over its own counts. In Stats, Live is always InUse plus
//     Kept plus Deleting, and Deleting drains once the pools are healthy.
//   - Slot hygiene: a released session is kept for its user's next call
//     until idle for Options.KeepIdle (or deleted at once with
//     ReleaseDelete), and is reclaimed as soon as another user waits.
//     Reap lists every pool's sessions and deletes only this layer's that
//     are idle or expired, never a foreign one.
//   - Several pools: users map to pools by rendezvous hashing (stable, and
//     adding a pool moves few users), spill over to another pool when
//     theirs is full, and fail over when a pool cannot be reached or
//     answers 503; a session left in a failed pool is deleted once the
//     pool is back.
//   - Contract probe: on a pool's first use the fleet learns which of
//     Pool.APIVersions it accepts and, on its first execution, whether it
//     takes the specification's shell body or the tutorial's (a 400 naming
//     the fields), and remembers both (Fleet.Contract).
//   - Input is checked before anything else: a bad user, command, option or
//     nil function fails at once with a *sessions.ArgumentError, sends no
//     request and takes no slot, even when the pools are full.
//
// Execute runs one command. Acquire and Do hand out a Lease for several
// calls in one session; Lease.Session and Lease.Client are the hook for
// layers that take a *sessions.SessionClient or a client and identifier.
//
// A command is never sent twice after an answer that leaves open whether it
// ran: the fleet resends only after answers that prove it did not run
// (capacity answers, 429, 503, connections that were never established,
// and a 400 naming the body's fields while it learns a pool's dialect), the
// rules of the sessions client.
//
// # Running several replicas
//
// A service usually runs two or more replicas with the same key and pools,
// behind a load balancer that may send one user's calls to any of them.
// The replicas need no coordination server. What holds, and is tested
// (TestReplicas: three fleets, one key, three pools, 100 users each, every
// user served by two replicas at once, real bash):
//
//   - A replica never deletes a session in which another replica's command
//     runs. Each Fleet mixes its replica name (IDs.Replica; New picks a
//     random one when it is empty) into its identifiers, so replicas never
//     share a session: a replica deletes only the sessions it made
//     (release, reclaim, KeepIdle, Close). The one exception is Reap, which
//     deletes another replica's session only when the pool reports it idle
//     (lastAccessedAt) for Options.ReapIdle, or with ReapOptions.All: keep
//     ReapIdle above your longest command and never use All while other
//     replicas serve users.
//   - No command runs twice and none is lost to another replica: resends
//     happen only after answers that prove the command did not run.
//   - Replicas do not hoard each other's slots. A replica lists a pool
//     while it keeps idle sessions there (every second when at most two
//     slots, or less than a fifth, were free; every five seconds
//     otherwise), and deletes those kept for a second or more as soon as
//     the listing shows the pool full (another replica may be waiting); it
//     sizes its own share from the sessions the listing shows that are not
//     its own.
//   - Every replica honours every Retry-After on its own.
//
// What does not hold: a user's files are per replica. Two calls of one
// user that land on different replicas run in different sessions; send a
// user's calls to one replica (sticky routing) when state must persist,
// and hold a Lease (Acquire or Do) for work that needs one session. Give
// each replica a stable IDs.Replica (its pod or host name) so that it
// finds its sessions again after a restart; sessions of a replica that
// went away for good are released by the pool's cooldown or by Reap.
// Waiting is first come, first served within a replica, not across
// replicas. Sharing one session per user across replicas would need a
// lock the service does not offer (a delete cannot be made conditional on
// no command running), so the fleet does not do it; a service that needs
// it can hold an external lease per session identifier around each call
// (an Azure Blob lease on a blob named after the identifier, or a Redis
// SET NX PX key renewed while the call runs) and give every replica the
// same IDs.Replica.
//
// # Example
//
//	f, err := fleet.New(&fleet.Options{
//		IDs: fleet.IDs{Key: key, Replica: os.Getenv("POD_NAME")}, // 32 secret bytes
//		Pools: []fleet.Pool{
//			{Name: "eastus", Endpoint: eastEndpoint, Credential: cred, MaxConcurrentSessions: 100},
//			{Name: "westus", Endpoint: westEndpoint, Credential: cred, MaxConcurrentSessions: 100},
//		},
//	})
//	if err != nil { ... }
//	defer f.Close(context.Background())
//	resp, err := f.Execute(ctx, fleet.User{Tenant: "acme", ID: "alice"}, sessions.ShellCommand("ls"), nil)
package fleet
