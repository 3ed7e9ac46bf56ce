package sessions

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var execPollFast = &runtime.PollUntilDoneOptions{Frequency: time.Millisecond}

func TestBeginExecuteFollowsOperationLocation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		location string // "" for none
		wantPath string
	}{
		{name: "relative location", location: "/executions/op-1?api-version=" + DefaultDataPlaneAPIVersion + "&identifier=" + testSessionID, wantPath: testPrefix + "/executions/op-1"},
		{name: "relative location with the endpoint path", location: testPrefix + "/executions/op-1?api-version=" + DefaultDataPlaneAPIVersion, wantPath: testPrefix + "/executions/op-1"},
		{name: "no location: GET executions/{id}", wantPath: testPrefix + "/executions/op-1"},
		{name: "placeholder location is ignored", location: "operation-location-uri", wantPath: testPrefix + "/executions/op-1"},
		{name: "location on another host is ignored", location: "https://elsewhere.example/executions/op-1", wantPath: testPrefix + "/executions/op-1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := setupServer(t, func(w http.ResponseWriter, r *http.Request, attempt int) {
				switch attempt {
				case 1:
					var hdr []string
					if tc.location != "" {
						hdr = []string{"Operation-Location", tc.location}
					}
					execReply(w, http.StatusAccepted, `{"id":"op-1","identifier":"s","executionType":"Asynchronous","status":"Running"}`, hdr...)
				case 2:
					execReply(w, http.StatusOK, `{"id":"op-1","status":"Running"}`)
				default:
					execReply(w, http.StatusOK, `{"id":"op-1","identifier":"s","status":"3","result":{"stdout":"done","stderr":"warn","executionTimeInMilliseconds":1500}}`)
				}
			})
			c := setupClient(t, srv.URL+testPrefix, srv, nil)
			poller, err := c.BeginExecute(t.Context(), testSessionID, Command{Shell: "make", OutputLimit: 4}, &BeginExecuteOptions{OperationID: "op-1"})
			require.NoError(t, err)
			assert.False(t, poller.Done())
			resp, err := poller.PollUntilDone(t.Context(), execPollFast)
			require.NoError(t, err, "a non-zero exit is a result")
			require.NotNil(t, resp.ExitCode)
			assert.Equal(t, 3, *resp.ExitCode)
			assert.Equal(t, "done", resp.Stdout)
			assert.Equal(t, "warn", resp.Stderr)
			assert.Equal(t, 1500*time.Millisecond, resp.Duration)
			assert.True(t, resp.Truncated, "the poller keeps the command's output limit")
			assert.Equal(t, "op-1", resp.OperationID)

			reqs := srv.requests()
			require.Len(t, reqs, 3)
			for _, r := range reqs[1:] {
				assert.Equal(t, http.MethodGet, r.Method)
				assert.Equal(t, tc.wantPath, r.Path)
				assert.Equal(t, DefaultDataPlaneAPIVersion, r.Query.Get("api-version"))
				assert.Equal(t, testSessionID, r.Query.Get("identifier"))
				assert.Equal(t, "Bearer fake_token", r.Header.Get("Authorization"))
			}
		})
	}
}

func TestBeginExecuteSynchronousAnswerIsDone(t *testing.T) {
	t.Parallel()
	srv := setupServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		execReply(w, http.StatusOK, execOKBody, "Operation-Location", "/executions/exec-1")
	})
	c := setupClient(t, srv.URL, srv, nil)
	poller, err := c.BeginExecute(t.Context(), testSessionID, ShellCommand("echo hi"), nil)
	require.NoError(t, err)
	assert.True(t, poller.Done())
	resp, err := poller.PollUntilDone(t.Context(), execPollFast)
	require.NoError(t, err)
	assert.Equal(t, "hi\n", resp.Stdout)
	assert.Len(t, srv.requests(), 1, "a terminal first answer needs no polling")
}

func TestBeginExecuteResumeToken(t *testing.T) {
	t.Parallel()
	srv := setupServer(t, func(w http.ResponseWriter, r *http.Request, attempt int) {
		switch attempt {
		case 1:
			execReply(w, http.StatusAccepted, `{"id":"op-9","status":"NotStarted"}`)
		default:
			execReply(w, http.StatusOK, `{"id":"op-9","status":"Succeeded","exitCode":0,"result":{"stdout":"63\n"}}`)
		}
	})
	c := setupClient(t, srv.URL+testPrefix, srv, nil)
	first, err := c.BeginExecute(t.Context(), testSessionID, ShellCommand("true"), nil)
	require.NoError(t, err)
	token, err := first.ResumeToken()
	require.NoError(t, err)

	resumed, err := c.BeginExecute(t.Context(), "", Command{}, &BeginExecuteOptions{ResumeToken: token})
	require.NoError(t, err, "a resumed poller ignores sessionID and cmd")
	resp, err := resumed.PollUntilDone(t.Context(), execPollFast)
	require.NoError(t, err)
	assert.Equal(t, "63\n", resp.Stdout)
	require.NotNil(t, resp.ExitCode)
	assert.Equal(t, 0, *resp.ExitCode)

	reqs := srv.requests()
	require.Len(t, reqs, 2, "resuming posts nothing")
	assert.Equal(t, http.MethodGet, reqs[1].Method)
	assert.Equal(t, testPrefix+"/executions/op-9", reqs[1].Path)
	assert.Equal(t, testSessionID, reqs[1].Query.Get("identifier"))

	_, err = c.BeginExecute(t.Context(), testSessionID, ShellCommand("true"), &BeginExecuteOptions{ResumeToken: "not a token"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ResumeToken")
	assert.ErrorIs(t, err, ErrInvalidArgument, "a garbage token is the caller's input: an *ArgumentError")

	// A token is data: it may not send the bearer token to another host.
	other, err := NewClient("https://other.example"+testPrefix, &fake.TokenCredential{}, nil)
	require.NoError(t, err)
	tampered := strings.ReplaceAll(token, strings.TrimPrefix(srv.URL, "https://"), "evil.example")
	require.NotEqual(t, token, tampered)
	for name, tc := range map[string]struct {
		c     *Client
		token string
	}{"another client's token": {other, token}, "tampered token": {c, tampered}} {
		_, err = tc.c.BeginExecute(t.Context(), "", Command{}, &BeginExecuteOptions{ResumeToken: tc.token})
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), "pool endpoint", name)
		assert.ErrorIs(t, err, ErrInvalidArgument, name)
		assert.NotContains(t, err.Error(), testSessionID, name)
	}
	assert.Len(t, srv.requests(), 2, "a refused token sends nothing")
}

func TestBeginExecutePollErrors(t *testing.T) {
	t.Parallel()
	srv := setupServer(t, func(w http.ResponseWriter, r *http.Request, attempt int) {
		if attempt == 1 {
			execReply(w, http.StatusAccepted, `{"id":"op-2","status":"Running"}`)
			return
		}
		execReply(w, http.StatusNotFound, `{"error":{"code":"ExecutionNotFound","message":"no execution for `+testSessionID+`"}}`)
	})
	c := setupClient(t, srv.URL, srv, nil)
	poller, err := c.BeginExecute(t.Context(), testSessionID, ShellCommand("true"), nil)
	require.NoError(t, err)
	_, err = poller.PollUntilDone(t.Context(), execPollFast)
	require.ErrorIs(t, err, ErrExecutionNotFound)
	assert.NotContains(t, err.Error(), testSessionID)
}

func TestBeginExecuteNothingToPoll(t *testing.T) {
	t.Parallel()
	srv := setupServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		execReply(w, http.StatusAccepted, `{"status":"Running"}`)
	})
	c := setupClient(t, srv.URL, srv, nil)
	_, err := c.BeginExecute(t.Context(), testSessionID, ShellCommand("true"), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Operation-Location")
}

func TestPollURL(t *testing.T) {
	t.Parallel()
	c, err := NewClient("https://host.example"+testPrefix, &fake.TokenCredential{}, nil)
	require.NoError(t, err)
	tests := []struct {
		name, location, id, want string
	}{
		{name: "absolute on the endpoint's host", location: "https://host.example" + testPrefix + "/executions/a?api-version=x&identifier=s2", want: "https://host.example" + testPrefix + "/executions/a?api-version=x&identifier=s2"},
		{name: "relative adds missing query", location: "/executions/a", want: "https://host.example" + testPrefix + "/executions/a?api-version=" + DefaultDataPlaneAPIVersion + "&identifier=sess"},
		{name: "other scheme falls back", location: "http://host.example/executions/a", id: "b", want: "https://host.example" + testPrefix + "/executions/b?api-version=" + DefaultDataPlaneAPIVersion + "&identifier=sess"},
		{name: "scheme-relative falls back", location: "//evil.example/executions/a", id: "b", want: "https://host.example" + testPrefix + "/executions/b?api-version=" + DefaultDataPlaneAPIVersion + "&identifier=sess"},
		{name: "id is escaped", id: "a/b", want: "https://host.example" + testPrefix + "/executions/a%2Fb?api-version=" + DefaultDataPlaneAPIVersion + "&identifier=sess"},
		{name: "nothing", location: "operation-location-uri", want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := c.pollURL(tc.location, tc.id, "sess")
			if tc.want == "" {
				assert.Empty(t, got)
				return
			}
			gu, err := url.Parse(got)
			require.NoError(t, err)
			wu, err := url.Parse(tc.want)
			require.NoError(t, err)
			assert.Equal(t, wu.Scheme+"://"+wu.Host+wu.EscapedPath(), gu.Scheme+"://"+gu.Host+gu.EscapedPath())
			assert.Equal(t, wu.Query(), gu.Query())
		})
	}
}
