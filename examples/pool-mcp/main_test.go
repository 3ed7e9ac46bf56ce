package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/pool"
)

// The key goes to the pool's MCP host only, never to another host (such as
// the target of a redirect).
func TestAPIKeyTransportSendsTheKeyToThePoolOnly(t *testing.T) {
	t.Parallel()
	var got []string
	pool1 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Header.Get("x-ms-apikey"))
	}))
	defer pool1.Close()
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, "other:"+r.Header.Get("x-ms-apikey"))
	}))
	defer other.Close()
	host := strings.TrimPrefix(pool1.URL, "http://")
	c := &http.Client{Transport: apiKeyTransport{key: pool.NewMCPAPIKey("the-key"), host: host, base: http.DefaultTransport}}

	resp, err := c.Post(pool1.URL+"/mcp", "application/json", strings.NewReader("{}"))
	require.NoError(t, err)
	resp.Body.Close()
	_, err = c.Post(other.URL+"/mcp", "application/json", strings.NewReader("{}"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "refusing to send the MCP key")
	assert.NotContains(t, err.Error(), "the-key")
	assert.Equal(t, []string{"the-key"}, got, "only the pool's host got a request, with the key")
}
