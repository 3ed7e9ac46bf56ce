package sessions

import (
	"fmt"
	"math"
	"time"
)

// DefaultOutputLimit is the length at which the service cuts stdout and
// stderr when Command.OutputLimit is zero (outputStreamsMaxLength, API.md §1.9).
const DefaultOutputLimit = 4096

// DefaultTimeout is the timeoutInSeconds the client sends when
// Command.Timeout is zero. Every spec version marks timeoutInSeconds as
// required, so the client always sends one. 180 seconds is what the shell
// container applies when the field is absent (API.md §1.9), so a command
// without a Timeout runs exactly as long as it would if the field were left
// out; the tutorial's 600 seconds is no documented default, only an example.
// Set Command.Timeout to ask for more or less.
const DefaultTimeout = 180 * time.Second

// maxTimeoutSeconds is the largest timeoutInSeconds the wire format can carry
// (the spec types it int32).
const maxTimeoutSeconds = math.MaxInt32

// Command is what Execute and BeginExecute run in a session. Set exactly one
// of Shell and Args; ShellCommand and ExecCommand build the common cases.
//
// A Command is validated before anything is sent: an empty command, both
// Shell and Args, an empty Args[0], a negative Timeout or a negative
// OutputLimit is an *ArgumentError (errors.Is(err, ErrInvalidArgument)).
type Command struct {
	// Shell is a script run by bash in the session's working directory
	// (sent as shellCommand).
	Shell string

	// Args is an executable followed by its arguments, run without a shell
	// (sent as execCommandAndArgs). Args[0] must not be empty.
	Args []string

	// Stdin is written to the command's standard input. It is sent only when
	// non-empty.
	Stdin string

	// Timeout is how long the service lets the command run. It is sent in
	// whole seconds, rounded up (1500ms becomes 2s). Zero sends
	// DefaultTimeout (180 seconds, the shell container's own default); a
	// negative value is refused.
	Timeout time.Duration

	// OutputLimit is the number of characters of stdout and of stderr the
	// service returns (outputStreamsMaxLength). Zero leaves the field out so
	// the service's default, DefaultOutputLimit, applies; a negative value is
	// refused.
	OutputLimit int
}

// ShellCommand returns a Command that runs script with bash, for example
// ShellCommand("cd /mnt/data && ls -la | head").
func ShellCommand(script string) Command { return Command{Shell: script} }

// ExecCommand returns a Command that runs the executable name with args,
// without a shell: ExecCommand("ls", "-a", "/mnt/data"). Arguments reach the
// program exactly as given, so they need no quoting.
func ExecCommand(name string, args ...string) Command {
	argv := make([]string, 0, 1+len(args))
	argv = append(argv, name)
	argv = append(argv, args...)
	return Command{Args: argv}
}

// validate reports the first rule cmd breaks, as an *ArgumentError.
func (cmd Command) validate() error {
	switch {
	case cmd.Shell == "" && len(cmd.Args) == 0:
		return newArgumentError("cmd", "is empty; set Shell (a bash script) or Args (an argv), e.g. with ShellCommand or ExecCommand")
	case cmd.Shell != "" && len(cmd.Args) > 0:
		return newArgumentError("cmd", "sets both Shell and Args; set exactly one (wrap an argv in a script, or split a script into an argv)")
	case len(cmd.Args) > 0 && cmd.Args[0] == "":
		return newArgumentError("cmd.Args", "Args[0] is empty; it must name the executable to run")
	case cmd.Timeout < 0:
		return newArgumentError("cmd.Timeout", fmt.Sprintf("is negative (%s); use zero for the service's default or a positive duration", cmd.Timeout))
	case cmd.timeoutSeconds() > maxTimeoutSeconds:
		return newArgumentError("cmd.Timeout", fmt.Sprintf("is %s, more than the %d seconds the service can be asked for", cmd.Timeout, maxTimeoutSeconds))
	case cmd.OutputLimit < 0:
		return newArgumentError("cmd.OutputLimit", fmt.Sprintf("is negative (%d); use zero for the service's default (%d) or a positive length", cmd.OutputLimit, DefaultOutputLimit))
	case cmd.OutputLimit > math.MaxInt32:
		return newArgumentError("cmd.OutputLimit", fmt.Sprintf("is %d, more than the wire format can carry (%d)", cmd.OutputLimit, math.MaxInt32))
	}
	return nil
}

// timeoutSeconds is Timeout in whole seconds, rounded up; DefaultTimeout's
// when unset.
func (cmd Command) timeoutSeconds() int64 {
	t := cmd.Timeout
	if t <= 0 {
		t = DefaultTimeout
	}
	s := int64(t / time.Second)
	if t%time.Second != 0 {
		s++
	}
	return s
}

// outputLimit is the output limit in effect: the requested one or the
// service's default.
func (cmd Command) outputLimit() int {
	if cmd.OutputLimit > 0 {
		return cmd.OutputLimit
	}
	return DefaultOutputLimit
}

// executionRequest is the JSON body of POST /executions. Which fields are set
// depends on the dialect; every optional field is left out when empty, so the
// default dialect sends only what API.md §1.5.2 recommends. timeoutInSeconds,
// which every spec version requires, is always sent.
type executionRequest struct {
	CodeInputType          string   `json:"codeInputType,omitempty"`
	ExecutionType          string   `json:"executionType,omitempty"`
	ShellCommand           string   `json:"shellCommand,omitempty"`
	ExecCommandAndArgs     []string `json:"execCommandAndArgs,omitempty"`
	Command                []string `json:"command,omitempty"`
	TimeoutInSeconds       int64    `json:"timeoutInSeconds"`
	Stdin                  string   `json:"stdin,omitempty"`
	OutputStreamsMaxLength int      `json:"outputStreamsMaxLength,omitempty"`
}

// Execution types sent by BeginExecute and by the tutorial dialect.
const (
	// executionTypeAsync is the spec's casing (API.md §1.5.1); BeginExecute
	// sends it in both dialects.
	executionTypeAsync = "Asynchronous"
	// tutorialExecutionTypeSync and tutorialCodeInputType are the tutorial's
	// lower-case values, sent verbatim by DialectTutorial.
	tutorialExecutionTypeSync = "synchronous"
	tutorialCodeInputType     = "inline"
)

// requestBody builds the body for cmd in dialect d. async asks for an
// asynchronous execution (BeginExecute).
func (cmd Command) requestBody(d Dialect, async bool) executionRequest {
	body := executionRequest{
		TimeoutInSeconds:       cmd.timeoutSeconds(),
		Stdin:                  cmd.Stdin,
		OutputStreamsMaxLength: cmd.OutputLimit,
	}
	if d == DialectTutorial {
		body.CodeInputType = tutorialCodeInputType
		body.ExecutionType = tutorialExecutionTypeSync
		if cmd.Shell != "" {
			body.Command = []string{"/bin/bash", "-c", cmd.Shell}
		} else {
			body.Command = cmd.Args
		}
	} else {
		body.ShellCommand = cmd.Shell
		body.ExecCommandAndArgs = cmd.Args
	}
	if async {
		body.ExecutionType = executionTypeAsync
	}
	return body
}
