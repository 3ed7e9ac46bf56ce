package sessions

import (
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// redactingTransport sits between azcore's pipeline and the HTTP client.
// net/http reports a failed request as a *url.Error quoting the full URL,
// whose query carries identifier=<session id>; azcore's logging and retry
// policies log that error as it comes back from the transport, before any
// client policy sees it. redactingTransport rewrites such errors at the
// source, so neither logs nor returned errors hold the identifier.
type redactingTransport struct {
	next policy.Transporter
}

// Do implements policy.Transporter.
func (t *redactingTransport) Do(req *http.Request) (*http.Response, error) {
	resp, err := t.next.Do(req)
	id := req.URL.Query().Get("identifier")
	if id == "" {
		return resp, err
	}
	if err != nil {
		return resp, redactError(err, id)
	}
	if resp != nil && resp.StatusCode >= 400 && resp.Body != nil {
		// An error answer may echo the identifier; azcore logs error
		// bodies (runtime.NewResponseError) and quotes them in
		// *azcore.ResponseError. Error bodies are small and read whole by
		// azcore anyway; only the first maxRedactedErrorBody bytes are
		// rewritten.
		resp.Body = redactBody(resp.Body, id)
		resp.ContentLength = -1
		resp.Header.Del("Content-Length")
	}
	return resp, nil
}

// maxRedactedErrorBody bounds the part of an error body that is scanned
// for the identifier.
const maxRedactedErrorBody = 1 << 20

// redactBody returns a body that reads as body with sessionID redacted in
// its first maxRedactedErrorBody bytes.
func redactBody(body io.ReadCloser, sessionID string) io.ReadCloser {
	head, err := io.ReadAll(io.LimitReader(body, maxRedactedErrorBody))
	head = []byte(redactString(string(head), sessionID))
	var r io.Reader = bytes.NewReader(head)
	if err != nil {
		r = io.MultiReader(r, errReader{err})
	} else {
		r = io.MultiReader(r, body)
	}
	return struct {
		io.Reader
		io.Closer
	}{r, body}
}

// errReader reports err.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// defaultTransport is the HTTP client used when ClientOptions.Transport is
// nil. It has the settings of azcore's own default client (proxy from the
// environment, 30 s dial timeout and keep-alive, TLS 1.2 or later, HTTP/2
// with a health-check ping after 10 s idle), which the client cannot reuse
// because it must wrap it in redactingTransport.
var defaultTransport = &http.Client{Transport: &http.Transport{
	Proxy:                 http.ProxyFromEnvironment,
	DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
	ForceAttemptHTTP2:     true,
	MaxIdleConns:          100,
	MaxIdleConnsPerHost:   10,
	IdleConnTimeout:       90 * time.Second,
	TLSHandshakeTimeout:   10 * time.Second,
	ExpectContinueTimeout: 1 * time.Second,
	TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12, Renegotiation: tls.RenegotiateFreelyAsClient},
	HTTP2:                 &http.HTTP2Config{SendPingTimeout: 10 * time.Second, PingTimeout: 5 * time.Second},
}}

// redactedError carries an error whose message had a session identifier
// replaced by its redacted form. Unwrap returns the original, so errors.Is
// and errors.As see the same chain (context.Canceled, *azcore.ResponseError,
// *url.Error, ...).
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redactError removes sessionID from err's message: transport errors
// (*url.Error) quote the request URL, whose query carries identifier=<id>,
// and a service's error body may echo it. Every *url.Error in the error tree
// has its URL rewritten in place (the error belongs to this call), so even
// an unwrapped error shows only RedactSessionID(sessionID).
func redactError(err error, sessionID string) error {
	if err == nil || sessionID == "" {
		return err
	}
	redactURLErrors(err, sessionID, 0)
	msg := err.Error()
	if !strings.Contains(msg, sessionID) && !strings.Contains(msg, url.QueryEscape(sessionID)) {
		return err
	}
	return &redactedError{msg: redactString(msg, sessionID), err: err}
}

// redactURLErrors rewrites the URL of every *url.Error in err's tree.
func redactURLErrors(err error, sessionID string, depth int) {
	if err == nil || depth > 32 {
		return
	}
	if ue, ok := err.(*url.Error); ok {
		ue.URL = redactString(ue.URL, sessionID)
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		redactURLErrors(u.Unwrap(), sessionID, depth+1)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			redactURLErrors(e, sessionID, depth+1)
		}
	}
}

// redactString replaces sessionID, raw or query-escaped, by its redacted
// form.
func redactString(s, sessionID string) string {
	if sessionID == "" {
		return s
	}
	r := RedactSessionID(sessionID)
	s = strings.ReplaceAll(s, sessionID, r)
	if esc := url.QueryEscape(sessionID); esc != sessionID {
		s = strings.ReplaceAll(s, esc, url.QueryEscape(r))
	}
	return s
}

// redactLocation is an Operation-Location (or poll URL) with its
// identifier redacted; the client keeps the full one to poll.
func redactLocation(location, sessionID string) string {
	if location == "" {
		return ""
	}
	if u, err := url.Parse(location); err == nil {
		if id := u.Query().Get("identifier"); id != "" && id != sessionID {
			location = redactString(location, id)
		}
	}
	return redactString(location, sessionID)
}
