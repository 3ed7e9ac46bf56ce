package identity

import (
	"errors"
	"net/http"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
)

// ErrInvalidArgument is matched, through errors.Is, by every *ArgumentError:
// input refused before anything was sent.
var ErrInvalidArgument = errors.New("identity: invalid argument")

// Errors returned by [Claims.Check] and [Token.Check], each wrapped with an
// explanation. They say why the dynamic sessions data plane (or any service)
// would answer 401 to the token.
var (
	// ErrWrongAudience: the token was issued for another audience, such as
	// Azure Resource Manager. Request a token for the audience the service
	// expects (SessionsScope for the dynamic sessions data plane).
	ErrWrongAudience = errors.New("identity: token has the wrong audience")
	// ErrTokenExpired: the token's expiry (exp) has passed. Request a new one;
	// a credential used through an azcore pipeline refreshes by itself.
	ErrTokenExpired = errors.New("identity: token has expired")
	// ErrTokenNotYetValid: the token's not-before time (nbf) is in the future,
	// usually because this machine's clock is behind.
	ErrTokenNotYetValid = errors.New("identity: token is not valid yet")
	// ErrMalformedToken: the string is not a JWT access token.
	ErrMalformedToken = errors.New("identity: not a JWT access token")
)

// ArgumentError reports input refused before a request was sent. Nothing was
// sent. errors.Is(err, ErrInvalidArgument) matches it.
type ArgumentError struct {
	// Name is the parameter or field that was refused, such as "principalID".
	Name string
	// Reason says which rule failed and what to do instead.
	Reason string
}

// Error implements error.
func (e *ArgumentError) Error() string { return "identity: invalid " + e.Name + ": " + e.Reason }

// Is makes errors.Is(err, ErrInvalidArgument) true.
func (e *ArgumentError) Is(target error) bool { return target == ErrInvalidArgument }

func argErr(name, reason string) error { return &ArgumentError{Name: name, Reason: reason} }

// ServiceError is a failed Azure Resource Manager call together with advice on
// what to do next: for example the permission a 403 on a role assignment
// needs, or why retries of PrincipalNotFound stopped. errors.As(err, &respErr)
// with respErr *azcore.ResponseError reaches the service's answer, and when
// retries ended because the context ended, errors.Is(err, context.DeadlineExceeded)
// (or context.Canceled) is true as well.
type ServiceError struct {
	// Op is the operation that failed, such as "AssignRole".
	Op string
	// Advice says what to check or do next.
	Advice string
	// Response is the service's last error answer.
	Response *azcore.ResponseError
	// Cause is what ended the operation when it is not the response itself,
	// such as the context's error after PrincipalNotFound retries; nil otherwise.
	Cause error
}

// Error implements error. It names the status, the error code, the service's
// message and the advice; it never contains tokens.
func (e *ServiceError) Error() string {
	var b strings.Builder
	b.WriteString("identity: ")
	b.WriteString(e.Op)
	b.WriteString(": ")
	if e.Response != nil {
		b.WriteString("HTTP ")
		b.WriteString(http.StatusText(e.Response.StatusCode))
		if e.Response.ErrorCode != "" {
			b.WriteString(" (")
			b.WriteString(e.Response.ErrorCode)
			b.WriteString(")")
		}
		if msg := serviceMessage(e.Response); msg != "" {
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

// Unwrap returns the *azcore.ResponseError and, when set, the Cause.
func (e *ServiceError) Unwrap() []error {
	var errs []error
	if e.Response != nil {
		errs = append(errs, e.Response)
	}
	if e.Cause != nil {
		errs = append(errs, e.Cause)
	}
	return errs
}

// serviceMessage extracts error.message from an ARM error body, or "".
func serviceMessage(re *azcore.ResponseError) string {
	if re.RawResponse == nil {
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

// asResponseError returns err's *azcore.ResponseError, or nil.
func asResponseError(err error) *azcore.ResponseError {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return re
	}
	return nil
}
