package sessions_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/sessions"
	"github.com/shellpool/shellpool/sessions/sessionstest"
)

func TestSessionHandleIdentity(t *testing.T) {
	t.Parallel()
	w := setupWire(t, nil)
	s := w.client.NewSessionClient(testSessionID)
	assert.Equal(t, testSessionID, s.ID())
	for _, text := range []string{s.String(), fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s", s, s, s, s)} {
		assert.NotContains(t, text, testSessionID, "the identifier is redacted when printed")
		assert.Contains(t, text, sessions.RedactSessionID(testSessionID))
	}

	a, b := w.client.NewSessionClient(sessions.NewSessionID()), w.client.NewSessionClient(sessions.NewSessionID())
	assert.NotEqual(t, a.ID(), b.ID(), "NewSession draws a fresh identifier")
	assert.NoError(t, sessions.ValidateSessionID(a.ID()))
	assert.Zero(t, w.hits.Load(), "creating handles sends nothing")
}

// TestSessionHandleRoutesToItsSession: every handle method sends the
// handle's identifier.
func TestSessionHandleRoutesToItsSession(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	got := map[string]string{} // "METHOD path" -> identifier
	w := setupWire(t, func(rw http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		mu.Lock()
		got[r.Method+" "+strings.TrimPrefix(r.URL.Path, testPrefix)] = r.URL.Query().Get("identifier")
		mu.Unlock()
		switch {
		case r.Method == http.MethodDelete:
			rw.WriteHeader(http.StatusNoContent)
		case strings.HasSuffix(r.URL.Path, "/content"):
			_, _ = io.WriteString(rw, "data")
		case strings.HasSuffix(r.URL.Path, "/session"):
			writeJSON(rw, http.StatusOK, []byte(`{"identifier":"x"}`))
		case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/files"):
			writeJSON(rw, http.StatusOK, []byte(`{"value":[]}`))
		default:
			writeJSON(rw, http.StatusOK, []byte(`{"name":"a.txt","type":"File"}`))
		}
	})
	s := w.client.NewSessionClient(testSessionID)
	ctx := t.Context()
	_, err := s.UploadFile(ctx, "a.txt", strings.NewReader("data"), nil)
	require.NoError(t, err)
	dl, err := s.DownloadFile(ctx, "a.txt", nil)
	require.NoError(t, err)
	require.NoError(t, dl.Body.Close())
	var buf bytes.Buffer
	_, err = s.DownloadFileTo(ctx, "a.txt", &buf, nil)
	require.NoError(t, err)
	_, err = s.DownloadFileToPath(ctx, "a.txt", t.TempDir()+"/a.txt", nil)
	require.NoError(t, err)
	_, err = s.GetFile(ctx, "a.txt", nil)
	require.NoError(t, err)
	_, err = s.NewListFilesPager(nil).NextPage(ctx)
	require.NoError(t, err)
	_, err = s.GetSession(ctx, nil)
	require.NoError(t, err)
	_, err = s.DeleteFile(ctx, "a.txt", nil)
	require.NoError(t, err)
	require.NoError(t, s.Close(ctx))

	mu.Lock()
	defer mu.Unlock()
	for _, k := range []string{"POST /files", "GET /files/a.txt/content", "GET /files/a.txt", "GET /files", "GET /session", "DELETE /files/a.txt", "DELETE /session"} {
		assert.Equal(t, testSessionID, got[k], k)
	}
}

func TestSessionCloseIsIdempotent(t *testing.T) {
	t.Parallel()
	var deletes atomic.Int32
	w := setupWire(t, func(rw http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodDelete && strings.HasSuffix(r.URL.Path, "/session") {
			deletes.Add(1)
			rw.WriteHeader(http.StatusNoContent)
			return
		}
		t.Errorf("unexpected request after Close: %s %s", r.Method, r.URL.Path)
	})
	s := w.client.NewSessionClient(testSessionID)
	ctx := t.Context()

	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			assert.NoError(t, s.Close(ctx))
		}()
	}
	wg.Wait()
	require.NoError(t, s.Close(ctx), "a further Close is a no-op")
	assert.Equal(t, int32(1), deletes.Load(), "exactly one DELETE, however many Close calls")
	assert.Contains(t, s.String(), "closed")

	// Every method of a closed handle fails without sending anything.
	_, err := s.UploadFile(ctx, "a.txt", strings.NewReader("x"), nil)
	assert.ErrorIs(t, err, sessions.ErrSessionClosed)
	_, err = s.DownloadFile(ctx, "a.txt", nil)
	assert.ErrorIs(t, err, sessions.ErrSessionClosed)
	_, err = s.DownloadFileTo(ctx, "a.txt", io.Discard, nil)
	assert.ErrorIs(t, err, sessions.ErrSessionClosed)
	_, err = s.DownloadFileToPath(ctx, "a.txt", t.TempDir()+"/x", nil)
	assert.ErrorIs(t, err, sessions.ErrSessionClosed)
	_, err = s.GetFile(ctx, "a.txt", nil)
	assert.ErrorIs(t, err, sessions.ErrSessionClosed)
	_, err = s.DeleteFile(ctx, "a.txt", nil)
	assert.ErrorIs(t, err, sessions.ErrSessionClosed)
	_, err = s.GetSession(ctx, nil)
	assert.ErrorIs(t, err, sessions.ErrSessionClosed)
	_, err = s.Execute(ctx, sessions.ShellCommand("true"), nil)
	assert.ErrorIs(t, err, sessions.ErrSessionClosed)
	_, err = s.BeginExecute(ctx, sessions.ShellCommand("true"), nil)
	assert.ErrorIs(t, err, sessions.ErrSessionClosed)
	_, err = s.GetExecution(ctx, "e1", nil)
	assert.ErrorIs(t, err, sessions.ErrSessionClosed)
	pager := s.NewListFilesPager(nil)
	require.True(t, pager.More())
	_, err = pager.NextPage(ctx)
	assert.ErrorIs(t, err, sessions.ErrSessionClosed)
	assert.Equal(t, int32(1), deletes.Load())
}

func TestSessionCloseOutcomes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		status     int
		code       string
		wantErr    bool
		wantClosed bool
	}{
		{name: "204 closes", status: http.StatusNoContent, wantClosed: true},
		{name: "200 closes", status: http.StatusOK, wantClosed: true},
		{name: "unknown session counts as closed", status: http.StatusNotFound, code: "SessionNotFound", wantClosed: true},
		{name: "server error keeps the handle open", status: http.StatusBadRequest, code: "BadThing", wantErr: true},
		{name: "forbidden keeps the handle open", status: http.StatusForbidden, code: "AuthorizationFailed", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int32
			w := setupWire(t, func(rw http.ResponseWriter, r *http.Request) {
				if calls.Add(1) > 1 {
					rw.WriteHeader(http.StatusNoContent) // a later Close succeeds
					return
				}
				if tc.code != "" {
					writeServiceError(rw, tc.status, tc.code)
					return
				}
				rw.WriteHeader(tc.status)
			})
			s := w.client.NewSessionClient(testSessionID)
			err := s.Close(t.Context())
			if !tc.wantErr {
				require.NoError(t, err)
				_, err = s.GetFile(t.Context(), "a.txt", nil)
				assert.ErrorIs(t, err, sessions.ErrSessionClosed)
				return
			}
			require.Error(t, err)
			var re *azcore.ResponseError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, tc.status, re.StatusCode)
			assert.NotContains(t, err.Error(), testSessionID)
			assert.NotContains(t, s.String(), "closed")
			require.NoError(t, s.Close(t.Context()), "Close can be retried after a failure")
			assert.Equal(t, int32(2), calls.Load())
		})
	}
}

func TestSessionInvalidIDFailsOnFirstCall(t *testing.T) {
	t.Parallel()
	w := setupWire(t, nil)
	s := w.client.NewSessionClient("no spaces allowed")
	_, err := s.UploadFile(t.Context(), "a.txt", strings.NewReader("x"), nil)
	assert.ErrorIs(t, err, sessions.ErrInvalidArgument)
	assert.ErrorIs(t, s.Close(t.Context()), sessions.ErrInvalidArgument)
	assert.Zero(t, w.hits.Load())
}

// TestCloseFreesCapacity: in a pool with maxConcurrentSessions 1, a second
// session is refused until the first is closed, and the closed session's
// files are gone.
func TestCloseFreesCapacity(t *testing.T) {
	t.Parallel()
	_, c := setupEmulator(t, &sessionstest.Options{Pools: []sessionstest.Pool{{Name: "one", MaxConcurrentSessions: 1}}})
	ctx := t.Context()

	first := c.NewSessionClient(sessions.NewSessionID())
	defer first.Close(ctx)
	_, err := first.UploadFile(ctx, "keep.txt", strings.NewReader("first session's data"), nil)
	require.NoError(t, err)

	second := c.NewSessionClient(sessions.NewSessionID())
	defer second.Close(ctx)
	_, err = second.UploadFile(ctx, "x.txt", strings.NewReader("x"), nil)
	require.Error(t, err, "the pool is full")
	assert.ErrorIs(t, err, sessions.ErrPoolAtCapacity)
	var re *azcore.ResponseError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, http.StatusNotFound, re.StatusCode, "the documented answer at capacity is 404")

	require.NoError(t, first.Close(ctx))
	require.NoError(t, first.Close(ctx), "closing twice is fine")

	_, err = second.UploadFile(ctx, "x.txt", strings.NewReader("x"), nil)
	require.NoError(t, err, "closing the first session freed its place")

	// The first session's files went with it.
	_, err = c.GetSession(ctx, first.ID(), nil)
	assert.ErrorIs(t, err, sessions.ErrSessionNotFound)
	_, err = c.GetFile(ctx, first.ID(), "keep.txt", nil)
	require.Error(t, err)
	assert.True(t, errorsIsAny(err, sessions.ErrFileNotFound, sessions.ErrSessionNotFound), "got %v", err)
}

// TestSessionLifecycleAgainstEmulator: Get, list, and delete through the
// handle and the client.
func TestSessionLifecycleAgainstEmulator(t *testing.T) {
	t.Parallel()
	_, c := setupEmulator(t, nil)
	ctx := t.Context()

	s := c.NewSessionClient(sessions.NewSessionID())
	defer s.Close(ctx)
	_, err := s.UploadFile(ctx, "hello.txt", strings.NewReader("hi"), nil)
	require.NoError(t, err)

	run, err := s.Execute(ctx, sessions.ShellCommand("cat hello.txt"), nil)
	require.NoError(t, err)
	got, err := s.GetExecution(ctx, run.ID, nil)
	require.NoError(t, err, "the handle reads back its own executions")
	assert.Equal(t, "hi", got.Stdout)

	info, err := s.GetSession(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, s.ID(), info.Identifier)
	assert.False(t, info.CreatedAt.IsZero())
	assert.False(t, info.LastAccessedAt.Before(info.CreatedAt))
	assert.True(t, info.ExpireAt.After(info.LastAccessedAt))

	found := false
	for pager := c.NewListSessionsPager(nil); pager.More(); {
		page, err := pager.NextPage(ctx)
		require.NoError(t, err)
		for _, si := range page.Value {
			found = found || si.Identifier == s.ID()
		}
	}
	assert.True(t, found, "the session is listed")

	require.NoError(t, s.Close(ctx))
	_, err = c.DeleteSession(ctx, s.ID(), nil)
	assert.ErrorIs(t, err, sessions.ErrSessionNotFound, "deleting again reports the session gone")
}
