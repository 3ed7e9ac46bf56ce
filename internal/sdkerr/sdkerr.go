// Package sdkerr holds the error types the public packages of this module
// share: ArgumentError for input refused before anything is sent, and
// ServiceError for a failed service call with advice. Each public package
// aliases them (type ArgumentError = sdkerr.ArgumentError) and builds them
// with NewArgument and NewService, which record the package's name so that
// messages start with it ("identity: ...", "pool: ...").
package sdkerr

import (
	"errors"
	"net/http"
	"strings"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
)

// ErrInvalidArgument is matched, through errors.Is, by every *ArgumentError
// (and by pool's *ValidationError): input refused before anything was sent.
var ErrInvalidArgument = errors.New("shellpool: invalid argument")

// ArgumentError reports input refused before a request was sent. Nothing was
// sent. errors.Is(err, ErrInvalidArgument) matches it.
type ArgumentError struct {
	// Name is the parameter or field that was refused, such as "principalID".
	Name string
	// Reason says which rule failed and what to do instead.
	Reason string

	pkg string // the package that refused it; the message's prefix
}

// NewArgument returns an *ArgumentError of package pkg ("identity", "pool",
// "sessions").
func NewArgument(pkg, name, reason string) *ArgumentError {
	return &ArgumentError{Name: name, Reason: reason, pkg: pkg}
}

// Error implements error: "{pkg}: invalid {Name}: {Reason}".
func (e *ArgumentError) Error() string {
	return prefix(e.pkg) + "invalid " + e.Name + ": " + e.Reason
}

// Is makes errors.Is(err, ErrInvalidArgument) true.
func (e *ArgumentError) Is(target error) bool { return target == ErrInvalidArgument }

// ServiceError is a failed service call together with advice on what to do
// next. errors.As(err, &respErr) with respErr *azcore.ResponseError reaches
// the service's answer, errors.Is(err, Kind) matches its sentinel, and when
// the operation ended for another reason (such as the context's error)
// errors.Is reaches Cause as well.
type ServiceError struct {
	// Op is the operation that failed, such as "AssignRole"; empty when the
	// message needs no operation name.
	Op string
	// Kind is the sentinel this failure matches (such as
	// sessions.ErrSessionNotFound), or nil.
	Kind error
	// Advice says what to check or do next; empty when there is nothing
	// specific to say.
	Advice string
	// Response is the service's (last) error answer; nil when there was none.
	Response *azcore.ResponseError
	// Cause is what ended the operation when it is not the response itself,
	// such as the context's error after retries; nil otherwise.
	Cause error

	pkg string
}

// serviceFormats holds the formatters of SetServiceFormat, by package.
var serviceFormats sync.Map // string -> func(*ServiceError) string

// SetServiceFormat makes Error of every *ServiceError of package pkg return
// format(e) instead of the common text, so that a package keeps the message
// shape its users know. A package calls it once, from an init function.
func SetServiceFormat(pkg string, format func(*ServiceError) string) {
	serviceFormats.Store(pkg, format)
}

// NewService returns a *ServiceError of package pkg.
func NewService(pkg, op string, kind error, advice string, resp *azcore.ResponseError, cause error) *ServiceError {
	return &ServiceError{Op: op, Kind: kind, Advice: advice, Response: resp, Cause: cause, pkg: pkg}
}

// Error implements error: the package, the operation, the sentinel's text,
// the status, the error code, the service's message, what stopped it and the
// advice (or what the package's SetServiceFormat formatter returns). It never
// contains tokens.
func (e *ServiceError) Error() string {
	if f, ok := serviceFormats.Load(e.pkg); ok {
		return f.(func(*ServiceError) string)(e)
	}
	var b strings.Builder
	b.WriteString(prefix(e.pkg))
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	if e.Kind != nil {
		b.WriteString(strings.TrimPrefix(e.Kind.Error(), prefix(e.pkg)))
		b.WriteString(": ")
	}
	if e.Kind == nil && e.Response == nil && e.Cause == nil {
		b.WriteString("request failed")
	}
	if e.Response != nil {
		b.WriteString("HTTP ")
		b.WriteString(http.StatusText(e.Response.StatusCode))
		if e.Response.ErrorCode != "" {
			b.WriteString(" (")
			b.WriteString(e.Response.ErrorCode)
			b.WriteString(")")
		}
		if msg := ServiceMessage(e.Response); msg != "" {
			b.WriteString(": ")
			b.WriteString(msg)
		}
	}
	if e.Cause != nil {
		b.WriteString("; stopped: ")
		b.WriteString(e.Cause.Error())
	}
	if e.Advice != "" {
		b.WriteString(". ")
		b.WriteString(e.Advice)
	}
	return b.String()
}

// Unwrap returns Kind, the *azcore.ResponseError and Cause, those that are set.
func (e *ServiceError) Unwrap() []error {
	var errs []error
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.Response != nil {
		errs = append(errs, e.Response)
	}
	if e.Cause != nil {
		errs = append(errs, e.Cause)
	}
	return errs
}

// ServiceMessage extracts error.message from an Azure error body, or "".
func ServiceMessage(re *azcore.ResponseError) string {
	if re == nil || re.RawResponse == nil {
		return ""
	}
	var body struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := runtime.UnmarshalAsJSON(re.RawResponse, &body); err != nil {
		return ""
	}
	return strings.TrimSpace(body.Error.Message)
}

func prefix(pkg string) string {
	if pkg == "" {
		return "shellpool: "
	}
	return pkg + ": "
}
