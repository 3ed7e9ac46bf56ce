package shell_test

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/sessions/proc"
	"github.com/shellpool/shellpool/sessions/shell"
)

// Exec("true") in an open shell is one request.
func TestShellExecTrueIsOneRequest(t *testing.T) {
	e := newEmu(t, nil)
	sh, _ := openShell(t, e)
	ctx := context.Background()
	for i := 0; i < 20; i++ {
		e.srv.ResetRequests()
		res, err := sh.Exec(ctx, "true", nil)
		require.NoError(t, err)
		require.Equal(t, 0, res.ExitCode)
		require.Equal(t, 1, e.dataRequests(), "call %d", i)
	}
}

// BenchmarkExecTrue compares Exec("true") in an open shell with proc's
// Run of "true" (the baseline, same emulator, same run). The goal is a
// ratio of at most 1.2.
func BenchmarkExecTrue(b *testing.B) {
	e := newEmu(b, nil)
	s := e.session(b)
	ctx := context.Background()
	sh, err := shell.Open(ctx, s, nil)
	require.NoError(b, err)
	defer sh.Close(ctx)
	var tExec, tRun time.Duration
	for b.Loop() {
		t0 := time.Now()
		if err := proc.Script(s, "true").Run(ctx); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := sh.Exec(ctx, "true", nil); err != nil {
			b.Fatal(err)
		}
		tRun += t1.Sub(t0)
		tExec += time.Since(t1)
	}
	b.ReportMetric(float64(tExec.Microseconds())/float64(b.N), "exec-us/op")
	b.ReportMetric(float64(tRun.Microseconds())/float64(b.N), "run-us/op")
	b.ReportMetric(float64(tExec)/float64(tRun), "exec/run")
}

// peakHeap samples the live heap while f runs and returns its peak.
func peakHeap(f func()) uint64 {
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	f()
	close(done)
	wg.Wait()
	return peak.Load()
}

// bigTree writes 10,000 small files in 100 directories plus a few large
// ones: 100 MiB in all.
func bigTree(tb testing.TB) string {
	tb.Helper()
	root := tb.TempDir()
	small := strings.Repeat("small file content\n", 50) // 950 bytes
	for d := 0; d < 100; d++ {
		dir := filepath.Join(root, "pkg", string(rune('a'+d%26))+strings.Repeat("x", d/26))
		require.NoError(tb, os.MkdirAll(dir, 0o755))
		for f := 0; f < 100; f++ {
			require.NoError(tb, os.WriteFile(filepath.Join(dir, "f"+strings.Repeat("0", 3-len(itoa(f)))+itoa(f)+".txt"), []byte(small+itoa(f)), 0o644))
		}
	}
	rest := int64(100<<20) - 10000*int64(len(small)+2)
	big := make([]byte, 1<<20)
	for i := range big {
		big[i] = byte(i * 7919 >> 3)
	}
	for i := 0; rest > 0; i++ {
		f, err := os.Create(filepath.Join(root, "blob"+itoa(i)+".bin"))
		require.NoError(tb, err)
		n := min(rest, 30<<20)
		for w := int64(0); w < n; w += int64(len(big)) {
			_, err := f.Write(big[:min(int64(len(big)), n-w)])
			require.NoError(tb, err)
		}
		require.NoError(tb, f.Close())
		rest -= n
	}
	return root
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	s := ""
	for ; i > 0; i /= 10 {
		s = string(rune('0'+i%10)) + s
	}
	return s
}

// The 100 MiB tree of 10,000 small files and a few large ones round-trips
// with an equal digest, in O(1) requests.
func TestDirRoundTripLargeTree(t *testing.T) {
	if testing.Short() {
		t.Skip("100 MiB tree in -short mode")
	}
	skipWindows(t)
	e := newEmu(t, nil)
	s := e.session(t)
	ctx := context.Background()
	src := bigTree(t)
	want, _ := treeDigest(t, src)
	e.srv.ResetRequests()
	up, err := shell.UploadDir(ctx, s, os.DirFS(src), "tree", nil)
	require.NoError(t, err)
	require.GreaterOrEqual(t, up.Files, 10000)
	require.Equal(t, up.Parts+1, e.dataRequests())
	require.LessOrEqual(t, e.dataRequests(), 4)
	e.srv.ResetRequests()
	dst := filepath.Join(t.TempDir(), "back")
	_, err = shell.DownloadDir(ctx, s, "tree", dst, nil)
	require.NoError(t, err)
	require.Equal(t, 3, e.dataRequests())
	got, _ := treeDigest(t, dst)
	require.Equal(t, want, got)
}

// BenchmarkDirTransfer moves the 100 MiB tree up and back, against two
// baselines in the same run: one 100 MiB file uploaded and downloaded
// (the goal: up/file and down/file at most 2), and the same
// archive moved by hand with tar (upload the archive then tar -x in the
// session; tar -c in the session, download, tar -x locally), which
// creates the same 10,000 files (up/tar, down/tar: this package's own
// overhead). Peak heap goal: at most 32 MiB; the heap is the whole
// process's, emulator included (peak-heap-file-MiB is the same measure
// while one 100 MiB file goes up and down).
func BenchmarkDirTransfer(b *testing.B) {
	skipWindows(b)
	e := newEmu(b, nil)
	s := e.session(b)
	ctx := context.Background()
	src := bigTree(b)
	one := filepath.Join(b.TempDir(), "one.bin")
	f, err := os.Create(one)
	require.NoError(b, err)
	_, err = io.CopyN(f, zeroReader{}, 100<<20)
	require.NoError(b, err)
	require.NoError(b, f.Close())
	archive := filepath.Join(b.TempDir(), "tree.tar")
	out, err := exec.Command("tar", "-c", "-f", archive, "-C", src, ".").CombinedOutput()
	require.NoError(b, err, "%s", out)
	upload := func(name, local string) {
		fh, err := os.Open(local)
		require.NoError(b, err)
		defer fh.Close()
		_, err = s.UploadFile(ctx, name, fh, nil)
		require.NoError(b, err)
	}
	var tUp, tDown, tFileUp, tFileDown, tTarUp, tTarDown time.Duration
	var peak, peakFile uint64
	for b.Loop() {
		run(b, s, `rm -rf tree tree2 one.bin tree.tar`)
		var t0, t1, t2 time.Time
		p0 := peakHeap(func() {
			t0 = time.Now()
			upload("one.bin", one)
			t1 = time.Now()
			_, err = s.DownloadFileToPath(ctx, "one.bin", filepath.Join(b.TempDir(), "one"), nil)
			t2 = time.Now()
		})
		require.NoError(b, err)
		p := peakHeap(func() {
			_, err = shell.UploadDir(ctx, s, os.DirFS(src), "tree", nil)
		})
		require.NoError(b, err)
		t3 := time.Now()
		p2 := peakHeap(func() {
			_, err = shell.DownloadDir(ctx, s, "tree", filepath.Join(b.TempDir(), "back"), nil)
		})
		require.NoError(b, err)
		t4 := time.Now()
		upload("tree.tar", archive)
		run(b, s, `mkdir tree2 && tar -x -f tree.tar -C tree2 && rm tree.tar`)
		t5 := time.Now()
		run(b, s, `tar -c -f tree.tar -C tree2 .`)
		local := filepath.Join(b.TempDir(), "t.tar")
		_, err = s.DownloadFileToPath(ctx, "tree.tar", local, nil)
		require.NoError(b, err)
		dst := filepath.Join(b.TempDir(), "byhand")
		require.NoError(b, os.Mkdir(dst, 0o755))
		out, err := exec.Command("tar", "-x", "-f", local, "-C", dst).CombinedOutput()
		require.NoError(b, err, "%s", out)
		t6 := time.Now()
		tFileUp += t1.Sub(t0)
		tFileDown += t2.Sub(t1)
		tUp += t3.Sub(t2)
		tDown += t4.Sub(t3)
		tTarUp += t5.Sub(t4)
		tTarDown += t6.Sub(t5)
		peak = max(peak, p, p2)
		peakFile = max(peakFile, p0)
	}
	b.ReportMetric(float64(tUp)/float64(tFileUp), "up/file")
	b.ReportMetric(float64(tDown)/float64(tFileDown), "down/file")
	b.ReportMetric(float64(tUp)/float64(tTarUp), "up/tar")
	b.ReportMetric(float64(tDown)/float64(tTarDown), "down/tar")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(peakFile)/(1<<20), "peak-heap-file-MiB")
}

type zeroReader struct{}

func (zeroReader) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = byte(i)
	}
	return len(b), nil
}
