package sessions_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/internal/testpar"
	"github.com/shellpool/shellpool/sessions"
	"github.com/shellpool/shellpool/sessions/sessionstest"
)

// TestMain runs up to 8 parallel tests at once: they mostly wait for
// their test servers, Retry-After and timeouts.
func TestMain(m *testing.M) { os.Exit(testpar.Main(m, 8)) }

// Helpers shared by the black-box tests of package sessions.

// testPrefix is the path of the pool endpoint the wire tests serve: a
// request that drops it (an accidentally absolute URL) gets a 404.
const testPrefix = "/subscriptions/sub/resourceGroups/rg/sessionPools/pool"

// testSessionID is a valid session identifier used by the wire tests.
const testSessionID = "0123abcd-session-identifier-for-tests"

// wire is an httptest TLS server for one test, with a client pointed at
// it and a count of the requests that reached it.
type wire struct {
	srv    *httptest.Server
	client *sessions.Client
	hits   atomic.Int32
}

// setupWire starts a TLS server whose handler sees only requests under
// testPrefix (with the prefix still in the path).
func setupWire(t *testing.T, h http.HandlerFunc) *wire {
	t.Helper()
	w := &wire{}
	w.srv = httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.hits.Add(1)
		if !strings.HasPrefix(r.URL.Path, testPrefix+"/") {
			http.Error(rw, "path lost the endpoint prefix: "+r.URL.Path, http.StatusTeapot)
			return
		}
		if h == nil {
			http.Error(rw, "no handler", http.StatusInternalServerError)
			return
		}
		h(rw, r)
	}))
	t.Cleanup(w.srv.Close)
	c, err := sessions.NewClient(w.srv.URL+testPrefix, &fake.TokenCredential{}, &sessions.ClientOptions{
		ClientOptions: azcore.ClientOptions{
			Transport: w.srv.Client(),
			Retry:     policy.RetryOptions{MaxRetries: 2, RetryDelay: time.Millisecond, MaxRetryDelay: time.Millisecond},
		},
	})
	require.NoError(t, err)
	w.client = c
	return w
}

// specBody returns responses["200"].body of a copied spec example.
func specBody(t *testing.T, file string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "files", file))
	require.NoError(t, err)
	var ex struct {
		Responses map[string]struct {
			Body json.RawMessage `json:"body"`
		} `json:"responses"`
	}
	require.NoError(t, json.Unmarshal(raw, &ex))
	body := ex.Responses["200"].Body
	require.NotEmpty(t, body, "example %s has no 200 body", file)
	return body
}

// writeJSON answers with a JSON body.
func writeJSON(rw http.ResponseWriter, status int, body []byte) {
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(status)
	_, _ = rw.Write(body)
}

// writeServiceError answers with the spec's error body and x-ms-error-code.
func writeServiceError(rw http.ResponseWriter, status int, code string) {
	rw.Header().Set("x-ms-error-code", code)
	writeJSON(rw, status, []byte(fmt.Sprintf(`{"error":{"code":%q,"message":"failed: %s"}}`, code, code)))
}

// setupEmulator starts a sessionstest server for one test and a client for its
// default pool.
func setupEmulator(t testing.TB, opts *sessionstest.Options) (*sessionstest.Server, *sessions.Client) {
	t.Helper()
	if opts == nil {
		opts = &sessionstest.Options{}
	}
	opts.TB = t
	srv, err := sessionstest.Start(opts)
	if errors.Is(err, sessionstest.ErrNoBash) {
		t.Skip(err) // Windows without Git for Windows or MSYS2
	}
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	c, err := sessions.NewClient(srv.PoolEndpoint(), srv.Credential(), &sessions.ClientOptions{ClientOptions: srv.ClientOptions()})
	require.NoError(t, err)
	return srv, c
}

// specExampleFile is the file the spec's upload and get examples describe.
var specExampleFile = sessions.File{
	Name: "testfile.yaml", Type: sessions.FileTypeFile, ContentType: "application/yaml", SizeInBytes: 4,
	LastModifiedAt: time.Date(2024, 5, 29, 2, 17, 25, 902000000, time.UTC),
}

// queryLog records the query of every request a handler sees.
type queryLog struct {
	mu sync.Mutex
	qs []url.Values
}

func (l *queryLog) add(r *http.Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.qs = append(l.qs, r.URL.Query())
}

func (l *queryLog) all() []url.Values {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]url.Values(nil), l.qs...)
}

// seenRequest is what a handler saw of a request, handed to the test
// through a channel.
type seenRequest struct {
	method, path string
	query        url.Values
}

func errorsIsAny(err error, targets ...error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}
