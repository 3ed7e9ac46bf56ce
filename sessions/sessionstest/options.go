package sessionstest

import (
	"context"
	"testing"
	"time"
)

// Defaults used when the corresponding Options field is empty.
const (
	// DefaultSubscriptionID is the subscription the emulator serves when
	// Options.SubscriptionID is empty.
	DefaultSubscriptionID = "00000000-0000-0000-0000-000000000000"
	// DefaultResourceGroup is the resource group of the default pools.
	DefaultResourceGroup = "shellpool-rg"
	// DefaultTenantID is the tenant ("tid") of the tokens the emulator mints.
	DefaultTenantID = "00000000-0000-0000-0000-0000000000aa"
	// DefaultLocation is the location of pools that do not name one.
	DefaultLocation = "northcentralus"
	// DefaultPoolName is the name of the pool a server has when
	// Options.Pools is empty.
	DefaultPoolName = "shellpool"
	// DefaultMaxConcurrentSessions is the session limit of a pool whose
	// MaxConcurrentSessions is zero.
	DefaultMaxConcurrentSessions = 5
	// DefaultCooldown is the idle time after which a session of a pool whose
	// Cooldown is zero is destroyed (cooldownPeriodInSeconds 300).
	DefaultCooldown = 300 * time.Second
	// DefaultExecutionTimeout is the timeout of an execution whose request has
	// no timeoutInSeconds: the shell container's default (API.md §1.9).
	DefaultExecutionTimeout = 180 * time.Second
	// DefaultOutputStreamsMaxLength is the per-stream output cap, in bytes
	// (as measured on live shell pools), when a request has no
	// outputStreamsMaxLength.
	DefaultOutputStreamsMaxLength = 4096
	// MaxOutputStreamsMaxLength is the largest outputStreamsMaxLength a
	// request may ask for (16 MiB), and the cap of Behavior.UncappedOutput.
	MaxOutputStreamsMaxLength = 1 << 24
	// MaxArgBytes is the largest single argument (the shellCommand script,
	// or one element of execCommandAndArgs or the tutorial's command array)
	// a command accepts: Linux's MAX_ARG_STRLEN, 128 KiB including the
	// terminating NUL, so 131,071 bytes of text. A larger argument is
	// answered with status "126" and "Argument list too long" on stderr,
	// as bash reports a failed exec; nothing runs.
	MaxArgBytes = 128<<10 - 1
	// DefaultMaxUploadBytes is the upload size limit when
	// Options.MaxUploadBytes is zero: 128 MiB, the service-level limit in the
	// code interpreter documentation (API.md §1.6.1 lists 250 MB for the
	// container itself; the stricter service limit is what clients meet).
	DefaultMaxUploadBytes = 128 << 20
	// DefaultPageSize is the page size of file and session lists.
	DefaultPageSize = 100
	// DefaultMaxRecordedRequests is how many requests Server.Requests keeps
	// when Options.MaxRecordedRequests is zero.
	DefaultMaxRecordedRequests = 1000

	// DefaultSandboxBytes is the writable space of a sandboxed session
	// when Options.SandboxBytes is zero: 512 MiB for its /mnt/data, /tmp,
	// /root and the copy-on-write layer over the system directories
	// together.
	DefaultSandboxBytes = 512 << 20

	// ContainerTypeShell is the container type of shell session pools, the
	// only type whose executions the emulator runs.
	ContainerTypeShell = "Shell"
)

// Options configures a Server. A nil *Options is the same as the zero value.
type Options struct {
	// Addr is the TCP address to listen on. Default "127.0.0.1:0" (a free
	// port on loopback).
	Addr string

	// SubscriptionID, ResourceGroup and Location describe where the default
	// pools live. Defaults: DefaultSubscriptionID, DefaultResourceGroup,
	// DefaultLocation.
	SubscriptionID string
	ResourceGroup  string
	Location       string

	// TenantID is the "tid" claim of minted tokens. Default DefaultTenantID.
	TenantID string

	// Pools are the session pools served from the start. Default: one pool
	// named DefaultPoolName (Shell, 5 sessions, 300 s cooldown, egress
	// enabled). More can be added with Server.AddPool.
	Pools []Pool

	// RBAC, when true, demands that the token's principal holds the Session
	// Executor role on the pool (Server.GrantSessionExecutor), else 403.
	RBAC bool

	// RequestLog, when set, is called once for every request the server
	// has answered (Azure Resource Manager, Entra ID and the data plane; not
	// the managed identity endpoint), with its method, its path without
	// identifiers, its status and how long it took. examples/emulator -v
	// prints these.
	RequestLog func(LoggedRequest)

	// Behavior holds the switches between the live service's measured
	// behaviour (the zero value) and its quirks or an idealised service.
	Behavior Behavior

	// CapacityStatus is the HTTP status of the answer to a request for a new
	// session in a full pool. Default 404, as API.md §1.8 documents.
	CapacityStatus int

	// Scripted, when set, answers executions instead of running processes.
	// It is called with a context that ends at the execution's timeout or
	// when the session, its pool or the server goes away; it must return
	// promptly then, since deleting any of them waits for it.
	Scripted func(ctx context.Context, req ExecRequest) ExecResult

	// Dir is where the server creates its own directory (named
	// sessionstest-*) that holds the session directories; Close removes it.
	// Default: os.TempDir(). Sandboxed sessions keep their files in memory
	// (see SandboxBytes): the server then makes no directory, and only
	// unlinked files for commands' output.
	Dir string

	// PageSize is the number of items per page of file and session lists.
	// Default DefaultPageSize.
	PageSize int

	// MaxTimeout, when positive, caps every execution's timeout (requested or
	// default).
	MaxTimeout time.Duration

	// MaxUploadBytes is the largest file an upload may carry; larger uploads
	// get 413. Default DefaultMaxUploadBytes.
	MaxUploadBytes int64

	// MaxRecordedRequests is how many of the most recent requests
	// Server.Requests keeps (older ones are forgotten, so a long-running
	// emulator does not grow without bound). Default
	// DefaultMaxRecordedRequests; negative records nothing.
	MaxRecordedRequests int

	// Now, when set, replaces time.Now for session timestamps and idle
	// expiry, so tests can move time forward and call Server.ExpireIdle. The
	// ARM side uses it too (resource timestamps, the PrincipalNotFoundFor
	// window); tokens are always minted and checked against the real clock.
	Now func() time.Time

	// PrincipalNotFoundFor makes the ARM side behave like Entra ID right
	// after a user-assigned identity is created: for this long, role
	// assignments naming the new identity's principal are refused with 400
	// PrincipalNotFound unless they set principalType ServicePrincipal, as
	// Azure does while the principal replicates. Zero (the default) turns
	// the delay off.
	PrincipalNotFoundFor time.Duration

	// Isolation chooses whether sessions are sandboxes (Linux namespaces:
	// own /mnt/data and file system view, processes, and network per the
	// pool's EgressEnabled; see the package documentation). The zero value,
	// IsolationAuto, sandboxes where the kernel allows it and warns
	// otherwise; the IsolationEnv environment variable can change it then.
	Isolation Isolation

	// SandboxBytes bounds the writable space of each sandboxed session:
	// its /mnt/data, /tmp, /root and its changes to the system directories
	// share one tmpfs of this size, held in memory only as far as it is
	// used. A command that fills it gets "No space left on device" (ENOSPC);
	// other sessions are unaffected. Default DefaultSandboxBytes.
	SandboxBytes int64

	// sandboxFault makes a sandbox set-up step fail on purpose (tests).
	sandboxFault string

	// TB, when set, registers Close with TB.Cleanup. NewServer reports a
	// start failure through it: TB.Skip when bash cannot be found (an
	// ErrNoBash error, so tests that need commands skip on machines without
	// bash), TB.Fatal otherwise (an *IsolationError included). It also
	// gets, through TB.Log, the one warning of IsolationAuto when sessions
	// cannot be sandboxes.
	TB testing.TB
}

// Behavior switches how the emulator's data plane behaves. The zero value is
// the live shell pool as measured (docs/API.md §1.9.1) with three
// behaviours off: output cut silently at 4,096 bytes per stream, arguments
// bounded by MAX_ARG_STRLEN, Retry-After on asynchronous answers and on the
// capacity answer, and detached background processes kept until their
// session ends are on; the lost final write (LostFinalWriteRate), the flat
// file store (FlatFileStore) and the refusal of the tutorial's body
// (RejectTutorialDialect) are off until a test sets them. The package doc's
// "Live behaviour" table lists each. Server.InjectFault (scripted failures) and
// Server.SetPoolControl (per-pool answers) complete the set.
type Behavior struct {
	// RejectTutorialDialect answers 400 to executions on shell pools whose
	// body carries the tutorial's codeInputType or executionType fields,
	// as some live pools are reported to do (API.md §1.5.2); the message
	// names the field and says to send the specification's body
	// (shellCommand or execCommandAndArgs). Off by default: the emulator
	// accepts both bodies. PoolControl.Dialect restricts one pool instead.
	RejectTutorialDialect bool

	// LostFinalWriteRate is the probability, from 0 to 1, that the final
	// write a command makes to stdout before it exits is missing from the
	// answer, as measured live in 1.6-4 % of runs. The emulator drops the
	// last line of stdout (the text after the last newline but one, which
	// is what one echo or printf writes); status and stderr are untouched.
	// Turn it on (0.03 is the live rate) to test code that must survive the
	// loss, for example by appending a completion marker and retrying when
	// it is missing. 0, the default, never drops anything.
	LostFinalWriteRate float64

	// Seed seeds the randomness of the quirks (LostFinalWriteRate), so a
	// test sees the same sequence of drops for the same sequence of runs.
	// The zero value is a valid seed.
	Seed int64

	// FlatFileStore makes the files API behave as measured on live pools
	// with api-version 2025-02-02-preview: a flat store of bare file names
	// directly under /mnt/data. A path query other than "" or "/mnt/data",
	// or a file name with a "/" in it, is refused with 400 InvalidPath
	// (the live service rejects such paths; the message says to use a bare
	// name). Commands can still make directories; the files API only lists
	// the top level. Off by default, since newer api-versions document
	// directories (docs/API.md §1.6.1).
	FlatFileStore bool

	// UncappedOutput idealises output: a request without
	// outputStreamsMaxLength gets up to MaxOutputStreamsMaxLength bytes
	// per stream instead of the live 4,096. A request that sets
	// outputStreamsMaxLength is cut there either way. Tests that want to
	// assert on long output without setting the field use it; code meant
	// for production should set outputStreamsMaxLength instead.
	UncappedOutput bool
}

// Pool describes a session pool the emulator serves.
type Pool struct {
	// Name is the pool's name (required): 3-63 lower-case letters and digits,
	// starting with a letter, as the service requires.
	Name string
	// SubscriptionID and ResourceGroup default to the server's.
	SubscriptionID string
	ResourceGroup  string
	// Location defaults to the server's location.
	Location string
	// ContainerType defaults to ContainerTypeShell. Executions on pools of
	// other types are answered with 501.
	ContainerType string
	// MaxConcurrentSessions limits live sessions; a request for a new session
	// beyond it is refused. Default DefaultMaxConcurrentSessions.
	MaxConcurrentSessions int
	// Cooldown is the lifecycle's cooldown period: a session idle this long
	// is destroyed. Zero means DefaultCooldown; negative means never.
	Cooldown time.Duration
	// EgressEnabled is the pool's sessionNetworkConfiguration. Without it
	// (the service's default), a sandboxed session has a network of its
	// own with loopback only: nothing leaves it, not even to the host's
	// loopback. With it, a sandboxed session shares the host's network,
	// which (unlike live egress) includes the host's loopback. Unisolated
	// sessions always share the host's network.
	EgressEnabled bool
}

// ExecRequest is an execution as the Scripted function of Options sees it.
type ExecRequest struct {
	// Pool is the pool's name.
	Pool string
	// SessionID is the session identifier.
	SessionID string
	// ExecutionID is the execution's id (the operation-id header when sent).
	ExecutionID string
	// ShellCommand is the script to run with bash, or "" when Args is set.
	ShellCommand string
	// Args is the argv form (execCommandAndArgs or the tutorial's command).
	Args []string
	// Stdin is the standard input.
	Stdin string
	// Timeout is the execution's effective timeout.
	Timeout time.Duration
	// OutputStreamsMaxLength is the per-stream output cap in bytes.
	OutputStreamsMaxLength int
	// Dir is the session's directory on the local disk (its /mnt/data).
	Dir string
}

// ExecResult is the answer of a Scripted function.
type ExecResult struct {
	// ExitCode becomes the response's status. Use -1 with ErrorCode for
	// failures that have no exit code.
	ExitCode int
	// Stdout and Stderr are cut at the request's OutputStreamsMaxLength
	// bytes (a UTF-8 character split by the cut becomes U+FFFD).
	Stdout string
	Stderr string
	// ErrorCode and ErrorMessage, when ErrorCode is set, become the
	// response's error object (e.g. "ExecutionTimeout", "CommandStartError").
	ErrorCode    string
	ErrorMessage string
}
