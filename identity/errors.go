package identity

import (
	"errors"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/shellpool/shellpool/internal/sdkerr"
)

// ErrInvalidArgument is matched, through errors.Is, by every *ArgumentError:
// input refused before anything was sent. It is the same value as
// pool.ErrInvalidArgument.
var ErrInvalidArgument = sdkerr.ErrInvalidArgument

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

// ArgumentError reports input refused before a request was sent, such as a
// principal ID that is not a GUID. Nothing was sent. Name is the parameter
// and Reason the rule it broke; errors.Is(err, ErrInvalidArgument) matches it.
type ArgumentError = sdkerr.ArgumentError

func argErr(name, reason string) error { return sdkerr.NewArgument("identity", name, reason) }

// ServiceError is a failed Azure Resource Manager call together with advice on
// what to do next: for example the permission a 403 on a role assignment
// needs, or why retries of PrincipalNotFound stopped. Op names the method,
// Response is the service's answer (errors.As reaches the
// *azcore.ResponseError) and Cause, when set, what ended the call, such as
// context.DeadlineExceeded. Its message never contains tokens.
type ServiceError = sdkerr.ServiceError

// serviceErr returns a *ServiceError whose message starts with "identity:".
func serviceErr(op string, re *azcore.ResponseError, cause error, advice string) *ServiceError {
	return sdkerr.NewService("identity", op, nil, advice, re, cause)
}

// asResponseError returns err's *azcore.ResponseError, or nil.
func asResponseError(err error) *azcore.ResponseError {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return re
	}
	return nil
}
