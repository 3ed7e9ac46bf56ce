package sessions

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
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
	// Sessions are the sessions on this page.
	Sessions []SessionInfo
	// NextLink is the URL of the next page; empty on the last page.
	NextLink string
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

// GetSession returns the state of a session: when it was created and last
// used, and when it expires. It needs api-version 2025-02-02-preview or later.
//
//   - sessionID - the session identifier.
//   - options - nil for defaults.
//
// An unknown session gives an error matching ErrSessionNotFound; other
// service failures return an *azcore.ResponseError.
func (c *Client) GetSession(ctx context.Context, sessionID string, options *GetSessionOptions) (resp GetSessionResponse, err error) {
	ctx, endSpan := c.startSpan(ctx, "Client.GetSession")
	defer func() { endSpan(err) }()
	if err := ValidateSessionID(sessionID); err != nil {
		return resp, err
	}
	payload, err := c.sendJSON(ctx, http.MethodGet, "session", sessionID, nil, "get session", "session", http.StatusOK)
	if err != nil {
		return resp, err
	}
	var w wireSession
	if err := json.Unmarshal(payload, &w); err != nil {
		return resp, fmt.Errorf("sessions: get session: decode response: %w", err)
	}
	return GetSessionResponse{SessionInfo: w.info()}, nil
}

// DeleteSession deletes a session and everything in it, freeing its place in
// the pool (maxConcurrentSessions). A later request with the same identifier
// allocates a new, empty session. It needs api-version 2025-02-02-preview or
// later.
//
//   - sessionID - the session identifier.
//   - options - nil for defaults.
//
// An unknown session gives an error matching ErrSessionNotFound; other
// service failures return an *azcore.ResponseError.
func (c *Client) DeleteSession(ctx context.Context, sessionID string, options *DeleteSessionOptions) (resp DeleteSessionResponse, err error) {
	ctx, endSpan := c.startSpan(ctx, "Client.DeleteSession")
	defer func() { endSpan(err) }()
	if err := ValidateSessionID(sessionID); err != nil {
		return resp, err
	}
	_, err = c.sendJSON(ctx, http.MethodDelete, "session", sessionID, nil, "delete session", "session", http.StatusOK, http.StatusNoContent)
	return resp, err
}

// NewListSessionsPager lists the pool's sessions, page by page, following
// the service's nextLink. It sends nothing until the first call to NextPage.
// It needs api-version 2025-02-02-preview or later.
//
//   - options - nil for defaults.
//
// Service failures return an *azcore.ResponseError.
func (c *Client) NewListSessionsPager(options *ListSessionsOptions) *runtime.Pager[ListSessionsResponse] {
	var opts ListSessionsOptions
	if options != nil {
		opts = *options
	}
	return runtime.NewPager(runtime.PagingHandler[ListSessionsResponse]{
		More: func(page ListSessionsResponse) bool { return page.NextLink != "" },
		Fetcher: func(ctx context.Context, page *ListSessionsResponse) (resp ListSessionsResponse, err error) {
			ctx, endSpan := c.startSpan(ctx, "Client.NewListSessionsPager")
			defer func() { endSpan(err) }()
			if opts.Skip < 0 {
				return resp, &ArgumentError{Name: "ListSessionsOptions.Skip", Reason: fmt.Sprintf("is %d; pass zero or a positive count", opts.Skip)}
			}
			var req *policy.Request
			if page == nil {
				q := url.Values{}
				if opts.Skip > 0 {
					q.Set("skip", strconv.Itoa(int(opts.Skip)))
				}
				req, err = c.newRequest(ctx, http.MethodGet, "listSessions", "", q)
			} else {
				req, err = c.nextLinkRequest(ctx, page.NextLink, "")
			}
			if err != nil {
				return resp, fmt.Errorf("sessions: list sessions: %w", err)
			}
			payload, err := c.send(ctx, req, "", "list sessions", "", http.StatusOK)
			if err != nil {
				return resp, err
			}
			items, next, err := decodeList[wireSession](payload, "list sessions", "sessions", "value")
			if err != nil {
				return resp, err
			}
			resp = ListSessionsResponse{Sessions: make([]SessionInfo, 0, len(items)), NextLink: next}
			for _, it := range items {
				resp.Sessions = append(resp.Sessions, it.info())
			}
			return resp, nil
		},
		Tracer: c.tracer,
	})
}

// GetMetadata returns what the pool's sessions provide: runtimes, packages
// and, for code-interpreter pools, the Jupyter kernel. It needs api-version
// 2025-02-02-preview or later.
//
//   - options - nil for defaults.
//
// Service failures return an *azcore.ResponseError.
func (c *Client) GetMetadata(ctx context.Context, options *GetMetadataOptions) (resp GetMetadataResponse, err error) {
	ctx, endSpan := c.startSpan(ctx, "Client.GetMetadata")
	defer func() { endSpan(err) }()
	payload, err := c.sendJSON(ctx, http.MethodGet, "metadata", "", nil, "get metadata", "", http.StatusOK)
	if err != nil {
		return resp, err
	}
	var w struct {
		Runtimes             []Runtime   `json:"runtimes"`
		PreInstalledPackages []Package   `json:"preInstalledPackages"`
		CreatedAt            lenientTime `json:"createdAt"`
		LastUpdatedAt        lenientTime `json:"lastUpdatedAt"`
		JupyterKernel        *struct {
			Name        string `json:"name"`
			Version     string `json:"version"`
			ProjectURL  string `json:"projectUrl"`
			Description string `json:"description"`
		} `json:"jupyterKernel"`
	}
	if len(bytes.TrimSpace(payload)) > 0 {
		if err := json.Unmarshal(payload, &w); err != nil {
			return resp, fmt.Errorf("sessions: get metadata: decode response: %w", err)
		}
	}
	resp.Runtimes = w.Runtimes
	resp.PreInstalledPackages = w.PreInstalledPackages
	resp.CreatedAt = time.Time(w.CreatedAt)
	resp.LastUpdatedAt = time.Time(w.LastUpdatedAt)
	// A shell pool may send the schema-required object with every field
	// empty; that is no kernel either.
	if k := w.JupyterKernel; k != nil && (k.Name != "" || k.Version != "" || k.ProjectURL != "" || k.Description != "") {
		resp.JupyterKernel = &JupyterKernel{Name: k.Name, Version: k.Version, ProjectURL: k.ProjectURL, Description: k.Description}
	}
	return resp, nil
}

// sendJSON sends a body-less request to {endpoint}/{path}, checks the
// status and returns the response body.
func (c *Client) sendJSON(ctx context.Context, method, path, sessionID string, q url.Values, what, op string, want ...int) ([]byte, error) {
	req, err := c.newRequest(ctx, method, path, sessionID, q)
	if err != nil {
		return nil, err
	}
	return c.send(ctx, req, sessionID, what, op, want...)
}

// send sends req, checks that the status is one of want and returns the
// response body. what names the operation in errors ("list files"); op is
// the operation family for newServiceError. Errors never carry the full
// session identifier.
func (c *Client) send(ctx context.Context, req *policy.Request, sessionID, what, op string, want ...int) ([]byte, error) {
	req.Raw().Header.Set("Accept", "application/json")
	httpResp, err := c.pl.Do(req)
	if err != nil {
		return nil, redactError(fmt.Errorf("sessions: %s: %w", what, ctxErr(ctx, err)), sessionID)
	}
	if !runtime.HasStatusCode(httpResp, want...) {
		return nil, redactError(newServiceError(httpResp, op), sessionID)
	}
	payload, err := runtime.Payload(httpResp)
	if err != nil {
		return nil, redactError(fmt.Errorf("sessions: %s: read response: %w", what, ctxErr(ctx, err)), sessionID)
	}
	return payload, nil
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
