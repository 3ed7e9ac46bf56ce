// Package shellpool is the root of a Go SDK for Azure Container Apps shell
// session pools (dynamic sessions): sandboxes in which a Go service runs
// untrusted or generated shell commands. The root package holds only this
// documentation; the code lives in the packages below.
//
// # Packages
//
// [github.com/shellpool/shellpool/sessions] is the data-plane client. A
// sessions.Client runs shell commands in a session (synchronously with
// Execute, or as a long-running operation with BeginExecute), uploads and
// downloads session files, and gets, lists and deletes sessions. A session is
// created by the service the first time an identifier is used; the
// sessions.SessionClient handle deletes it again on Close, so leaked sessions do not
// exhaust the pool's maxConcurrentSessions. Retries never run a command twice
// (see "Retries" in the sessions package documentation).
//
// [github.com/shellpool/shellpool/sessions/proc] runs commands in a session
// the way os/exec runs them locally, on top of those raw calls: Cmd.Run and
// Cmd.Output return a command's true result (exit code, exact output of any
// size, env, working directory, stdin, timeouts, cancel), and Cmd.Start runs
// it in the background as a Process that can be read, waited for, killed
// and re-attached from another program.
//
// [github.com/shellpool/shellpool/sessions/fleet] is the layer for services
// with many users: per-user session identifiers derived from a secret key,
// callers that wait in line for capacity instead of failing, a reaper that
// deletes only the layer's own idle sessions, and several pools with
// spill-over and fail-over.
//
// [github.com/shellpool/shellpool/sessions/sessionstest] is an in-process
// emulator of the service, in the spirit of net/http/httptest. It runs
// commands for real on the local machine (one working directory per session,
// output limits, timeouts, maxConcurrentSessions, cooldown), serves the file
// and session APIs, checks bearer tokens and, optionally, the Session Executor
// role, and emulates the Azure Resource Manager side (resource groups,
// template deployments, session pools, managed identities, role assignments
// and a managed identity token endpoint). Tests and every example run against
// it with no Azure account. It is a development tool, not a security
// boundary.
//
// [github.com/shellpool/shellpool/pool] models Microsoft.App/sessionPools
// resources, validates them, renders and parses ARM templates (the tutorial's
// deploy.json), and manages pools, template deployments, resource groups and
// provider registration through ARM.
//
// [github.com/shellpool/shellpool/identity] gets tokens for the right
// audience and explains a token's claims without printing it, manages
// user-assigned managed identities, and assigns the "Azure ContainerApps
// Session Executor" role with the retries a just-created identity needs.
//
// The programs under examples/ mirror the steps of the tutorial "Execute shell
// commands in a session pool using Azure Container Apps"; examples/quickstart
// runs them all in one process.
//
// # Authentication
//
// Every client takes an azcore.TokenCredential, usually
// azidentity.DefaultAzureCredential. The sessions client requests tokens for
// https://dynamicsessions.io/.default, the audience the data plane accepts;
// an ARM token (what az account get-access-token returns by default) is
// refused with 401. The principal needs the Session Executor role
// (0fb8eba5-a2bb-4abe-b1c1-49dfad359bb0) on the pool. The pool and identity
// clients use ARM tokens (https://management.azure.com/.default). Tokens are
// cached and refreshed by azcore's bearer token policy and never logged.
//
// # Logging
//
// No package logs on its own. Turn on azcore's HTTP diagnostics with
// azcore/log.SetListener; session identifiers and tokens are redacted there.
package shellpool
