package proc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"math/rand"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/sessions"
	"github.com/shellpool/shellpool/sessions/proc"
)

// answerTransport rewrites the stdout and stderr of every execution answer
// with edit, and counts the answers and the ones edit changed.
type answerTransport struct {
	next    policy.Transporter
	edit    func(stdout, stderr string) (string, string)
	answers atomic.Int64
	changed atomic.Int64
}

func (a *answerTransport) Do(req *http.Request) (*http.Response, error) {
	resp, err := a.next.Do(req)
	if err != nil || req.Method != http.MethodPost || !strings.HasSuffix(req.URL.Path, "/executions") || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if json.Unmarshal(body, &doc) == nil {
		if result, ok := doc["result"].(map[string]any); ok {
			a.answers.Add(1)
			out, _ := result["stdout"].(string)
			errs, _ := result["stderr"].(string)
			o2, e2 := a.edit(out, errs)
			if o2 != out || e2 != errs {
				a.changed.Add(1)
			}
			result["stdout"], result["stderr"] = o2, e2
			body, _ = json.Marshal(doc)
		}
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Del("Content-Length")
	return resp, nil
}

// newAnswerClient returns a session whose execution answers go through an
// answerTransport with edit.
func newAnswerClient(t testing.TB, edit func(string, string) (string, string)) (*sessions.Client, *answerTransport) {
	t.Helper()
	srv := startEmulator(t, emuOptions())
	var at *answerTransport
	c := newClient(t, srv, func(next policy.Transporter) policy.Transporter {
		at = &answerTransport{next: next, edit: edit}
		return at
	})
	return c, at
}

// liveLosses does to execution answers what live shell pools are measured
// to do, whatever the emulator underneath does: each stream is cut at
// 4,096 bytes (a split UTF-8 character becomes U+FFFD), and with
// probability rate the end of stdout (the last write) is lost, and, half as
// often, the end of stderr too. It is seeded, so a run is repeatable.
func liveLosses(rate float64, seed int64) func(string, string) (string, string) {
	var mu sync.Mutex
	rng := rand.New(rand.NewSource(seed))
	cap4096 := func(s string) string {
		if len(s) > sessions.DefaultOutputLimit {
			s = strings.ToValidUTF8(s[:sessions.DefaultOutputLimit], "\uFFFD")
		}
		return s
	}
	return func(out, errs string) (string, string) {
		mu.Lock()
		loseOut := rng.Float64() < rate
		loseErr := loseOut && rng.Float64() < 0.5
		cutOut, cutErr := rng.Intn(256), rng.Intn(256)
		mu.Unlock()
		out, errs = cap4096(out), cap4096(errs)
		if loseOut && out != "" {
			out = strings.ToValidUTF8(out[:max(0, len(out)-1-cutOut)], "\uFFFD")
		}
		if loseErr && errs != "" {
			errs = strings.ToValidUTF8(errs[:max(0, len(errs)-1-cutErr)], "\uFFFD")
		}
		return out, errs
	}
}

// lostWriteRuns is how many Runs the lost-write tests make.
var lostWriteRuns = flag.Int("lostwrite.runs", 100, "Runs of TestRunSurvivesEmulatorLostFinalWrites")

// runPrintfOK runs `printf ok` n times over workers sessions and returns
// how many Runs succeeded (each exactly "ok"). A typed ErrOutputLost is
// counted as a failure; any other outcome fails the test.
func runPrintfOK(t *testing.T, c *sessions.Client, n, workers int) (ok int64) {
	var wg sync.WaitGroup
	var next, good atomic.Int64
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := c.NewSessionClient(sessions.NewSessionID())
			defer s.Close(context.Background())
			for next.Add(1) <= int64(n) {
				out, err := proc.Script(s, "printf ok").Output(context.Background())
				if err != nil {
					assert.True(t, errors.Is(err, proc.ErrOutputLost), "untyped error: %v", err)
					continue
				}
				if assert.Equal(t, "ok", string(out)) {
					good.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return good.Load()
}

// TestRunRecoversLostFinalWrites: with half of all execution answers
// missing their last write (seeded), 50 Runs of `printf ok` each return
// exactly "ok": the record on the other stream or a re-read makes up for
// every loss, and the losses did happen.
func TestRunRecoversLostFinalWrites(t *testing.T) {
	t.Parallel()
	n := 50
	c, at := newAnswerClient(t, liveLosses(0.5, 1))
	good := runPrintfOK(t, c, n, 4)
	t.Logf("%d Runs: %d answers, %d lost their end", n, at.answers.Load(), at.changed.Load())
	assert.GreaterOrEqual(t, at.changed.Load(), int64(n/4), "the transport must have lost answers' ends")
	assert.Equal(t, int64(n), good, "every Run returns the exact answer")
}

// TestRunLossyLargeAndUTF8: through the same losses, large and multi-byte
// output (cut at 4,096 bytes and mangled at the cut) comes back exact,
// every time.
func TestRunLossyLargeAndUTF8(t *testing.T) {
	t.Parallel()
	c, at := newAnswerClient(t, liveLosses(0.5, 2))
	s := c.NewSessionClient(sessions.NewSessionID())
	ctx := t.Context()
	for _, n := range []int{3000, 3584, 3585, 4095, 4096, 4097, 20000} {
		want := exactnessContents(n)["utf8-shift1"]
		upload(t, s, "lossy.txt", want)
		cmd := proc.Script(s, "cat lossy.txt; cat lossy.txt >&2")
		var errb bytes.Buffer
		cmd.Stderr = &errb
		out, err := cmd.Output(ctx)
		require.NoError(t, err, n)
		assert.Equal(t, want, out, n)
		assert.Equal(t, want, errb.Bytes(), n)
	}
	assert.Positive(t, at.changed.Load(), "the transport must have cut or lost answers")
}

// TestRunThroughStreamsCutAt3000Bytes: a service that cuts both streams at
// 3,000 bytes (below the inline budget) still gives exact answers: a cut
// report is asked for again without inline content.
func TestRunThroughStreamsCutAt3000Bytes(t *testing.T) {
	t.Parallel()
	c, at := newAnswerClient(t, func(out, errs string) (string, string) {
		return out[:min(len(out), 3000)], errs[:min(len(errs), 3000)]
	})
	s := c.NewSessionClient(sessions.NewSessionID())
	for _, n := range []int{10, 2990, 3000, 3500, 10000} {
		want := exactnessContents(n)["binary"]
		upload(t, s, "cut.bin", want)
		cmd := proc.Script(s, "cat cut.bin; cat cut.bin >&2")
		var errb bytes.Buffer
		cmd.Stderr = &errb
		out, err := cmd.Output(t.Context())
		require.NoError(t, err, n)
		assert.Equal(t, want, out, n)
		assert.Equal(t, want, errb.Bytes(), n)
	}
	assert.Positive(t, at.changed.Load(), "the transport must have cut answers")
}

// TestRunSurvivesEmulatorLostFinalWrites: the emulator drops the final
// stdout write of executions (seeded) at rate 0.5 and 1.0; Runs of `printf
// ok` each return exactly "ok" (the record on stderr makes up for the
// loss), and the losses happened: counted in the answers, whose stdout
// lacks the record line.
func TestRunSurvivesEmulatorLostFinalWrites(t *testing.T) {
	t.Parallel()
	for _, rate := range []float64{0.5, 1} {
		n := *lostWriteRuns
		if testing.Short() && n > 30 {
			n = 30
		}
		o := emuOptions()
		o.Behavior.LostFinalWriteRate = rate
		o.Behavior.Seed = 1
		srv := startEmulator(t, o)
		var at *answerTransport
		c := newClient(t, srv, func(next policy.Transporter) policy.Transporter {
			at = &answerTransport{next: next, edit: func(o, e string) (string, string) { return o, e }}
			return at
		})
		var lost atomic.Int64
		at.edit = func(out, errs string) (string, string) {
			if strings.Contains(errs, "@@shellpool-rec:") && !strings.Contains(out, "@@shellpool-rec:") {
				lost.Add(1)
			}
			return out, errs
		}
		good := runPrintfOK(t, c, n, 4)
		t.Logf("rate %.1f: %d Runs, %d answers lost their final stdout write", rate, n, lost.Load())
		assert.GreaterOrEqual(t, lost.Load(), int64(float64(n)*rate/3), "rate %.1f: the emulator must have lost writes", rate)
		assert.Equal(t, int64(n), good, "rate %.1f: every Run returns the exact answer", rate)
	}
}
