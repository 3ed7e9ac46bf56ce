// Package armfake is the scripted Azure Resource Manager stand-in of the pool
// and identity tests: a TLS httptest server that records every request and
// answers from scripted routes (On) or from a function (Handle). Only tests
// import it.
//
// Its base URL has a path prefix (/arm), so a request built without the
// client's configured endpoint does not reach a route.
//
//	f := armfake.New(t)
//	f.On(http.MethodGet, "/subscriptions/s/resourcegroups/rg", armfake.Response{Status: 200, Body: `{}`})
//	c, _ := pool.NewClient("s", &fake.TokenCredential{}, &pool.ClientOptions{ClientOptions: f.ClientOptions()})
package armfake

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/shellpool/shellpool/internal/azname"
)

// BasePath is the path prefix of the server's ARM endpoint.
const BasePath = "/arm"

// Audience is the ARM audience the fake's cloud configuration names.
const Audience = azname.ARMAudience

// Response is one scripted answer. "{base}" in Headers and Body becomes the
// server's base URL (Base).
type Response struct {
	Status  int
	Headers map[string]string
	Body    string
}

// Request is one recorded request.
type Request struct {
	Method     string
	Path       string // the URL path without BasePath
	APIVersion string // the api-version query parameter
	Query      url.Values
	Body       string
	Auth       string // the Authorization header
	Host       string
	UserAgent  string // the User-Agent header
}

// HandleFunc answers request number i (0-based) with a status and a JSON body.
type HandleFunc func(i int, r Request) (status int, body string)

// Server is the fake. Create it with New.
type Server struct {
	t      testing.TB
	srv    *httptest.Server
	mu     sync.Mutex
	reqs   []Request
	routes map[string][]Response
	handle HandleFunc
}

// New starts a fake ARM server, closed when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{t: t, routes: map[string][]Response{}}
	s.srv = httptest.NewTLSServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

// HTTPServer returns the underlying httptest server, for tests that replace
// its handler.
func (s *Server) HTTPServer() *httptest.Server { return s.srv }

// Base returns the ARM endpoint to configure clients with.
func (s *Server) Base() string { return s.srv.URL + BasePath }

// On scripts the answers to method and path (without BasePath), used in
// order; the last one repeats. A request without a route fails the test and
// gets a 404.
func (s *Server) On(method, path string, rs ...Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.routes[method+" "+path] = append(s.routes[method+" "+path], rs...)
}

// Handle makes fn answer every request under BasePath, instead of routes.
// Requests outside BasePath get 418.
func (s *Server) Handle(fn HandleFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handle = fn
}

// Requests returns a copy of every request received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// ClientOptions returns ARM client options that reach the server: its cloud
// configuration, its TLS client and millisecond retry delays.
func (s *Server) ClientOptions() arm.ClientOptions {
	return arm.ClientOptions{ClientOptions: policy.ClientOptions{
		Cloud: cloud.Configuration{
			ActiveDirectoryAuthorityHost: "https://login.microsoftonline.com/",
			Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
				cloud.ResourceManager: {Endpoint: s.Base(), Audience: Audience},
			},
		},
		Transport: s.srv.Client(),
		Retry:     policy.RetryOptions{RetryDelay: time.Millisecond, MaxRetryDelay: time.Millisecond},
	}}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	path, inBase := strings.CutPrefix(r.URL.Path, BasePath)
	inBase = inBase && strings.HasPrefix(path, "/")
	rec := Request{
		Method: r.Method, Path: path, APIVersion: r.URL.Query().Get("api-version"),
		Query: r.URL.Query(), Body: string(body), Auth: r.Header.Get("Authorization"), Host: r.Host,
		UserAgent: r.UserAgent(),
	}
	s.mu.Lock()
	handle := s.handle
	if handle != nil && !inBase {
		s.mu.Unlock()
		http.Error(w, "request outside the configured endpoint", http.StatusTeapot)
		return
	}
	i := len(s.reqs)
	s.reqs = append(s.reqs, rec)
	var resp Response
	found := false
	if handle == nil {
		key := r.Method + " " + path
		if rs := s.routes[key]; inBase && len(rs) > 0 {
			resp, found = rs[0], true
			if len(rs) > 1 {
				s.routes[key] = rs[1:]
			}
		}
	}
	s.mu.Unlock()
	if handle != nil {
		resp.Status, resp.Body = handle(i, rec)
	} else if !found {
		s.t.Errorf("fake ARM: unexpected request %s %s", r.Method, r.URL)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"error":{"code":"NoRoute","message":"fake ARM has no route for this request"}}`)
		return
	}
	for k, v := range resp.Headers {
		w.Header().Set(k, strings.ReplaceAll(v, "{base}", s.Base()))
	}
	if resp.Body != "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(resp.Status)
	_, _ = io.WriteString(w, strings.ReplaceAll(resp.Body, "{base}", s.Base()))
}
