package sessions

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/google/uuid"
)

// largeOutputSizes are the stdout sizes of the large-output benchmarks.
var largeOutputSizes = []struct {
	name string
	n    int
}{{"64KiB", 64 << 10}, {"1MiB", 1 << 20}, {"16MiB", 16 << 20}}

// largeOutputBody is a shell execution answer whose stdout has n bytes of
// text lines, so the JSON string holds an escape (\n) every 64 bytes, as
// real command output does.
func largeOutputBody(n int) []byte {
	line := strings.Repeat("0123456789abcdef", 4)[:63] + "\n"
	stdout := strings.Repeat(line, n/len(line)+1)[:n]
	esc, err := json.Marshal(stdout)
	if err != nil {
		panic(err)
	}
	var b bytes.Buffer
	b.WriteString(`{"id":"testExecutionId","identifier":"testSessionIdentifier","executionType":"Synchronous","status":"0","result":{"stdout":`)
	b.Write(esc)
	b.WriteString(`,"stderr":"","executionTimeInMilliseconds":2}}`)
	return b.Bytes()
}

// setupCannedServer answers every request with body: the one handler both
// sides of a benchmark pair talk to.
func setupCannedServer(b *testing.B, body []byte) *httptest.Server {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Header().Set("Operation-Id", "testExecutionId")
		_, _ = w.Write(body)
	}))
	b.Cleanup(srv.Close)
	return srv
}

// largeOutputResponse is what the baselines decode: the members Execute
// reports.
type largeOutputResponse struct {
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

// BenchmarkExecuteLargeOutput compares, for each stdout size, Execute
// ("client") with a plain azcore pipeline (same transport, retry and
// bearer-token policies, no client code) plus one json.Unmarshal ("azcore"),
// and with bare net/http plus encoding/json ("nethttp"). All three talk to
// the same canned handler. Compare the three sub-benchmarks of one size
// (benchstat); the goal is client <= 1.2x azcore.
func BenchmarkExecuteLargeOutput(b *testing.B) {
	for _, size := range largeOutputSizes {
		body := largeOutputBody(size.n)
		srv := setupCannedServer(b, body)
		endpoint := srv.URL + testPrefix
		cmd := Command{Shell: "cat big", OutputLimit: size.n + 1}
		b.Run(size.name+"/client", func(b *testing.B) {
			c, err := NewClient(endpoint, &fake.TokenCredential{}, &ClientOptions{ClientOptions: policy.ClientOptions{Transport: srv.Client()}})
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				resp, err := c.Execute(b.Context(), testSessionID, cmd, nil)
				if err != nil || len(resp.Stdout) != size.n || resp.ExitCode == nil {
					b.Fatalf("Execute: %v, %d bytes", err, len(resp.Stdout))
				}
			}
		})
		b.Run(size.name+"/azcore", func(b *testing.B) {
			pl := runtime.NewPipeline("bench", "v0", runtime.PipelineOptions{
				PerRetry: []policy.Policy{runtime.NewBearerTokenPolicy(&fake.TokenCredential{}, []string{Audience + "/.default"}, nil)},
			}, &policy.ClientOptions{Transport: srv.Client()})
			u := endpoint + "/executions?api-version=" + url.QueryEscape(DefaultDataPlaneAPIVersion) + "&identifier=" + url.QueryEscape(testSessionID)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				req, err := runtime.NewRequest(b.Context(), http.MethodPost, u)
				if err != nil {
					b.Fatal(err)
				}
				req.Raw().Header.Set("Operation-Id", uuid.NewString())
				req.Raw().Header.Set("Accept", "application/json")
				if err := runtime.MarshalAsJSON(req, map[string]any{"shellCommand": cmd.Shell, "timeoutInSeconds": 180}); err != nil {
					b.Fatal(err)
				}
				resp, err := pl.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				payload, err := runtime.Payload(resp)
				if err != nil {
					b.Fatal(err)
				}
				var out largeOutputResponse
				if err := json.Unmarshal(payload, &out); err != nil || len(out.Result.Stdout) != size.n {
					b.Fatalf("azcore baseline: %v", err)
				}
			}
		})
		b.Run(size.name+"/nethttp", func(b *testing.B) {
			hc := srv.Client()
			u := endpoint + "/executions?api-version=" + url.QueryEscape(DefaultDataPlaneAPIVersion) + "&identifier=" + url.QueryEscape(testSessionID)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				reqBody, _ := json.Marshal(map[string]any{"shellCommand": cmd.Shell, "timeoutInSeconds": 180})
				req, err := http.NewRequestWithContext(b.Context(), http.MethodPost, u, bytes.NewReader(reqBody))
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
				var out largeOutputResponse
				err = json.NewDecoder(resp.Body).Decode(&out)
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				if err != nil || len(out.Result.Stdout) != size.n {
					b.Fatalf("net/http baseline: %v", err)
				}
			}
		})
	}
}

// BenchmarkDecodeExecution measures the decoder alone on the large bodies,
// beside one json.Unmarshal into a plain struct.
func BenchmarkDecodeExecution(b *testing.B) {
	for _, size := range largeOutputSizes {
		body := largeOutputBody(size.n)
		b.Run(size.name+"/decodeExecution", func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				e, err := decodeExecution(body, size.n+1)
				if err != nil || len(e.Stdout) != size.n {
					b.Fatal(err)
				}
			}
		})
		b.Run(size.name+"/jsonUnmarshal", func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				var out largeOutputResponse
				if err := json.Unmarshal(body, &out); err != nil || len(out.Result.Stdout) != size.n {
					b.Fatal(err)
				}
			}
		})
	}
}
