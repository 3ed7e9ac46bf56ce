package sessions

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
)

// ExecutionStatus is the status of an execution exactly as the service sent
// it. Shell pools put the command's exit code here as a decimal string ("0",
// "1", "-1"); code-interpreter pools and asynchronous executions use an
// operation state (the ExecutionStatus constants). Compare with the
// constants, or read Execution.ExitCode.
type ExecutionStatus string

// Operation states the service documents for Execution.Status (API.md §1.5.3).
const (
	// ExecutionStatusNotStarted: accepted, not yet running.
	ExecutionStatusNotStarted ExecutionStatus = "NotStarted"
	// ExecutionStatusRunning: still running; poll again.
	ExecutionStatusRunning ExecutionStatus = "Running"
	// ExecutionStatusSucceeded: the operation finished. It is not an exit
	// code: Execution.ExitCode stays nil unless the answer also carries one.
	ExecutionStatusSucceeded ExecutionStatus = "Succeeded"
	// ExecutionStatusFailed: finished with an error (see Execution.Error).
	ExecutionStatusFailed ExecutionStatus = "Failed"
	// ExecutionStatusCanceled: stopped before it finished.
	ExecutionStatusCanceled ExecutionStatus = "Canceled"
)

// PossibleExecutionStatusValues returns the operation states the service
// documents. A shell pool's numeric exit-code statuses are not listed.
func PossibleExecutionStatusValues() []ExecutionStatus {
	return []ExecutionStatus{ExecutionStatusNotStarted, ExecutionStatusRunning, ExecutionStatusSucceeded, ExecutionStatusFailed, ExecutionStatusCanceled}
}

// ExitCode returns the exit code a numeric status carries ("0", "1", "-1"),
// and false when the status is not a decimal integer.
func (s ExecutionStatus) ExitCode() (int, bool) {
	str := string(s)
	if str == "" || len(str) > 12 {
		return 0, false
	}
	for i := 0; i < len(str); i++ {
		ch := str[i]
		if (ch < '0' || ch > '9') && !(i == 0 && (ch == '-' || ch == '+') && len(str) > 1) {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(str, 10, 64)
	if err != nil || n < math.MinInt32 || n > math.MaxInt32 {
		return 0, false
	}
	return int(n), true
}

// Terminal reports whether the execution has finished: a numeric status (an
// exit code) or Succeeded, Failed or Canceled (compared case-insensitively).
// NotStarted, Running, an empty status and unknown words are not terminal.
func (s ExecutionStatus) Terminal() bool {
	if _, ok := s.ExitCode(); ok {
		return true
	}
	str := string(s)
	return strings.EqualFold(str, string(ExecutionStatusSucceeded)) ||
		strings.EqualFold(str, string(ExecutionStatusFailed)) ||
		strings.EqualFold(str, string(ExecutionStatusCanceled))
}

// Execution is one command's run in a session, as the service reported it.
// A command that ran and exited non-zero is an Execution with a non-zero
// ExitCode, not a Go error.
type Execution struct {
	// ID is the execution's identifier (equal to the operation-id header).
	ID string
	// RedactedSessionID is the session the command ran in, as the response's
	// identifier or sessionId field named it, redacted by RedactSessionID
	// (its first four characters and "…"), so that a logged or serialised
	// response never holds a usable identifier; "" when the service did not
	// say. The full identifier is the one you sent.
	RedactedSessionID string
	// ExecutionType is "Synchronous" or "Asynchronous" when the service says;
	// often empty for shell pools.
	ExecutionType string
	// Status is the status exactly as the service sent it: an exit code
	// ("0", "1") for shell pools, an operation state otherwise.
	Status ExecutionStatus
	// ExitCode is the command's exit code: the numeric Status (a shell
	// pool's answer, API.md §1.9.1) or an explicit exitCode field. It is nil
	// whenever the response carries neither, including when Status is an
	// operation state such as Succeeded or Failed: a word says how the
	// operation went, not what the command exited with, so the client never
	// turns one into a number.
	ExitCode *int
	// Stdout is the command's standard output, cut by the service at the
	// output limit (see Truncated). It is a string because the service
	// sends it as JSON text: bytes that are not UTF-8 arrive replaced
	// (U+FFFD). Package proc returns output as []byte, exactly as written.
	Stdout string
	// Stderr is the command's standard error, cut by the service at the
	// output limit (see Truncated).
	Stderr string
	// Duration is how long the command ran, from
	// result.executionTimeInMilliseconds; zero when absent.
	Duration time.Duration
	// TimedOut is true when the service reports that the command was stopped
	// at its timeout: an error code or status containing "timeout", such as
	// {"error":{"code":"ExecutionTimeout"}} with status "-1". How a live shell
	// pool reports timeouts is not documented [UNVERIFIED, API.md §7 q2]; this
	// is the shell container's error name (API.md §1.5.6), which the emulator
	// in sessions/sessionstest also uses.
	TimedOut bool
	// Truncated is true when stdout or stderr is at least as long as the
	// output limit in effect (the Command's OutputLimit, or
	// DefaultOutputLimit): the stream may have been cut. The service does
	// not say whether it cut output, so a stream of exactly the limit's
	// length is reported as possibly cut.
	Truncated bool
	// ExecutionResult is a code-interpreter pool's result.executionResult
	// (the value of the last expression), as raw JSON; nil for shell pools.
	ExecutionResult json.RawMessage
	// Error is the service's description of a failed execution, or nil.
	Error *ExecutionError
}

// ExecutionError is the error the service attached to an execution: a
// timeout, a command that could not start, an exception in a code
// interpreter.
type ExecutionError struct {
	// Code is the service's error code, e.g. "ExecutionTimeout" or
	// "CommandStartError".
	Code string
	// Message is the service's explanation.
	Message string
}

// Error implements error, so an ExecutionError can be returned or wrapped by
// callers that treat a failed command as an error.
func (e *ExecutionError) Error() string {
	switch {
	case e.Code == "":
		return "sessions: execution failed: " + e.Message
	case e.Message == "":
		return "sessions: execution failed: " + e.Code
	}
	return "sessions: execution failed: " + e.Code + ": " + e.Message
}

// ExecutionTimings are the service's informational timing headers (API.md
// §1.4). The service documents them for Python code-interpreter pools only;
// shell pools may send none, in which case every field is zero. Values are
// parsed leniently: Go duration strings ("42m56.97s") and plain millisecond
// numbers ("5010.000000") are both accepted; an unparsable value is zero.
type ExecutionTimings struct {
	// RequestTime is x-ms-execution-request-time.
	RequestTime time.Duration
	// ReadResponseTime is x-ms-execution-read-response-time.
	ReadResponseTime time.Duration
	// TotalServiceTime is x-ms-total-execution-service-time.
	TotalServiceTime time.Duration
	// ContainerExecutionDuration is x-ms-container-execution-duration.
	ContainerExecutionDuration time.Duration
	// OverallExecutionTime is x-ms-overall-execution-time.
	OverallExecutionTime time.Duration
	// PreparationTime is x-ms-preparation-time.
	PreparationTime time.Duration
	// AllocationTime is x-ms-allocation-time.
	AllocationTime time.Duration
	// AllocationRetries is x-ms-allocation-retries.
	AllocationRetries int
	// NewAllocation is x-ms-new-allocation: true when the request allocated a
	// new session rather than reusing one.
	NewAllocation bool
}

// ExecuteResponse is the result of Execute and of BeginExecute's poller.
type ExecuteResponse struct {
	Execution
	// OperationID is the operation-id of the call: the header the service
	// echoed, or the one the client sent.
	OperationID string
	// OperationLocation is the Operation-Location header, where the
	// execution can be read again, with its identifier redacted
	// (RedactSessionID) so that the response is safe to log; empty when
	// absent. Read the execution again with GetExecution(sessionID, ID);
	// BeginExecute's poller follows the full location itself.
	OperationLocation string
	// Timings are the service's timing headers, where present.
	Timings ExecutionTimings
}

// GetExecutionResponse is the result of GetExecution.
type GetExecutionResponse struct {
	Execution
	// Timings are the service's timing headers, where present.
	Timings ExecutionTimings
}

// ExecuteOptions contains the optional parameters of Client.Execute.
type ExecuteOptions struct {
	// OperationID is the operation-id header sent with the request and all
	// of its retries: the service's idempotency key for this execution. Empty
	// means a new random UUID. Set it to make a retry of your own (after a
	// crash, say) recognisable as the same execution by services that dedupe.
	OperationID string

	// RetryAmbiguousFailures also retries failures after which the command
	// may already have run (HTTP 408, 500, 502, 504, a connection lost after
	// sending). Set it only when a second run is harmless or the service
	// dedupes by operation-id; see the package doc, "Retries".
	RetryAmbiguousFailures bool
}

// BeginExecuteOptions contains the optional parameters of Client.BeginExecute.
type BeginExecuteOptions struct {
	// OperationID: see ExecuteOptions.OperationID.
	OperationID string

	// RetryAmbiguousFailures: see ExecuteOptions.RetryAmbiguousFailures. It
	// applies to the initial POST; polling GETs are always retried normally.
	RetryAmbiguousFailures bool

	// ResumeToken resumes polling an execution started earlier, from
	// Poller.ResumeToken. When set, nothing is posted: sessionID and cmd are
	// ignored. The token contains the session identifier: store it as
	// carefully as the identifier itself.
	ResumeToken string
}

// GetExecutionOptions contains the optional parameters of Client.GetExecution.
type GetExecutionOptions struct {
	// placeholder for future options
}
