package sessions_test

import (
	"errors"
	"flag"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/sessions"
	"github.com/shellpool/shellpool/sessions/sessionstest"
)

// procOptions are the emulator options of the process layer's tests: the
// live behaviour (the default) with the flat file store live pools have
// (bare names under /mnt/data only).
func procOptions() *sessionstest.Options {
	return &sessionstest.Options{Behavior: sessionstest.Behavior{FlatFileStore: true}}
}

// lostWriteRuns is how many Runs TestRunSurvivesEmulatorLostFinalWrites
// makes. The default keeps the package within its CI budget; the issue's
// full 500 are one flag away:
//
//	go test ./sessions/ -run TestRunSurvivesEmulatorLostFinalWrites -lostwrite.runs=500
var lostWriteRuns = flag.Int("lostwrite.runs", 100, "Runs of TestRunSurvivesEmulatorLostFinalWrites (the issue asks for 500)")

// TestRunSurvivesEmulatorLostFinalWrites: the emulator drops the final
// stdout write of half of all executions (seeded, so every run of the test
// sees the same losses); by default 100 Runs of `printf ok` (30 under
// -short, 500 with -lostwrite.runs=500) each return exactly "ok" or a
// typed error (the record on stderr or a re-read makes up for the loss).
func TestRunSurvivesEmulatorLostFinalWrites(t *testing.T) {
	n := *lostWriteRuns
	if testing.Short() && n > 30 {
		n = 30
	}
	o := procOptions()
	o.Behavior.LostFinalWriteRate = 0.5
	o.Behavior.Seed = 1
	o.TB = t
	srv, err := sessionstest.Start(o)
	if errors.Is(err, sessionstest.ErrNoBash) {
		t.Skip(err) // Windows without Git for Windows or MSYS2
	}
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	c, err := sessions.NewClient(srv.PoolEndpoint(), srv.Credential(), &sessions.ClientOptions{ClientOptions: srv.ClientOptions()})
	require.NoError(t, err)
	recovered, typed := runPrintfOK(t, c, n, 4)
	t.Logf("%d Runs at LostFinalWriteRate 0.5: %d needed recovery from the session's files, %d typed errors", n, recovered, typed)
}
