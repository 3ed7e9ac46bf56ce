package sessionstest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/shellpool/shellpool/internal/azname"
)

// Benchmarks of the emulator's own costs (issue: performance). Each goal has
// a pair measured in the same run: compare the sub-benchmarks side by side.
//
//	go test -run '^$' -bench . -benchtime 20x ./sessions/sessionstest

// BenchmarkListFiles lists N files of one session following nextLink at the
// default page size of 100 ("pages") and in one page ("onepage"). Listing in
// pages must cost O(N) overall: pages/onepage stays near 1 whatever N is.
func BenchmarkListFiles(b *testing.B) {
	for _, n := range []int{10, 1000, 10000} {
		for _, mode := range []string{"pages", "onepage"} {
			b.Run(fmt.Sprintf("files=%d/%s", n, mode), func(b *testing.B) {
				o := &Options{}
				if mode == "onepage" {
					o.PageSize = n + 1
				}
				s := benchServer(b, o)
				c := newBenchRaw(b, s)
				sid := newSID()
				c.mustStatus(http.StatusOK, c.upload(sid, "", "seed", []byte("x")))
				dir, _ := s.SessionDir(DefaultPoolName, sid)
				for i := range n - 1 {
					if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("file-%05d.txt", i)), []byte("x"), 0o644); err != nil {
						b.Fatal(err)
					}
				}
				b.ResetTimer()
				for range b.N {
					if got := c.listAll(sid); got != n {
						b.Fatalf("listed %d files, want %d", got, n)
					}
				}
			})
		}
	}
}

// BenchmarkThroughputTrue runs `true` at several concurrencies through the
// emulator ("emulator") and through the floor ("floor"): a bare HTTPS server
// whose handler starts bash -c true and answers JSON. ns/op is per
// execution; emulator/floor near 1 means the emulator adds little.
func BenchmarkThroughputTrue(b *testing.B) {
	for _, conc := range []int{1, 8, 32, 128} {
		b.Run(fmt.Sprintf("c=%d/emulator", conc), func(b *testing.B) {
			s := benchServer(b, &Options{Pools: []Pool{{Name: DefaultPoolName, MaxConcurrentSessions: 256}}})
			c := newBenchRaw(b, s)
			body := []byte(`{"shellCommand":"true","timeoutInSeconds":30}`)
			sids := make([]string, conc)
			for i := range sids {
				sids[i] = newSID()
			}
			url := func(i int) string {
				return s.PoolEndpoint() + "/executions?api-version=" + apiVersion + "&identifier=" + sids[i]
			}
			runConcurrent(b, conc, func(w int) error {
				return postJSON(s.Client(), url(w), c.token, body)
			})
		})
		b.Run(fmt.Sprintf("c=%d/floor", conc), func(b *testing.B) {
			bash, err := exec.LookPath("bash")
			if err != nil {
				b.Skip("no bash")
			}
			fs := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var in struct{ ShellCommand string }
				if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
					http.Error(w, err.Error(), http.StatusBadRequest)
					return
				}
				var out, errb bytes.Buffer
				cmd := exec.Command(bash, "-c", in.ShellCommand)
				cmd.Stdout, cmd.Stderr = &out, &errb
				_ = cmd.Run()
				w.Header().Set("Content-Type", "application/json")
				_ = json.NewEncoder(w).Encode(map[string]any{"status": "0", "result": map[string]any{"stdout": out.String(), "stderr": errb.String()}})
			}))
			defer fs.Close()
			cl := fs.Client()
			cl.Transport.(*http.Transport).MaxIdleConnsPerHost = 1024
			body := []byte(`{"shellCommand":"true","timeoutInSeconds":30}`)
			runConcurrent(b, conc, func(int) error { return postJSON(cl, fs.URL+"/executions", "x", body) })
		})
	}
}

// BenchmarkLargeOutput measures what the emulator allocates to answer an
// execution with size bytes of stdout (the handler alone, the response
// discarded). The goal is B/op <= 2x the output size; alloc/out reports the
// ratio.
func BenchmarkLargeOutput(b *testing.B) {
	for _, size := range []int{64 << 10, 1 << 20, 16 << 20} {
		b.Run(fmt.Sprintf("size=%dKiB", size>>10), func(b *testing.B) {
			s := benchServer(b, nil)
			tok := s.Token(azname.SessionsAudience, s.PrincipalID())
			sid := newSID()
			body := fmt.Sprintf(`{"shellCommand":"head -c %d /dev/zero | tr '\\0' a","outputStreamsMaxLength":%d,"timeoutInSeconds":60}`, size, size)
			b.ReportAllocs()
			var total uint64
			b.ResetTimer()
			for range b.N {
				req := httptest.NewRequest(http.MethodPost, s.PoolEndpoint()+"/executions?api-version="+apiVersion+"&identifier="+sid, strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+tok)
				req.Header.Set("Content-Type", "application/json")
				w := &countingWriter{h: http.Header{}}
				before := heapAllocated()
				s.serveHTTP(w, req)
				total += heapAllocated() - before
				if w.status != http.StatusOK || w.n < int64(size) {
					b.Fatalf("status %d, %d bytes", w.status, w.n)
				}
			}
			b.ReportMetric(float64(total)/float64(b.N)/float64(size), "alloc/out")
		})
	}
}

func heapAllocated() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.TotalAlloc
}

type countingWriter struct {
	h      http.Header
	status int
	n      int64
}

func (c *countingWriter) Header() http.Header { return c.h }
func (c *countingWriter) Write(p []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	c.n += int64(len(p))
	return len(p), nil
}
func (c *countingWriter) WriteHeader(s int) {
	if c.status == 0 {
		c.status = s
	}
}

func benchServer(b *testing.B, o *Options) *Server {
	b.Helper()
	if o == nil {
		o = &Options{}
	}
	s, err := Start(o)
	if err != nil {
		b.Skip("sessionstest: ", err)
	}
	b.Cleanup(s.Close)
	return s
}

func runConcurrent(b *testing.B, conc int, op func(worker int) error) {
	b.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Value
	b.ResetTimer()
	for w := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				if err := op(w); err != nil {
					failed.Store(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
}

func postJSON(cl *http.Client, url, token string, body []byte) error {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := cl.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// benchRaw is a small raw client for benchmarks.
type benchRaw struct {
	b     *testing.B
	s     *Server
	token string
}

func newBenchRaw(b *testing.B, s *Server) *benchRaw {
	return &benchRaw{b: b, s: s, token: s.Token(azname.SessionsAudience, s.PrincipalID())}
}

func (c *benchRaw) mustStatus(want, got int) {
	c.b.Helper()
	if want != got {
		c.b.Fatalf("status %d, want %d", got, want)
	}
}

func (c *benchRaw) upload(sid, dir, name string, content []byte) int {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", name)
	_, _ = fw.Write(content)
	_ = mw.Close()
	bw := mw.FormDataContentType()
	req, _ := http.NewRequest(http.MethodPost, c.s.PoolEndpoint()+"/files?api-version="+apiVersion+"&identifier="+sid, &buf)
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", bw)
	resp, err := c.s.Client().Do(req)
	if err != nil {
		c.b.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func (c *benchRaw) listAll(sid string) int {
	n := 0
	next := c.s.PoolEndpoint() + "/files?api-version=" + apiVersion + "&identifier=" + sid
	for next != "" {
		req, _ := http.NewRequest(http.MethodGet, next, nil)
		req.Header.Set("Authorization", "Bearer "+c.token)
		resp, err := c.s.Client().Do(req)
		if err != nil {
			c.b.Fatal(err)
		}
		var body struct {
			Value    []json.RawMessage
			NextLink *string
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil {
			c.b.Fatal(err)
		}
		n += len(body.Value)
		next = ""
		if body.NextLink != nil {
			next = *body.NextLink
		}
	}
	return n
}
