package sessions

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
)

// newRequest builds a request for {endpoint}/{path}?api-version=..&identifier=..
// path is appended as given (callers escape segments); sessionID is added to
// the query when non-empty; query holds extra parameters. The query is
// encoded as url.Values.Encode would encode it (keys sorted).
func (c *Client) newRequest(ctx context.Context, method, path, sessionID string, query url.Values) (*policy.Request, error) {
	path = strings.TrimLeft(path, "/")
	if len(query) == 0 && !strings.ContainsAny(path, "?#") {
		// The common case: the query is written straight into the URL, in
		// the order Encode would sort it ("api-version" before "identifier"),
		// so the URL is built in one allocation.
		if sessionID == "" {
			return runtime.NewRequest(ctx, method, c.endpoint+"/"+path+"?api-version="+c.escapedAPIVersion)
		}
		return runtime.NewRequest(ctx, method, c.endpoint+"/"+path+"?api-version="+c.escapedAPIVersion+"&identifier="+url.QueryEscape(sessionID))
	}
	req, err := runtime.NewRequest(ctx, method, c.endpoint+"/"+path)
	if err != nil {
		return nil, err
	}
	q := make(url.Values, len(query)+2)
	for k, v := range query {
		q[k] = v
	}
	q.Set("api-version", c.apiVersion)
	if sessionID != "" {
		q.Set("identifier", sessionID)
	}
	req.Raw().URL.RawQuery = q.Encode()
	return req, nil
}

// nextLinkRequest builds the GET of a page's nextLink. The link must point
// at the client's own endpoint (the bearer token is never sent elsewhere);
// api-version and identifier are added when the link lacks them.
func (c *Client) nextLinkRequest(ctx context.Context, link, sessionID string) (*policy.Request, error) {
	base, err := url.Parse(c.endpoint + "/")
	if err != nil {
		return nil, err
	}
	u, err := base.Parse(link)
	if err != nil {
		return nil, errors.New("the service sent a nextLink that is not a URL; list again from the first page, or check the pool's api-version")
	}
	if !strings.EqualFold(u.Scheme, base.Scheme) || !strings.EqualFold(u.Host, base.Host) {
		return nil, fmt.Errorf("the service's nextLink points at another host (%s); refusing to send credentials there", u.Host)
	}
	q := u.Query()
	if q.Get("api-version") == "" {
		q.Set("api-version", c.apiVersion)
	}
	if sessionID != "" && q.Get("identifier") == "" {
		q.Set("identifier", sessionID)
	}
	u.RawQuery = q.Encode()
	return runtime.NewRequest(ctx, http.MethodGet, u.String())
}

// withoutIdentifier returns link without its identifier query parameter, so
// that a page handed to the caller holds no session identifier; a link that
// does not parse comes back with the identifier redacted instead.
func withoutIdentifier(link, sessionID string) string {
	u, err := url.Parse(link)
	if err != nil {
		return redactString(link, sessionID)
	}
	q := u.Query()
	if !q.Has("identifier") {
		return link
	}
	q.Del("identifier")
	u.RawQuery = q.Encode()
	return u.String()
}

// serviceCall says how send reports on one request: which statuses are a
// success and how errors name the operation. Errors never carry the full
// session identifier.
type serviceCall struct {
	sessionID string // the session the request is about; "" for pool-level calls
	what      string // names the operation in errors: "list files"
	op        string // the operation family for newServiceError: "session", "file" or ""
	want      []int  // the statuses that are a success
}

// The success statuses of serviceCall.want, shared so that no call builds a
// slice.
var (
	okOnly        = []int{http.StatusOK}
	okOrNoContent = []int{http.StatusOK, http.StatusNoContent}
)

// sendJSON sends a body-less {method} {endpoint}/{path}?{query} for call,
// checks the status and returns the response body.
func (c *Client) sendJSON(ctx context.Context, method, path string, query url.Values, call serviceCall) ([]byte, error) {
	req, err := c.newRequest(ctx, method, path, call.sessionID, query)
	if err != nil {
		return nil, err
	}
	return c.send(ctx, req, call)
}

// send sends req, checks that the status is one of call.want and returns
// the response body.
func (c *Client) send(ctx context.Context, req *policy.Request, call serviceCall) ([]byte, error) {
	req.Raw().Header.Set("Accept", "application/json")
	httpResp, err := c.pl.Do(req)
	if err != nil {
		return nil, redactError(fmt.Errorf("sessions: %s: %w", call.what, ctxErr(ctx, err)), call.sessionID)
	}
	if !runtime.HasStatusCode(httpResp, call.want...) {
		return nil, redactError(newServiceError(httpResp, call.op), call.sessionID)
	}
	payload, err := runtime.Payload(httpResp)
	if err != nil {
		return nil, redactError(fmt.Errorf("sessions: %s: read response: %w", call.what, ctxErr(ctx, err)), call.sessionID)
	}
	return payload, nil
}

// ctxErr returns ctx.Err() when the context ended, so that a cancelled call
// reports context.Canceled or context.DeadlineExceeded rather than transport
// noise.
func ctxErr(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if ce := ctx.Err(); ce != nil && !errors.Is(err, ce) {
		return &contextError{ctx: ce, err: err}
	}
	return err
}

// contextError is a call that failed because its context ended: errors.Is
// matches the context's error (context.Canceled, context.DeadlineExceeded)
// and also reaches the transport error it caused (*url.Error, net errors),
// because Unwrap returns both.
type contextError struct {
	ctx error // ctx.Err()
	err error // what the transport reported
}

func (e *contextError) Error() string   { return e.ctx.Error() + " (" + e.err.Error() + ")" }
func (e *contextError) Unwrap() []error { return []error{e.ctx, e.err} }
