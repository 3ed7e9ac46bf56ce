// Package armx holds the few Azure Resource Manager request helpers that the
// pool and identity packages share: building a request with an api-version,
// sending it through an azcore pipeline, and decoding the answer. Everything
// else (auth, retries, logging, tracing) comes from azcore's arm pipeline.
package armx

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
)

// URL joins an ARM endpoint (such as https://management.azure.com) and a
// resource path (such as /subscriptions/x/resourceGroups/y). The path must
// already be escaped; use Segment for values a caller supplies.
func URL(endpoint, path string) string {
	return strings.TrimRight(endpoint, "/") + "/" + strings.TrimLeft(path, "/")
}

// Segment escapes one path segment supplied by a caller.
func Segment(s string) string { return url.PathEscape(s) }

// Request describes one ARM request, so that its strings cannot be swapped.
type Request struct {
	// Method is the HTTP method, such as http.MethodPut.
	Method string
	// URL is the absolute URL, built with URL and Segment.
	URL string
	// APIVersion is set as the api-version query parameter.
	APIVersion string
	// Body, when non-nil, is marshalled as JSON.
	Body any
	// OK lists the status codes that mean success (Do only).
	OK []int
}

// New builds the request with api-version set in the query and, when Body
// is non-nil, the body marshalled as JSON.
func (r Request) New(ctx context.Context) (*policy.Request, error) {
	req, err := runtime.NewRequest(ctx, r.Method, r.URL)
	if err != nil {
		return nil, err
	}
	q := req.Raw().URL.Query()
	q.Set("api-version", r.APIVersion)
	req.Raw().URL.RawQuery = q.Encode()
	req.Raw().Header.Set("Accept", "application/json")
	if r.Body != nil {
		if err := runtime.MarshalAsJSON(req, r.Body); err != nil {
			return nil, err
		}
	}
	return req, nil
}

// Send runs req through pl and returns the response when its status is one of
// ok; otherwise it returns an *azcore.ResponseError built from the response.
func Send(pl runtime.Pipeline, req *policy.Request, ok ...int) (*http.Response, error) {
	resp, err := pl.Do(req)
	if err != nil {
		return nil, err
	}
	if !runtime.HasStatusCode(resp, ok...) {
		return nil, runtime.NewResponseError(resp)
	}
	return resp, nil
}

// Decode unmarshals a JSON response body (a UTF-8 byte order mark is
// ignored) into a T. An empty body yields the zero T. A body that does not
// decode gives encoding/json's error (*json.SyntaxError,
// *json.UnmarshalTypeError, ...) wrapped with %w, so errors.As reaches it.
func Decode[T any](resp *http.Response) (T, error) {
	var v T
	payload, err := runtime.Payload(resp)
	if err != nil {
		return v, err
	}
	payload = bytes.TrimPrefix(payload, []byte("\xef\xbb\xbf"))
	if len(bytes.TrimSpace(payload)) == 0 {
		return v, nil
	}
	if err := json.Unmarshal(payload, &v); err != nil {
		var zero T
		return zero, fmt.Errorf("unmarshal %T: %w", v, err)
	}
	return v, nil
}

// NewNextRequest builds a GET for a list's nextLink. The link already
// carries its api-version and every other query parameter, so it is sent as
// the service wrote it.
func NewNextRequest(ctx context.Context, nextLink string) (*policy.Request, error) {
	req, err := runtime.NewRequest(ctx, http.MethodGet, nextLink)
	if err != nil {
		return nil, err
	}
	req.Raw().Header.Set("Accept", "application/json")
	return req, nil
}

// SendDecode sends req through pl like Send and decodes the JSON answer into
// a T. It also returns the response, for its status code and headers. A body
// that does not decode gives an error naming the request's method and path.
func SendDecode[T any](pl runtime.Pipeline, req *policy.Request, ok ...int) (T, *http.Response, error) {
	var zero T
	resp, err := Send(pl, req, ok...)
	if err != nil {
		return zero, nil, err
	}
	v, err := Decode[T](resp)
	if err != nil {
		return zero, resp, fmt.Errorf("decode the response to %s %s: %w", req.Raw().Method, req.Raw().URL.Path, err)
	}
	return v, resp, nil
}

// Do builds r, sends it through pl and decodes the answer into a T: the
// whole of a simple ARM operation. It returns an *azcore.ResponseError when
// the status is not one of r.OK.
func Do[T any](ctx context.Context, pl runtime.Pipeline, r Request) (T, *http.Response, error) {
	req, err := r.New(ctx)
	if err != nil {
		var zero T
		return zero, nil, err
	}
	return SendDecode[T](pl, req, r.OK...)
}
