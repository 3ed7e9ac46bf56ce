// Package sessionstest is an in-process emulator of Azure Container Apps
// dynamic sessions for shell session pools, in the spirit of net/http/httptest:
// start it in a test or a local program, point a sessions.Client (and the
// pool and identity clients, or Azure's own ARM clients) at it, and the
// commands you send really run on the local machine.
//
// Every session is a sandbox, as a live session is a container: on Linux
// (where unprivileged user namespaces are allowed) it has its own file
// system view with its file store at /mnt/data, its own processes and, per
// the pool's EgressEnabled, its own network; see "Sessions" below. That
// keeps a test run of untrusted or generated commands away from your
// files, processes and secrets. A shared kernel is still no hardened
// boundary against a determined attacker: never expose the emulator to
// untrusted users or networks.
//
// # What it serves
//
// The dynamic sessions data plane (api-versions 2024-10-02-preview and later)
// under both endpoint forms:
//   - the regional path form, {URL}/subscriptions/{sub}/resourceGroups/{rg}/sessionPools/{pool}
//     (PoolEndpoint, PoolEndpointFor), and
//   - the host form, https://{pool}.localhost:{port} (PoolHostEndpoint),
//     reachable through the *http.Client returned by Client.
//
// A data-plane request sent elsewhere (to the base URL, or under a pool's
// ARM resource ID) gets a 404 whose message names the endpoint form to use.
//
// Executions (POST /executions in every request dialect: shellCommand,
// execCommandAndArgs, the tutorial's command array with codeInputType and
// executionType, optional stdin; synchronous and asynchronous with
// GET /executions/{id}; executions with the same operation-id header run
// once), files (/files upload, list, metadata, content, delete, confined to
// the session's directory), sessions (/session get and delete,
// /listSessions, /metadata, /.management/stopSession), and the pool's MCP
// server at /mcp once ARM enabled it (properties.mcpServerSettings): JSON-RPC
// over POST, authenticated with the x-ms-apikey header that ARM's
// fetchMcpServerCredentials returns (rotateMcpServerCredentials replaces it),
// with the tools launchShell, whose environment is a session of the pool, and
// runShellCommandInRemoteEnvironment, whose commands run as executions do.
//
// Every other path goes to the emulator's Azure Resource Manager side:
// resource groups, provider registration, session pools (a pool deployed
// through ARM is served by the data plane with its settings), template
// deployments, user-assigned identities and role assignments. Cloud and
// ClientOptions point ARM clients at it; IdentityEndpoint serves managed
// identity tokens.
//
// # Sessions
//
// A session is created by the first execution or upload with a new
// identifier. What it is depends on Options.Isolation (IsolationAuto by
// default; the SHELLPOOL_EMULATOR_ISOLATION environment variable, see
// IsolationEnv, can choose "required" or "off" without code changes):
//
//	                     | live shell pool          | emulator, isolated (Linux)         | emulator, unisolated
//	---------------------+--------------------------+------------------------------------+----------------------------
//	boundary             | Hyper-V sandbox per      | Linux namespaces: user, mount,     | none: local processes with
//	                     | session (documented)     | PID, IPC, UTS, network             | your user's rights
//	file store           | /mnt/data                | /mnt/data (the files API's)        | a temporary directory,
//	                     |                          |                                    | named by SHELLPOOL_FILES_ROOT
//	working directory    | not documented           | /mnt/data                          | the session's directory
//	user                 | not documented           | root (uid 0), mapped to your user  | your user
//	HOME                 | not documented           | /root, empty and private           | the session's directory
//	system directories   | the pool's image         | the host's /usr, /bin, /lib*,      | the host's, writable as
//	                     |                          | /etc, /sbin, /opt, /var, copy-on-  | your user
//	                     |                          | write (changes stay in the session;|
//	                     |                          | files of users other than yours    |
//	                     |                          | stay read-only)                    |
//	home directories     | none of yours            | none: /home empty, your HOME hidden| all within reach
//	/tmp, /dev/shm       | the container's          | private to the session             | the host's
//	other processes      | none visible             | only the session's (own /proc)     | every process (ps, /proc)
//	network, egress off  | none (the default)       | loopback only, not the host's      | the host's network
//	network, egress on   | the internet             | the host's network, its loopback   | the host's network
//	                     |                          | included (live egress has not)     |
//	writable space       | not documented           | Options.SandboxBytes (512 MiB) in  | the host's disk
//	                     |                          | all, then ENOSPC                   |
//	processes end        | with the session         | with the session, Close, or the    | same: process groups, and
//	                     |                          | emulator's death (whole namespace) | a /proc sweep for the rest
//
// In automatic mode, where the kernel refuses sandboxes (no unprivileged
// user namespaces, a /proc that cannot be mounted, a missing system
// directory) or on macOS and Windows, sessions run unisolated with one
// warning through Options.TB (standard error without it) that says why;
// IsolationRequired makes Start fail instead with an *IsolationError
// naming the missing feature, and nothing is left behind.
// Server.IsolationStatus says which applies. A Scripted server runs no
// command and needs no sandbox.
//
// # Real execution
//
// Commands run with bash (argv forms run the executable directly, found on
// the session PATH) and a minimal environment, nothing from the host:
// PATH, HOME, PWD, LANG=C.UTF-8 and TERM=dumb; unisolated sessions add
// SESSIONSTEST_MARK (a random mark by which the emulator finds the
// session's processes) and SHELLPOOL_FILES_ROOT (the session directory,
// where the process layer keeps its files instead of the host's
// /mnt/data). Each command runs in its own process group; on timeout
// (timeoutInSeconds, default 180 s, capped by Options.MaxTimeout) the whole
// group is killed and the result has status "-1" and error code
// ExecutionTimeout. A command's stdout and stderr go to temporary files,
// not pipes, so no output is lost however busy the machine is; the answer
// carries the first outputStreamsMaxLength bytes of each. Detached
// background processes (nohup ... &) keep running after their execution
// answered, until the session is deleted or expires; deleting it, and
// Close, kill every process the session started, including ones that left
// the process group.
//
// A sandboxed session's processes live in a PID namespace whose init is
// this program re-executed (/proc/self/exe; the package's init function
// serves it before main runs, so any program or test binary that imports
// the package can host sandboxes): when the session ends, or the emulator
// dies however it dies, the init dies and the kernel kills every process
// of the namespace, and its mounts vanish with it. For the next new
// session, one sandbox per egress setting is kept ready. Unisolated, a
// command dies with the emulator on Linux (parent-death signal) and Start
// removes what killed emulators left behind. Pools enforce
// maxConcurrentSessions for new sessions and destroy sessions idle for the
// cooldown period, with their processes and files. On Windows, bash comes
// from Git for Windows or MSYS2 (Start returns ErrNoBash without it, and
// NewServer skips the test) and only a command's own process is killed.
//
// File operations go through an os.Root of the session directory, opened
// before any command runs, so no path, and no symbolic link a command
// swaps in, reaches outside it.
//
// Options.Scripted replaces process execution with a function, for tests
// that want fixed answers.
//
// # Live behaviour
//
// The emulator's defaults follow what live shell pools were measured to do
// (docs/API.md §1.9.1) except for three behaviours that are off until a test
// switches them on: the lost final write (intermittent, so a test would pass
// or fail by chance), the flat file store and the refusal of the tutorial's
// body (each seen on some pools or api-versions, not all). A test that
// passes against the defaults has therefore met the silent output cap, the
// argument limit, Retry-After and the capacity answer as production shows
// them, but not those three: a test of code that must survive lost final
// writes sets Behavior.LostFinalWriteRate (and Seed, to repeat a run); code
// that must work with the flat file store sets Behavior.FlatFileStore; code
// that must work with pools that refuse codeInputType and executionType sets
// Behavior.RejectTutorialDialect (or PoolControl.Dialect for one pool).
//
//	live behaviour                              | by default                     | switch
//	--------------------------------------------+--------------------------------+-------------------------------------------------
//	stdout, stderr cut at 4,096 bytes, silently | ON (split char: U+FFFD)        | Behavior.UncappedOutput turns it off
//	one argument <= 128 KiB (MAX_ARG_STRLEN)    | ON (status 126, stderr reason) | always on (see MaxArgBytes)
//	Retry-After on 202 and running GETs         | ON (Retry-After: 1)            | always on
//	capacity answer: 404                        | ON (404 with Retry-After)      | Options.CapacityStatus, PoolControl
//	detached processes live until session ends  | ON                             | always on
//	final stdout write lost in 1.6-4 % of runs  | OFF                            | Behavior.LostFinalWriteRate (and Seed) turns it on
//	flat file store (2025-02-02-preview)        | OFF: paths and directories     | Behavior.FlatFileStore turns it on
//	codeInputType/executionType refused (some)  | OFF: both bodies accepted      | Behavior.RejectTutorialDialect, PoolControl.Dialect
//	transient failures, drops, delays           | none                           | Server.InjectFault
//
// # Auth
//
// Data-plane requests need "Authorization: Bearer <token>" with a token the
// server minted (Credential, CredentialFor, Token) for the audience
// https://dynamicsessions.io that has not expired; otherwise 401
// InvalidAuthenticationToken. With Options.RBAC the token's principal must
// also hold the Session Executor role on the pool or a parent scope
// (GrantSessionExecutor, or a role assignment made through ARM), else 403.
//
// # For tests
//
// InjectFault makes the next requests of a route fail with a status,
// Retry-After, a delay, or a dropped connection (before or after the command
// ran). Requests returns what the server received (the most recent
// Options.MaxRecordedRequests requests), with tokens redacted.
// Close kills every process the server started and removes its files.
//
// # Example
//
//	srv := sessionstest.NewServer(nil)
//	defer srv.Close()
//	o := srv.ClientOptions()
//	client, err := sessions.NewClient(srv.PoolEndpoint(), srv.Credential(),
//		&sessions.ClientOptions{ClientOptions: o})
//	// ... client.Execute(ctx, sessions.NewSessionID(), sessions.ShellCommand("echo hello"), nil)
package sessionstest
