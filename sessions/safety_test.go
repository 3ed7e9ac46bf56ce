package sessions_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/sessions"
)

// TestSessionCloseSurvivesExpiredContext: the pattern defer s.Close(ctx)
// deletes the session even when ctx has ended by then, which is when a
// command ran into the caller's deadline.
func TestSessionCloseSurvivesExpiredContext(t *testing.T) {
	t.Parallel()
	var deletes atomic.Int32
	w := setupWire(t, func(rw http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodDelete {
			deletes.Add(1)
			rw.WriteHeader(http.StatusNoContent)
			return
		}
		http.Error(rw, "unexpected", http.StatusTeapot)
	})
	for name, ctx := range map[string]context.Context{
		"cancelled":         cancelledContext(),
		"deadline exceeded": expiredContext(t),
	} {
		s := w.client.NewSessionClient(sessions.NewSessionID())
		require.NoError(t, s.Close(ctx), name)
	}
	assert.Equal(t, int32(2), deletes.Load(), "each Close sent its delete")
	assert.Equal(t, 30*time.Second, sessions.CloseTimeout)
}

func cancelledContext() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

func expiredContext(t *testing.T) context.Context {
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	t.Cleanup(cancel)
	return ctx
}

// TestCancelledCallIsRedacted: a call whose context ends while the request
// is in flight matches ctx.Err() and never shows the identifier. (azcore's
// retry policy itself replaces a transport error with ctx.Err() in this
// case; TestCtxErrKeepsBothErrors covers the client's own wrapping.)
func TestCancelledCallIsRedacted(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	transport := transporterFunc(func(req *http.Request) (*http.Response, error) {
		cancel() // the caller gives up while the request is in flight
		return nil, &url.Error{Op: "Get", URL: req.URL.String(), Err: errors.New("connection reset by peer")}
	})
	c, err := sessions.NewClient("https://eastus.dynamicsessions.io/p", &countingCredential{}, &sessions.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: transport}})
	require.NoError(t, err)
	_, err = c.GetSession(ctx, testSessionID, nil)
	require.Error(t, err)
	assert.ErrorIs(t, err, context.Canceled)
	assert.NotContains(t, err.Error(), testSessionID)
}

type transporterFunc func(*http.Request) (*http.Response, error)

func (f transporterFunc) Do(req *http.Request) (*http.Response, error) { return f(req) }

// countingCredential counts token fetches.
type countingCredential struct{ n atomic.Int32 }

func (c *countingCredential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.n.Add(1)
	return azcore.AccessToken{Token: "fake-token", ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// TestUploadRefusesTypedNilReader: a nil pointer in the io.Reader is
// refused before any request or token fetch (it used to panic).
func TestUploadRefusesTypedNilReader(t *testing.T) {
	t.Parallel()
	w := setupWire(t, nil)
	cred := &countingCredential{}
	c, err := sessions.NewClient(w.srv.URL+testPrefix, cred, &sessions.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: w.srv.Client()}})
	require.NoError(t, err)
	for name, body := range map[string]io.Reader{
		"nil":                nil,
		"nil *bytes.Reader":  (*bytes.Reader)(nil),
		"nil *bytes.Buffer":  (*bytes.Buffer)(nil),
		"nil *io.PipeReader": (*io.PipeReader)(nil),
	} {
		_, err := c.UploadFile(t.Context(), testSessionID, "a.txt", body, nil)
		require.ErrorIs(t, err, sessions.ErrInvalidArgument, name)
		var ae *sessions.ArgumentError
		require.ErrorAs(t, err, &ae, name)
		assert.Equal(t, "body", ae.Name, name)
	}
	assert.Zero(t, w.hits.Load(), "nothing was sent")
	assert.Zero(t, cred.n.Load(), "no token was fetched")
}

// TestNewClientRefusesTypedNilCredential: no request, no token fetch, no
// panic later.
func TestNewClientRefusesTypedNilCredential(t *testing.T) {
	t.Parallel()
	var cred *countingCredential
	c, err := sessions.NewClient("https://eastus.dynamicsessions.io/p", cred, nil)
	assert.Nil(t, c)
	require.ErrorIs(t, err, sessions.ErrInvalidArgument)
}

// TestUploadStreamsAReaderThatCannotSeek: a pipe is uploaded chunked, its
// bytes intact, and a failed attempt is not retried (the stream cannot be
// replayed).
func TestUploadStreamsAReaderThatCannotSeek(t *testing.T) {
	t.Parallel()
	var attempts atomic.Int32
	var got atomic.Value
	fail := atomic.Bool{}
	w := setupWire(t, func(rw http.ResponseWriter, r *http.Request) {
		attempts.Add(1)
		if fail.Load() {
			_, _ = io.Copy(io.Discard, r.Body)
			writeServiceError(rw, http.StatusServiceUnavailable, "Busy")
			return
		}
		_, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil {
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		part, err := multipart.NewReader(r.Body, params["boundary"]).NextPart()
		if err != nil {
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		data, _ := io.ReadAll(part)
		got.Store(fmt.Sprintf("%s|%d|%s", part.FileName(), r.ContentLength, data))
		writeJSON(rw, http.StatusOK, []byte(`{"name":"p.txt","type":"File","sizeInBytes":`+fmt.Sprint(len(data))+`}`))
	})
	payload := bytes.Repeat([]byte("0123456789"), 100_000) // 1 MB
	pr, pw := io.Pipe()
	go func() { _, _ = pw.Write(payload); _ = pw.Close() }()
	var lastSent, lastTotal int64
	resp, err := w.client.UploadFile(t.Context(), testSessionID, "p.txt", pr, &sessions.UploadFileOptions{
		Progress: func(sent, total int64) { lastSent, lastTotal = sent, total },
	})
	require.NoError(t, err)
	assert.Equal(t, int64(len(payload)), resp.SizeInBytes)
	assert.Equal(t, "p.txt|-1|"+string(payload), got.Load(), "sent chunked, bytes intact")
	assert.Equal(t, int64(len(payload)), lastSent)
	assert.Equal(t, int64(-1), lastTotal, "the size of a stream is unknown")

	fail.Store(true)
	attempts.Store(0)
	pr, pw = io.Pipe()
	go func() { _, _ = pw.Write([]byte("x")); _ = pw.Close() }()
	_, err = w.client.UploadFile(t.Context(), testSessionID, "p.txt", pr, nil)
	require.Error(t, err)
	assert.Equal(t, int32(1), attempts.Load(), "a stream is sent once, never retried")

	attempts.Store(0)
	_, err = w.client.UploadFile(t.Context(), testSessionID, "p.txt", bytes.NewReader([]byte("x")), nil)
	require.Error(t, err)
	assert.Equal(t, int32(3), attempts.Load(), "seekable content keeps the retries (MaxRetries 2)")
}

// TestSessionInfoRedactsInEveryForm: %v, %+v, %#v, %s and JSON of a
// SessionInfo (and of the responses holding one) never show the identifier.
func TestSessionInfoRedactsInEveryForm(t *testing.T) {
	t.Parallel()
	info := sessions.SessionInfo{Identifier: testSessionID, CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), ETag: "e"}
	values := map[string]any{
		"SessionInfo":          info,
		"*SessionInfo":         &info,
		"GetSessionResponse":   sessions.GetSessionResponse{SessionInfo: info},
		"ListSessionsResponse": sessions.ListSessionsResponse{Value: []*sessions.SessionInfo{&info, &info}},
	}
	for name, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			out := fmt.Sprintf(verb, v)
			assert.NotContains(t, out, testSessionID, name+" "+verb)
			assert.Contains(t, out, sessions.RedactSessionID(testSessionID), name+" "+verb)
		}
		b, err := json.Marshal(v)
		require.NoError(t, err)
		assert.NotContains(t, string(b), testSessionID, name+" JSON")
		assert.Contains(t, string(b), "2026-01-02T03:04:05Z", name+" JSON keeps the other fields")
	}
	assert.Equal(t, testSessionID, info.Identifier, "the field itself keeps the identifier, to use the session")
}
