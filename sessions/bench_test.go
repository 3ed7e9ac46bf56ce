package sessions

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/google/uuid"
)

// execBenchBody is the shell example response of API.md §1.5.3.
const execBenchBody = `{"id":"testExecutionId","identifier":"testSessionIdentifier","executionType":"Synchronous","status":"0","result":{"stdout":"first_input:testinputlineline\n","stderr":"","executionTimeInMilliseconds":2}}`

func setupBenchServer(b *testing.B) *testServer {
	srv := setupServer(b, func(w http.ResponseWriter, _ *http.Request, _ int) {
		execReply(w, http.StatusOK, execBenchBody, "operation-id", "testExecutionId")
	})
	return srv
}

// BenchmarkExecute measures one Execute call through the full client
// (validation, azcore pipeline with retry, auth and telemetry policies,
// decoding) against an in-process TLS server. Compare with
// BenchmarkExecuteBaseline, the same exchange with bare net/http.
func BenchmarkExecute(b *testing.B) {
	srv := setupBenchServer(b)
	c := setupClient(b, srv.URL+testPrefix, srv, nil)
	cmd := Command{Shell: "read LINE; echo first_input:$LINE", Stdin: "testinputlineline"}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		resp, err := c.Execute(b.Context(), testSessionID, cmd, nil)
		if err != nil || resp.ExitCode == nil || *resp.ExitCode != 0 {
			b.Fatalf("Execute: %v %+v", err, resp)
		}
	}
}

// BenchmarkExecuteBaseline sends the same request with net/http and
// encoding/json only: the cost floor for BenchmarkExecute. To be a fair
// floor it does the work any hand-written client must do per call: build
// the URL with the caller's session identifier, marshal the same body, send
// the same headers (Content-Type, Accept, Authorization, a fresh
// operation-id), and decode the same members (id, identifier,
// executionType, status, result) and the echoed operation-id.
func BenchmarkExecuteBaseline(b *testing.B) {
	srv := setupBenchServer(b)
	hc := srv.Client()
	base := srv.URL + testPrefix + "/executions?api-version=" + url.QueryEscape(DefaultDataPlaneAPIVersion) + "&identifier="
	sessionID := testSessionID
	type request struct {
		ShellCommand string `json:"shellCommand"`
		Stdin        string `json:"stdin,omitempty"`
	}
	type response struct {
		ID            string `json:"id"`
		Identifier    string `json:"identifier"`
		ExecutionType string `json:"executionType"`
		Status        string `json:"status"`
		Result        struct {
			Stdout string `json:"stdout"`
			Stderr string `json:"stderr"`
			Ms     int64  `json:"executionTimeInMilliseconds"`
		} `json:"result"`
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		body, err := json.Marshal(request{ShellCommand: "read LINE; echo first_input:$LINE", Stdin: "testinputlineline"})
		if err != nil {
			b.Fatal(err)
		}
		req, err := http.NewRequestWithContext(b.Context(), http.MethodPost, base+url.QueryEscape(sessionID), bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		req.Header.Set("Authorization", "Bearer fake_token")
		req.Header.Set("Operation-Id", uuid.NewString())
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		var out response
		err = json.NewDecoder(resp.Body).Decode(&out)
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || out.Status != "0" || resp.Header.Get("Operation-Id") != out.ID {
			b.Fatal(fmt.Errorf("baseline: %v %d %+v", err, resp.StatusCode, out))
		}
	}
}
