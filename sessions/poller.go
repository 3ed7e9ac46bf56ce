package sessions

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
)

// executionPoller is the runtime.PollingHandler behind BeginExecute. Its
// exported fields are the resume token's content (azcore marshals the
// handler to JSON); client is set again when a poller is resumed.
type executionPoller struct {
	// PollURL is the absolute URL read by each poll, query included.
	PollURL string `json:"pollURL"`
	// SessionID is kept to redact it from errors.
	SessionID string `json:"sessionID"`
	// OutputLimit is the limit in effect for Execution.Truncated.
	OutputLimit int `json:"outputLimit"`
	// OperationID is the operation-id the POST carried.
	OperationID string `json:"operationID"`
	// Status is the last status seen.
	Status ExecutionStatus `json:"status"`

	client *Client
	last   *ExecuteResponse // the last decoded state; nil after a resume until polled
}

var _ runtime.PollingHandler[ExecuteResponse] = (*executionPoller)(nil)

// newExecutionPoller builds the handler from the POST's decoded answer.
func newExecutionPoller(c *Client, sessionID string, outputLimit int, first ExecuteResponse, location string) (*executionPoller, error) {
	p := &executionPoller{
		SessionID:   sessionID,
		OutputLimit: outputLimit,
		OperationID: first.OperationID,
		Status:      first.Status,
		client:      c,
		last:        &first,
	}
	if first.Status.Terminal() {
		return p, nil // answered synchronously: nothing to poll
	}
	p.PollURL = c.pollURL(location, first.ID, sessionID)
	if p.PollURL == "" {
		return nil, errors.New("sessions: the service accepted the execution but sent neither a usable Operation-Location nor an execution id to poll; use Execute, or check the pool's api-version")
	}
	return p, nil
}

// pollURL picks where to read the execution: Operation-Location when it
// points into this pool's endpoint (relative locations resolve against it,
// with or without the endpoint's own path prefix), else
// {endpoint}/executions/{id}. It returns "" when there is neither.
func (c *Client) pollURL(location, executionID, sessionID string) string {
	if u := c.resolveLocation(location); u != nil {
		q := u.Query()
		if q.Get("api-version") == "" {
			q.Set("api-version", c.apiVersion)
		}
		if q.Get("identifier") == "" {
			q.Set("identifier", sessionID)
		}
		u.RawQuery = q.Encode()
		return u.String()
	}
	if executionID == "" {
		return ""
	}
	q := url.Values{}
	q.Set("api-version", c.apiVersion)
	q.Set("identifier", sessionID)
	return c.endpoint + "/executions/" + url.PathEscape(executionID) + "?" + q.Encode()
}

// resolveLocation turns an Operation-Location value into an absolute URL on
// the client's endpoint, or nil when it is absent, unparsable, on another
// host or scheme (the bearer token must not leave the pool's host), or not
// an executions URL (the spec examples' placeholder "operation-location-uri").
func (c *Client) resolveLocation(location string) *url.URL {
	if location == "" {
		return nil
	}
	base, err := url.Parse(c.endpoint)
	if err != nil {
		return nil
	}
	loc, err := url.Parse(location)
	if err != nil {
		return nil
	}
	var u *url.URL
	switch {
	case loc.IsAbs():
		if !strings.EqualFold(loc.Scheme, base.Scheme) || !strings.EqualFold(loc.Host, base.Host) {
			return nil
		}
		u = loc
	case loc.Host != "":
		return nil // scheme-relative //host/...: treat as foreign
	default:
		u = &url.URL{Scheme: base.Scheme, Host: base.Host, RawQuery: loc.RawQuery}
		p := "/" + strings.TrimLeft(loc.Path, "/")
		if prefix := strings.TrimRight(base.Path, "/"); prefix != "" && !strings.HasPrefix(p, prefix+"/") {
			p = prefix + p
		}
		u.Path = p
	}
	if !strings.Contains(u.Path, "/executions/") {
		return nil
	}
	return u
}

// Done implements runtime.PollingHandler.
func (p *executionPoller) Done() bool { return p.Status.Terminal() }

// Poll implements runtime.PollingHandler: one GET of the execution.
func (p *executionPoller) Poll(ctx context.Context) (*http.Response, error) {
	req, err := runtime.NewRequest(ctx, http.MethodGet, p.PollURL)
	if err != nil {
		return nil, redactError(err, p.SessionID)
	}
	req.Raw().Header.Set("Accept", "application/json")
	resp, err := p.client.pl.Do(req)
	if err != nil {
		return nil, redactError(ctxErr(ctx, err), p.SessionID)
	}
	if !runtime.HasStatusCode(resp, http.StatusOK, http.StatusAccepted) {
		return nil, redactError(newServiceError(resp, "execution"), p.SessionID)
	}
	r, _, err := p.client.executeResponse(resp, p.SessionID, p.OperationID, p.OutputLimit)
	if err != nil {
		return nil, redactError(err, p.SessionID)
	}
	if r.OperationLocation == "" {
		r.OperationLocation = redactLocation(p.PollURL, p.SessionID)
	}
	p.last = &r
	p.Status = r.Status
	return resp, nil
}

// Result implements runtime.PollingHandler. A finished execution is a
// result whatever its status; only a poller that was resumed after the
// execution finished, and never polled, has nothing to return.
func (p *executionPoller) Result(ctx context.Context, out *ExecuteResponse) error {
	if p.last == nil {
		if _, err := p.Poll(ctx); err != nil {
			return err
		}
	}
	*out = *p.last
	return nil
}
