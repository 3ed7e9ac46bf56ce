package sessionstest

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
)

// Isolation says whether the emulator's sessions are sandboxes (see
// Options.Isolation). The zero value is IsolationAuto.
type Isolation int

const (
	// IsolationAuto makes every session a sandbox where the kernel allows it
	// (Linux with unprivileged user, mount and PID namespaces) and falls back
	// to unconfined local processes elsewhere, with one warning through
	// Options.TB (or standard error without it) that says what is not
	// isolated and why. It is the default.
	IsolationAuto Isolation = iota
	// IsolationRequired makes every session a sandbox or makes Start fail
	// with an *IsolationError that names the missing kernel feature, before
	// any session exists.
	IsolationRequired
	// IsolationOff runs commands as unconfined local processes in a
	// per-session directory (the emulator's behaviour before sandboxes):
	// they share the host's file system, processes and network.
	IsolationOff
)

// String returns "auto", "required" or "off".
func (i Isolation) String() string {
	switch i {
	case IsolationAuto:
		return "auto"
	case IsolationRequired:
		return "required"
	case IsolationOff:
		return "off"
	}
	return fmt.Sprintf("Isolation(%d)", int(i))
}

// IsolationEnv is the environment variable that chooses the isolation mode
// when Options.Isolation is IsolationAuto: "auto", "required" or "off". It
// lets a CI job or a developer run a whole test suite in either mode
// without changing code, e.g. SHELLPOOL_EMULATOR_ISOLATION=off go test ./...
const IsolationEnv = "SHELLPOOL_EMULATOR_ISOLATION"

// ErrIsolationUnavailable is matched (errors.Is) by every *IsolationError.
var ErrIsolationUnavailable = errors.New("sessionstest: sessions cannot be sandboxed on this machine")

// IsolationError is the error of Start with IsolationRequired where sessions
// cannot be sandboxes. Feature names what the machine lacks.
type IsolationError struct {
	// Feature is the kernel feature or system part that is missing, e.g.
	// "user namespaces" or "mounting /proc in a PID namespace".
	Feature string
	// Err is the underlying failure.
	Err error
}

// Error says what is missing and what to do.
func (e *IsolationError) Error() string {
	msg := "sessionstest: sessions cannot be sandboxed: " + e.Feature + " unavailable"
	if e.Err != nil {
		msg += " (" + e.Err.Error() + ")"
	}
	return msg + "; " + isolationHint
}

// Unwrap returns ErrIsolationUnavailable and the underlying failure.
func (e *IsolationError) Unwrap() []error {
	return []error{ErrIsolationUnavailable, e.Err}
}

// isolationHint says what to do when sandboxes are unavailable.
const isolationHint = "on Linux, allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1, " +
	"user.max_user_namespaces > 0, kernel.apparmor_restrict_unprivileged_userns=0) and check with " +
	"`unshare -U -r -m -p -f -n --mount-proc true`; or set Options.Isolation to IsolationAuto or IsolationOff " +
	"to run commands unconfined (never with untrusted commands)"

// IsolationStatus says how a Server's sessions are isolated.
type IsolationStatus struct {
	// Mode is the mode asked for (Options.Isolation, or IsolationEnv).
	Mode Isolation
	// Sandboxed is true when every session is a Linux-namespace sandbox.
	Sandboxed bool
	// Reason, when Sandboxed is false, says why (the warning's text).
	Reason string
}

// String describes the status in one line, as examples/emulator prints it.
func (st IsolationStatus) String() string {
	if st.Sandboxed {
		return "sessions are sandboxes (isolation " + st.Mode.String() + "): own /mnt/data, file system view, processes and network per pool"
	}
	return "sessions are NOT isolated (isolation " + st.Mode.String() + "): " + st.Reason
}

// IsolationStatus returns how the server's sessions are isolated.
func (s *Server) IsolationStatus() IsolationStatus { return s.iso }

// isolationMode resolves the mode: Options first, then IsolationEnv.
func isolationMode(o Isolation) (Isolation, error) {
	switch o {
	case IsolationRequired, IsolationOff:
		return o, nil
	case IsolationAuto:
	default:
		return o, fmt.Errorf("sessionstest: Options.Isolation %d is not one of IsolationAuto, IsolationRequired, IsolationOff", int(o))
	}
	switch v := strings.ToLower(strings.TrimSpace(os.Getenv(IsolationEnv))); v {
	case "", "auto":
		return IsolationAuto, nil
	case "required", "on":
		return IsolationRequired, nil
	case "off":
		return IsolationOff, nil
	default:
		return o, fmt.Errorf("sessionstest: %s=%q is not auto, required or off", IsolationEnv, v)
	}
}

// notIsolatedWhat says what an unisolated session can reach.
const notIsolatedWhat = "commands run as local processes with your user's rights and reach your files (home directory included), processes and network"

// resolveIsolation decides how the server's sessions run, probing the
// kernel when the mode allows sandboxes. A Scripted server runs no
// processes, so it needs no sandbox.
func (s *Server) resolveIsolation() error {
	mode, err := isolationMode(s.opts.Isolation)
	if err != nil {
		return err
	}
	s.iso = IsolationStatus{Mode: mode}
	if mode == IsolationOff {
		s.iso.Reason = "Options.Isolation or " + IsolationEnv + " is off; " + notIsolatedWhat
		return nil
	}
	if s.opts.Scripted != nil {
		s.iso.Reason = "Options.Scripted answers executions; no command runs"
		return nil
	}
	if err := probeSandbox(s.opts.sandboxFault); err != nil {
		if mode == IsolationRequired {
			return err
		}
		s.iso.Reason = notIsolatedWhat + ", because " + err.Error()
		s.warnUnisolated()
		return nil
	}
	s.iso.Sandboxed = true
	return nil
}

// warnedStderr makes the standalone warning appear once per process.
var warnedStderr sync.Once

// warnUnisolated reports, once, that sessions are not isolated: through
// Options.TB when set, else on standard error.
func (s *Server) warnUnisolated() {
	msg := "sessionstest: WARNING: sessions are not isolated: " + s.iso.Reason
	if s.opts.TB != nil {
		s.opts.TB.Log(msg)
		return
	}
	warnedStderr.Do(func() { fmt.Fprintln(os.Stderr, msg) })
}

// sandboxConfig is what a sandbox's init needs to build it.
type sandboxConfig struct {
	Egress bool   // share the host's network (else loopback only)
	Bytes  int64  // size of the tmpfs that holds every writable part
	Home   string // the emulator user's home directory, hidden if visible
	Fault  string // a set-up step that fails on purpose (tests)
}
