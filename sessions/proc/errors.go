package proc

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/shellpool/shellpool/internal/sdkerr"
)

// Errors of the package, for errors.Is. Input refused before anything is
// sent is an *sessions.ArgumentError instead, matching
// sessions.ErrInvalidArgument.
var (
	// ErrProcessNotFound: the session holds no process with that ID: it was
	// never started there, its files were removed (Release, or its keep time
	// after the end passed; see Process), or the session is gone. Start
	// the command again if it must run.
	ErrProcessNotFound = errors.New("proc: process not found in the session (never started there, its files were removed, or the session is gone)")
	// ErrProcessLost: the process's supervisor ended without recording the
	// command's exit status, or the session that ran it disappeared (it was
	// deleted or expired), so the exit status is unknown. Check the
	// session, and run the command again only if running it twice is safe.
	ErrProcessLost = errors.New("proc: the process ended without a completion record (its session was deleted or restarted); its exit status is unknown")
	// ErrOutputLost: the service lost or cut the layer's reports, and
	// neither a re-read nor the session's files made up for it after
	// several attempts. The command may have run: do not run it again
	// blindly; check the session's health and read the process again with
	// Attach.
	ErrOutputLost = errors.New("proc: the service lost the command's report and it could not be recovered")
	// ErrDirNotFound: Cmd.Dir does not exist in the session or cannot be
	// entered; the command did not run. The error names the directory.
	// Create it first (for example with Command(s, "mkdir", "-p", dir)) or
	// fix Cmd.Dir.
	ErrDirNotFound = errors.New("proc: Cmd.Dir cannot be entered in the session; the command did not run")
	// ErrWaitDelay is returned by Wait and Run when the command exited
	// successfully but other processes it started still held its stdout or
	// stderr open when Cmd.WaitDelay expired (as with os/exec). Output they
	// wrote until then is included.
	ErrWaitDelay = errors.New("proc: WaitDelay expired before the command's output was closed by every process it started")
)

// pkgName prefixes the messages of this package's errors.
const pkgName = "proc"

// newArgumentError returns the *sessions.ArgumentError of this package.
func newArgumentError(name, reason string) error {
	return sdkerr.NewArgument(pkgName, name, reason)
}

// dirError is ErrDirNotFound naming the directory.
func dirError(dir string) error {
	if dir == "" {
		return fmt.Errorf("%w (the directory the process was started in)", ErrDirNotFound)
	}
	return fmt.Errorf("%w: %s", ErrDirNotFound, strconv.Quote(dir))
}

// ProcessState describes a process that has ended, as os.ProcessState does
// for a local one.
type ProcessState struct {
	id        string
	exitCode  int
	timedOut  bool
	waitDelay bool
	duration  time.Duration
}

// ExitCode returns the exit code: 0 to 255; 128+N when signal N ended the
// command (137 after Kill); 124 when Cmd.Timeout expired.
func (p *ProcessState) ExitCode() int {
	if p == nil {
		return -1
	}
	return p.exitCode
}

// Success reports whether the command exited with code 0.
func (p *ProcessState) Success() bool { return p != nil && p.exitCode == 0 }

// TimedOut reports whether Cmd.Timeout expired and the command was killed
// (ExitCode is then 124).
func (p *ProcessState) TimedOut() bool { return p != nil && p.timedOut }

// Duration returns how long the command ran, measured in the session from
// its start until its main process exited.
func (p *ProcessState) Duration() time.Duration {
	if p == nil {
		return 0
	}
	return p.duration
}

// ProcessID returns the ID of the process (see Process.ID), for logs.
func (p *ProcessState) ProcessID() string {
	if p == nil {
		return ""
	}
	return p.id
}

// String returns "exit status N", "killed (exit status 137)" or "timed out
// after D (exit status 124)".
func (p *ProcessState) String() string {
	switch {
	case p == nil:
		return "<nil>"
	case p.timedOut:
		return "timed out (exit status 124)"
	case p.exitCode > 128 && p.exitCode < 160:
		return "signal " + strconv.Itoa(p.exitCode-128) + " (exit status " + strconv.Itoa(p.exitCode) + ")"
	}
	return "exit status " + strconv.Itoa(p.exitCode)
}

// ExitError is the error of a command that ran and exited with a non-zero
// code (or timed out), as os/exec's: the command ran, its result is in
// ProcessState.
type ExitError struct {
	*ProcessState

	// Stderr holds up to 32 KiB of the command's standard error (its
	// beginning and end) when Output ran it with Cmd.Stderr nil.
	Stderr []byte
}

// Error returns "proc: exit status N" (or the timeout or signal).
func (e *ExitError) Error() string { return "proc: " + e.ProcessState.String() }
