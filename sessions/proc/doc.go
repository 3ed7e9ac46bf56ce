// Package proc runs commands in a session of a shell session pool the way
// os/exec runs them on the local machine, and returns their true result.
//
// The service's own call, [sessions.SessionClient.Execute], is lossy on
// live shell pools: stdout and stderr are cut silently at 4,096 bytes, the
// last write is sometimes lost, a script over about 128 KiB cannot be sent,
// and there is no environment, working directory or cancellation. A [Cmd]
// has none of these limits:
//
//	cmd := proc.Command(s, "make", "test") // or proc.Script(s, "cd src && make test")
//	cmd.Dir = "src"
//	cmd.Env = []string{"GOFLAGS=-count=1"}
//	out, err := cmd.Output(ctx) // stdout byte for byte; *proc.ExitError for a non-zero exit
//
// s is a *sessions.SessionClient: a session of a client
// (Client.NewSessionClient), or the session of a fleet lease.
//
// # What it is like os/exec
//
// A Cmd is configured by fields (Args or Script, Env, Dir, Stdin, Stdout,
// Stderr, WaitDelay) and run once with Run, Output, CombinedOutput, or
// Start and Wait. A non-zero exit is an [*ExitError] with ExitCode; nil
// Stdout and Stderr discard the output; Wait returns after the output has
// been collected, waiting (up to WaitDelay) for the processes the command
// left behind to close it, and returns [ErrWaitDelay] when they did not.
//
// Output is []byte, as with os/exec, because it is exact: the bytes the
// command wrote, UTF-8 or not. ExecuteResponse.Stdout is a string because
// the service sends it as JSON text, in which other bytes arrive replaced.
//
// # What a remote process adds
//
// Every method that talks to the session takes a context; cancelling the
// context of Run or Wait kills the command, keeps the output written until
// then and returns the context's error. Cmd.Timeout kills the command
// after a duration and keeps its output (exit code 124). A started
// [Process] has an ID: any program that knows the session and the ID can
// [Attach] to it, read its output from any offset while it runs, Wait for
// it or Kill it. Kill (and Timeout) end the command's process group and
// every process that carries its mark in its environment, so that a child
// started with setsid is caught too.
//
// # How it works
//
// Each command runs under a small supervisor written in bash (wrapper.sh in
// this package, of which each request sends the part it needs; it needs
// bash 4.4 and the POSIX tools cat, wc, tail, cksum, rm and env) that keeps
// its exit status, stdout and stderr in files named [FilePrefix]+ID+".*" in
// the session's file root (/mnt/data). Each report of the supervisor
// carries the output that fits under the service's cap together with its
// length and checksum, on both stdout and stderr, so that anything the
// service cut or lost is detected and read from the files instead
// (DownloadFile). A command that ends within about 40 s with small output
// costs one request; large output costs one download per stream; longer
// commands are polled (each poll waits in the session up to 20 s for news).
// The files stay for [KeepAfterEnd] after the process's end was first
// reported (one minute for Run), or until [Process.Release]; requests of
// the package remove the files whose time has passed (looking for them at
// most every 5 s, which keeps a request cheap in a session with many
// files). The package keeps no state of its own between calls: all of it is
// in the session.
//
// # Errors
//
// Input is checked before anything is sent: invalid input is a
// *sessions.ArgumentError, matching sessions.ErrInvalidArgument. A
// directory that cannot be entered is [ErrDirNotFound] (the command did not
// run). [ErrProcessNotFound], [ErrProcessLost] and [ErrOutputLost] say why
// a result cannot be read; the errors of package sessions (an
// *azcore.ResponseError inside a *sessions.ServiceError) pass through.
// Errors never contain the session identifier.
//
// # Retries
//
// The request that starts a command is as non-idempotent as the command:
// it is retried only where Execute retries (failures after which the
// command cannot have run). Polls, kills, releases and downloads are
// idempotent and retried.
package proc
