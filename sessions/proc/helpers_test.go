package proc_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/internal/testpar"
	"github.com/shellpool/shellpool/sessions"
	"github.com/shellpool/shellpool/sessions/proc"
	"github.com/shellpool/shellpool/sessions/sessionstest"
)

// TestMain runs up to 8 parallel tests at once: each has its own emulator,
// and they mostly wait for its bash processes and for timeouts.
func TestMain(m *testing.M) { os.Exit(testpar.Main(m, 8)) }

// emuOptions are the emulator options of the package's tests: the live
// behaviour (the default) with the flat file store live pools have (bare
// names under /mnt/data only).
func emuOptions() *sessionstest.Options {
	return &sessionstest.Options{Behavior: sessionstest.Behavior{FlatFileStore: true}}
}

// startEmulator starts an emulator with o for t, skipping where there is no
// bash (Windows without Git for Windows or MSYS2).
func startEmulator(t testing.TB, o *sessionstest.Options) *sessionstest.Server {
	t.Helper()
	o.TB = t
	srv, err := sessionstest.Start(o)
	if errors.Is(err, sessionstest.ErrNoBash) {
		t.Skip(err)
	}
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	return srv
}

// newClient returns a client of srv whose transport is next(srv.Client()),
// or srv.Client() when next is nil.
func newClient(t testing.TB, srv *sessionstest.Server, wrap func(policy.Transporter) policy.Transporter) *sessions.Client {
	t.Helper()
	co := srv.ClientOptions()
	if wrap != nil {
		co.Transport = wrap(srv.Client())
	}
	c, err := sessions.NewClient(srv.PoolEndpoint(), srv.Credential(), &sessions.ClientOptions{ClientOptions: co})
	require.NoError(t, err)
	return c
}

// newEmulator starts an emulator, a client counting the bytes it receives,
// and a session.
func newEmulator(t testing.TB) (*sessionstest.Server, *sessions.SessionClient, *countingTransport) {
	t.Helper()
	srv := startEmulator(t, emuOptions())
	var ct *countingTransport
	c := newClient(t, srv, func(next policy.Transporter) policy.Transporter {
		ct = &countingTransport{next: next}
		return ct
	})
	return srv, c.NewSessionClient(sessions.NewSessionID()), ct
}

// countingTransport counts the response body bytes the client reads.
type countingTransport struct {
	next policy.Transporter
	n    atomic.Int64
}

func (c *countingTransport) Do(req *http.Request) (*http.Response, error) {
	resp, err := c.next.Do(req)
	if resp != nil && resp.Body != nil {
		resp.Body = &countingBody{ReadCloser: resp.Body, n: &c.n}
	}
	return resp, err
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// layerFiles lists the package's files in the session.
func layerFiles(t testing.TB, s *sessions.SessionClient) []string {
	t.Helper()
	var names []string
	pg := s.NewListFilesPager(nil)
	for pg.More() {
		page, err := pg.NextPage(context.Background())
		require.NoError(t, err)
		for _, f := range page.Value {
			if strings.HasPrefix(f.Name, proc.FilePrefix) {
				names = append(names, f.Name)
			}
		}
	}
	return names
}

// filesOf lists the files of process id in the session.
func filesOf(t testing.TB, s *sessions.SessionClient, id string) []string {
	t.Helper()
	var names []string
	for _, f := range layerFiles(t, s) {
		if strings.HasPrefix(f, proc.FilePrefix+id) {
			names = append(names, f)
		}
	}
	return names
}

// upload puts data into the session as name.
func upload(t testing.TB, s *sessions.SessionClient, name string, data []byte) {
	t.Helper()
	_, err := s.UploadFile(context.Background(), name, bytes.NewReader(data), nil)
	require.NoError(t, err)
}

// sh runs script in the session with Execute (the raw call), for set-up
// and checks that must not go through the package under test.
func sh(t testing.TB, s *sessions.SessionClient, script string) string {
	t.Helper()
	res, err := s.Execute(context.Background(), sessions.ShellCommand(script), nil)
	require.NoError(t, err)
	require.NotNil(t, res.ExitCode, script)
	require.Zero(t, *res.ExitCode, "%s: %s %s", script, res.Stdout, res.Stderr)
	return res.Stdout
}

// exactnessContents returns, for size n, a binary content and UTF-8
// contents whose 4-byte characters straddle every byte boundary (the
// service's 4,096-byte cap and the inline budget below it fall at each
// position inside a character in one of them).
func exactnessContents(n int) map[string][]byte {
	rng := rand.New(rand.NewSource(int64(n)))
	bin := make([]byte, n)
	rng.Read(bin)
	out := map[string][]byte{"binary": bin}
	if n == 0 {
		return out
	}
	for shift := 0; shift < 4; shift++ {
		var b bytes.Buffer
		b.WriteString(strings.Repeat("a", shift))
		for b.Len() < n {
			b.WriteString("😀é")
		}
		out[fmt.Sprintf("utf8-shift%d", shift)] = b.Bytes()[:n]
	}
	return out
}
