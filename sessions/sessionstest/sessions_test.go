package sessionstest

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSessionGetDeleteAndStop(t *testing.T) {
	needUnix(t)
	t.Parallel()
	s := setup(t, nil)
	c := newRaw(t, s)
	sid := newSID()

	r := c.do(http.MethodGet, "/session", sid, nil, nil, nil)
	require.Equal(t, http.StatusNotFound, r.status)
	assert.Equal(t, "SessionNotFound", r.errorCode(t))
	assert.NotContains(t, string(r.body), sid)

	// Start a long-lived process that the session owns: bash records its
	// pid, then becomes sleep, so the pid is the emulator's own child.
	a := c.exec(sid, map[string]any{"shellCommand": "echo $$ > pid; exec sleep 1000", "executionType": "Asynchronous"}, nil)
	require.Equal(t, http.StatusAccepted, a.status, "body: %s", a.body)
	dir, ok := s.SessionDir(DefaultPoolName, sid)
	require.True(t, ok)
	var pid int
	require.True(t, eventually(2*time.Minute, func() bool {
		b, err := os.ReadFile(filepath.Join(dir, "pid"))
		pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil && pid > 0
	}))
	pid = s.HostPID(DefaultPoolName, sid, pid)
	require.True(t, processAlive(pid))

	g := c.do(http.MethodGet, "/session", sid, nil, nil, nil)
	got := time.Now()
	require.Equal(t, http.StatusOK, g.status)
	m := g.json(t)
	assert.Equal(t, sid, m["identifier"])
	assert.NotEmpty(t, m["etag"])
	created, err := time.Parse(time.RFC3339, m["createdAt"].(string))
	require.NoError(t, err)
	expire, err := time.Parse(time.RFC3339, m["expireAt"].(string))
	require.NoError(t, err)
	// The session expires a cooldown after its last use: no earlier than a
	// cooldown after its creation, no later than a cooldown after this GET
	// (bounds, not a tolerance; the times have whole seconds).
	assert.False(t, expire.Before(created.Add(DefaultCooldown)), "expireAt %v, createdAt %v", expire, created)
	assert.False(t, expire.After(got.Add(DefaultCooldown)), "expireAt %v", expire)
	assert.Contains(t, m, "lastAccessedAt")

	d := c.do(http.MethodDelete, "/session", sid, nil, nil, nil)
	require.Equal(t, http.StatusNoContent, d.status)
	assert.False(t, processAlive(pid), "deleting a session kills its processes")
	assert.NoDirExists(t, dir, "deleting a session removes its files")
	assert.Equal(t, 0, s.SessionCount(DefaultPoolName))
	assert.Equal(t, "SessionNotFound", c.do(http.MethodDelete, "/session", sid, nil, nil, nil).errorCode(t))

	// A new request with the same identifier gets a fresh, empty session.
	assert.Equal(t, "", stdout(c.sh(sid, "ls")))

	stop := c.do(http.MethodPost, "/.management/stopSession", sid, nil, nil, nil)
	require.Equal(t, http.StatusOK, stop.status)
	assert.True(t, strings.HasPrefix(stop.header.Get("Content-Type"), "text/plain"))
	assert.Contains(t, string(stop.body), "stopped")
	assert.NotContains(t, string(stop.body), sid)
	assert.Equal(t, 0, s.SessionCount(DefaultPoolName))
}

func TestListSessionsAndMetadata(t *testing.T) {
	t.Parallel()
	s := setup(t, &Options{PageSize: 2})
	c := newRaw(t, s)
	ids := []string{newSID(), newSID(), newSID()}
	for _, id := range ids {
		c.sh(id, "true")
	}
	r := c.do(http.MethodGet, "/listSessions", "", nil, nil, nil)
	require.Equal(t, http.StatusOK, r.status)
	m := r.json(t)
	page := m["sessions"].([]any)
	assert.Len(t, page, 2)
	next, _ := m["nextLink"].(string)
	require.NotEmpty(t, next)
	u, err := url.Parse(next)
	require.NoError(t, err)
	assert.Equal(t, "2", u.Query().Get("skip"))
	// The listing continues from its snapshot: a session made meanwhile
	// does not shift it.
	c.sh(newSID(), "true")
	r2 := c.do(http.MethodGet, "/listSessions", "", u.Query(), nil, nil)
	m2 := r2.json(t)
	assert.Len(t, m2["sessions"].([]any), 1)
	assert.Nil(t, m2["nextLink"])
	var got []string
	for _, v := range append(page, m2["sessions"].([]any)...) {
		got = append(got, v.(map[string]any)["identifier"].(string))
	}
	assert.ElementsMatch(t, ids, got)

	md := c.do(http.MethodGet, "/metadata", "", nil, nil, nil)
	require.Equal(t, http.StatusOK, md.status)
	mm := md.json(t)
	rt := mm["runtimes"].([]any)
	require.Len(t, rt, 1)
	assert.Equal(t, "bash", rt[0].(map[string]any)["name"])
	assert.NotEmpty(t, rt[0].(map[string]any)["version"])
	assert.Contains(t, mm, "jupyterKernel")
	assert.Contains(t, mm, "preInstalledPackages")
	assert.Contains(t, mm, "createdAt")
}

func TestCapacityIsEnforcedForNewSessions(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		status int
		want   int
	}{
		{"default 404", 0, http.StatusNotFound},
		{"configured 429", http.StatusTooManyRequests, http.StatusTooManyRequests},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := setup(t, &Options{CapacityStatus: tc.status, Pools: []Pool{{Name: "small", MaxConcurrentSessions: 2}}})
			c := newRaw(t, s)
			a, b := newSID(), newSID()
			c.sh(a, "true")
			c.sh(b, "true")
			r := c.exec(newSID(), map[string]any{"shellCommand": "true"}, nil)
			require.Equal(t, tc.want, r.status)
			assert.Equal(t, "MaxConcurrentSessionsReached", r.errorCode(t))
			assert.Equal(t, "MaxConcurrentSessionsReached", r.header.Get("x-ms-error-code"))
			assert.Contains(t, r.errorMessage(t), "(2)")
			assert.Contains(t, r.errorMessage(t), "DELETE /session")
			assert.Equal(t, tc.want, c.upload(newSID(), "", "f", []byte("x")).status, "uploads allocate sessions too")

			c.sh(a, "true") // existing sessions keep working
			require.Equal(t, http.StatusNoContent, c.do(http.MethodDelete, "/session", a, nil, nil, nil).status)
			assert.Equal(t, http.StatusOK, c.exec(newSID(), map[string]any{"shellCommand": "true"}, nil).status, "deleting frees capacity")
		})
	}
}

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (f *fakeClock) Now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.now }
func (f *fakeClock) Advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

func TestIdleSessionsExpireAfterCooldown(t *testing.T) {
	needUnix(t)
	t.Parallel()
	clock := &fakeClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := setup(t, &Options{Now: clock.Now, Pools: []Pool{{Name: DefaultPoolName, Cooldown: time.Hour}}})
	c := newRaw(t, s)
	idle, busy := newSID(), newSID()
	c.sh(idle, "sleep 1000 > /dev/null 2>&1 & echo $! > bg.pid")
	c.sh(busy, "true")
	dir, _ := s.SessionDir(DefaultPoolName, idle)
	b, err := os.ReadFile(filepath.Join(dir, "bg.pid"))
	require.NoError(t, err)
	bg, err := strconv.Atoi(strings.TrimSpace(string(b)))
	require.NoError(t, err)
	bg = s.HostPID(DefaultPoolName, idle, bg)
	require.True(t, processAlive(bg))

	clock.Advance(59 * time.Minute)
	assert.Equal(t, 0, s.ExpireIdle())
	c.sh(busy, "true") // activity resets the idle timer
	clock.Advance(2 * time.Minute)
	assert.Equal(t, 1, s.ExpireIdle())
	assert.Equal(t, 1, s.SessionCount(DefaultPoolName))
	assert.NoDirExists(t, dir)
	assert.True(t, eventually(2*time.Minute, func() bool { return !processAlive(bg) }), "expiry kills background processes")
	assert.Equal(t, "SessionNotFound", c.do(http.MethodGet, "/session", idle, nil, nil, nil).errorCode(t))
	g := c.do(http.MethodGet, "/session", busy, nil, nil, nil)
	require.Equal(t, http.StatusOK, g.status)
}

func TestJanitorExpiresSessions(t *testing.T) {
	t.Parallel()
	s := setup(t, &Options{Pools: []Pool{{Name: "fast", Cooldown: 50 * time.Millisecond}, {Name: "never", Cooldown: -1}}})
	c := newRaw(t, s)
	c.sh(newSID(), "true")
	never := newRaw(t, s)
	never.endpoint = s.PoolEndpointFor("never")
	never.sh(newSID(), "true")
	assert.True(t, eventually(2*time.Minute, func() bool { return s.SessionCount("fast") == 0 }))
	assert.Equal(t, 1, s.SessionCount("never"))
}
