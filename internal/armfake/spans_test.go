package armfake

import (
	"context"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/tracing"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSpanRecorderRecordsAndCopies(t *testing.T) {
	t.Parallel()
	var r SpanRecorder
	tr := r.Provider().NewTracer("m", "v")
	_, sp := tr.Start(context.Background(), "Client.Get", &tracing.SpanOptions{Attributes: []tracing.Attribute{{Key: "az.namespace", Value: "Microsoft.App"}}})
	sp.SetAttributes(tracing.Attribute{Key: "k", Value: 1})
	sp.AddEvent("retry")
	sp.SetStatus(tracing.SpanStatusError, "boom")
	sp.End()

	spans := r.Spans()
	require.Len(t, spans, 1)
	assert.Equal(t, "Client.Get", spans[0].Name)
	assert.Equal(t, map[string]any{"az.namespace": "Microsoft.App", "k": 1}, spans[0].Attrs)
	assert.Equal(t, "boom", spans[0].Status)
	assert.Len(t, spans[0].Events, 1)
	spans[0].Attrs["k"] = 2
	assert.Equal(t, 1, r.Spans()[0].Attrs["k"], "Spans returns copies")
	assert.Len(t, r.ByName()["Client.Get"], 1)
}
