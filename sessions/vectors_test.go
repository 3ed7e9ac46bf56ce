package sessions

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// execExample is the part of a spec example file the tests use.
type execExample struct {
	OperationID string `json:"operationId"`
	Responses   map[string]struct {
		Headers map[string]string `json:"headers"`
		Body    json.RawMessage   `json:"body"`
	} `json:"responses"`
}

func loadExecExamples(t testing.TB) map[string]execExample {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "dataplane", "*", "CodeExecution_*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	out := map[string]execExample{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		var ex execExample
		require.NoError(t, json.Unmarshal(raw, &ex), f)
		rel, err := filepath.Rel(filepath.Join("testdata", "dataplane"), f)
		require.NoError(t, err)
		out[filepath.ToSlash(rel)] = ex
	}
	return out
}

// TestSpecExamplesDecode replays every documented execution response through
// the client (Execute for POSTs, GetExecution for GETs) and checks what the
// user sees.
func TestSpecExamplesDecode(t *testing.T) {
	t.Parallel()
	type want struct {
		id       string
		status   ExecutionStatus
		exitCode *int
		stdout   string
		duration time.Duration
	}
	ci := want{id: "testExecutionId", status: "Succeeded", stdout: "63/n", duration: 4 * time.Millisecond}
	ciLower := want{id: "testexecutionid", status: "Succeeded", stdout: "63/n", duration: 4 * time.Millisecond}
	expect := map[string]want{
		"2024-10-02-preview/CodeExecution_ExecuteCode_Async.json":           {id: "testexecutionid", status: "Running"},
		"2024-10-02-preview/CodeExecution_ExecuteCode_Async_Completed.json": ciLower,
		"2024-10-02-preview/CodeExecution_ExecuteCode_Async_Running.json":   {id: "testexecutionid", status: "Running"},
		"2024-10-02-preview/CodeExecution_ExecuteCode_Result.json":          {id: "1", status: "Succeeded", stdout: "63/n", duration: 4 * time.Millisecond},
		"2024-10-02-preview/CodeExecution_ExecuteCode_Sync.json":            {id: "testexecutionid", status: "Succeeded", stdout: "63/n", duration: 4 * time.Millisecond},
		"2024-10-02-preview/CodeExecution_Execute_Async_Completed.json":     ci,
		"2024-10-02-preview/CodeExecution_Execute_Async_Running.json":       {id: "testExecutionId", status: "Running"},
		"2024-10-02-preview/CodeExecution_Execute_Sync.json":                ci,
		"2024-10-02-preview/CodeExecution_GetResult.json":                   ciLower,
		"2024-10-02-preview/CodeExecution_GetResult_Completed.json":         ciLower,
		"2024-10-02-preview/CodeExecution_GetResult_Running.json":           {id: "testexecutionid", status: "Running"},
		"2024-10-02-preview/CodeExecution_Get_Completed.json":               ci,
		"2025-02-02-preview/CodeExecution_Execute_Async_Completed.json":     ci,
		"2025-02-02-preview/CodeExecution_Execute_Async_Running.json":       {id: "testExecutionId", status: "Running"},
		"2025-02-02-preview/CodeExecution_Execute_Sync.json":                ci,
		"2025-02-02-preview/CodeExecution_Get_Completed.json":               ci,
		"2025-02-02-preview/CodeExecution_Get_Running.json":                 {id: "testExecutionId", status: "Running"},
		"2025-10-02-preview/CodeExecution_Execute_ShellCommand.json":        {id: "testExecutionId", status: "0", exitCode: execIntPtr(0), stdout: "first_input:testinputlineline\n", duration: 2 * time.Millisecond},
		"2025-10-02-preview/CodeExecution_Execute_ShellExecCommandAndArgs.json": {
			id: "testExecutionId", status: "0", exitCode: execIntPtr(0), stdout: ".\n..\npreviouslyuploadedfile.txt\n", duration: 2 * time.Millisecond,
		},
	}
	examples := loadExecExamples(t)
	require.Len(t, examples, len(expect), "every example file has an expectation")
	for name, ex := range examples {
		w, ok := expect[name]
		require.True(t, ok, "no expectation for %s", name)
		codes := make([]string, 0, len(ex.Responses))
		for code := range ex.Responses {
			codes = append(codes, code)
		}
		sort.Strings(codes)
		for _, code := range codes {
			resp := ex.Responses[code]
			t.Run(name+"/"+code, func(t *testing.T) {
				t.Parallel()
				status, err := strconv.Atoi(code)
				require.NoError(t, err)
				srv := setupServer(t, func(rw http.ResponseWriter, _ *http.Request, _ int) {
					var hdr []string
					for k, v := range resp.Headers {
						hdr = append(hdr, k, v)
					}
					execReply(rw, status, string(resp.Body), hdr...)
				})
				c := setupClient(t, srv.URL+testPrefix, srv, nil)
				var got Execution
				isGet := ex.OperationID == "CodeExecution_Get" || ex.OperationID == "CodeExecution_GetResult"
				if isGet && status == http.StatusOK {
					r, err := c.GetExecution(t.Context(), testSessionID, w.id, nil)
					require.NoError(t, err)
					got = r.Execution
				} else {
					r, err := c.Execute(t.Context(), testSessionID, ShellCommand("true"), nil)
					require.NoError(t, err)
					got = r.Execution
					if v := resp.Headers["Operation-Location"]; v != "" {
						assert.Equal(t, v, r.OperationLocation)
					}
					if v := resp.Headers["operation-id"]; v != "" {
						assert.Equal(t, v, r.OperationID)
					}
				}
				assert.Equal(t, w.id, got.ID)
				assert.Equal(t, w.status, got.Status)
				assert.Equal(t, w.exitCode, got.ExitCode)
				assert.Equal(t, w.stdout, got.Stdout)
				assert.Equal(t, w.duration, got.Duration)
				assert.Empty(t, got.Stderr)
				assert.False(t, got.TimedOut)
				assert.False(t, got.Truncated)
				assert.Nil(t, got.Error)
			})
		}
	}
}

func TestDecodeExecutionShapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		body  string
		limit int
		want  Execution
	}{
		{name: "status as a JSON number", body: `{"status":0}`, want: Execution{Status: "0", ExitCode: execIntPtr(0)}},
		{name: "status as a non-integer number", body: `{"status":1.5}`, want: Execution{Status: "1.5"}},
		{name: "exit code beyond int32 is not an exit code", body: `{"status":"99999999999"}`, want: Execution{Status: "99999999999"}},
		{name: "status with spaces is not an exit code", body: `{"status":" 0"}`, want: Execution{Status: " 0"}},
		{name: "lower-case succeeded: a state, no exit code", body: `{"status":"succeeded"}`, want: Execution{Status: "succeeded"}},
		{name: "container shape with exitCode", body: `{"status":"Failed","exitCode":-1,"errorName":"ExecutionTimeout","errorMessage":"killed"}`,
			want: Execution{Status: "Failed", ExitCode: execIntPtr(-1), TimedOut: true, Error: &ExecutionError{Code: "ExecutionTimeout", Message: "killed"}}},
		{name: "Succeeded with explicit exit code", body: `{"status":"Succeeded","exitCode":2}`, want: Execution{Status: "Succeeded", ExitCode: execIntPtr(2)}},
		{name: "nested ErrorResponse", body: `{"status":"Failed","error":{"error":{"code":"Timeout","message":"m"}}}`,
			want: Execution{Status: "Failed", TimedOut: true, Error: &ExecutionError{Code: "Timeout", Message: "m"}}},
		{name: "error as a string", body: `{"status":"Failed","error":"it broke"}`, want: Execution{Status: "Failed", Error: &ExecutionError{Message: "it broke"}}},
		{name: "null error and result", body: `{"status":"1","error":null,"result":null}`, want: Execution{Status: "1", ExitCode: execIntPtr(1)}},
		{name: "result as a string (legacy flat shape)", body: `{"executionId":"x","status":"Succeeded","stdout":"a","stderr":"b","result":"","executionTimeInMilliseconds":"7"}`,
			want: Execution{ID: "x", Status: "Succeeded", Stdout: "a", Stderr: "b", Duration: 7 * time.Millisecond}},
		{name: "status only inside result", body: `{"id":"x","result":{"status":"Running"}}`, want: Execution{ID: "x", Status: "Running"}},
		{name: "fields of the wrong type are absent", body: `{"status":{"x":1},"result":{"stdout":5,"executionTimeInMilliseconds":"soon"}}`, want: Execution{}},
		{name: "string members of the wrong type are absent", body: `{"id":5,"identifier":["s"],"executionType":true,"errorName":{},"status":"2","result":{"executionId":7,"stdout":"out"}}`,
			want: Execution{Status: "2", ExitCode: execIntPtr(2), Stdout: "out"}},
		{name: "negative duration is zero", body: `{"status":"0","result":{"executionTimeInMilliseconds":-5}}`, want: Execution{Status: "0", ExitCode: execIntPtr(0)}},
		{name: "stderr at the limit", limit: 3, body: `{"status":"0","result":{"stderr":"abc"}}`, want: Execution{Status: "0", ExitCode: execIntPtr(0), Stderr: "abc", Truncated: true}},
		{name: "status TimedOut word", body: `{"status":"TimedOut"}`, want: Execution{Status: "TimedOut", TimedOut: true}},
		{name: "empty object", body: `{}`, want: Execution{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := decodeExecution([]byte(tc.body), tc.limit)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	for _, bad := range []string{``, `null`, `[]`, `"text"`, `{`, `<html/>`} {
		_, err := decodeExecution([]byte(bad), 0)
		if bad == `null` {
			assert.NoError(t, err, "JSON null decodes to an empty execution")
			continue
		}
		assert.Error(t, err, "body %q", bad)
	}
}

func TestExecutionStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status   ExecutionStatus
		code     int
		isCode   bool
		terminal bool
	}{
		{status: "0", code: 0, isCode: true, terminal: true},
		{status: "137", code: 137, isCode: true, terminal: true},
		{status: "-1", code: -1, isCode: true, terminal: true},
		{status: "+2", code: 2, isCode: true, terminal: true},
		{status: "-"},
		{status: "1e3"},
		{status: ""},
		{status: "Running"},
		{status: "NotStarted"},
		{status: "Succeeded", terminal: true},
		{status: "FAILED", terminal: true},
		{status: "Canceled", terminal: true},
		{status: "Cancelled"},
	}
	for _, tc := range tests {
		t.Run(string(tc.status), func(t *testing.T) {
			t.Parallel()
			code, ok := tc.status.ExitCode()
			assert.Equal(t, tc.isCode, ok)
			assert.Equal(t, tc.code, code)
			assert.Equal(t, tc.terminal, tc.status.Terminal())
		})
	}
	assert.Len(t, PossibleExecutionStatusValues(), 5)
}

func TestExecutionErrorMessage(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "sessions: execution failed: ExecutionTimeout: too slow", (&ExecutionError{Code: "ExecutionTimeout", Message: "too slow"}).Error())
	assert.Equal(t, "sessions: execution failed: too slow", (&ExecutionError{Message: "too slow"}).Error())
	assert.Equal(t, "sessions: execution failed: X", (&ExecutionError{Code: "X"}).Error())
}
