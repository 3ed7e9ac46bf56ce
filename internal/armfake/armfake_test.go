package armfake

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// errorsTB records Errorf instead of failing the test.
type errorsTB struct {
	testing.TB
	errs []string
}

func (e *errorsTB) Errorf(format string, args ...any) {
	e.errs = append(e.errs, fmt.Sprintf(format, args...))
}

func get(t *testing.T, s *Server, method, path string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, s.HTTPServer().URL+path, strings.NewReader("in"))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer x")
	req.Header.Set("User-Agent", "armfake-test")
	resp, err := s.HTTPServer().Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func TestRoutes(t *testing.T) {
	t.Parallel()
	tb := &errorsTB{TB: t}
	s := New(tb)
	s.On(http.MethodGet, "/a", Response{Status: 202, Headers: map[string]string{"Location": "{base}/op"}}, Response{Status: 200, Body: `{"at":"{base}"}`})
	st, _, h := get(t, s, http.MethodGet, BasePath+"/a?api-version=v1")
	assert.Equal(t, 202, st)
	assert.Equal(t, s.Base()+"/op", h.Get("Location"), "{base} in headers")
	for range 2 {
		st, body, _ := get(t, s, http.MethodGet, BasePath+"/a")
		assert.Equal(t, 200, st, "the last response repeats")
		assert.Equal(t, `{"at":"`+s.Base()+`"}`, body)
	}
	assert.Empty(t, tb.errs)
	st, _, _ = get(t, s, http.MethodGet, "/a")
	assert.Equal(t, http.StatusNotFound, st, "outside BasePath no route matches")
	require.Len(t, tb.errs, 1, "an unexpected request fails the test")

	reqs := s.Requests()
	require.Len(t, reqs, 4)
	assert.Equal(t, Request{Method: "GET", Path: "/a", APIVersion: "v1", Query: reqs[0].Query, Body: "in", Auth: "Bearer x", Host: reqs[0].Host, UserAgent: "armfake-test"}, reqs[0])
	assert.Equal(t, "v1", reqs[0].Query.Get("api-version"))
}

func TestHandle(t *testing.T) {
	t.Parallel()
	s := New(t)
	s.Handle(func(i int, r Request) (int, string) { return 200 + i, `{"path":"` + r.Path + `"}` })
	st, body, h := get(t, s, http.MethodPut, BasePath+"/x")
	assert.Equal(t, 200, st)
	assert.Equal(t, `{"path":"/x"}`, body)
	assert.Equal(t, "application/json", h.Get("Content-Type"))
	st, _, _ = get(t, s, http.MethodPut, BasePath+"/y")
	assert.Equal(t, 201, st, "handle sees the request's index")
	st, _, _ = get(t, s, http.MethodGet, "/outside")
	assert.Equal(t, http.StatusTeapot, st)
	assert.Len(t, s.Requests(), 2, "requests outside BasePath are not recorded")
	o := s.ClientOptions()
	assert.Equal(t, s.Base(), o.Cloud.Services["resourceManager"].Endpoint)
}
