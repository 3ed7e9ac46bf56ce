// Package sessions is the data-plane client of Azure Container Apps dynamic
// sessions: it runs shell commands in a session pool, moves files in and out
// of sessions, and manages session lifetimes.
//
// A session pool keeps sandboxed containers ready. A session is named by an
// identifier the caller chooses ([NewSessionID] makes a good one); the first
// request that names a new identifier allocates a session from the pool, and
// later requests with the same identifier reach the same session until it
// is deleted or sits idle past the pool's cooldown.
//
// Create one [Client] per pool with [NewClient] and reuse it; it is safe for
// concurrent use. The endpoint is the pool's poolManagementEndpoint (read it
// from ARM) or the regional form built by [PoolEndpoint]:
//
//	cred, err := azidentity.NewDefaultAzureCredential(nil)
//	// handle err
//	client, err := sessions.NewClient(poolEndpoint, cred, nil)
//	// handle err
//	s := client.NewSessionClient(sessions.NewSessionID()) // a fresh random identifier
//	defer s.Close(ctx)       // deletes the session, even once ctx has expired
//	resp, err := s.Execute(ctx, sessions.ShellCommand("ls -la /mnt/data"), nil)
//	// handle err
//	if resp.ExitCode != nil && *resp.ExitCode == 0 {
//		fmt.Print(resp.Stdout)
//	}
//
// A [Command] is a bash script ([ShellCommand]) or an argv ([ExecCommand]),
// with optional stdin, timeout and output limit. [Client.Execute] waits for
// the result; [Client.BeginExecute] returns a [runtime.Poller] for long
// commands; [Client.GetExecution] reads one execution. The result reports
// the status exactly as the service sent it, the exit code when the service
// gave one (a numeric status or an exitCode field; never from a word such as
// Succeeded), stdout, stderr, the run time, and whether the command timed out
// or its output may have been cut.
//
// # Exact results: package proc
//
// Execute is the raw service call, and live shell pools make it lossy:
// stdout and stderr are cut silently at 4,096 bytes, the last write is
// sometimes lost, a script over 128 KiB cannot be sent, and there is no
// env, working directory or cancellation. Package
// [github.com/shellpool/shellpool/sessions/proc] runs commands in a
// session the way os/exec runs them locally, with their true exit code and
// output at any size, and background processes to reattach to; it is
// built on this package's public API only.
//
// By default the client sends the request body the service specification
// defines for shell pools (shellCommand or execCommandAndArgs, plus
// timeoutInSeconds, always sent, [DefaultTimeout] unless Command.Timeout is
// set, and stdin and outputStreamsMaxLength when set). Set
// ClientOptions.Dialect to [DialectTutorial] to send the body the Azure
// shell-pool tutorial uses instead.
//
// # Authentication
//
// Every request carries a bearer token for the audience
// https://dynamicsessions.io (scope https://dynamicsessions.io/.default),
// obtained from the azcore.TokenCredential given to [NewClient], cached and
// refreshed before it expires by azcore's bearer token policy. Any azidentity
// credential works: DefaultAzureCredential, ManagedIdentityCredential,
// WorkloadIdentityCredential, AzureCLICredential. The credential's principal
// needs the "Azure ContainerApps Session Executor" role on the session pool.
// A sovereign cloud or a proxy with another audience is configured through
// ClientOptions.Cloud.Services[ServiceName].Audience. A token can create and
// use any session in the pool: never hand it to end users.
//
// # Retries
//
// Requests go through azcore's retry policy, configured by
// ClientOptions.Retry. Reads (GetExecution, polling, file and session
// operations) are retried as azcore usually does; an upload is retried only
// when its body is seekable (see [Client.UploadFile]).
//
// Executions are not idempotent, and a retry never runs a command twice.
// Every execution carries an operation-id header, one per call
// (ExecuteOptions.OperationID or a random UUID), reused by all of its
// retries. Execute and BeginExecute retry, within ClientOptions.Retry's
// limits and delays, only failures after which the command cannot have run:
// a connection that was never established (dial, DNS or connection-refused
// errors), HTTP 429 and HTTP 503, honouring Retry-After. HTTP 408, 500, 502
// and 504, and a connection lost after the request was sent, are returned to
// the caller, because the command may already have run.
// ExecuteOptions.RetryAmbiguousFailures retries those too; that is safe only
// against a service that dedupes executions by operation-id (the emulator
// in sessions/sessionstest does; the live service's behaviour is not
// documented) or for commands that are safe to run twice. Retry options set
// per call with policy.WithRetryOptions on the context are honoured the same
// way: they can narrow what is retried, never widen it to ambiguous
// failures.
// A failure that repeats however often it is tried (a host name that does
// not exist, a TLS certificate the client does not trust) is never retried.
// An error without an answer from the pool says how many attempts were made
// and, for an execution, either "the command did not run" (nothing reached
// the service) or "the command may or may not have run" (the connection
// failed after the request was sent).
// Cancelling the context ends any call promptly with an error
// matching ctx.Err(); a command already sent may still run to completion in
// the session.
//
// # Errors
//
// Input the client refuses before sending anything (an invalid session
// identifier, an empty command, a negative timeout) is an [*ArgumentError]
// matching [ErrInvalidArgument]. A service failure is an
// *azcore.ResponseError, reachable with errors.As, carrying the HTTP status,
// the error code (from x-ms-error-code or the body) and the raw response.
// Common failures are also matched by errors.Is: [ErrUnauthorized] and
// [ErrForbidden] (whose messages say which token audience and role to
// check), [ErrSessionNotFound], [ErrFileNotFound], [ErrExecutionNotFound] and
// [ErrPoolAtCapacity]. A command that ran and failed is not a Go error: it is
// a result with a non-zero ExitCode, TimedOut, or Error set. Errors never
// contain tokens or full session identifiers ([RedactSessionID] shows what
// they contain instead).
//
// # Tracing and logging
//
// The package never logs or prints by itself. HTTP diagnostics come from
// azcore's logging policy: call log.SetListener (and optionally
// log.SetEvents) from github.com/Azure/azure-sdk-for-go/sdk/azcore/log to
// receive them. That is safe to leave on: tokens are redacted, and so is
// every query parameter except api-version and the file-listing options
// (session identifiers travel as the identifier parameter) and the
// Operation-Location header; transport errors and error bodies have the
// identifier replaced by [RedactSessionID]'s form before azcore sees them.
// ClientOptions.Logging.IncludeBody is the exception: it logs bodies
// verbatim, and execution answers carry the identifier, so use it only
// while debugging.
//
// Spans go to ClientOptions.TracingProvider. For OpenTelemetry, use the
// module github.com/Azure/azure-sdk-for-go/sdk/tracing/azotel (this module
// does not depend on it):
//
//	provider := azotel.NewTracingProvider(otel.GetTracerProvider(), nil)
//	client, err := sessions.NewClient(endpoint, cred, &sessions.ClientOptions{
//		ClientOptions: azcore.ClientOptions{TracingProvider: provider},
//	})
//
// Each public method opens one span named "Client.<Method>" with
// az.namespace=Microsoft.App, and azcore adds an HTTP span per attempt. The
// execution spans (Execute, BeginExecute, GetExecution) also carry
// [AttrOperationID], [AttrSessionID] (redacted), [AttrStatus],
// [AttrExitCode] (only when the service gave one), [AttrTimedOut],
// [AttrNewAllocation] and the timing headers in milliseconds
// ([AttrAllocationTimeMS], [AttrPreparationTimeMS], [AttrExecutionTimeMS],
// [AttrOverallExecutionTimeMS]); the attributes known only from the answer
// need a provider that implements SpanFromContext, as azotel's does. No
// span holds a token or a full session identifier.
//
// # Testing
//
// The package sessions/sessionstest is an in-process emulator of the
// service: an HTTPS server that keeps sessions as local directories, runs
// commands as local processes with real timeouts and output limits, checks
// bearer tokens, dedupes executions by operation-id, and injects faults on
// demand. Point a Client at it through its endpoint, credential and
// ClientOptions to test code that uses this package without Azure. It is a
// development tool, not a security boundary.
package sessions
