package sessions

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
)

// GetSession returns the state of a session: when it was created and last
// used, and when it expires. It needs api-version 2025-02-02-preview or later.
//
// An unknown session gives an error matching ErrSessionNotFound.
func (c *Client) GetSession(ctx context.Context, sessionID string, options *GetSessionOptions) (resp GetSessionResponse, err error) {
	ctx, endSpan := c.startSpan(ctx, "Client.GetSession")
	defer func() { endSpan(err) }()
	if err := ValidateSessionID(sessionID); err != nil {
		return resp, err
	}
	payload, err := c.sendJSON(ctx, http.MethodGet, "session", nil, serviceCall{sessionID: sessionID, what: "get session", op: "session", want: okOnly})
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
// An unknown session gives an error matching ErrSessionNotFound.
func (c *Client) DeleteSession(ctx context.Context, sessionID string, options *DeleteSessionOptions) (resp DeleteSessionResponse, err error) {
	ctx, endSpan := c.startSpan(ctx, "Client.DeleteSession")
	defer func() { endSpan(err) }()
	if err := ValidateSessionID(sessionID); err != nil {
		return resp, err
	}
	_, err = c.sendJSON(ctx, http.MethodDelete, "session", nil, serviceCall{sessionID: sessionID, what: "delete session", op: "session", want: okOrNoContent})
	return resp, err
}

// NewListSessionsPager lists the pool's sessions, page by page, following
// the service's nextLink. It sends nothing until the first call to NextPage.
// It needs api-version 2025-02-02-preview or later.
func (c *Client) NewListSessionsPager(options *ListSessionsOptions) *runtime.Pager[ListSessionsResponse] {
	var opts ListSessionsOptions
	if options != nil {
		opts = *options
	}
	return runtime.NewPager(runtime.PagingHandler[ListSessionsResponse]{
		More: func(page ListSessionsResponse) bool { return page.NextLink != nil && *page.NextLink != "" },
		Fetcher: func(ctx context.Context, page *ListSessionsResponse) (resp ListSessionsResponse, err error) {
			ctx, endSpan := c.startSpan(ctx, "Client.NewListSessionsPager")
			defer func() { endSpan(err) }()
			if opts.Skip < 0 {
				return resp, newArgumentError("ListSessionsOptions.Skip", fmt.Sprintf("is %d; pass zero or a positive count", opts.Skip))
			}
			var req *policy.Request
			if page == nil {
				q := url.Values{}
				if opts.Skip > 0 {
					q.Set("skip", strconv.Itoa(int(opts.Skip)))
				}
				req, err = c.newRequest(ctx, http.MethodGet, "listSessions", "", q)
			} else {
				req, err = c.nextLinkRequest(ctx, *page.NextLink, "")
			}
			if err != nil {
				return resp, fmt.Errorf("sessions: list sessions: %w", err)
			}
			payload, err := c.send(ctx, req, serviceCall{what: "list sessions", want: okOnly})
			if err != nil {
				return resp, err
			}
			items, next, err := decodeList[wireSession](payload, "list sessions", "sessions", "value")
			if err != nil {
				return resp, err
			}
			resp = ListSessionsResponse{Value: make([]*SessionInfo, len(items))}
			if next != "" {
				resp.NextLink = &next
			}
			vals := make([]SessionInfo, len(items)) // one allocation for the page
			for i, it := range items {
				vals[i] = it.info()
				resp.Value[i] = &vals[i]
			}
			return resp, nil
		},
		Tracer: c.tracer,
	})
}

// GetMetadata returns what the pool's sessions provide: runtimes, packages
// and, for code-interpreter pools, the Jupyter kernel. It needs api-version
// 2025-02-02-preview or later.
func (c *Client) GetMetadata(ctx context.Context, options *GetMetadataOptions) (resp GetMetadataResponse, err error) {
	ctx, endSpan := c.startSpan(ctx, "Client.GetMetadata")
	defer func() { endSpan(err) }()
	payload, err := c.sendJSON(ctx, http.MethodGet, "metadata", nil, serviceCall{what: "get metadata", want: okOnly})
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

// ErrStopSessionNotSupported is matched, through errors.Is, by the error of
// Client.StopSession when the pool does not serve the stop-session
// operation. The service documents it for custom-container pools only; on
// shell and code-interpreter pools free a session's slot with DeleteSession
// (or SessionClient.Close) instead.
var ErrStopSessionNotSupported = errors.New("sessions: the pool does not support stopSession (documented for custom-container pools only)")

// StopSession stops the session sessionID (POST /.management/stopSession,
// API.md §1.7), ending its container and freeing its place in the pool.
//
// The service documents this operation for custom-container pools only
// (and the specification adds it in api-version 2025-10-02-preview; set
// ClientOptions.APIVersion to it if the pool refuses the default). When the
// pool answers that it does not serve it (400, 405 or 501, or a 404 that
// does not name the session), the error matches ErrStopSessionNotSupported
// and says to use DeleteSession, which every pool type serves. An unknown
// session gives an error matching ErrSessionNotFound; other failures return
// an *azcore.ResponseError. Invalid input is an *ArgumentError and sends
// nothing. Errors and Message never contain the full session identifier.
func (c *Client) StopSession(ctx context.Context, sessionID string, options *StopSessionOptions) (resp StopSessionResponse, err error) {
	ctx, endSpan := c.startSpan(ctx, "Client.StopSession")
	defer func() { endSpan(err) }()
	if err := ValidateSessionID(sessionID); err != nil {
		return resp, err
	}
	req, err := c.newRequest(ctx, http.MethodPost, ".management/stopSession", sessionID, nil)
	if err != nil {
		return resp, redactError(err, sessionID)
	}
	req.Raw().Header.Set("Accept", "text/plain, application/json")
	httpResp, err := c.pl.Do(req)
	if err != nil {
		return resp, redactError(ctxErr(ctx, err), sessionID)
	}
	if !runtime.HasStatusCode(httpResp, http.StatusOK, http.StatusAccepted, http.StatusNoContent) {
		return resp, redactError(stopSessionError(httpResp), sessionID)
	}
	payload, err := runtime.Payload(httpResp)
	if err != nil {
		return resp, redactError(ctxErr(ctx, err), sessionID)
	}
	msg := strings.TrimSpace(string(payload))
	if sessionID != "" {
		msg = strings.ReplaceAll(msg, sessionID, RedactSessionID(sessionID))
	}
	return StopSessionResponse{Message: msg}, nil
}

// stopSessionError classifies a failed stopSession answer. A pool that does
// not route the operation answers with a generic error, so every status
// that means "no such operation here" becomes ErrStopSessionNotSupported;
// a 404 that names the session (SessionNotFound) stays ErrSessionNotFound.
func stopSessionError(resp *http.Response) error {
	err := newServiceError(resp, "")
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		return err
	}
	code := strings.ToLower(re.ErrorCode)
	switch {
	case errors.Is(err, ErrUnauthorized), errors.Is(err, ErrForbidden), errors.Is(err, ErrPoolAtCapacity):
		return err
	case re.StatusCode == http.StatusNotFound && code == "sessionnotfound":
		return newServiceErrorOf(ErrSessionNotFound, "the session was deleted or its cooldown expired; there is nothing to stop", re)
	case re.StatusCode == http.StatusBadRequest && strings.Contains(code, "apiversion"):
		return newServiceErrorOf(ErrStopSessionNotSupported, "the pool refused the api-version; stopSession is specified from 2025-10-02-preview, so set ClientOptions.APIVersion to it on a custom-container pool, or use DeleteSession, which every pool type serves", re)
	case re.StatusCode == http.StatusBadRequest, re.StatusCode == http.StatusNotFound,
		re.StatusCode == http.StatusMethodNotAllowed, re.StatusCode == http.StatusNotImplemented:
		return newServiceErrorOf(ErrStopSessionNotSupported, "stopSession is documented for custom-container pools only; on shell and code-interpreter pools free the slot with DeleteSession (or SessionClient.Close)", re)
	}
	return err
}
