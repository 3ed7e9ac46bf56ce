//go:build linux

package sessionstest

import (
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkSandbox measures what sandboxes cost (issue 21), each pair in
// the same run:
//
//   - exec/c=N/isolated vs exec/c=N/unisolated: `true` in existing
//     sessions; the goal is isolated throughput >= 0.9x unisolated.
//
//   - first/isolated vs exec/c=1/isolated: the first execution of a new
//     session (a ready spare sandbox taken); the goal is <= 2x.
//     first/isolated-cold is the same without spares: the sandbox's whole
//     set-up, what sessions created back to back pay.
//
//   - idle/isolated: the emulator's heap per idle sandboxed session
//     (heapB/session, goal <= 1 MiB) and the resident memory of each
//     session's init process (initRSS-KiB/session).
//
//     go test -run '^$' -bench Sandbox -benchtime 2000x ./sessions/sessionstest
func BenchmarkSandbox(b *testing.B) {
	if err := probeSandbox(""); err != nil {
		b.Skip("sandboxes are not available here: ", err)
	}
	modes := []struct {
		name string
		iso  Isolation
	}{{"isolated", IsolationRequired}, {"unisolated", IsolationOff}}
	body := []byte(`{"shellCommand":"true","timeoutInSeconds":30}`)
	for _, conc := range []int{1, 8} {
		for _, m := range modes {
			b.Run(fmt.Sprintf("exec/c=%d/%s", conc, m.name), func(b *testing.B) {
				s := benchServer(b, &Options{Isolation: m.iso, Pools: []Pool{{Name: DefaultPoolName, MaxConcurrentSessions: 64}}})
				c := newBenchRaw(b, s)
				urls := make([]string, conc)
				for i := range urls {
					urls[i] = s.PoolEndpoint() + "/executions?api-version=" + apiVersion + "&identifier=" + newSID()
					if err := postJSON(s.Client(), urls[i], c.token, body); err != nil { // the session exists
						b.Fatal(err)
					}
				}
				runConcurrent(b, conc, func(w int) error { return postJSON(s.Client(), urls[w], c.token, body) })
			})
		}
	}
	// first/isolated: a new session when the spare sandbox is ready (new
	// sessions not back to back); first/isolated-cold: without spares,
	// the sandbox's whole set-up (what a burst of new sessions pays).
	for _, v := range []struct {
		name  string
		iso   Isolation
		spare bool
	}{{"isolated", IsolationRequired, true}, {"isolated-cold", IsolationRequired, false}, {"unisolated", IsolationOff, false}} {
		b.Run("first/"+v.name, func(b *testing.B) {
			s := benchServer(b, &Options{Isolation: v.iso})
			if !v.spare {
				s.closeSpares()
			}
			c := newBenchRaw(b, s)
			// Spares start with a pool's second session.
			for range 2 {
				sid := newSID()
				if err := postJSON(s.Client(), s.PoolEndpoint()+"/executions?api-version="+apiVersion+"&identifier="+sid, c.token, body); err != nil {
					b.Fatal(err)
				}
				c.mustStatus(http.StatusNoContent, c.deleteSession(sid))
			}
			b.ResetTimer()
			for range b.N {
				sid := newSID()
				if err := postJSON(s.Client(), s.PoolEndpoint()+"/executions?api-version="+apiVersion+"&identifier="+sid, c.token, body); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				c.mustStatus(http.StatusNoContent, c.deleteSession(sid))
				for v.spare && !s.spareReady(true) { // the default pool has egress
					time.Sleep(time.Millisecond)
				}
				b.StartTimer()
			}
		})
	}
	b.Run("idle/isolated", func(b *testing.B) {
		const n = 20
		s := benchServer(b, &Options{Isolation: IsolationRequired, Pools: []Pool{{Name: DefaultPoolName, MaxConcurrentSessions: n}}})
		c := newBenchRaw(b, s)
		var heap, rss float64
		for range b.N {
			before := liveHeap()
			sids := make([]string, n)
			for i := range sids {
				sids[i] = newSID()
				if err := postJSON(s.Client(), s.PoolEndpoint()+"/executions?api-version="+apiVersion+"&identifier="+sids[i], c.token, body); err != nil {
					b.Fatal(err)
				}
			}
			after := liveHeap()
			heap += float64(after-min(before, after)) / n
			s.mu.Lock()
			var pids []int
			for _, p := range s.pools {
				for _, ss := range p.sessions {
					pids = append(pids, ss.sb.pid)
				}
			}
			s.mu.Unlock()
			var kib int
			for _, pid := range pids {
				kib += vmRSSKiB(pid)
			}
			rss += float64(kib) / float64(len(pids))
			for _, sid := range sids {
				c.mustStatus(http.StatusNoContent, c.deleteSession(sid))
			}
		}
		b.ReportMetric(heap/float64(b.N), "heapB/session")
		b.ReportMetric(rss/float64(b.N), "initRSS-KiB/session")
	})
}

// spareReady reports whether a spare sandbox is ready.
func (s *Server) spareReady(egress bool) bool {
	s.spares.mu.Lock()
	defer s.spares.mu.Unlock()
	return s.spares.ready[egress] != nil
}

// vmRSSKiB returns the resident set size of a process in KiB.
func vmRSSKiB(pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				n, _ := strconv.Atoi(f[0])
				return n
			}
		}
	}
	return 0
}

// liveHeap returns the bytes of live heap objects after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// deleteSession deletes a session and returns the status.
func (c *benchRaw) deleteSession(sid string) int {
	req, err := http.NewRequest(http.MethodDelete, c.s.PoolEndpoint()+"/session?api-version="+apiVersion+"&identifier="+sid, nil)
	if err != nil {
		c.b.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.s.Client().Do(req)
	if err != nil {
		c.b.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
