package sessions

import (
	"context"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/tracing"
)

// Attributes of the execution spans (Client.Execute, Client.BeginExecute,
// Client.GetExecution). None of them holds a secret: the session
// identifier is redacted by RedactSessionID, and tokens never reach a span.
const (
	// AttrOperationID is the execution's operation-id (its ID).
	AttrOperationID = "sessions.operation_id"
	// AttrSessionID is the session identifier, redacted by RedactSessionID.
	AttrSessionID = "sessions.session_id"
	// AttrStatus is the execution status as the service sent it.
	AttrStatus = "sessions.status"
	// AttrExitCode is the command's exit code, present only when the
	// service reported one.
	AttrExitCode = "sessions.exit_code"
	// AttrTimedOut is true when the command was stopped at its timeout.
	AttrTimedOut = "sessions.timed_out"
	// AttrAllocationTimeMS is x-ms-allocation-time, in milliseconds.
	AttrAllocationTimeMS = "sessions.allocation_time_ms"
	// AttrPreparationTimeMS is x-ms-preparation-time, in milliseconds.
	AttrPreparationTimeMS = "sessions.preparation_time_ms"
	// AttrExecutionTimeMS is x-ms-container-execution-duration, in
	// milliseconds: how long the command ran in the container.
	AttrExecutionTimeMS = "sessions.execution_time_ms"
	// AttrOverallExecutionTimeMS is x-ms-overall-execution-time, in
	// milliseconds.
	AttrOverallExecutionTimeMS = "sessions.overall_execution_time_ms"
	// AttrNewAllocation is x-ms-new-allocation: the request allocated a new
	// session.
	AttrNewAllocation = "sessions.new_allocation"
)

// startExecSpan opens an execution span carrying the attributes known
// before sending: the redacted session identifier and, when valid, the
// operation-id.
func (c *Client) startExecSpan(ctx context.Context, name, sessionID, opID string) (context.Context, func(error)) {
	if !c.tracer.Enabled() {
		return ctx, func(error) {}
	}
	attrs := make([]tracing.Attribute, 0, 2)
	if sessionID != "" {
		attrs = append(attrs, tracing.Attribute{Key: AttrSessionID, Value: RedactSessionID(sessionID)})
	}
	if opID != "" && validateOperationID(opID) == nil {
		attrs = append(attrs, tracing.Attribute{Key: AttrOperationID, Value: opID})
	}
	return runtime.StartSpan(ctx, name, c.tracer, &runtime.StartSpanOptions{Attributes: attrs})
}

// traceExecution adds an execution's outcome to the span of ctx: status,
// exit code, timed-out and the service's timing headers. It needs a
// tracing provider that implements SpanFromContext (azotel does).
func (c *Client) traceExecution(ctx context.Context, e *Execution, opID string, t ExecutionTimings) {
	if !c.tracer.Enabled() {
		return
	}
	span := c.tracer.SpanFromContext(ctx)
	attrs := make([]tracing.Attribute, 0, 9)
	if id := firstNonEmpty(e.ID, opID); id != "" {
		attrs = append(attrs, tracing.Attribute{Key: AttrOperationID, Value: id})
	}
	attrs = append(attrs,
		tracing.Attribute{Key: AttrStatus, Value: string(e.Status)},
		tracing.Attribute{Key: AttrTimedOut, Value: e.TimedOut},
	)
	if e.ExitCode != nil {
		attrs = append(attrs, tracing.Attribute{Key: AttrExitCode, Value: int64(*e.ExitCode)})
	}
	ms := func(key string, d interface{ Milliseconds() int64 }, set bool) {
		if set {
			attrs = append(attrs, tracing.Attribute{Key: key, Value: d.Milliseconds()})
		}
	}
	ms(AttrAllocationTimeMS, t.AllocationTime, t.AllocationTime > 0)
	ms(AttrPreparationTimeMS, t.PreparationTime, t.PreparationTime > 0)
	ms(AttrExecutionTimeMS, t.ContainerExecutionDuration, t.ContainerExecutionDuration > 0)
	ms(AttrOverallExecutionTimeMS, t.OverallExecutionTime, t.OverallExecutionTime > 0)
	attrs = append(attrs, tracing.Attribute{Key: AttrNewAllocation, Value: t.NewAllocation})
	span.SetAttributes(attrs...)
}

// startSpan opens the tracing span every public method has. name is the
// span's full name, "Client.<method>", a constant so that no string is built
// per call.
func (c *Client) startSpan(ctx context.Context, name string) (context.Context, func(error)) {
	return runtime.StartSpan(ctx, name, c.tracer, nil)
}
