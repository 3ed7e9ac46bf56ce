package sessions

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
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
	// SessionID is the session the command ran in, as the response's
	// identifier or sessionId field named it, redacted by RedactSessionID
	// (its first four characters and "…"), so that a logged or serialised
	// response never holds a usable identifier; "" when the service did not
	// say. The full identifier is the one you sent.
	SessionID string
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
	// output limit (see Truncated).
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

	// RetryAmbiguousFailures lets the client's ordinary retry policy
	// (ClientOptions.Retry) retry failures after which the command may
	// already have run: HTTP 408, 500, 502 and 504, and a connection lost
	// after the request was sent. Only set it when the service dedupes by
	// operation-id (the emulator in sessions/sessionstest does; the live
	// service's behaviour is not documented) or when the command is safe to
	// run twice.
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

// wireExecution is the union of every documented response shape (API.md
// §1.5.3, §1.5.6 and the spec examples): the flat 2024-10-02-preview+
// resource, the older shape with the streams at top level, and the shell
// container's exitCode/errorName fields.
//
// It is decoded by one json.Unmarshal, straight into typed fields: the
// streams and identifiers are plain strings, which encoding/json unescapes
// once, and result is a plain struct. When a member has an unexpected JSON
// type, encoding/json skips it, finishes decoding the rest and reports an
// *json.UnmarshalTypeError, which decodeExecution ignores: such a member
// reads as absent (a legacy "result":"" leaves the result empty, a
// numeric stdout leaves Stdout empty). Only the members whose type really
// varies between shapes (status, exitCode, the duration, error) have types
// with their own UnmarshalJSON, and their values are small.
type wireExecution struct {
	ID                          string          `json:"id"`
	ExecutionID                 string          `json:"executionId"`
	Identifier                  string          `json:"identifier"`
	SessionID                   string          `json:"sessionId"`
	ExecutionType               string          `json:"executionType"`
	Status                      wireScalar      `json:"status"`
	ExitCode                    wireNumber      `json:"exitCode"`
	ErrorName                   string          `json:"errorName"`
	ErrorMessage                string          `json:"errorMessage"`
	Error                       json.RawMessage `json:"error"`
	Result                      wireResult      `json:"result"`
	Stdout                      string          `json:"stdout"`
	Stderr                      string          `json:"stderr"`
	ExecutionTimeInMilliseconds wireNumber      `json:"executionTimeInMilliseconds"`
}

type wireResult struct {
	ExecutionID                 string          `json:"executionId"`
	Status                      wireScalar      `json:"status"`
	Stdout                      string          `json:"stdout"`
	Stderr                      string          `json:"stderr"`
	ExecutionResult             json.RawMessage `json:"executionResult"`
	ExecutionTimeInMilliseconds wireNumber      `json:"executionTimeInMilliseconds"`
}

// wireScalar is a member read as jsonScalar reads it: a string's value or a
// number's literal text, else "".
type wireScalar string

// UnmarshalJSON implements json.Unmarshaler. It never fails.
func (s *wireScalar) UnmarshalJSON(b []byte) error {
	*s = wireScalar(jsonScalar(b))
	return nil
}

// wireNumber is a member read as jsonNumber reads it: a number, or a string
// holding one; ok is false for anything else.
type wireNumber struct {
	n  float64
	ok bool
}

// UnmarshalJSON implements json.Unmarshaler. It never fails.
func (n *wireNumber) UnmarshalJSON(b []byte) error {
	n.n, n.ok = jsonNumber(b)
	return nil
}

type wireError struct {
	Code    json.RawMessage `json:"code"`
	Message json.RawMessage `json:"message"`
	Error   json.RawMessage `json:"error"`
}

// decodeExecution decodes an execution resource. outputLimit is the limit in
// effect for Truncated (0 means DefaultOutputLimit). Unknown fields are
// ignored; fields of an unexpected JSON type are treated as absent. Only a
// body that is not a JSON object is an error.
func decodeExecution(body []byte, outputLimit int) (Execution, error) {
	var w wireExecution
	if err := json.Unmarshal(body, &w); err != nil {
		var typeErr *json.UnmarshalTypeError
		if !errors.As(err, &typeErr) || !isJSONObject(body) {
			return Execution{}, fmt.Errorf("sessions: the execution response is not the documented JSON object (%w); check that the endpoint is a session pool's management endpoint", err)
		}
		// A member of an unexpected type: encoding/json skipped it and
		// decoded everything else.
	}
	r := &w.Result
	e := Execution{
		ID:              firstNonEmpty(w.ID, w.ExecutionID, r.ExecutionID),
		SessionID:       firstNonEmpty(w.Identifier, w.SessionID),
		ExecutionType:   w.ExecutionType,
		Status:          ExecutionStatus(firstNonEmpty(string(w.Status), string(r.Status))),
		Stdout:          firstNonEmpty(r.Stdout, w.Stdout),
		Stderr:          firstNonEmpty(r.Stderr, w.Stderr),
		ExecutionResult: nonNullRaw(r.ExecutionResult),
	}
	if r.ExecutionTimeInMilliseconds.ok {
		e.Duration = msToDuration(r.ExecutionTimeInMilliseconds.n)
	} else if w.ExecutionTimeInMilliseconds.ok {
		e.Duration = msToDuration(w.ExecutionTimeInMilliseconds.n)
	}
	e.Error = decodeExecutionError(w.Error)
	if e.Error == nil && (w.ErrorName != "" || w.ErrorMessage != "") {
		e.Error = &ExecutionError{Code: w.ErrorName, Message: w.ErrorMessage}
	}
	// The exit code: a numeric status, else an explicit exitCode field.
	// Never from an operation state such as Succeeded.
	if code, ok := e.Status.ExitCode(); ok {
		e.ExitCode = &code
	} else if n := w.ExitCode.n; w.ExitCode.ok && n == math.Trunc(n) && n >= math.MinInt32 && n <= math.MaxInt32 {
		code := int(n)
		e.ExitCode = &code
	}
	e.TimedOut = containsFold(string(e.Status), "timeout") || containsFold(string(e.Status), "timedout") ||
		(e.Error != nil && containsFold(e.Error.Code, "timeout"))
	if outputLimit <= 0 {
		outputLimit = DefaultOutputLimit
	}
	e.Truncated = len(e.Stdout) >= outputLimit || len(e.Stderr) >= outputLimit
	return e, nil
}

// decodeExecutionError reads an "error" member: the spec's {"code","message"}
// object, an ErrorResponse that nests it once more, or a bare string.
func decodeExecutionError(raw json.RawMessage) *ExecutionError {
	for depth := 0; depth < 3; depth++ {
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 || string(raw) == "null" {
			return nil
		}
		if s := jsonString(raw); s != "" {
			return &ExecutionError{Message: s}
		}
		if !isJSONObject(raw) {
			return nil
		}
		var we wireError
		if json.Unmarshal(raw, &we) != nil {
			return nil
		}
		code, msg := jsonScalar(we.Code), jsonScalar(we.Message)
		if code == "" && msg == "" && len(we.Error) > 0 {
			raw = we.Error
			continue
		}
		if code == "" && msg == "" {
			return nil
		}
		return &ExecutionError{Code: code, Message: msg}
	}
	return nil
}

// Response header names in canonical form. http.Header.Get canonicalises
// its key on every call, allocating a new string for a lower-case name;
// looking up the canonical form does not.
var (
	headerOperationID                = http.CanonicalHeaderKey("operation-id")
	headerOperationLocation          = http.CanonicalHeaderKey("Operation-Location")
	headerExecutionRequestTime       = http.CanonicalHeaderKey("x-ms-execution-request-time")
	headerExecutionReadResponseTime  = http.CanonicalHeaderKey("x-ms-execution-read-response-time")
	headerTotalExecutionServiceTime  = http.CanonicalHeaderKey("x-ms-total-execution-service-time")
	headerContainerExecutionDuration = http.CanonicalHeaderKey("x-ms-container-execution-duration")
	headerOverallExecutionTime       = http.CanonicalHeaderKey("x-ms-overall-execution-time")
	headerPreparationTime            = http.CanonicalHeaderKey("x-ms-preparation-time")
	headerAllocationTime             = http.CanonicalHeaderKey("x-ms-allocation-time")
	headerAllocationRetries          = http.CanonicalHeaderKey("x-ms-allocation-retries")
	headerNewAllocation              = http.CanonicalHeaderKey("x-ms-new-allocation")
)

// decodeTimings reads the timing headers of API.md §1.4.
func decodeTimings(h http.Header) ExecutionTimings {
	t := ExecutionTimings{
		RequestTime:                parseLenientDuration(h.Get(headerExecutionRequestTime)),
		ReadResponseTime:           parseLenientDuration(h.Get(headerExecutionReadResponseTime)),
		TotalServiceTime:           parseLenientDuration(h.Get(headerTotalExecutionServiceTime)),
		ContainerExecutionDuration: parseLenientDuration(h.Get(headerContainerExecutionDuration)),
		OverallExecutionTime:       parseLenientDuration(h.Get(headerOverallExecutionTime)),
		PreparationTime:            parseLenientDuration(h.Get(headerPreparationTime)),
		AllocationTime:             parseLenientDuration(h.Get(headerAllocationTime)),
	}
	// Absent headers are skipped before strconv, whose errors allocate.
	if v := strings.TrimSpace(h.Get(headerAllocationRetries)); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			t.AllocationRetries = n
		}
	}
	if v := strings.TrimSpace(h.Get(headerNewAllocation)); v != "" {
		t.NewAllocation, _ = strconv.ParseBool(v)
	}
	return t
}

// parseLenientDuration accepts a Go duration string or a number of
// milliseconds; anything else, and negative values, give zero.
func parseLenientDuration(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if ms, err := strconv.ParseFloat(v, 64); err == nil {
		return msToDuration(ms)
	}
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return d
	}
	return 0
}

// msToDuration converts milliseconds to a Duration, clamping nonsense
// (negative, NaN, overflowing) to zero.
func msToDuration(ms float64) time.Duration {
	d := ms * float64(time.Millisecond)
	if math.IsNaN(d) || d <= 0 || d >= math.MaxInt64 {
		return 0
	}
	return time.Duration(d)
}

func isJSONObject(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{'
}

// jsonString returns raw as a string when it is a JSON string, else "".
func jsonString(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '"' {
		return ""
	}
	if plainJSONString(raw) {
		return string(raw[1 : len(raw)-1])
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// plainJSONString reports whether raw is a JSON string literal whose value
// is exactly the bytes between its quotes: no escapes, no control
// characters, no inner quote, valid UTF-8. Most stdout and identifiers are,
// and reading them this way saves encoding/json's allocations.
func plainJSONString(raw []byte) bool {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return false
	}
	inner := raw[1 : len(raw)-1]
	for _, c := range inner {
		if c == '\\' || c == '"' || c < ' ' {
			return false
		}
	}
	return utf8.Valid(inner)
}

// jsonScalar returns a JSON string's value, or a JSON number's literal text
// (a status sent as 0 rather than "0"), else "".
func jsonScalar(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	if raw[0] == '"' {
		return jsonString(raw)
	}
	if _, ok := jsonNumber(raw); ok {
		return string(raw)
	}
	return ""
}

// jsonNumber returns raw as a float when it is a JSON number or a string
// holding one.
func jsonNumber(raw json.RawMessage) (float64, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return 0, false
	}
	s := string(raw)
	if raw[0] == '"' {
		s = jsonString(raw)
	} else if raw[0] != '-' && (raw[0] < '0' || raw[0] > '9') {
		return 0, false
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
		return 0, false
	}
	return n, true
}

func nonNullRaw(raw json.RawMessage) json.RawMessage {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	return append(json.RawMessage(nil), raw...)
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), sub)
}
