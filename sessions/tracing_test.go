package sessions_test

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/tracing"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/sessions"
)

// spanRecord is one method-level span a spanRecorder saw.
type spanRecord struct {
	name   string
	ends   int
	failed bool
	desc   string
}

// spanRecorder is a tracing provider that records the method-level
// (internal) spans a client opens; HTTP spans (kind client) are ignored.
type spanRecorder struct {
	mu    sync.Mutex
	spans []*spanRecord
}

func (r *spanRecorder) provider() tracing.Provider {
	return tracing.NewProvider(func(string, string) tracing.Tracer {
		return tracing.NewTracer(func(ctx context.Context, name string, o *tracing.SpanOptions) (context.Context, tracing.Span) {
			if o != nil && o.Kind != tracing.SpanKindInternal {
				return ctx, tracing.Span{}
			}
			rec := &spanRecord{name: name}
			r.mu.Lock()
			r.spans = append(r.spans, rec)
			r.mu.Unlock()
			return ctx, tracing.NewSpan(tracing.SpanImpl{
				End: func() { r.mu.Lock(); rec.ends++; r.mu.Unlock() },
				SetStatus: func(code tracing.SpanStatus, desc string) {
					r.mu.Lock()
					rec.failed, rec.desc = code == tracing.SpanStatusError, desc
					r.mu.Unlock()
				},
			})
		}, nil)
	}, nil)
}

func (r *spanRecorder) recorded() []spanRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]spanRecord, len(r.spans))
	for i, s := range r.spans {
		out[i] = *s
	}
	return out
}

// tracingHandler answers every data-plane operation successfully, or, with
// fail set, with a 400 whose message echoes the session identifier.
func tracingHandler(fail bool) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if fail {
			writeJSON(rw, http.StatusBadRequest, []byte(`{"error":{"code":"Bad","message":"session `+r.URL.Query().Get("identifier")+` refused"}}`))
			return
		}
		p := strings.TrimPrefix(r.URL.Path, testPrefix)
		switch {
		case r.Method == http.MethodDelete:
			rw.WriteHeader(http.StatusNoContent)
		case strings.HasPrefix(p, "/executions"):
			writeJSON(rw, http.StatusOK, []byte(`{"id":"e1","status":"0","result":{"stdout":"x"}}`))
		case strings.HasSuffix(p, "/content"):
			_, _ = io.WriteString(rw, "data")
		case p == "/files" && r.Method == http.MethodGet:
			writeJSON(rw, http.StatusOK, []byte(`{"value":[]}`))
		case strings.HasPrefix(p, "/files"):
			writeJSON(rw, http.StatusOK, []byte(`{"name":"a.txt","type":"File"}`))
		case p == "/session":
			writeJSON(rw, http.StatusOK, []byte(`{"identifier":"x"}`))
		case p == "/listSessions":
			writeJSON(rw, http.StatusOK, []byte(`{"sessions":[]}`))
		default:
			writeJSON(rw, http.StatusOK, []byte(`{}`))
		}
	}
}

// TestEveryPublicMethodOpensOneSpan: each public method opens exactly one
// method-level span, ends it once, and marks it failed, with a message
// that does not hold the session identifier, exactly when it fails.
func TestEveryPublicMethodOpensOneSpan(t *testing.T) {
	t.Parallel()
	calls := []struct {
		name     string
		wantSpan string
		call     func(ctx context.Context, c *sessions.Client, dir string) error
	}{
		{"Execute", "Client.Execute", func(ctx context.Context, c *sessions.Client, _ string) error {
			_, err := c.Execute(ctx, testSessionID, sessions.ShellCommand("true"), nil)
			return err
		}},
		{"BeginExecute", "Client.BeginExecute", func(ctx context.Context, c *sessions.Client, _ string) error {
			_, err := c.BeginExecute(ctx, testSessionID, sessions.ShellCommand("true"), nil)
			return err
		}},
		{"GetExecution", "Client.GetExecution", func(ctx context.Context, c *sessions.Client, _ string) error {
			_, err := c.GetExecution(ctx, testSessionID, "e1", nil)
			return err
		}},
		{"UploadFile", "Client.UploadFile", func(ctx context.Context, c *sessions.Client, _ string) error {
			_, err := c.UploadFile(ctx, testSessionID, "a.txt", strings.NewReader("data"), nil)
			return err
		}},
		{"DownloadFile", "Client.DownloadFile", func(ctx context.Context, c *sessions.Client, _ string) error {
			r, err := c.DownloadFile(ctx, testSessionID, "a.txt", nil)
			if err == nil {
				_ = r.Body.Close()
			}
			return err
		}},
		{"DownloadFileTo", "Client.DownloadFileTo", func(ctx context.Context, c *sessions.Client, _ string) error {
			_, err := c.DownloadFileTo(ctx, testSessionID, "a.txt", io.Discard, nil)
			return err
		}},
		{"DownloadFileToPath", "Client.DownloadFileToPath", func(ctx context.Context, c *sessions.Client, dir string) error {
			_, err := c.DownloadFileToPath(ctx, testSessionID, "a.txt", filepath.Join(dir, "a.txt"), nil)
			return err
		}},
		{"GetFile", "Client.GetFile", func(ctx context.Context, c *sessions.Client, _ string) error {
			_, err := c.GetFile(ctx, testSessionID, "a.txt", nil)
			return err
		}},
		{"DeleteFile", "Client.DeleteFile", func(ctx context.Context, c *sessions.Client, _ string) error {
			_, err := c.DeleteFile(ctx, testSessionID, "a.txt", nil)
			return err
		}},
		{"NewListFilesPager", "Pager[ListFilesResponse].NextPage", func(ctx context.Context, c *sessions.Client, _ string) error {
			_, err := c.NewListFilesPager(testSessionID, nil).NextPage(ctx)
			return err
		}},
		{"GetSession", "Client.GetSession", func(ctx context.Context, c *sessions.Client, _ string) error {
			_, err := c.GetSession(ctx, testSessionID, nil)
			return err
		}},
		{"DeleteSession", "Client.DeleteSession", func(ctx context.Context, c *sessions.Client, _ string) error {
			_, err := c.DeleteSession(ctx, testSessionID, nil)
			return err
		}},
		{"NewListSessionsPager", "Pager[ListSessionsResponse].NextPage", func(ctx context.Context, c *sessions.Client, _ string) error {
			_, err := c.NewListSessionsPager(nil).NextPage(ctx)
			return err
		}},
		{"GetMetadata", "Client.GetMetadata", func(ctx context.Context, c *sessions.Client, _ string) error {
			_, err := c.GetMetadata(ctx, nil)
			return err
		}},
		{"SessionClient.Close", "Client.DeleteSession", func(ctx context.Context, c *sessions.Client, _ string) error {
			return c.NewSessionClient(testSessionID).Close(ctx)
		}},
	}
	for _, fail := range []bool{false, true} {
		w := setupWire(t, tracingHandler(fail))
		for _, tc := range calls {
			name := tc.name + "/succeeds"
			if fail {
				name = tc.name + "/fails"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				rec := &spanRecorder{}
				c, err := sessions.NewClient(w.srv.URL+testPrefix, &fake.TokenCredential{}, &sessions.ClientOptions{ClientOptions: azcore.ClientOptions{
					Transport:       w.srv.Client(),
					TracingProvider: rec.provider(),
					Retry:           policy.RetryOptions{MaxRetries: -1, RetryDelay: time.Millisecond},
				}})
				require.NoError(t, err)
				err = tc.call(t.Context(), c, t.TempDir())
				spans := rec.recorded()
				require.Len(t, spans, 1, "one method-level span per call")
				assert.Equal(t, tc.wantSpan, spans[0].name)
				assert.Equal(t, 1, spans[0].ends, "the span is ended once")
				if !fail {
					require.NoError(t, err)
					assert.False(t, spans[0].failed)
					return
				}
				require.Error(t, err)
				assert.True(t, spans[0].failed, "the span is ended with the method's error")
				assert.NotContains(t, spans[0].desc, testSessionID, "span descriptions never hold the session identifier")
			})
		}
	}
}
