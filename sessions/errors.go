package sessions

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"

	"github.com/shellpool/shellpool/internal/outcome"
	"github.com/shellpool/shellpool/internal/sdkerr"
)

// ErrInvalidArgument is matched, through errors.Is, by every *ArgumentError:
// input the client refused before sending anything. It is the same value as
// pool.ErrInvalidArgument and identity.ErrInvalidArgument (its text is
// "shellpool: invalid argument"), so one check covers the whole module.
var ErrInvalidArgument = sdkerr.ErrInvalidArgument

// Errors a caller can branch on with errors.Is. Each one is returned wrapped
// together with the service's *azcore.ResponseError, so errors.As still
// reaches the status code, error code and raw response.
var (
	// ErrSessionNotFound: the session does not exist (it was deleted, or its
	// cooldown expired). Executions and uploads with the same identifier
	// allocate a new, empty session.
	ErrSessionNotFound = errors.New("sessions: session not found")
	// ErrPoolAtCapacity: the pool has reached maxConcurrentSessions and is not
	// allocating new sessions. Delete sessions you no longer need (SessionClient.Close),
	// wait for idle ones to cool down, or raise maxConcurrentSessions.
	ErrPoolAtCapacity = errors.New("sessions: session pool at capacity (maxConcurrentSessions reached)")
	// ErrFileNotFound: the file or directory does not exist in the session.
	ErrFileNotFound = errors.New("sessions: file not found")
	// ErrExecutionNotFound: no execution with that id exists in the session.
	ErrExecutionNotFound = errors.New("sessions: execution not found")
	// ErrUnauthorized: the service rejected the token (HTTP 401).
	ErrUnauthorized = errors.New("sessions: unauthorized")
	// ErrForbidden: the token's principal lacks the role on the pool (HTTP 403).
	ErrForbidden = errors.New("sessions: forbidden")
)

// ArgumentError reports input the client refused before sending a request:
// Name is the parameter or field that was refused (such as "sessionID"),
// Reason says which rule failed and what to do instead. Nothing was sent.
// errors.Is(err, ErrInvalidArgument) matches it. It is the type pool and
// identity return for refused input too; its message starts with the name
// of the package that refused it ("sessions: invalid sessionID: ...").
type ArgumentError = sdkerr.ArgumentError

// ServiceError is a failed service call: Response is the *azcore.ResponseError
// the service's answer produced, Kind a sentinel for errors.Is
// (ErrSessionNotFound, ErrPoolAtCapacity, ...), and Advice says what to do
// next. errors.As(err, &respErr) with respErr *azcore.ResponseError works on
// it. It is the type identity returns for failed calls too; a sessions error
// reads "sessions: {kind} (HTTP {status} {text}, {code}): {advice}" followed
// by the service's answer on the next line, and never contains tokens or full
// session identifiers.
type ServiceError = sdkerr.ServiceError

// pkgName prefixes the messages of this package's errors.
const pkgName = "sessions"

func init() { sdkerr.SetServiceFormat(pkgName, formatServiceError) }

// newArgumentError returns the *ArgumentError of this package for name.
func newArgumentError(name, reason string) *ArgumentError {
	return sdkerr.NewArgument(pkgName, name, reason)
}

// newServiceErrorOf returns the *ServiceError of this package for re.
func newServiceErrorOf(kind error, advice string, re *azcore.ResponseError) *ServiceError {
	return sdkerr.NewService(pkgName, "", kind, advice, re, nil)
}

// formatServiceError is the message of a sessions *ServiceError: the kind,
// the HTTP status and error code, the advice and, on the next line, the
// service's answer.
func formatServiceError(e *ServiceError) string {
	var b strings.Builder
	b.WriteString("sessions: ")
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	if e.Kind != nil {
		b.WriteString(strings.TrimPrefix(e.Kind.Error(), "sessions: "))
	} else {
		b.WriteString("request failed")
	}
	if re := e.Response; re != nil {
		b.WriteString(" (HTTP ")
		b.WriteString(strconv.Itoa(re.StatusCode))
		if text := http.StatusText(re.StatusCode); text != "" {
			b.WriteString(" ")
			b.WriteString(text)
		}
		if re.ErrorCode != "" {
			b.WriteString(", ")
			b.WriteString(re.ErrorCode)
		}
		b.WriteString(")")
	}
	if e.Cause != nil {
		b.WriteString("; stopped: ")
		b.WriteString(e.Cause.Error())
	}
	if e.Advice != "" {
		b.WriteString(": ")
		b.WriteString(e.Advice)
	}
	if e.Response != nil {
		b.WriteString("\n")
		b.WriteString(e.Response.Error())
	}
	return b.String()
}

// newServiceError turns a non-success response into an error: an
// *azcore.ResponseError, wrapped in a *ServiceError when the status or code
// maps to a sentinel or deserves advice. op names the operation family:
// "execution", "file", "session" or "" for others.
func newServiceError(resp *http.Response, op string) error {
	err := runtime.NewResponseError(resp)
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		return err // reading the body failed; nothing better to say
	}
	code := strings.ToLower(re.ErrorCode)
	se := newServiceErrorOf(nil, "", re)
	switch {
	case re.StatusCode == http.StatusUnauthorized:
		se.Kind = ErrUnauthorized
		se.Advice = "check that the token's audience is the one the pool accepts, https://dynamicsessions.io unless ClientOptions.Cloud overrides it (az account get-access-token --resource https://dynamicsessions.io; an ARM token is refused), and that it has not expired; identity.InspectToken shows a token's audience and expiry"
	case re.StatusCode == http.StatusForbidden:
		se.Kind = ErrForbidden
		se.Advice = "assign the \"Azure ContainerApps Session Executor\" role (0fb8eba5-a2bb-4abe-b1c1-49dfad359bb0) on the session pool to the token's principal, then allow a few minutes for it to propagate"
	case outcome.IsCapacityCode(code):
		se.Kind = ErrPoolAtCapacity
		se.Advice = "delete sessions you no longer need (SessionClient.Close or DeleteSession), wait for idle sessions to cool down, or raise scaleConfiguration.maxConcurrentSessions"
	case re.StatusCode == http.StatusNotFound && (code == "sessionnotfound" || (op == "session" && code == "")):
		se.Kind = ErrSessionNotFound
		se.Advice = "the session was deleted or its cooldown expired; a new execution or upload with this identifier starts a new, empty session"
	case re.StatusCode == http.StatusNotFound && (code == "filenotfound" || (op == "file" && code == "")):
		se.Kind = ErrFileNotFound
		se.Advice = "check the name and the Path option (both relative to /mnt/data); NewListFilesPager shows what the session holds"
	case re.StatusCode == http.StatusNotFound && (code == "executionnotfound" || (op == "execution" && code == "")):
		se.Kind = ErrExecutionNotFound
		se.Advice = "check the execution ID (ExecuteResponse.ID) and that it is read with the session identifier it ran in"
	default:
		return re
	}
	return se
}
