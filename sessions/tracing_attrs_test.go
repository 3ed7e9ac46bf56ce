package sessions_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/tracing"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/sessions"
)

// fullSpan is everything a span received.
type fullSpan struct {
	name   string
	kind   tracing.SpanKind
	attrs  map[string]any
	events []string
	status string
}

// fullRecorder is a tracing provider recording every span (method and
// HTTP), its attributes, events and status, and supporting
// SpanFromContext as azotel does.
type fullRecorder struct {
	mu    sync.Mutex
	spans []*fullSpan
}

type fullSpanKey struct{}

func (r *fullRecorder) provider() tracing.Provider {
	return tracing.NewProvider(func(string, string) tracing.Tracer {
		return tracing.NewTracer(func(ctx context.Context, name string, o *tracing.SpanOptions) (context.Context, tracing.Span) {
			rec := &fullSpan{name: name, attrs: map[string]any{}}
			if o != nil {
				rec.kind = o.Kind
				for _, a := range o.Attributes {
					rec.attrs[a.Key] = a.Value
				}
			}
			r.mu.Lock()
			r.spans = append(r.spans, rec)
			r.mu.Unlock()
			span := tracing.NewSpan(tracing.SpanImpl{
				SetAttributes: func(attrs ...tracing.Attribute) {
					r.mu.Lock()
					defer r.mu.Unlock()
					for _, a := range attrs {
						rec.attrs[a.Key] = a.Value
					}
				},
				AddEvent: func(name string, attrs ...tracing.Attribute) {
					r.mu.Lock()
					defer r.mu.Unlock()
					rec.events = append(rec.events, fmt.Sprint(name, attrs))
				},
				SetStatus: func(_ tracing.SpanStatus, desc string) {
					r.mu.Lock()
					defer r.mu.Unlock()
					rec.status = desc
				},
			})
			return context.WithValue(ctx, fullSpanKey{}, span), span
		}, &tracing.TracerOptions{SpanFromContext: func(ctx context.Context) tracing.Span {
			s, _ := ctx.Value(fullSpanKey{}).(tracing.Span)
			return s
		}})
	}, nil)
}

func (r *fullRecorder) named(name string) []fullSpan {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []fullSpan
	for _, s := range r.spans {
		if s.name == name {
			out = append(out, *s)
		}
	}
	return out
}

func (r *fullRecorder) all() []fullSpan {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]fullSpan, len(r.spans))
	for i, s := range r.spans {
		out[i] = *s
	}
	return out
}

// TestExecutionSpansCarryOperatorAttributes: Execute, BeginExecute and
// GetExecution spans carry the operation-id, the redacted session id, the
// status, exit code, timed-out and the timing headers, and no span
// attribute, event or status holds the token or the full identifier.
func TestExecutionSpansCarryOperatorAttributes(t *testing.T) {
	t.Parallel()
	const token = "secret-bearer-token-value"
	w := setupWire(t, func(rw http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("identifier")
		rw.Header().Set("x-ms-allocation-time", "12")
		rw.Header().Set("x-ms-preparation-time", "3.5")
		rw.Header().Set("x-ms-container-execution-duration", "1000")
		rw.Header().Set("x-ms-overall-execution-time", "1020")
		rw.Header().Set("x-ms-new-allocation", "true")
		rw.Header().Set("Operation-Location", "executions/op-1?identifier="+id)
		switch {
		case strings.HasSuffix(r.URL.Path, "/executions/missing"):
			writeJSON(rw, http.StatusNotFound, []byte(`{"error":{"code":"ExecutionNotFound","message":"no op in `+id+`"}}`))
		default:
			writeJSON(rw, http.StatusOK, []byte(`{"id":"op-1","identifier":"`+id+`","status":"-1","error":{"code":"ExecutionTimeout","message":"killed"},"result":{"stdout":"","stderr":""}}`))
		}
	})
	rec := &fullRecorder{}
	c, err := sessions.NewClient(w.srv.URL+testPrefix, staticToken(token), &sessions.ClientOptions{ClientOptions: azcore.ClientOptions{
		Transport:       w.srv.Client(),
		TracingProvider: rec.provider(),
		Retry:           policy.RetryOptions{MaxRetries: -1},
	}})
	require.NoError(t, err)

	_, err = c.Execute(t.Context(), testSessionID, sessions.ShellCommand("sleep 9"), &sessions.ExecuteOptions{OperationID: "op-1"})
	require.NoError(t, err)
	p, err := c.BeginExecute(t.Context(), testSessionID, sessions.ShellCommand("sleep 9"), &sessions.BeginExecuteOptions{OperationID: "op-1"})
	require.NoError(t, err)
	_, err = p.PollUntilDone(t.Context(), &runtime.PollUntilDoneOptions{Frequency: time.Millisecond})
	require.NoError(t, err)
	_, err = c.GetExecution(t.Context(), testSessionID, "op-1", nil)
	require.NoError(t, err)
	_, err = c.GetExecution(t.Context(), testSessionID, "missing", nil)
	require.Error(t, err)

	want := map[string]any{
		sessions.AttrOperationID:            "op-1",
		sessions.AttrSessionID:              sessions.RedactSessionID(testSessionID),
		sessions.AttrStatus:                 "-1",
		sessions.AttrExitCode:               int64(-1),
		sessions.AttrTimedOut:               true,
		sessions.AttrAllocationTimeMS:       int64(12),
		sessions.AttrPreparationTimeMS:      int64(3),
		sessions.AttrExecutionTimeMS:        int64(1000),
		sessions.AttrOverallExecutionTimeMS: int64(1020),
		sessions.AttrNewAllocation:          true,
	}
	for _, name := range []string{"Client.Execute", "Client.BeginExecute", "Client.GetExecution"} {
		spans := rec.named(name)
		require.NotEmpty(t, spans, name)
		for k, v := range want {
			assert.Equal(t, v, spans[0].attrs[k], "%s %s", name, k)
		}
		assert.Equal(t, "Microsoft.App", spans[0].attrs["az.namespace"], name)
	}
	failed := rec.named("Client.GetExecution")
	require.Len(t, failed, 2)
	assert.Equal(t, "missing", failed[1].attrs[sessions.AttrOperationID])
	assert.Equal(t, sessions.RedactSessionID(testSessionID), failed[1].attrs[sessions.AttrSessionID])
	assert.NotEmpty(t, failed[1].status, "the failed call's span has a status")

	for _, s := range rec.all() {
		for _, text := range append([]string{s.status, fmt.Sprint(s.attrs)}, s.events...) {
			assert.NotContains(t, text, token, "span %s", s.name)
			assert.NotContains(t, text, testSessionID, "span %s", s.name)
		}
	}
}

// staticToken is a credential with one fixed token.
type staticToken string

func (s staticToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: string(s), ExpiresOn: time.Now().Add(time.Hour)}, nil
}
