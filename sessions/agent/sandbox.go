package agent

import (
	"context"
	"errors"
	"io"
	"time"
)

// Sandbox is what the tool handlers need from one session: a persistent
// shell and its files. NewSandbox makes one from a shell opened with
// sessions/shell; implement it yourself to serve the tools from anything
// else (a test double, another sandbox).
//
// Paths given to the file methods are absolute and already checked by the
// handlers to lie under Tools.Root. Implementations must be safe for
// concurrent use; calls may be served one at a time.
type Sandbox interface {
	// Exec runs script in the persistent shell: the working directory,
	// variables, functions and options it leaves behind are there for the
	// next Exec. It streams the command's output to req.Stdout and
	// req.Stderr (which may be the same writer) and returns its exit code.
	// When req.Timeout expires, the command and its children are killed,
	// the shell and its state survive, and the result has TimedOut set.
	// A command that ends the shell itself (exit, exec) gives an error
	// matching ErrShellExited, with the shell's exit status in
	// ExecResult.ExitCode when known (else -1).
	Exec(ctx context.Context, req ExecRequest) (ExecResult, error)

	// Restart replaces the shell with a fresh one in the same session: the
	// files stay, the shell state (directory, variables) is gone.
	Restart(ctx context.Context) error

	// ReadFile returns the contents of the file at path. A missing file
	// gives an error matching ErrNotExist, a directory one matching
	// ErrIsDir, and a file larger than limit bytes one matching
	// ErrFileTooLarge.
	ReadFile(ctx context.Context, path string, limit int64) ([]byte, error)

	// WriteFile replaces the contents of the file at path with data,
	// creating it and its parent directories when they do not exist.
	WriteFile(ctx context.Context, path string, data []byte) error

	// ListDir lists the directory at path down to depth levels (1: its
	// entries only), including hidden entries: paths relative to path, with
	// a trailing "/" on directories, in any order. A missing directory
	// gives an error matching ErrNotExist.
	ListDir(ctx context.Context, path string, depth int) ([]string, error)
}

// ExecRequest is one command for Sandbox.Exec.
type ExecRequest struct {
	// Script is the bash command line to run in the shell.
	Script string
	// Timeout bounds how long the command may run; it is always set.
	Timeout time.Duration
	// Stdout and Stderr receive the command's output as it is produced.
	// They may be the same writer.
	Stdout, Stderr io.Writer
}

// ExecResult is how a command run by Sandbox.Exec ended.
type ExecResult struct {
	// ExitCode is the command's exit status (124 after a timeout).
	ExitCode int
	// TimedOut is true when ExecRequest.Timeout expired and the command
	// was killed; the shell survived.
	TimedOut bool
}

// Errors a Sandbox returns for the handlers to turn into advice for the
// model. Implementations wrap them (fmt.Errorf with %w) or return them.
var (
	// ErrShellExited: the command ended the shell itself (exit, exec,
	// kill $$); nothing more runs until Restart.
	ErrShellExited = errors.New("agent: the command ended the shell; restart it")
	// ErrShellLost: the shell is gone without a command ending it (its
	// session expired or was replaced); its state is lost, and a fresh
	// shell runs the next command.
	ErrShellLost = errors.New("agent: the shell is gone (its session ended or was replaced)")
	// ErrNotExist: the file or directory does not exist.
	ErrNotExist = errors.New("agent: no such file or directory")
	// ErrIsDir: the path is a directory where a file was expected.
	ErrIsDir = errors.New("agent: the path is a directory")
	// ErrFileTooLarge: the file is larger than the handler reads.
	ErrFileTooLarge = errors.New("agent: the file is too large")
)
