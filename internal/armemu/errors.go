package armemu

import (
	"fmt"
	"net/http"
)

// armError is an ARM error answer: an HTTP status and the body
// {"error":{code,message,target,details}}.
type armError struct {
	Status  int        `json:"-"`
	Code    string     `json:"code"`
	Message string     `json:"message"`
	Target  string     `json:"target,omitempty"`
	Details []armError `json:"details,omitempty"`
}

func (e *armError) Error() string { return e.Code + ": " + e.Message }

func errf(status int, code, format string, args ...any) *armError {
	return &armError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func writeErr(w http.ResponseWriter, err *armError) {
	w.Header().Set("x-ms-failure-cause", "gateway")
	writeJSON(w, err.Status, map[string]any{"error": err})
}

func notFoundRoute(q *req) *armError {
	return errf(http.StatusNotFound, "NotFound", "The emulator does not serve %s on this path.", q.r.Method)
}

func methodNotAllowed(q *req) *armError {
	return errf(http.StatusMethodNotAllowed, "MethodNotAllowed", "The method %s is not allowed on this resource.", q.r.Method)
}

func validationErr(target, format string, args ...any) *armError {
	return &armError{Status: http.StatusBadRequest, Code: "ValidationError", Target: target, Message: fmt.Sprintf(format, args...)}
}
