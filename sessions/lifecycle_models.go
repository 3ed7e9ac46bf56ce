package sessions

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
)

// SessionInfo describes a session as the service reports it (API.md §1.7).
type SessionInfo struct {
	// Identifier is the session identifier. Treat it as a secret.
	Identifier string
	// CreatedAt is when the session was allocated.
	CreatedAt time.Time
	// LastAccessedAt is when the session was last used; the cooldown period
	// runs from here.
	LastAccessedAt time.Time
	// ExpireAt is when the session will be destroyed unless it is used again.
	ExpireAt time.Time
	// ETag identifies the container behind the session.
	ETag azcore.ETag
}

// Format implements fmt.Formatter: every verb (%v, %+v, %#v, %s, ...)
// prints the session with its Identifier redacted by RedactSessionID, so a
// SessionInfo, or a response or slice holding one, is safe to log. Read the
// Identifier field itself to use the session.
func (s SessionInfo) Format(f fmt.State, verb rune) {
	type plain SessionInfo // the same fields, without these methods
	p := plain(s)
	p.Identifier = RedactSessionID(s.Identifier)
	fmt.Fprintf(f, fmt.FormatString(f, verb), p)
}

// MarshalJSON implements json.Marshaler with the Identifier redacted by
// RedactSessionID, so that serialised sessions (logs, API answers of your
// own) never hold a usable identifier. Store the Identifier field
// separately if you need to use the session later.
func (s SessionInfo) MarshalJSON() ([]byte, error) {
	type plain SessionInfo
	p := plain(s)
	p.Identifier = RedactSessionID(s.Identifier)
	return json.Marshal(p)
}

// String returns a form of the session that is safe to log: the identifier
// is redacted.
func (s SessionInfo) String() string {
	return fmt.Sprintf("{Identifier:%s CreatedAt:%s LastAccessedAt:%s ExpireAt:%s}",
		RedactSessionID(s.Identifier), s.CreatedAt.Format(time.RFC3339), s.LastAccessedAt.Format(time.RFC3339), s.ExpireAt.Format(time.RFC3339))
}

// GetSessionOptions contains the optional parameters of Client.GetSession.
type GetSessionOptions struct {
	// placeholder for future options
}

// GetSessionResponse is the result of Client.GetSession.
type GetSessionResponse struct {
	// SessionInfo is the session's state.
	SessionInfo
}

// DeleteSessionOptions contains the optional parameters of Client.DeleteSession.
type DeleteSessionOptions struct {
	// placeholder for future options
}

// DeleteSessionResponse is the result of Client.DeleteSession.
type DeleteSessionResponse struct {
	// placeholder for future fields
}

// ListSessionsOptions contains the optional parameters of
// Client.NewListSessionsPager.
type ListSessionsOptions struct {
	// Skip is the number of sessions to skip before the first page. Zero
	// skips none (the parameter is then not sent).
	Skip int32
}

// ListSessionsResponse is one page of Client.NewListSessionsPager.
type ListSessionsResponse struct {
	// Value holds the sessions on this page.
	Value []*SessionInfo
	// NextLink is the URL of the next page; nil on the last page.
	NextLink *string
}

// Format implements fmt.Formatter: every verb prints the page with the
// sessions themselves (not their addresses), each with its Identifier
// redacted as SessionInfo.Format does, so a page is safe to log.
func (r ListSessionsResponse) Format(f fmt.State, verb rune) {
	type plain struct {
		Value    []SessionInfo
		NextLink string
	}
	p := plain{Value: make([]SessionInfo, 0, len(r.Value))}
	for _, s := range r.Value {
		if s != nil {
			p.Value = append(p.Value, *s)
		}
	}
	if r.NextLink != nil {
		p.NextLink = *r.NextLink
	}
	fmt.Fprintf(f, fmt.FormatString(f, verb), p)
}

// GetMetadataOptions contains the optional parameters of Client.GetMetadata.
type GetMetadataOptions struct {
	// placeholder for future options
}

// GetMetadataResponse is the result of Client.GetMetadata.
type GetMetadataResponse struct {
	// Metadata describes the pool's sessions.
	Metadata
}

// Metadata describes what the pool's sessions provide (API.md §1.7). What
// shell pools report here is not documented; fields may be empty.
type Metadata struct {
	// Runtimes are the language runtimes installed in the sessions.
	Runtimes []Runtime
	// PreInstalledPackages are the packages installed in the sessions.
	PreInstalledPackages []Package
	// CreatedAt is when the pool's image was created.
	CreatedAt time.Time
	// LastUpdatedAt is when the pool's image was last updated.
	LastUpdatedAt time.Time
	// JupyterKernel is the kernel of code-interpreter pools; nil when the
	// service reports none.
	JupyterKernel *JupyterKernel
}

// Runtime is a language runtime available in sessions.
type Runtime struct {
	// Name is the runtime's name, such as "node".
	Name string
	// Version is the runtime's version, such as "20.2.4".
	Version string
}

// Package is a package installed in sessions.
type Package struct {
	// Name is the package's name.
	Name string
	// Version is the package's version.
	Version string
}

// JupyterKernel describes a code-interpreter pool's kernel.
type JupyterKernel struct {
	// Name is the kernel's name.
	Name string
	// Version is the kernel's version.
	Version string
	// ProjectURL is the kernel project's home page.
	ProjectURL string
	// Description says what the kernel is.
	Description string
}

// StopSessionOptions contains the optional parameters of Client.StopSession.
type StopSessionOptions struct {
	// placeholder for future options
}

// StopSessionResponse is the result of Client.StopSession.
type StopSessionResponse struct {
	// Message is the service's plain-text answer, such as "Session … in
	// session pool mypool stopped.", with the session identifier redacted.
	Message string
}

// wireSession is the service's Session model.
type wireSession struct {
	Identifier     string      `json:"identifier"`
	CreatedAt      lenientTime `json:"createdAt"`
	LastAccessedAt lenientTime `json:"lastAccessedAt"`
	ExpireAt       lenientTime `json:"expireAt"`
	ETag           string      `json:"etag"`
}

func (w wireSession) info() SessionInfo {
	return SessionInfo{
		Identifier:     w.Identifier,
		CreatedAt:      time.Time(w.CreatedAt),
		LastAccessedAt: time.Time(w.LastAccessedAt),
		ExpireAt:       time.Time(w.ExpireAt),
		ETag:           azcore.ETag(w.ETag),
	}
}
