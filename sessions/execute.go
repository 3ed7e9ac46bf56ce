package sessions

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/google/uuid"
)

// maxOperationIDLen bounds ExecuteOptions.OperationID.
const maxOperationIDLen = 256

// Execute runs cmd in the session sessionID and returns the service's first
// answer. A command that exited non-zero is a result, not an error: check
// ExitCode, TimedOut and Error on the response. An answer whose status is
// not terminal (Running, NotStarted) has a nil ExitCode; use BeginExecute to
// wait for such executions. A new sessionID allocates a session (see
// NewSessionID). Failed attempts are retried only when the command cannot
// have run (see the package doc, "Retries"); errors are described under
// "Errors". options may be nil.
func (c *Client) Execute(ctx context.Context, sessionID string, cmd Command, options *ExecuteOptions) (resp ExecuteResponse, err error) {
	if options == nil {
		options = &ExecuteOptions{}
	}
	opID := options.OperationID
	if opID == "" {
		opID = uuid.NewString()
	}
	ctx, endSpan := c.startExecSpan(ctx, "Client.Execute", sessionID, opID)
	defer func() { endSpan(err) }()

	httpResp, opID, err := c.postExecution(ctx, executionPost{sessionID: sessionID, cmd: cmd, operationID: opID, retryAmbiguous: options.RetryAmbiguousFailures})
	if err != nil {
		return ExecuteResponse{}, err
	}
	defer httpResp.Body.Close()
	resp, _, err = c.executeResponse(httpResp, sessionID, opID, cmd.outputLimit())
	if err == nil {
		c.traceExecution(ctx, &resp.Execution, resp.OperationID, resp.Timings)
	}
	return resp, redactError(err, sessionID)
}

// BeginExecute starts cmd as an asynchronous execution in the session
// sessionID and returns a poller that follows it until it finishes: call
// PollUntilDone, or Poll and Done, then Result. The result is the finished
// ExecuteResponse; as with Execute, a command that failed is a result, not
// an error. An answer that is already terminal completes the poller at once,
// so services that run synchronously work too. The initial POST is retried
// as Execute's is (package doc, "Retries"); cancelling the context stops
// polling, not the execution. Set options.ResumeToken to resume a poller
// from Poller.ResumeToken without posting anything. options may be nil.
//
// The poller reads the execution at the Operation-Location the service
// returns (a location on another host is ignored, so the token is never sent
// elsewhere), or else at GET {endpoint}/executions/{id}.
func (c *Client) BeginExecute(ctx context.Context, sessionID string, cmd Command, options *BeginExecuteOptions) (poller *runtime.Poller[ExecuteResponse], err error) {
	if options == nil {
		options = &BeginExecuteOptions{}
	}
	opID := options.OperationID
	if opID == "" && options.ResumeToken == "" {
		opID = uuid.NewString()
	}
	ctx, endSpan := c.startExecSpan(ctx, "Client.BeginExecute", sessionID, opID)
	defer func() { endSpan(err) }()

	if options.ResumeToken != "" {
		h := &executionPoller{client: c}
		poller, err = runtime.NewPollerFromResumeToken(options.ResumeToken, c.pl, &runtime.NewPollerFromResumeTokenOptions[ExecuteResponse]{
			Handler: h,
			Tracer:  c.tracer,
		})
		if err != nil {
			// The parse error is not kept: it may quote the token, which holds
			// the session identifier.
			return nil, newArgumentError("BeginExecuteOptions.ResumeToken", "is not a resume token of an execution poller; pass, unchanged, a token returned by Poller.ResumeToken of a poller from BeginExecute")
		}
		// The token is data: never let it send the bearer token to another host.
		if c.resolveLocation(h.PollURL) == nil || ValidateSessionID(h.SessionID) != nil {
			return nil, newArgumentError("BeginExecuteOptions.ResumeToken", "does not belong to this client's pool endpoint; resume with a Client created for the endpoint that started the execution")
		}
		return poller, nil
	}

	httpResp, opID, err := c.postExecution(ctx, executionPost{sessionID: sessionID, cmd: cmd, async: true, operationID: opID, retryAmbiguous: options.RetryAmbiguousFailures})
	if err != nil {
		return nil, err
	}
	defer httpResp.Body.Close()
	first, location, err := c.executeResponse(httpResp, sessionID, opID, cmd.outputLimit())
	if err != nil {
		return nil, redactError(err, sessionID)
	}
	c.traceExecution(ctx, &first.Execution, first.OperationID, first.Timings)
	h, err := newExecutionPoller(c, sessionID, cmd.outputLimit(), first, location)
	if err != nil {
		return nil, redactError(err, sessionID)
	}
	return runtime.NewPoller(httpResp, c.pl, &runtime.NewPollerOptions[ExecuteResponse]{
		Handler: h,
		Tracer:  c.tracer,
	})
}

// GetExecution reads the execution executionID of the session sessionID: the
// current state of an asynchronous execution, or the result of a finished
// one.
//
// An unknown execution gives an error matching ErrExecutionNotFound.
func (c *Client) GetExecution(ctx context.Context, sessionID, executionID string, options *GetExecutionOptions) (resp GetExecutionResponse, err error) {
	ctx, endSpan := c.startExecSpan(ctx, "Client.GetExecution", sessionID, executionID)
	defer func() { endSpan(err) }()

	if err := ValidateSessionID(sessionID); err != nil {
		return GetExecutionResponse{}, err
	}
	if strings.TrimSpace(executionID) == "" {
		return GetExecutionResponse{}, newArgumentError("executionID", "must not be empty; pass Execution.ID from Execute or BeginExecute")
	}
	req, err := c.newRequest(ctx, http.MethodGet, "executions/"+url.PathEscape(executionID), sessionID, nil)
	if err != nil {
		return GetExecutionResponse{}, redactError(err, sessionID)
	}
	req.Raw().Header.Set("Accept", "application/json")
	httpResp, err := c.pl.Do(req)
	if err != nil {
		return GetExecutionResponse{}, redactError(ctxErr(ctx, err), sessionID)
	}
	defer httpResp.Body.Close()
	if !runtime.HasStatusCode(httpResp, http.StatusOK) {
		return GetExecutionResponse{}, redactError(newServiceError(httpResp, "execution"), sessionID)
	}
	body, err := runtime.Payload(httpResp)
	if err != nil {
		return GetExecutionResponse{}, redactError(ctxErr(ctx, err), sessionID)
	}
	e, err := decodeExecution(body, 0)
	if err != nil {
		return GetExecutionResponse{}, redactError(err, sessionID)
	}
	e.RedactedSessionID = redactEchoedID(e.RedactedSessionID)
	resp = GetExecutionResponse{Execution: e, Timings: decodeTimings(httpResp.Header)}
	c.traceExecution(ctx, &resp.Execution, executionID, resp.Timings)
	return resp, nil
}

// executionPost is one POST /executions.
type executionPost struct {
	sessionID      string
	cmd            Command
	async          bool   // send executionType "Asynchronous" (BeginExecute)
	operationID    string // the operation-id header; "" makes a random one
	retryAmbiguous bool   // ExecuteOptions.RetryAmbiguousFailures: also retry failures after which the command may have run
}

// postExecution validates p, sends it with the retry rules of the package
// doc's "Retries" and returns the 200 or 202 response (its body unread) and
// the operation-id sent. Any other answer is returned as an error.
func (c *Client) postExecution(ctx context.Context, p executionPost) (*http.Response, string, error) {
	sessionID, cmd, opID := p.sessionID, p.cmd, p.operationID
	if err := ValidateSessionID(sessionID); err != nil {
		return nil, "", err
	}
	if err := cmd.validate(); err != nil {
		return nil, "", err
	}
	if opID == "" {
		opID = uuid.NewString()
	} else if err := validateOperationID(opID); err != nil {
		return nil, "", err
	}
	req, err := c.newRequest(ctx, http.MethodPost, "executions", sessionID, nil)
	if err != nil {
		return nil, "", redactError(err, sessionID)
	}
	if !p.retryAmbiguous {
		guardExecution(req)
	}
	req.Raw().Header.Set(headerOperationID, opID)
	req.Raw().Header.Set("Accept", "application/json")
	if err := runtime.MarshalAsJSON(req, cmd.requestBody(c.dialect, p.async)); err != nil {
		return nil, "", err
	}
	resp, err := unguard(c.pl.Do(req))
	if err != nil {
		return nil, "", redactError(fmt.Errorf("sessions: execute: %w", ctxErr(ctx, err)), sessionID)
	}
	if !runtime.HasStatusCode(resp, http.StatusOK, http.StatusAccepted) {
		// A 404 here is not "execution not found": the pool may have stopped
		// allocating sessions (API.md §1.8), so no execution sentinel applies.
		defer resp.Body.Close()
		return nil, "", redactError(newServiceError(resp, ""), sessionID)
	}
	return resp, opID, nil
}

// executeResponse decodes a 200/202 answer to POST /executions (or to a
// poll). It also returns the Operation-Location header as sent, which the
// poller follows; the response holds only its redacted form.
func (c *Client) executeResponse(resp *http.Response, sessionID, sentOpID string, outputLimit int) (ExecuteResponse, string, error) {
	body, err := runtime.Payload(resp)
	if err != nil {
		return ExecuteResponse{}, "", ctxErr(resp.Request.Context(), err)
	}
	e, err := decodeExecution(body, outputLimit)
	if err != nil {
		return ExecuteResponse{}, "", err
	}
	e.RedactedSessionID = redactEchoedID(e.RedactedSessionID)
	location := resp.Header.Get(headerOperationLocation)
	return ExecuteResponse{
		Execution:         e,
		OperationID:       firstNonEmpty(resp.Header.Get(headerOperationID), sentOpID),
		OperationLocation: redactLocation(location, sessionID),
		Timings:           decodeTimings(resp.Header),
	}, location, nil
}

// redactEchoedID is the form of the identifier the service echoed that a
// response carries: RedactSessionID's, or "" when the service sent none.
func redactEchoedID(id string) string {
	if id == "" {
		return ""
	}
	return RedactSessionID(id)
}

// validateOperationID accepts printable ASCII without spaces, at most
// maxOperationIDLen characters: anything that is a safe header value.
func validateOperationID(id string) error {
	if len(id) > maxOperationIDLen {
		return newArgumentError("OperationID", fmt.Sprintf("has %d characters, more than %d; leave it empty for a random UUID", len(id), maxOperationIDLen))
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] >= 0x7f {
			return newArgumentError("OperationID", fmt.Sprintf("has a space, control or non-ASCII byte at %d; use printable ASCII such as a UUID", i))
		}
	}
	return nil
}
