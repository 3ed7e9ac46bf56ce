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
)

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
		ID:                firstNonEmpty(w.ID, w.ExecutionID, r.ExecutionID),
		RedactedSessionID: firstNonEmpty(w.Identifier, w.SessionID),
		ExecutionType:     w.ExecutionType,
		Status:            ExecutionStatus(firstNonEmpty(string(w.Status), string(r.Status))),
		Stdout:            firstNonEmpty(r.Stdout, w.Stdout),
		Stderr:            firstNonEmpty(r.Stderr, w.Stderr),
		ExecutionResult:   nonNullRaw(r.ExecutionResult),
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
