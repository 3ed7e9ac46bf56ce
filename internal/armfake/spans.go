package armfake

import (
	"context"
	"fmt"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/tracing"
)

// Span is one span a SpanRecorder saw: its name, attributes (from the start
// options and SetAttributes), status description and events.
type Span struct {
	Name   string
	Attrs  map[string]any
	Status string
	Events []string
}

// SpanRecorder is an azcore tracing provider for tests that records every
// span the clients start. Its methods are safe for concurrent use.
type SpanRecorder struct {
	mu    sync.Mutex
	spans []*Span
}

// Provider returns the tracing.Provider to put in the clients' options.
func (r *SpanRecorder) Provider() tracing.Provider {
	return tracing.NewProvider(func(string, string) tracing.Tracer {
		return tracing.NewTracer(func(ctx context.Context, name string, o *tracing.SpanOptions) (context.Context, tracing.Span) {
			s := &Span{Name: name, Attrs: map[string]any{}}
			r.mu.Lock()
			r.spans = append(r.spans, s)
			r.mu.Unlock()
			set := func(as ...tracing.Attribute) {
				r.mu.Lock()
				defer r.mu.Unlock()
				for _, a := range as {
					s.Attrs[a.Key] = a.Value
				}
			}
			if o != nil {
				set(o.Attributes...)
			}
			return ctx, tracing.NewSpan(tracing.SpanImpl{
				SetAttributes: set,
				SetStatus: func(_ tracing.SpanStatus, d string) {
					r.mu.Lock()
					s.Status = d
					r.mu.Unlock()
				},
				AddEvent: func(n string, as ...tracing.Attribute) {
					r.mu.Lock()
					s.Events = append(s.Events, fmt.Sprint(n, as))
					r.mu.Unlock()
				},
			})
		}, nil)
	}, nil)
}

// Spans returns a copy of the spans recorded so far, oldest first.
func (r *SpanRecorder) Spans() []Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Span, len(r.spans))
	for i, s := range r.spans {
		c := *s
		c.Attrs = make(map[string]any, len(s.Attrs))
		for k, v := range s.Attrs {
			c.Attrs[k] = v
		}
		c.Events = append([]string(nil), s.Events...)
		out[i] = c
	}
	return out
}

// ByName returns the recorded spans grouped by name.
func (r *SpanRecorder) ByName() map[string][]Span {
	m := map[string][]Span{}
	for _, s := range r.Spans() {
		m[s.Name] = append(m[s.Name], s)
	}
	return m
}
