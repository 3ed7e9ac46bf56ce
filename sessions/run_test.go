package sessions_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/sessions"
	"github.com/shellpool/shellpool/sessions/sessionstest"
)

// newProcEmulator starts an emulator for the process layer's tests and a
// session handle on it.
func newProcEmulator(t testing.TB) (*sessionstest.Server, *sessions.Client, *sessions.Session) {
	t.Helper()
	srv, c := newEmulator(t, procOptions())
	s := c.NewSession()
	return srv, c, s
}

// layerFiles lists the process layer's files left in the session.
func layerFiles(t testing.TB, s *sessions.Session) []string {
	t.Helper()
	var names []string
	pg := s.NewListFilesPager(nil)
	for pg.More() {
		page, err := pg.NextPage(context.Background())
		require.NoError(t, err)
		for _, f := range page.Files {
			if strings.HasPrefix(f.Name, sessions.ProcessFilePrefix) {
				names = append(names, f.Name)
			}
		}
	}
	return names
}

func TestRunSmoke(t *testing.T) {
	_, _, s := newProcEmulator(t)
	ctx := context.Background()
	res, err := s.Run(ctx, sessions.ShellCommand("printf ok; printf err >&2; exit 3"), nil)
	require.NoError(t, err)
	assert.Equal(t, "ok", string(res.Stdout))
	assert.Equal(t, "err", string(res.Stderr))
	assert.Equal(t, 3, res.ExitCode)
	assert.False(t, res.TimedOut)
	big := bytes.Repeat([]byte("x"), 1<<20)
	res, err = s.Run(ctx, sessions.ShellCommand("head -c 1048576 /dev/zero | tr '\\0' x"), nil)
	require.NoError(t, err)
	assert.Equal(t, sha256.Sum256(big), sha256.Sum256(res.Stdout))
	_ = time.Second
}
