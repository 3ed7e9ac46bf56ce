package sessionstest

import (
	"bytes"
	"crypto/rand"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFilesLifecycle(t *testing.T) {
	t.Parallel()
	s := setup(t, nil)
	c := newRaw(t, s)
	sid := newSID()

	up := c.upload(sid, "", "notes.txt", []byte("hello files"))
	require.Equal(t, http.StatusOK, up.status, "body: %s", up.body)
	m := up.json(t)
	assert.Equal(t, "notes.txt", m["name"])
	assert.Equal(t, "File", m["type"])
	assert.EqualValues(t, 11, m["sizeInBytes"])
	assert.Equal(t, "text/plain; charset=utf-8", m["contentType"])
	_, err := time.Parse(time.RFC3339, m["lastModifiedAt"].(string))
	assert.NoError(t, err)

	// The uploaded file is visible to commands, in /mnt/data's stand-in.
	assert.Equal(t, "hello files", stdout(c.sh(sid, "cat notes.txt")))

	// Upload into a directory, with a relative and an absolute /mnt/data path.
	require.Equal(t, http.StatusOK, c.upload(sid, "sub/deeper", "a.bin", []byte{1, 2, 3}).status)
	r := c.upload(sid, "/mnt/data/sub", "b.json", []byte(`{}`))
	require.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, "sub", r.json(t)["directory"])

	meta := c.do(http.MethodGet, "/files/notes.txt", sid, nil, nil, nil)
	require.Equal(t, http.StatusOK, meta.status)
	assert.Equal(t, "notes.txt", meta.json(t)["name"])

	dl := c.do(http.MethodGet, "/files/notes.txt/content", sid, nil, nil, nil)
	require.Equal(t, http.StatusOK, dl.status)
	assert.Equal(t, "hello files", string(dl.body))
	assert.Equal(t, "text/plain; charset=utf-8", dl.header.Get("Content-Type"))

	// A name with an encoded slash and one with path= both reach sub/b.json.
	dl = c.do(http.MethodGet, "/files/sub%2Fb.json/content", sid, nil, nil, nil)
	require.Equal(t, http.StatusOK, dl.status, "body: %s", dl.body)
	assert.Equal(t, "{}", string(dl.body))
	dl = c.do(http.MethodGet, "/files/b.json/content", sid, url.Values{"path": {"sub"}}, nil, nil)
	assert.Equal(t, "{}", string(dl.body))

	list := c.do(http.MethodGet, "/files", sid, nil, nil, nil)
	require.Equal(t, http.StatusOK, list.status)
	lm := list.json(t)
	assert.Nil(t, lm["nextLink"])
	assert.Equal(t, []string{"notes.txt:File", "sub:Directory"}, names(lm))

	rec := c.do(http.MethodGet, "/files", sid, url.Values{"recursive": {"true"}}, nil, nil)
	assert.Equal(t, []string{"notes.txt:File", "sub:Directory", "sub/b.json:File", "sub/deeper:Directory", "sub/deeper/a.bin:File"}, names(rec.json(t)))

	del := c.do(http.MethodDelete, "/files/notes.txt", sid, nil, nil, nil)
	assert.Equal(t, http.StatusNoContent, del.status)
	gone := c.do(http.MethodGet, "/files/notes.txt", sid, nil, nil, nil)
	assert.Equal(t, http.StatusNotFound, gone.status)
	assert.Equal(t, "FileNotFound", gone.errorCode(t))
	gone = c.do(http.MethodGet, "/files/notes.txt/content", sid, nil, nil, nil)
	assert.Equal(t, "FileNotFound", gone.errorCode(t))
	gone = c.do(http.MethodDelete, "/files/notes.txt", sid, nil, nil, nil)
	assert.Equal(t, "FileNotFound", gone.errorCode(t))
}

// names returns "directory/name:type" of a file list.
func names(m map[string]any) []string {
	var out []string
	for _, v := range m["value"].([]any) {
		f := v.(map[string]any)
		n := f["name"].(string)
		if d, _ := f["directory"].(string); d != "" {
			n = d + "/" + n
		}
		out = append(out, n+":"+f["type"].(string))
	}
	return out
}

func TestFileListPaging(t *testing.T) {
	t.Parallel()
	s := setup(t, &Options{PageSize: 2})
	c := newRaw(t, s)
	sid := newSID()
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		require.Equal(t, http.StatusOK, c.upload(sid, "", n, []byte(n)).status)
	}
	var got []string
	next := s.PoolEndpoint() + "/files?api-version=" + apiVersion + "&identifier=" + sid
	pages := 0
	for next != "" {
		req, err := http.NewRequest(http.MethodGet, next, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+c.token)
		resp, err := s.Client().Do(req)
		require.NoError(t, err)
		var body struct {
			Value    []struct{ Name string }
			NextLink *string
		}
		require.NoError(t, jsonDecode(resp.Body, &body))
		resp.Body.Close()
		for _, v := range body.Value {
			got = append(got, v.Name)
		}
		next = ""
		if body.NextLink != nil {
			next = *body.NextLink
		}
		pages++
	}
	assert.Equal(t, []string{"a", "b", "c", "d", "e"}, got)
	assert.Equal(t, 3, pages)
}

func TestFilesAreConfinedToTheSession(t *testing.T) {
	t.Parallel()
	s := setup(t, roomy())
	c := newRaw(t, s)
	sid := newSID()
	require.Equal(t, http.StatusOK, c.upload(sid, "", "ok.txt", []byte("x")).status)
	dir, ok := s.SessionDir(DefaultPoolName, sid)
	require.True(t, ok)
	outside := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(outside, "secret.txt"), []byte("secret"), 0o600))
	require.NoError(t, os.Symlink(outside, filepath.Join(dir, "escape")))
	require.NoError(t, os.Symlink(filepath.Join(outside, "secret.txt"), filepath.Join(dir, "link.txt")))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "inner"), 0o755))
	require.NoError(t, os.Symlink("inner", filepath.Join(dir, "inside")))

	cases := []struct {
		name   string
		method string
		op     string
		query  url.Values
	}{
		{"dotdot in name", http.MethodGet, "/files/..%2F..%2Fetc%2Fpasswd/content", nil},
		{"dotdot in path", http.MethodGet, "/files/passwd/content", url.Values{"path": {"../../etc"}}},
		{"absolute path outside /mnt/data", http.MethodGet, "/files", url.Values{"path": {"/etc"}}},
		{"absolute name outside", http.MethodGet, "/files/%2Fetc%2Fpasswd", nil},
		{"NUL in path", http.MethodGet, "/files", url.Values{"path": {"a\x00b"}}},
		{"control char in name", http.MethodDelete, "/files/a%01b", nil},
		{"symlinked dir that escapes", http.MethodGet, "/files/secret.txt/content", url.Values{"path": {"escape"}}},
		{"symlinked file that escapes", http.MethodGet, "/files/link.txt/content", nil},
		{"delete through escaping link", http.MethodDelete, "/files/escape%2Fsecret.txt", nil},
		{"list through escaping link", http.MethodGet, "/files", url.Values{"path": {"escape"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := c.do(tc.method, tc.op, sid, tc.query, nil, nil)
			require.Equal(t, http.StatusBadRequest, r.status, "body: %s", r.body)
			assert.Equal(t, "InvalidPath", r.errorCode(t))
			assert.NotContains(t, string(r.body), "secret\"")
		})
	}
	for _, p := range []string{"../x", "/etc", "escape"} {
		r := c.upload(sid, p, "evil.txt", []byte("evil"))
		assert.Equal(t, http.StatusBadRequest, r.status, "upload with path %q: %s", p, r.body)
	}
	assert.NoFileExists(t, filepath.Join(outside, "evil.txt"))
	assert.FileExists(t, filepath.Join(outside, "secret.txt"))

	// Links that stay inside the session are fine.
	require.Equal(t, http.StatusOK, c.upload(sid, "inside", "in.txt", []byte("in")).status)
	assert.FileExists(t, filepath.Join(dir, "inner", "in.txt"))
}

func TestUploadErrors(t *testing.T) {
	t.Parallel()
	s := setup(t, &Options{MaxUploadBytes: 10, Pools: []Pool{{Name: DefaultPoolName, MaxConcurrentSessions: 100}}})
	c := newRaw(t, s)

	r := c.upload(newSID(), "", "big.bin", make([]byte, 11))
	assert.Equal(t, http.StatusRequestEntityTooLarge, r.status)
	assert.Contains(t, r.errorMessage(t), "10 bytes")
	assert.Equal(t, http.StatusOK, c.upload(newSID(), "", "fits.bin", make([]byte, 10)).status)

	// Not multipart.
	r = c.do(http.MethodPost, "/files", newSID(), nil, bytes.NewReader([]byte("x")), map[string]string{"Content-Type": "text/plain"})
	assert.Equal(t, http.StatusBadRequest, r.status)
	assert.Equal(t, "InvalidRequest", r.errorCode(t))

	// A "file" part without a filename, and no "file" part at all.
	for _, field := range []string{"file", "other"} {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		require.NoError(t, mw.WriteField(field, "content"))
		require.NoError(t, mw.Close())
		r = c.do(http.MethodPost, "/files", newSID(), nil, &buf, map[string]string{"Content-Type": mw.FormDataContentType()})
		assert.Equal(t, http.StatusBadRequest, r.status, field)
		assert.Contains(t, r.errorMessage(t), "file", field)
	}
}

func TestFileOpsOnUnknownSession(t *testing.T) {
	t.Parallel()
	s := setup(t, nil)
	c := newRaw(t, s)
	sid := "abcdefgh-unknown-session"
	r := c.do(http.MethodGet, "/files", sid, nil, nil, nil)
	require.Equal(t, http.StatusOK, r.status)
	assert.Empty(t, r.json(t)["value"])
	r = c.do(http.MethodGet, "/files/x.txt", sid, nil, nil, nil)
	assert.Equal(t, "FileNotFound", r.errorCode(t))
	assert.NotContains(t, string(r.body), sid, "messages never carry a full session identifier")
	assert.Contains(t, string(r.body), "abcd…")
	assert.Equal(t, 0, s.SessionCount(DefaultPoolName), "reads do not allocate sessions")
}

// TestUploadAndDownloadStream moves a 32 MiB file through the emulator and
// checks that the process did not allocate anything near the file's size.
func TestUploadAndDownloadStream(t *testing.T) {
	s := setup(t, nil)
	c := newRaw(t, s)
	sid := newSID()
	const size = 32 << 20
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		fw, err := mw.CreateFormFile("file", "big.bin")
		if err == nil {
			_, err = io.CopyN(fw, rand.Reader, size)
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	peak := sampleHeap(t)
	q := url.Values{"api-version": {apiVersion}, "identifier": {sid}}
	req, err := http.NewRequest(http.MethodPost, s.PoolEndpoint()+"/files?"+q.Encode(), pr)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := s.Client().Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	req, err = http.NewRequest(http.MethodGet, s.PoolEndpoint()+"/files/big.bin/content?"+q.Encode(), nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err = s.Client().Do(req)
	require.NoError(t, err)
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.EqualValues(t, size, n)
	assert.Less(t, peak(), uint64(size/2), "upload and download must stream, not buffer")
}

// sampleHeap samples the live heap every millisecond; the returned function
// stops sampling and reports the peak growth over the start.
func sampleHeap(t *testing.T) func() uint64 {
	t.Helper()
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
				runtime.ReadMemStats(&m)
				if m.HeapAlloc > base && m.HeapAlloc-base > peak {
					peak = m.HeapAlloc - base
				}
			}
		}
	}()
	return func() uint64 {
		close(stop)
		<-done
		return peak
	}
}
