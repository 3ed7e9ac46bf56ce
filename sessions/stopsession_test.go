package sessions_test

import (
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/sessions"
)

func TestStopSessionWireForm(t *testing.T) {
	t.Parallel()
	reqs := make(chan seenRequest, 1)
	w := newFileWire(t, func(rw http.ResponseWriter, r *http.Request) {
		reqs <- seenRequest{r.Method, r.URL.Path, r.URL.Query()}
		rw.Header().Set("Content-Type", "text/plain")
		_, _ = rw.Write([]byte("Session " + r.URL.Query().Get("identifier") + " in session pool pool stopped.\n"))
	})
	resp, err := w.client.StopSession(t.Context(), fileTestSession, nil)
	require.NoError(t, err)
	seen := <-reqs
	assert.Equal(t, http.MethodPost, seen.method)
	assert.Equal(t, fileTestPrefix+"/.management/stopSession", seen.path)
	assert.Equal(t, url.Values{"api-version": {sessions.DefaultAPIVersion}, "identifier": {fileTestSession}}, seen.query)
	assert.Equal(t, "Session "+sessions.RedactSessionID(fileTestSession)+" in session pool pool stopped.", resp.Message)
	assert.NotContains(t, resp.Message, fileTestSession, "the echoed identifier is redacted")
}

func TestStopSessionRefusedInputSendsNothing(t *testing.T) {
	t.Parallel()
	w := newFileWire(t, nil)
	_, err := w.client.StopSession(t.Context(), "a b", nil)
	require.ErrorIs(t, err, sessions.ErrInvalidArgument)
	assert.Zero(t, w.hits.Load())
}

// A pool that does not serve the operation (a shell pool, per the docs)
// must give an error that says so and names the alternative.
func TestStopSessionErrorsAreClear(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		code   string // "" sends no body
		want   error
		advice string
	}{
		{name: "bare 404 (operation not routed)", status: http.StatusNotFound, want: sessions.ErrStopSessionNotSupported, advice: "DeleteSession"},
		{name: "400", status: http.StatusBadRequest, code: "BadRequest", want: sessions.ErrStopSessionNotSupported, advice: "custom-container"},
		{name: "405", status: http.StatusMethodNotAllowed, want: sessions.ErrStopSessionNotSupported, advice: "DeleteSession"},
		{name: "501", status: http.StatusNotImplemented, code: "NotImplemented", want: sessions.ErrStopSessionNotSupported, advice: "DeleteSession"},
		{name: "api-version refused", status: http.StatusBadRequest, code: "InvalidApiVersionParameter", want: sessions.ErrStopSessionNotSupported, advice: "2025-10-02-preview"},
		{name: "unknown session", status: http.StatusNotFound, code: "SessionNotFound", want: sessions.ErrSessionNotFound, advice: "nothing to stop"},
		{name: "forbidden", status: http.StatusForbidden, code: "Forbidden", want: sessions.ErrForbidden, advice: "Session Executor"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newFileWire(t, func(rw http.ResponseWriter, r *http.Request) {
				if tc.code == "" {
					rw.WriteHeader(tc.status)
					return
				}
				writeServiceError(rw, tc.status, tc.code)
			})
			_, err := w.client.StopSession(t.Context(), fileTestSession, nil)
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.want)
			if tc.want != sessions.ErrStopSessionNotSupported {
				assert.NotErrorIs(t, err, sessions.ErrStopSessionNotSupported)
			}
			var se *sessions.ServiceError
			require.True(t, errors.As(err, &se))
			assert.Equal(t, tc.status, se.Response.StatusCode)
			assert.Contains(t, err.Error(), tc.advice)
			assert.NotContains(t, err.Error(), fileTestSession)
		})
	}
}

func TestStopSessionAgainstEmulator(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t, nil)
	sid := sessions.NewSessionID()
	_, err := c.Execute(t.Context(), sid, sessions.ShellCommand("true"), nil)
	require.NoError(t, err)
	require.Equal(t, 1, srv.SessionCount("shellpool"))

	resp, err := c.StopSession(t.Context(), sid, nil)
	require.NoError(t, err)
	assert.Contains(t, resp.Message, "stopped")
	assert.NotContains(t, resp.Message, sid)
	assert.Equal(t, 0, srv.SessionCount("shellpool"), "a stopped session no longer counts against the pool")

	_, err = c.StopSession(t.Context(), sid, nil)
	assert.ErrorIs(t, err, sessions.ErrSessionNotFound)
}
