package sessions_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/sessions"
)

func TestGetSessionWireFormAndSpecExample(t *testing.T) {
	t.Parallel()
	body := specBody(t, "SessionManagement_Get.json")
	reqs := make(chan seenRequest, 1)
	w := setupWire(t, func(rw http.ResponseWriter, r *http.Request) {
		reqs <- seenRequest{r.Method, r.URL.Path, r.URL.Query()}
		writeJSON(rw, http.StatusOK, body)
	})
	resp, err := w.client.GetSession(t.Context(), "testid1", nil)
	require.NoError(t, err)
	seen := <-reqs
	assert.Equal(t, http.MethodGet, seen.method)
	assert.Equal(t, testPrefix+"/session", seen.path)
	assert.Equal(t, url.Values{"api-version": {sessions.DefaultDataPlaneAPIVersion}, "identifier": {"testid1"}}, seen.query)
	assert.Equal(t, sessions.SessionInfo{
		Identifier:     "testid1",
		ExpireAt:       time.Date(2025, 1, 5, 22, 18, 41, 752000000, time.UTC),
		CreatedAt:      time.Date(2025, 1, 21, 3, 38, 5, 232000000, time.UTC),
		LastAccessedAt: time.Date(2025, 1, 21, 3, 38, 5, 232000000, time.UTC),
		ETag:           azcore.ETag("9334cb07-aafd-45a0-90bd-448080a91f57"),
	}, resp.SessionInfo)
	assert.NotContains(t, resp.SessionInfo.String(), "testid1", "String redacts the identifier")
	assert.NotContains(t, fmt.Sprint(resp), "testid1")
}

func TestDeleteSessionWireForm(t *testing.T) {
	t.Parallel()
	reqs := make(chan seenRequest, 1)
	w := setupWire(t, func(rw http.ResponseWriter, r *http.Request) {
		reqs <- seenRequest{r.Method, r.URL.Path, r.URL.Query()}
		rw.WriteHeader(http.StatusNoContent)
	})
	_, err := w.client.DeleteSession(t.Context(), testSessionID, nil)
	require.NoError(t, err)
	seen := <-reqs
	assert.Equal(t, http.MethodDelete, seen.method)
	assert.Equal(t, testPrefix+"/session", seen.path)
	assert.Equal(t, url.Values{"api-version": {sessions.DefaultDataPlaneAPIVersion}, "identifier": {testSessionID}}, seen.query)
}

func TestSessionOperationErrorsAreTyped(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		code   string
		want   error
	}{
		{name: "unknown session", status: http.StatusNotFound, code: "SessionNotFound", want: sessions.ErrSessionNotFound},
		{name: "bare 404 on a session op", status: http.StatusNotFound, want: sessions.ErrSessionNotFound},
		{name: "forbidden", status: http.StatusForbidden, code: "Forbidden", want: sessions.ErrForbidden},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := setupWire(t, func(rw http.ResponseWriter, r *http.Request) {
				if tc.code == "" {
					rw.WriteHeader(tc.status)
					return
				}
				writeServiceError(rw, tc.status, tc.code)
			})
			_, getErr := w.client.GetSession(t.Context(), testSessionID, nil)
			_, delErr := w.client.DeleteSession(t.Context(), testSessionID, nil)
			for _, err := range []error{getErr, delErr} {
				require.Error(t, err)
				assert.ErrorIs(t, err, tc.want)
				var re *azcore.ResponseError
				require.ErrorAs(t, err, &re)
				assert.Equal(t, tc.status, re.StatusCode)
				assert.NotContains(t, err.Error(), testSessionID)
			}
		})
	}
}

func TestSessionOperationsRefuseBadIDs(t *testing.T) {
	t.Parallel()
	w := setupWire(t, nil)
	_, err := w.client.GetSession(t.Context(), "a b", nil)
	assert.ErrorIs(t, err, sessions.ErrInvalidArgument)
	_, err = w.client.DeleteSession(t.Context(), "", nil)
	assert.ErrorIs(t, err, sessions.ErrInvalidArgument)
	_, err = w.client.NewListSessionsPager(&sessions.ListSessionsOptions{Skip: -1}).NextPage(t.Context())
	assert.ErrorIs(t, err, sessions.ErrInvalidArgument)
	assert.Zero(t, w.hits.Load())
}

func TestListSessionsPager(t *testing.T) {
	t.Parallel()
	var log queryLog
	var w *wire
	w = setupWire(t, func(rw http.ResponseWriter, r *http.Request) {
		assert.Equal(t, http.MethodGet, r.Method)
		assert.Equal(t, testPrefix+"/listSessions", r.URL.Path)
		log.add(r)
		if r.URL.Query().Get("skip") == "5" {
			next := w.srv.URL + testPrefix + "/listSessions?skip=6"
			writeJSON(rw, http.StatusOK, []byte(fmt.Sprintf(`{"sessions":[{"identifier":"s-0005","createdAt":"2025-01-21T03:38:05.232Z"}],"nextLink":%q}`, next)))
			return
		}
		writeJSON(rw, http.StatusOK, specBody(t, "ListSessions_Get.json"))
	})
	pager := w.client.NewListSessionsPager(&sessions.ListSessionsOptions{Skip: 5})
	var ids []string
	var links []*string
	for pager.More() {
		page, err := pager.NextPage(t.Context())
		require.NoError(t, err)
		links = append(links, page.NextLink)
		for _, s := range page.Value {
			ids = append(ids, s.Identifier)
		}
	}
	assert.Equal(t, []string{"s-0005", "testid1"}, ids)
	require.Len(t, links, 2)
	require.NotNil(t, links[0])
	assert.Contains(t, *links[0], "skip=6")
	assert.Nil(t, links[1], "NextLink is nil on the last page")
	queries := log.all()
	require.Len(t, queries, 2)
	assert.Equal(t, url.Values{"api-version": {sessions.DefaultDataPlaneAPIVersion}, "skip": {"5"}}, queries[0], "no identifier on listSessions")
	assert.Equal(t, url.Values{"api-version": {sessions.DefaultDataPlaneAPIVersion}, "skip": {"6"}}, queries[1])
}

func TestListSessionsDefaultSendsNoSkip(t *testing.T) {
	t.Parallel()
	reqs := make(chan seenRequest, 1)
	w := setupWire(t, func(rw http.ResponseWriter, r *http.Request) {
		reqs <- seenRequest{r.Method, r.URL.Path, r.URL.Query()}
		writeJSON(rw, http.StatusOK, []byte(`{"sessions":[]}`))
	})
	pager := w.client.NewListSessionsPager(nil)
	page, err := pager.NextPage(t.Context())
	require.NoError(t, err)
	assert.Empty(t, page.Value)
	assert.Nil(t, page.NextLink)
	assert.False(t, pager.More())
	assert.Equal(t, url.Values{"api-version": {sessions.DefaultDataPlaneAPIVersion}}, (<-reqs).query)
}

func TestGetMetadataDecodesSpecExample(t *testing.T) {
	t.Parallel()
	reqs := make(chan seenRequest, 1)
	w := setupWire(t, func(rw http.ResponseWriter, r *http.Request) {
		reqs <- seenRequest{r.Method, r.URL.Path, r.URL.Query()}
		writeJSON(rw, http.StatusOK, specBody(t, "SessionPoolMetadata_Get.json"))
	})
	resp, err := w.client.GetMetadata(t.Context(), nil)
	require.NoError(t, err)
	seen := <-reqs
	assert.Equal(t, testPrefix+"/metadata", seen.path)
	assert.Equal(t, url.Values{"api-version": {sessions.DefaultDataPlaneAPIVersion}}, seen.query)
	ts := time.Date(2025, 1, 5, 22, 18, 41, 495000000, time.UTC)
	assert.Equal(t, sessions.Metadata{
		Runtimes:             []sessions.Runtime{{Name: "node", Version: "20.2.4"}},
		PreInstalledPackages: []sessions.Package{{Name: "axios", Version: "1.21.2"}},
		CreatedAt:            ts,
		LastUpdatedAt:        ts,
		JupyterKernel: &sessions.JupyterKernel{
			Name: "IJavascript", Version: "5.2.1", ProjectURL: "https://github.com/n-riesco/ijavascript",
			Description: "Provides sync and async kernel for javascript code executions",
		},
	}, resp.Metadata)
}

func TestGetMetadataShellPoolHasNoKernel(t *testing.T) {
	t.Parallel()
	_, c := setupEmulator(t, nil)
	resp, err := c.GetMetadata(t.Context(), nil)
	require.NoError(t, err)
	require.NotEmpty(t, resp.Runtimes)
	assert.Equal(t, "bash", resp.Runtimes[0].Name)
	assert.Nil(t, resp.JupyterKernel, "an all-empty kernel object is no kernel")
}

func TestStopSessionWireForm(t *testing.T) {
	t.Parallel()
	reqs := make(chan seenRequest, 1)
	w := setupWire(t, func(rw http.ResponseWriter, r *http.Request) {
		reqs <- seenRequest{r.Method, r.URL.Path, r.URL.Query()}
		rw.Header().Set("Content-Type", "text/plain")
		_, _ = rw.Write([]byte("Session " + r.URL.Query().Get("identifier") + " in session pool pool stopped.\n"))
	})
	resp, err := w.client.StopSession(t.Context(), testSessionID, nil)
	require.NoError(t, err)
	seen := <-reqs
	assert.Equal(t, http.MethodPost, seen.method)
	assert.Equal(t, testPrefix+"/.management/stopSession", seen.path)
	assert.Equal(t, url.Values{"api-version": {sessions.DefaultDataPlaneAPIVersion}, "identifier": {testSessionID}}, seen.query)
	assert.Equal(t, "Session "+sessions.RedactSessionID(testSessionID)+" in session pool pool stopped.", resp.Message)
	assert.NotContains(t, resp.Message, testSessionID, "the echoed identifier is redacted")
}

func TestStopSessionRefusedInputSendsNothing(t *testing.T) {
	t.Parallel()
	w := setupWire(t, nil)
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
			w := setupWire(t, func(rw http.ResponseWriter, r *http.Request) {
				if tc.code == "" {
					rw.WriteHeader(tc.status)
					return
				}
				writeServiceError(rw, tc.status, tc.code)
			})
			_, err := w.client.StopSession(t.Context(), testSessionID, nil)
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.want)
			if tc.want != sessions.ErrStopSessionNotSupported {
				assert.NotErrorIs(t, err, sessions.ErrStopSessionNotSupported)
			}
			var se *sessions.ServiceError
			require.True(t, errors.As(err, &se))
			assert.Equal(t, tc.status, se.Response.StatusCode)
			assert.Contains(t, err.Error(), tc.advice)
			assert.NotContains(t, err.Error(), testSessionID)
		})
	}
}

func TestStopSessionAgainstEmulator(t *testing.T) {
	t.Parallel()
	srv, c := setupEmulator(t, nil)
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
