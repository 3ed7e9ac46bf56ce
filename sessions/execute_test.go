package sessions

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const execOKBody = `{"id":"exec-1","identifier":"` + testSessionID + `","status":"0","result":{"stdout":"hi\n","stderr":"","executionTimeInMilliseconds":2}}`

func TestExecuteWireForm(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		dialect  Dialect
		cmd      Command
		begin    bool
		wantBody string
	}{
		{name: "shell script only", cmd: ShellCommand("echo hi"), wantBody: `{"shellCommand":"echo hi","timeoutInSeconds":180}`},
		{
			name:     "shell script with every option",
			cmd:      Command{Shell: "read L; echo $L", Stdin: "line", Timeout: 1500 * time.Millisecond, OutputLimit: 100},
			wantBody: `{"shellCommand":"read L; echo $L","stdin":"line","timeoutInSeconds":2,"outputStreamsMaxLength":100}`,
		},
		{
			name:     "argv with whole-second timeout",
			cmd:      Command{Args: []string{"ls", "-a"}, Timeout: 600 * time.Second},
			wantBody: `{"execCommandAndArgs":["ls","-a"],"timeoutInSeconds":600}`,
		},
		{
			name:     "tutorial script",
			dialect:  DialectTutorial,
			cmd:      Command{Shell: "echo 'hello world'; echo 'hi'", Timeout: 600 * time.Second},
			wantBody: `{"codeInputType":"inline","executionType":"synchronous","command":["/bin/bash","-c","echo 'hello world'; echo 'hi'"],"timeoutInSeconds":600}`,
		},
		{
			name:     "tutorial argv with the default timeout",
			dialect:  DialectTutorial,
			cmd:      ExecCommand("ls", "-a"),
			wantBody: `{"codeInputType":"inline","executionType":"synchronous","command":["ls","-a"],"timeoutInSeconds":180}`,
		},
		{
			name:     "tutorial with stdin",
			dialect:  DialectTutorial,
			cmd:      Command{Args: []string{"cat"}, Stdin: "x", Timeout: time.Second},
			wantBody: `{"codeInputType":"inline","executionType":"synchronous","command":["cat"],"stdin":"x","timeoutInSeconds":1}`,
		},
		{name: "begin shell", begin: true, cmd: ShellCommand("sleep 1"), wantBody: `{"executionType":"Asynchronous","shellCommand":"sleep 1","timeoutInSeconds":180}`},
		{
			name:     "begin tutorial",
			dialect:  DialectTutorial,
			begin:    true,
			cmd:      ShellCommand("sleep 1"),
			wantBody: `{"codeInputType":"inline","executionType":"Asynchronous","command":["/bin/bash","-c","sleep 1"],"timeoutInSeconds":180}`,
		},
	}
	forms := []struct{ name, path string }{
		{name: "regional form", path: testPrefix},
		{name: "pool endpoint form", path: ""},
	}
	for _, tc := range tests {
		for _, form := range forms {
			t.Run(tc.name+"/"+form.name, func(t *testing.T) {
				t.Parallel()
				srv := setupServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
					execReply(w, http.StatusOK, execOKBody)
				})
				c := setupClient(t, srv.URL+form.path, srv, &ClientOptions{Dialect: tc.dialect})
				var err error
				if tc.begin {
					_, err = c.BeginExecute(t.Context(), testSessionID, tc.cmd, nil)
				} else {
					_, err = c.Execute(t.Context(), testSessionID, tc.cmd, nil)
				}
				require.NoError(t, err)
				reqs := srv.requests()
				require.Len(t, reqs, 1)
				got := reqs[0]
				assert.Equal(t, http.MethodPost, got.Method)
				assert.Equal(t, form.path+"/executions", got.Path)
				assert.Equal(t, url.Values{"api-version": {DefaultDataPlaneAPIVersion}, "identifier": {testSessionID}}, got.Query)
				_, err = uuid.Parse(got.Header.Get("operation-id"))
				assert.NoError(t, err, "operation-id must be a UUID")
				assert.Equal(t, "Bearer fake_token", got.Header.Get("Authorization"))
				assert.Equal(t, "application/json", got.Header.Get("Content-Type"))
				assert.Contains(t, got.Header.Get("User-Agent"), "azsdk-go-shellpool-sessions/")
				assert.JSONEq(t, tc.wantBody, string(got.Body))
			})
		}
	}
}

func TestExecuteOptionsOnTheWire(t *testing.T) {
	t.Parallel()
	srv := setupServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		execReply(w, http.StatusOK, execOKBody)
	})
	c := setupClient(t, srv.URL+testPrefix+"/", srv, &ClientOptions{ClientOptions: azcore.ClientOptions{APIVersion: "2025-10-02-preview"}})
	resp, err := c.Execute(t.Context(), testSessionID, ShellCommand("true"), &ExecuteOptions{OperationID: "my-op-42"})
	require.NoError(t, err)
	reqs := srv.requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, testPrefix+"/executions", reqs[0].Path, "a trailing slash on the endpoint must not double the slash")
	assert.Equal(t, "2025-10-02-preview", reqs[0].Query.Get("api-version"))
	assert.Equal(t, "my-op-42", reqs[0].Header.Get("operation-id"))
	assert.Equal(t, "my-op-42", resp.OperationID, "without an operation-id header in the answer, the one sent is reported")
}

func TestExecuteOperationIDIsPerCall(t *testing.T) {
	t.Parallel()
	srv := setupServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		execReply(w, http.StatusOK, execOKBody)
	})
	c := setupClient(t, srv.URL, srv, nil)
	for range 2 {
		_, err := c.Execute(t.Context(), testSessionID, ShellCommand("true"), nil)
		require.NoError(t, err)
	}
	reqs := srv.requests()
	require.Len(t, reqs, 2)
	assert.NotEqual(t, reqs[0].Header.Get("operation-id"), reqs[1].Header.Get("operation-id"))
}

func TestExecuteDecodesResponse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		status     int
		body       string
		headers    []string
		cmd        Command
		want       Execution
		wantOpID   string
		wantOpLoc  string
		wantTiming ExecutionTimings
	}{
		{
			name:     "shell 200 exit 0",
			status:   http.StatusOK,
			body:     `{"id":"e1","identifier":"sess-echoed-1","executionType":"Synchronous","status":"0","result":{"stdout":"ok\n","stderr":"","executionTimeInMilliseconds":2}}`,
			headers:  []string{"operation-id", "e1", "Operation-Location", "/executions/e1?api-version=v&identifier=sess-echoed-1"},
			want:     Execution{ID: "e1", RedactedSessionID: "sess…", ExecutionType: "Synchronous", Status: "0", ExitCode: execIntPtr(0), Stdout: "ok\n", Duration: 2 * time.Millisecond},
			wantOpID: "e1", wantOpLoc: "/executions/e1?api-version=v&identifier=sess…", // identifiers are redacted in responses
		},
		{
			name:   "shell 202 exit 1 with stderr",
			status: http.StatusAccepted,
			body:   `{"id":"e2","sessionId":"sess-echoed-2","status":"1","result":{"stdout":"","stderr":"boom\n","executionTimeInMilliseconds":7}}`,
			want:   Execution{ID: "e2", RedactedSessionID: "sess…", Status: "1", ExitCode: execIntPtr(1), Stderr: "boom\n", Duration: 7 * time.Millisecond},
		},
		{
			name:   "timeout as emulator reports it",
			status: http.StatusOK,
			body:   `{"id":"e3","status":"-1","error":{"code":"ExecutionTimeout","message":"the command ran longer than 1 seconds"},"result":{"stdout":"partial","stderr":"","executionTimeInMilliseconds":1000}}`,
			want: Execution{ID: "e3", Status: "-1", ExitCode: execIntPtr(-1), Stdout: "partial", Duration: time.Second, TimedOut: true,
				Error: &ExecutionError{Code: "ExecutionTimeout", Message: "the command ran longer than 1 seconds"}},
		},
		{
			name:   "unknown fields are ignored",
			status: http.StatusOK,
			body:   `{"id":"e4","status":"0","brandNew":{"x":[1,2]},"result":{"stdout":"a","extra":true},"rawResult":{"hresult":0}}`,
			want:   Execution{ID: "e4", Status: "0", ExitCode: execIntPtr(0), Stdout: "a"},
		},
		{
			name:   "code interpreter Succeeded",
			status: http.StatusAccepted,
			body:   `{"id":"e5","status":"Succeeded","result":{"stdout":"63\n","stderr":"","executionResult":"63","executionTimeInMilliseconds":4}}`,
			want:   Execution{ID: "e5", Status: "Succeeded", Stdout: "63\n", ExecutionResult: json.RawMessage(`"63"`), Duration: 4 * time.Millisecond},
		},
		{
			name:   "code interpreter Failed has no exit code",
			status: http.StatusOK,
			body:   `{"id":"e6","status":"Failed","error":{"code":"ZeroDivisionError","message":"division by zero"},"result":{"stderr":"Traceback"}}`,
			want:   Execution{ID: "e6", Status: "Failed", Stderr: "Traceback", Error: &ExecutionError{Code: "ZeroDivisionError", Message: "division by zero"}},
		},
		{
			name:   "output at the requested limit may be truncated",
			status: http.StatusOK,
			cmd:    Command{OutputLimit: 5},
			body:   `{"id":"e7","status":"0","result":{"stdout":"12345","stderr":""}}`,
			want:   Execution{ID: "e7", Status: "0", ExitCode: execIntPtr(0), Stdout: "12345", Truncated: true},
		},
		{
			name:   "output under the default limit is not truncated",
			status: http.StatusOK,
			body:   `{"id":"e8","status":"0","result":{"stdout":"12345","stderr":""}}`,
			want:   Execution{ID: "e8", Status: "0", ExitCode: execIntPtr(0), Stdout: "12345"},
		},
		{
			name:   "timing headers in both formats",
			status: http.StatusOK,
			body:   `{"id":"e9","status":"0"}`,
			headers: []string{
				"X-Ms-Container-Execution-Duration", "5011",
				"X-Ms-Execution-Request-Time", "5010.000000",
				"X-Ms-Overall-Execution-Time", "42m56.970311818s",
				"X-Ms-Preparation-Time", "not a duration",
				"X-Ms-Allocation-Retries", "2",
				"X-Ms-New-Allocation", "true",
			},
			want: Execution{ID: "e9", Status: "0", ExitCode: execIntPtr(0)},
			wantTiming: ExecutionTimings{
				ContainerExecutionDuration: 5011 * time.Millisecond,
				RequestTime:                5010 * time.Millisecond,
				OverallExecutionTime:       42*time.Minute + 56970311818*time.Nanosecond,
				AllocationRetries:          2,
				NewAllocation:              true,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := setupServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
				execReply(w, tc.status, tc.body, tc.headers...)
			})
			c := setupClient(t, srv.URL, srv, nil)
			cmd := tc.cmd
			cmd.Shell = "true"
			resp, err := c.Execute(t.Context(), testSessionID, cmd, &ExecuteOptions{OperationID: "sent-op"})
			require.NoError(t, err, "a completed command is a result, whatever its exit code")
			assert.Equal(t, tc.want, resp.Execution)
			wantOpID := tc.wantOpID
			if wantOpID == "" {
				wantOpID = "sent-op"
			}
			assert.Equal(t, wantOpID, resp.OperationID)
			assert.Equal(t, tc.wantOpLoc, resp.OperationLocation)
			assert.Equal(t, tc.wantTiming, resp.Timings)
		})
	}
}

func TestExecuteServiceErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		status      int
		body        string
		contentType string
		headers     []string
		wantCode    string
		wantIs      error
		wantInMsg   []string
	}{
		{
			name: "spec error body", status: http.StatusBadRequest,
			body:     `{"error":{"code":"InvalidRequestBody","message":"codeInputType is not supported"}}`,
			wantCode: "InvalidRequestBody", wantInMsg: []string{"codeInputType is not supported"},
		},
		{
			name: "x-ms-error-code header wins", status: http.StatusBadRequest,
			body: `{"error":{"code":"FromBody","message":"m"}}`, headers: []string{"x-ms-error-code", "FromHeader"},
			wantCode: "FromHeader",
		},
		{
			name: "plain text body", status: http.StatusBadRequest, contentType: "text/plain",
			body: "unhealthy container", wantInMsg: []string{"unhealthy container"},
		},
		{name: "bare JSON string body", status: http.StatusConflict, body: `"unhealthy"`, wantInMsg: []string{"unhealthy"}},
		{name: "empty body", status: http.StatusNotFound, body: ""},
		{
			name: "401 says what to check", status: http.StatusUnauthorized, body: "",
			wantIs: ErrUnauthorized, wantInMsg: []string{"https://dynamicsessions.io", "audience"},
		},
		{
			name: "403 names the role", status: http.StatusForbidden,
			body:   `{"error":{"code":"Forbidden","message":"principal lacks permission"}}`,
			wantIs: ErrForbidden, wantCode: "Forbidden", wantInMsg: []string{"Session Executor", "principal lacks permission"},
		},
		{
			name: "session id echoed by the service is redacted", status: http.StatusBadRequest,
			body:     `{"error":{"code":"BadSession","message":"session ` + testSessionID + ` is broken"}}`,
			wantCode: "BadSession", wantInMsg: []string{RedactSessionID(testSessionID) + " is broken"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := setupServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
				if tc.contentType != "" {
					w.Header().Set("Content-Type", tc.contentType)
				}
				execReply(w, tc.status, tc.body, tc.headers...)
			})
			c := setupClient(t, srv.URL+testPrefix, srv, nil)
			_, err := c.Execute(t.Context(), testSessionID, ShellCommand("true"), nil)
			require.Error(t, err)
			var re *azcore.ResponseError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, tc.status, re.StatusCode)
			assert.Equal(t, tc.wantCode, re.ErrorCode)
			if tc.wantIs != nil {
				assert.ErrorIs(t, err, tc.wantIs)
			}
			assert.NotErrorIs(t, err, ErrExecutionNotFound, "a failed POST is never 'execution not found'")
			for _, s := range tc.wantInMsg {
				assert.Contains(t, err.Error(), s)
			}
			assert.NotContains(t, err.Error(), testSessionID)
			assert.Len(t, srv.requests(), 1, "4xx answers are not retried")
		})
	}
}

func TestValidationSendsNothing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		sessionID string
		cmd       Command
		opID      string
		wantName  string
	}{
		{name: "empty session id", sessionID: "", cmd: ShellCommand("true"), wantName: "sessionID"},
		{name: "short session id", sessionID: "abc", cmd: ShellCommand("true"), wantName: "sessionID"},
		{name: "long session id", sessionID: strings.Repeat("a", 129), cmd: ShellCommand("true"), wantName: "sessionID"},
		{name: "session id with a space", sessionID: "abcd efgh", cmd: ShellCommand("true"), wantName: "sessionID"},
		{name: "session id with a slash", sessionID: "abcd/../x", cmd: ShellCommand("true"), wantName: "sessionID"},
		{name: "empty command", sessionID: testSessionID, cmd: Command{}, wantName: "cmd"},
		{name: "only stdin", sessionID: testSessionID, cmd: Command{Stdin: "x"}, wantName: "cmd"},
		{name: "both shell and args", sessionID: testSessionID, cmd: Command{Shell: "ls", Args: []string{"ls"}}, wantName: "cmd"},
		{name: "empty executable", sessionID: testSessionID, cmd: ExecCommand("", "-a"), wantName: "cmd.Args"},
		{name: "negative timeout", sessionID: testSessionID, cmd: Command{Shell: "true", Timeout: -time.Second}, wantName: "cmd.Timeout"},
		{name: "timeout beyond int32 seconds", sessionID: testSessionID, cmd: Command{Shell: "true", Timeout: time.Duration(1<<31) * time.Second}, wantName: "cmd.Timeout"},
		{name: "largest duration does not overflow", sessionID: testSessionID, cmd: Command{Shell: "true", Timeout: time.Duration(math.MaxInt64)}, wantName: "cmd.Timeout"},
		{name: "negative output limit", sessionID: testSessionID, cmd: Command{Shell: "true", OutputLimit: -1}, wantName: "cmd.OutputLimit"},
		{name: "operation id with a space", sessionID: testSessionID, cmd: ShellCommand("true"), opID: "a b", wantName: "OperationID"},
		{name: "operation id too long", sessionID: testSessionID, cmd: ShellCommand("true"), opID: strings.Repeat("x", 257), wantName: "OperationID"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := setupServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
				execReply(w, http.StatusOK, execOKBody)
			})
			c := setupClient(t, srv.URL, srv, nil)
			check := func(err error) {
				t.Helper()
				require.ErrorIs(t, err, ErrInvalidArgument)
				var ae *ArgumentError
				require.ErrorAs(t, err, &ae)
				assert.Equal(t, tc.wantName, ae.Name)
				assert.NotEmpty(t, ae.Reason)
				if len(tc.sessionID) > 4 {
					assert.NotContains(t, err.Error(), tc.sessionID)
				}
			}
			_, err := c.Execute(t.Context(), tc.sessionID, tc.cmd, &ExecuteOptions{OperationID: tc.opID})
			check(err)
			p, err := c.BeginExecute(t.Context(), tc.sessionID, tc.cmd, &BeginExecuteOptions{OperationID: tc.opID})
			check(err)
			assert.Nil(t, p)
			assert.Empty(t, srv.requests(), "nothing may be sent for invalid input")
		})
	}
}

func TestGetExecution(t *testing.T) {
	t.Parallel()
	srv := setupServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		if strings.HasSuffix(r.URL.Path, "/executions/missing") {
			execReply(w, http.StatusNotFound, "")
			return
		}
		execReply(w, http.StatusOK, `{"id":"ex 1","identifier":"s","status":"Running"}`, "X-Ms-Allocation-Time", "12")
	})
	c := setupClient(t, srv.URL+testPrefix, srv, nil)

	resp, err := c.GetExecution(t.Context(), testSessionID, "ex 1", nil)
	require.NoError(t, err)
	assert.Equal(t, ExecutionStatusRunning, resp.Status)
	assert.Nil(t, resp.ExitCode, "a running execution has no exit code")
	assert.False(t, resp.Status.Terminal())
	assert.Equal(t, 12*time.Millisecond, resp.Timings.AllocationTime)
	reqs := srv.requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, http.MethodGet, reqs[0].Method)
	assert.Equal(t, testPrefix+"/executions/ex 1", reqs[0].Path)
	assert.Equal(t, url.Values{"api-version": {DefaultDataPlaneAPIVersion}, "identifier": {testSessionID}}, reqs[0].Query)
	assert.Equal(t, "Bearer fake_token", reqs[0].Header.Get("Authorization"))

	_, err = c.GetExecution(t.Context(), testSessionID, "missing", nil)
	require.ErrorIs(t, err, ErrExecutionNotFound)
	var re *azcore.ResponseError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, http.StatusNotFound, re.StatusCode)

	_, err = c.GetExecution(t.Context(), testSessionID, " ", nil)
	require.ErrorIs(t, err, ErrInvalidArgument)
	_, err = c.GetExecution(t.Context(), "bad id!", "x", nil)
	require.ErrorIs(t, err, ErrInvalidArgument)
	assert.Len(t, srv.requests(), 2, "invalid input sends nothing")
}

func TestExecuteUndecodableBody(t *testing.T) {
	t.Parallel()
	srv := setupServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		execReply(w, http.StatusOK, "<html>login page</html>", "Content-Type", "text/html")
	})
	c := setupClient(t, srv.URL, srv, nil)
	_, err := c.Execute(t.Context(), testSessionID, ShellCommand("true"), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "management endpoint", "the error says what to check")
}

func TestTransportErrorsAreRedacted(t *testing.T) {
	t.Parallel()
	srv := setupServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {})
	endpoint := srv.URL
	srv.Close() // nothing listens any more: every dial fails
	c := setupClient(t, endpoint, srv, &ClientOptions{ClientOptions: azcore.ClientOptions{Retry: policy.RetryOptions{MaxRetries: -1}}})
	_, err := c.Execute(t.Context(), testSessionID, ShellCommand("true"), nil)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), testSessionID)
	var ue *url.Error
	require.ErrorAs(t, err, &ue)
	assert.NotContains(t, ue.URL, testSessionID)
	assert.Contains(t, ue.URL, RedactSessionID(testSessionID))
}

func TestExecuteContextAlreadyCanceled(t *testing.T) {
	t.Parallel()
	srv := setupServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		execReply(w, http.StatusOK, execOKBody)
	})
	c := setupClient(t, srv.URL, srv, nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := c.Execute(ctx, testSessionID, ShellCommand("true"), nil)
	require.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, srv.requests())
	assert.False(t, errors.Is(err, ErrInvalidArgument))
}

func execIntPtr(n int) *int { return &n }
