package proc_test

import (
	"context"
	"io"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shellpool/shellpool/sessions"
	"github.com/shellpool/shellpool/sessions/proc"
)

// BenchmarkRunTrue measures Run of `true` against the emulator; compare
// with BenchmarkRunTrueExecuteBaseline, the raw Execute of the same command
// in the same run (goal: at most 1.5 times its time).
func BenchmarkRunTrue(b *testing.B) {
	_, s, _ := newEmulator(b)
	ctx := context.Background()
	for b.Loop() {
		if err := proc.Script(s, "true").Run(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRunTrueCommand measures Command(s, "true").Run, which execs the
// program without a shell (exec.Command("true") locally).
func BenchmarkRunTrueCommand(b *testing.B) {
	_, s, _ := newEmulator(b)
	ctx := context.Background()
	for b.Loop() {
		if err := proc.Command(s, "true").Run(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRunTrueExecuteBaseline is Execute of `true`: the floor for
// BenchmarkRunTrue.
func BenchmarkRunTrueExecuteBaseline(b *testing.B) {
	_, s, _ := newEmulator(b)
	ctx := context.Background()
	cmd := sessions.ShellCommand("true")
	for b.Loop() {
		if _, err := s.Execute(ctx, cmd, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRunTrueInterleaved runs, in every iteration, Execute of
// `true` (the baseline), Script(s, "true").Run and Command(s, "true").Run
// against one emulator, so that they see the same machine load. It reports
// each one's mean time and the ratios script/execute and command/execute
// (goal: at most 1.5 each). It also runs the floors of the two: an
// Execute that only forks and execs one more bash (`(exec bash -c true)`,
// what running a script as "bash -c" needs at least) and one that forks
// and execs the program true (what Command needs at least), reported as
// floor-script/execute and floor-command/execute.
func BenchmarkRunTrueInterleaved(b *testing.B) {
	_, s, _ := newEmulator(b)
	ctx := context.Background()
	exe := sessions.ShellCommand("true")
	floors := []sessions.Command{sessions.ShellCommand("(exec bash -c true); true"), sessions.ShellCommand("(exec true); true")}
	var tExec, tScript, tCmd time.Duration
	var tFloor [2]time.Duration
	for b.Loop() {
		t0 := time.Now()
		if _, err := s.Execute(ctx, exe, nil); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := proc.Script(s, "true").Run(ctx); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		if err := proc.Command(s, "true").Run(ctx); err != nil {
			b.Fatal(err)
		}
		t3 := time.Now()
		tExec += t1.Sub(t0)
		tScript += t2.Sub(t1)
		tCmd += t3.Sub(t2)
		for i, f := range floors {
			t := time.Now()
			res, err := s.Execute(ctx, f, nil)
			if err != nil || res.ExitCode == nil || *res.ExitCode != 0 {
				b.Fatal(err, res)
			}
			tFloor[i] += time.Since(t)
		}
	}
	n := float64(b.N)
	b.ReportMetric(float64(tExec.Microseconds())/n, "execute-us/op")
	b.ReportMetric(float64(tScript.Microseconds())/n, "script-us/op")
	b.ReportMetric(float64(tCmd.Microseconds())/n, "command-us/op")
	b.ReportMetric(float64(tScript)/float64(tExec), "script/execute")
	b.ReportMetric(float64(tCmd)/float64(tExec), "command/execute")
	b.ReportMetric(float64(tFloor[0])/float64(tExec), "floor-script/execute")
	b.ReportMetric(float64(tFloor[1])/float64(tExec), "floor-command/execute")
}

const bench64 = 64 << 20

// BenchmarkRun64MiB measures Run of a command printing 64 MiB, streamed to
// a writer (io.Discard behind a counter); it reports the peak heap in use
// while streaming (peak-heap-MiB, goal <= 32). Compare its MB/s with
// BenchmarkRun64MiBDownloadBaseline (goal: at least 0.8 times).
func BenchmarkRun64MiB(b *testing.B) {
	_, s, _ := newEmulator(b)
	ctx := context.Background()
	if err := proc.Script(s, "head -c 67108864 /dev/urandom > big.bin").Run(ctx); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(bench64)
	var peak atomic.Uint64
	stop := make(chan struct{})
	go sampleHeap(&peak, stop)
	runtime.GC()
	b.ResetTimer()
	for b.Loop() {
		var n countWriter
		cmd := proc.Script(s, "cat big.bin")
		cmd.Stdout = &n
		if err := cmd.Run(ctx); err != nil || n != bench64 {
			b.Fatal(err, n)
		}
		b.StopTimer()
		if err := cmd.Process.Release(ctx); err != nil { // not to fill the disk
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.StopTimer()
	close(stop)
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
}

// BenchmarkRun64MiBDownloadBaseline is DownloadFile of the same 64 MiB
// file: the floor for BenchmarkRun64MiB.
func BenchmarkRun64MiBDownloadBaseline(b *testing.B) {
	_, s, _ := newEmulator(b)
	ctx := context.Background()
	if err := proc.Script(s, "head -c 67108864 /dev/urandom > big.bin").Run(ctx); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(bench64)
	for b.Loop() {
		var n countWriter
		if _, err := s.DownloadFileTo(ctx, "big.bin", &n, nil); err != nil || n != bench64 {
			b.Fatal(err, n)
		}
	}
}

type countWriter int64

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }

var _ io.Writer = (*countWriter)(nil)

// sampleHeap records the largest HeapInuse seen until stop is closed.
func sampleHeap(peak *atomic.Uint64, stop chan struct{}) {
	var ms runtime.MemStats
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
		}
	}
}
