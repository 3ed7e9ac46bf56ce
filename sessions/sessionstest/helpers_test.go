package sessionstest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/internal/azname"
	"github.com/shellpool/shellpool/internal/testpar"
)

// TestMain runs up to 8 parallel tests at once: they mostly wait for the
// bash processes of their emulators, for timeouts and for the az CLI.
func TestMain(m *testing.M) { os.Exit(testpar.Main(m, 8)) }

const apiVersion = "2025-02-02-preview"

// setup starts a server that is closed when the test ends.
func setup(t *testing.T, o *Options) *Server {
	t.Helper()
	if o == nil {
		o = &Options{}
	}
	o.TB = t
	s, err := Start(o)
	if errors.Is(err, ErrNoBash) {
		t.Skip(err.Error())
	}
	require.NoError(t, err)
	return s
}

// raw is a raw-HTTP client of one pool endpoint.
type raw struct {
	t        *testing.T
	s        *Server
	endpoint string
	token    string
}

func newRaw(t *testing.T, s *Server) *raw {
	return &raw{t: t, s: s, endpoint: s.PoolEndpoint(), token: s.Token(azname.SessionsAudience, s.PrincipalID())}
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.body, &m), "body: %s", r.body)
	return m
}

func (r reply) errorCode(t *testing.T) string {
	t.Helper()
	e, _ := r.json(t)["error"].(map[string]any)
	require.NotNil(t, e, "no error object in %s", r.body)
	return e["code"].(string)
}

func (r reply) errorMessage(t *testing.T) string {
	t.Helper()
	e, _ := r.json(t)["error"].(map[string]any)
	require.NotNil(t, e, "no error object in %s", r.body)
	return e["message"].(string)
}

// do sends a request to endpoint+op with api-version and, when sid is not
// empty, identifier.
func (c *raw) do(method, op, sid string, q url.Values, body io.Reader, hdr map[string]string) reply {
	c.t.Helper()
	if q == nil {
		q = url.Values{}
	}
	if q.Get("api-version") == "" {
		q.Set("api-version", apiVersion)
	}
	if sid != "" {
		q.Set("identifier", sid)
	}
	req, err := http.NewRequest(method, c.endpoint+op+"?"+q.Encode(), body)
	require.NoError(c.t, err)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.s.Client().Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

func (c *raw) exec(sid string, body any, hdr map[string]string) reply {
	c.t.Helper()
	b, err := json.Marshal(body)
	require.NoError(c.t, err)
	if hdr == nil {
		hdr = map[string]string{}
	}
	hdr["Content-Type"] = "application/json"
	return c.do(http.MethodPost, "/executions", sid, nil, bytes.NewReader(b), hdr)
}

// sh runs a shell command synchronously and requires a 200.
func (c *raw) sh(sid, script string) map[string]any {
	c.t.Helper()
	r := c.exec(sid, map[string]any{"shellCommand": script, "timeoutInSeconds": 30}, nil)
	require.Equal(c.t, http.StatusOK, r.status, "body: %s", r.body)
	return r.json(c.t)
}

func (c *raw) upload(sid, path, filename string, content []byte) reply {
	c.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile("file", filename)
	require.NoError(c.t, err)
	_, err = fw.Write(content)
	require.NoError(c.t, err)
	require.NoError(c.t, mw.Close())
	q := url.Values{}
	if path != "" {
		q.Set("path", path)
	}
	return c.do(http.MethodPost, "/files", sid, q, &buf, map[string]string{"Content-Type": mw.FormDataContentType()})
}

func stdout(m map[string]any) string {
	r, _ := m["result"].(map[string]any)
	s, _ := r["stdout"].(string)
	return s
}

func stderr(m map[string]any) string {
	r, _ := m["result"].(map[string]any)
	s, _ := r["stderr"].(string)
	return s
}

func newSID() string { return uuid.NewString() }

// eventually polls cond every millisecond for up to d.
func eventually(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(time.Millisecond)
	}
	return cond()
}

// processAlive reports whether pid is a live process (zombies count as
// dead: they have exited and only wait to be reaped).
func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	if !signalZero(p) {
		return false
	}
	if b, err := os.ReadFile("/proc/" + itoa(pid) + "/stat"); err == nil {
		s := string(b)
		if i := strings.LastIndex(s, ")"); i >= 0 && len(s) > i+2 {
			return s[i+2] != 'Z' && s[i+2] != 'X'
		}
	}
	return true
}

// ProcessAlive exposes processAlive to the tests of package
// sessionstest_test.
var ProcessAlive = processAlive

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// roomy returns options for a default pool with room for many sessions.
func roomy() *Options {
	return &Options{Pools: []Pool{{Name: DefaultPoolName, MaxConcurrentSessions: 100, EgressEnabled: true}}}
}

func jsonDecode(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }

// needUnix skips a test that relies on Unix processes, signals or paths
// (process groups, /dev/zero, kill(pid, 0)); elsewhere it runs.
func needUnix(t *testing.T) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("needs Unix processes and paths; the emulator runs commands with Git for Windows' or MSYS2's bash here, without process groups")
	}
}

// HostPID returns the pid, as the test sees it, of the process that the
// session's commands know as pid: the same number for an unisolated
// session, its host pid for a sandboxed one (its own PID namespace), or 0
// when there is no such process or session. Call it while the session lives.
func (s *Server) HostPID(poolName, sid string, pid int) int {
	st, unlock := s.stateOf(poolName)
	var ss *session
	if st != nil {
		ss = st.sessions[sid]
	}
	unlock()
	switch {
	case ss == nil:
		return 0
	case ss.sb == nil:
		return pid
	}
	return ss.sb.hostPID(pid)
}
