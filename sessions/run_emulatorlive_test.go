package sessions_test

import (
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

// TestRunSurvivesEmulatorLostFinalWrites: the emulator drops the final
// stdout write of half of all executions (seeded); 500 Runs of `printf ok`
// each return exactly "ok" or a typed error.
func TestRunSurvivesEmulatorLostFinalWrites(t *testing.T) {
	n := 500
	if testing.Short() {
		n = 50
	}
	o := procOptions()
	o.Behavior.LostFinalWriteRate = 0.5
	o.Behavior.Seed = 1
	o.TB = t
	srv, err := sessionstest.Start(o)
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	c, err := sessions.NewClient(srv.PoolEndpoint(), srv.Credential(), &sessions.ClientOptions{ClientOptions: srv.ClientOptions()})
	require.NoError(t, err)
	recovered, typed := runPrintfOK(t, c, n, 4)
	t.Logf("%d Runs at LostFinalWriteRate 0.5: %d needed recovery from the session's files, %d typed errors", n, recovered, typed)
}
