package pool

import (
	"fmt"
	"strings"

	"github.com/shellpool/shellpool/internal/sdkerr"
)

// ErrInvalidArgument is matched (with errors.Is) by every error this package
// returns for input it rejects before sending a request: an *ArgumentError
// for a method's argument, a *ValidationError for a model or template. It is
// the same value as identity.ErrInvalidArgument and sessions'.
var ErrInvalidArgument = sdkerr.ErrInvalidArgument

// ArgumentError reports a method argument refused before anything was sent,
// such as a resource group name that breaks ARM's rule. It matches
// ErrInvalidArgument; Name is the parameter and Reason the rule it broke.
type ArgumentError = sdkerr.ArgumentError

// argErr returns an *ArgumentError whose message starts with "pool:".
func argErr(name, reason string) error { return sdkerr.NewArgument("pool", name, reason) }

// invalidArg is the *ArgumentError for an argument whose value breaks rule.
func invalidArg(field, value, rule string) error {
	return argErr(field, fmt.Sprintf("%q %s", value, rule))
}

// Problem is one rule a value breaks.
type Problem struct {
	// Field is the JSON path of the offending field, e.g.
	// "properties.scaleConfiguration.maxConcurrentSessions".
	Field string
	// Rule says what the field must be, e.g. "must be at least 1".
	Rule string
	// Err is the underlying error when the problem comes from one, such as
	// a *json.SyntaxError or *json.UnmarshalTypeError; nil otherwise.
	// ValidationError.Unwrap returns it, so errors.As reaches it.
	Err error
}

// String returns "field: rule".
func (p Problem) String() string { return p.Field + ": " + p.Rule }

// ValidationError reports every rule a value breaks, all at once. It matches
// ErrInvalidArgument with errors.Is; use errors.As to read Problems.
type ValidationError struct {
	// Subject names what was validated, e.g. `session pool "myshellpool"`.
	Subject string
	// Problems lists every violation, in field order.
	Problems []Problem
}

// Error lists every problem and says what to do.
func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "pool: %s is invalid (%d problem", e.Subject, len(e.Problems))
	if len(e.Problems) != 1 {
		b.WriteString("s")
	}
	b.WriteString("): ")
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	b.WriteString("; fix these fields and try again")
	return b.String()
}

// Is reports whether target is ErrInvalidArgument.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalidArgument }

// Unwrap returns the underlying errors of the problems (Problem.Err), so
// that errors.As reaches, for example, a *json.SyntaxError.
func (e *ValidationError) Unwrap() []error {
	var errs []error
	for _, p := range e.Problems {
		if p.Err != nil {
			errs = append(errs, p.Err)
		}
	}
	return errs
}
