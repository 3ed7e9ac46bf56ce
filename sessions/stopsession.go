package sessions

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
)

// ErrStopSessionNotSupported is matched, through errors.Is, by the error of
// Client.StopSession when the pool does not serve the stop-session
// operation. The service documents it for custom-container pools only; on
// shell and code-interpreter pools free a session's slot with DeleteSession
// (or Session.Close) instead.
var ErrStopSessionNotSupported = errors.New("sessions: the pool does not support stopSession (documented for custom-container pools only)")

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

// StopSession stops the session sessionID (POST /.management/stopSession,
// API.md §1.7), ending its container and freeing its place in the pool.
//
//   - sessionID - the session identifier (see ValidateSessionID).
//   - options - nil for defaults.
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
		return &ServiceError{Kind: ErrSessionNotFound, Response: re,
			Advice: "the session was deleted or its cooldown expired; there is nothing to stop"}
	case re.StatusCode == http.StatusBadRequest && strings.Contains(code, "apiversion"):
		return &ServiceError{Kind: ErrStopSessionNotSupported, Response: re,
			Advice: "the pool refused the api-version; stopSession is specified from 2025-10-02-preview, so set ClientOptions.APIVersion to it on a custom-container pool, or use DeleteSession, which every pool type serves"}
	case re.StatusCode == http.StatusBadRequest, re.StatusCode == http.StatusNotFound,
		re.StatusCode == http.StatusMethodNotAllowed, re.StatusCode == http.StatusNotImplemented:
		return &ServiceError{Kind: ErrStopSessionNotSupported, Response: re,
			Advice: "stopSession is documented for custom-container pools only; on shell and code-interpreter pools free the slot with DeleteSession (or Session.Close)"}
	}
	return err
}
