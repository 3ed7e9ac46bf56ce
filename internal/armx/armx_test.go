package armx_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/internal/armx"
)

type thing struct {
	Name string `json:"name"`
}

func newServer(t *testing.T, seen *http.Request, status int, body string) (*httptest.Server, runtime.Pipeline) {
	t.Helper()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*seen = *r.Clone(r.Context())
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	pl := runtime.NewPipeline("armx", "v0.0.1", runtime.PipelineOptions{}, &policy.ClientOptions{
		Transport: srv.Client(), Retry: policy.RetryOptions{MaxRetries: -1},
	})
	return srv, pl
}

func TestCall(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		status   int
		body     string
		want     thing
		wantCode int    // status of the *azcore.ResponseError, 0 for none
		wantErr  string // substring of a non-service error
	}{
		{"decodes the answer", http.StatusCreated, `{"name":"x","extra":1}`, thing{Name: "x"}, 0, ""},
		{"empty body is the zero value", http.StatusOK, ``, thing{}, 0, ""},
		{"unexpected status", http.StatusConflict, `{"error":{"code":"Conflict","message":"no"}}`, thing{}, http.StatusConflict, ""},
		{"undecodable body names the request", http.StatusOK, `{"name":`, thing{}, 0, "decode the response to PUT /base/things/a"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var seen http.Request
			srv, pl := newServer(t, &seen, tc.status, tc.body)
			got, resp, err := armx.Do[thing](t.Context(), pl, armx.Request{Method: http.MethodPut, URL: armx.URL(srv.URL+"/base/", "/things/"+armx.Segment("a")), APIVersion: "2024-01-01", Body: thing{Name: "in"}, OK: []int{http.StatusOK, http.StatusCreated}})
			assert.Equal(t, "2024-01-01", seen.URL.Query().Get("api-version"))
			assert.Equal(t, "/base/things/a", seen.URL.Path)
			switch {
			case tc.wantCode != 0:
				var re *azcore.ResponseError
				require.ErrorAs(t, err, &re)
				assert.Equal(t, tc.wantCode, re.StatusCode)
				assert.Equal(t, "Conflict", re.ErrorCode)
			case tc.wantErr != "":
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
			default:
				require.NoError(t, err)
				assert.Equal(t, tc.want, got)
				assert.Equal(t, tc.status, resp.StatusCode)
			}
		})
	}
}

func TestNewNextRequestKeepsTheLink(t *testing.T) {
	t.Parallel()
	var seen http.Request
	srv, pl := newServer(t, &seen, http.StatusOK, `{"name":"page2"}`)
	req, err := armx.NewNextRequest(t.Context(), srv.URL+"/list?api-version=2020-01-01&$skiptoken=abc")
	require.NoError(t, err)
	got, _, err := armx.SendDecode[thing](pl, req, http.StatusOK)
	require.NoError(t, err)
	assert.Equal(t, "page2", got.Name)
	assert.Equal(t, http.MethodGet, seen.Method)
	assert.Equal(t, "2020-01-01", seen.URL.Query().Get("api-version"))
	assert.Equal(t, "abc", seen.URL.Query().Get("$skiptoken"))
	assert.Equal(t, "application/json", seen.Header.Get("Accept"))
}

func TestDecode(t *testing.T) {
	t.Parallel()
	resp := func(body string) *http.Response {
		return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(body)), Header: http.Header{}}
	}
	v, err := armx.Decode[thing](resp("\xef\xbb\xbf{\"name\":\"x\"}"))
	require.NoError(t, err, "a byte order mark is ignored")
	assert.Equal(t, "x", v.Name)
	v, err = armx.Decode[thing](resp(""))
	require.NoError(t, err)
	assert.Equal(t, thing{}, v, "an empty body is the zero value")
	_, err = armx.Decode[thing](resp(`{"name":5}`))
	var typ *json.UnmarshalTypeError
	assert.ErrorAs(t, err, &typ, "the decoding error is wrapped with %%w")
	for _, body := range []string{`{"name":`, `{"name":}`} {
		_, err = armx.Decode[thing](resp(body))
		var syn *json.SyntaxError
		assert.ErrorAs(t, err, &syn, "body %q", body)
	}
}
