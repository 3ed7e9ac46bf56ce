package sessions_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/sessions"
	"github.com/shellpool/shellpool/sessions/sessionstest"
)

// uploadSeen is what the server saw of one upload request.
type uploadSeen struct {
	method, path  string
	query         url.Values
	contentType   string
	contentLength int64
	rawBody       []byte
	partName      string
	partFile      string
	partType      string
	partContent   []byte
	partCount     int
}

// readUpload parses a multipart upload the way a strict server would.
func readUpload(t *testing.T, r *http.Request) uploadSeen {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		t.Errorf("read upload body: %v", err)
	}
	s := uploadSeen{method: r.Method, path: r.URL.EscapedPath(), query: r.URL.Query(), contentType: r.Header.Get("Content-Type"), contentLength: r.ContentLength, rawBody: raw}
	mt, params, err := mime.ParseMediaType(s.contentType)
	if err != nil || mt != "multipart/form-data" {
		t.Errorf("upload Content-Type %q is not multipart/form-data: %v", s.contentType, err)
		return s
	}
	mr := multipart.NewReader(bytes.NewReader(raw), params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Errorf("malformed multipart body: %v", err)
			return s
		}
		s.partCount++
		s.partName = p.FormName()
		s.partFile = p.FileName()
		s.partType = p.Header.Get("Content-Type")
		s.partContent, _ = io.ReadAll(p)
	}
	return s
}

func TestUploadFileWireForm(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		fileName  string
		opts      *sessions.UploadFileOptions
		content   string
		wantPath  string // "" means no path parameter
		wantFile  string
		wantType  string
		wantShape string // response body: "object", "array" or "empty"
	}{
		{name: "plain name, nil options", fileName: "report.csv", content: "a,b\n1,2\n", wantFile: "report.csv", wantType: "application/octet-stream", wantShape: "object"},
		{name: "dir in name is split into path", fileName: "out/deep/report.csv", content: "x", wantPath: "out/deep", wantFile: "report.csv", wantType: "application/octet-stream", wantShape: "object"},
		{name: "path option plus dir in name", fileName: "sub/r.txt", opts: &sessions.UploadFileOptions{Path: "work/"}, content: "hello", wantPath: "work/sub", wantFile: "r.txt", wantType: "application/octet-stream", wantShape: "array"},
		{name: "absolute under /mnt/data is relative", fileName: "/mnt/data/a/b.txt", content: "b", wantPath: "a", wantFile: "b.txt", wantType: "application/octet-stream", wantShape: "object"},
		{name: "path option /mnt/data is the root", fileName: "root.txt", opts: &sessions.UploadFileOptions{Path: "/mnt/data"}, content: "r", wantFile: "root.txt", wantType: "application/octet-stream", wantShape: "empty"},
		{name: "content type and unusual characters", fileName: `we "ird" name #1.yaml`, opts: &sessions.UploadFileOptions{ContentType: "application/yaml"}, content: "k: v\n", wantFile: `we "ird" name #1.yaml`, wantType: "application/yaml", wantShape: "array"},
		{name: "empty file", fileName: "empty.bin", content: "", wantFile: "empty.bin", wantType: "application/octet-stream", wantShape: "object"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			seen := make(chan uploadSeen, 1)
			w := setupWire(t, func(rw http.ResponseWriter, r *http.Request) {
				s := readUpload(t, r)
				seen <- s
				meta := fmt.Sprintf(`{"name":%q,"type":"File","contentType":%q,"sizeInBytes":%d,"lastModifiedAt":"2024-05-29T02:17:25.902Z"}`, s.partFile, s.partType, len(s.partContent))
				switch tc.wantShape {
				case "object":
					writeJSON(rw, http.StatusOK, []byte(meta))
				case "array":
					writeJSON(rw, http.StatusOK, []byte("["+meta+"]"))
				default:
					rw.WriteHeader(http.StatusOK)
				}
			})
			resp, err := w.client.UploadFile(t.Context(), testSessionID, tc.fileName, strings.NewReader(tc.content), tc.opts)
			require.NoError(t, err)
			s := <-seen

			assert.Equal(t, http.MethodPost, s.method)
			assert.Equal(t, testPrefix+"/files", s.path)
			wantQuery := url.Values{"api-version": {sessions.DefaultDataPlaneAPIVersion}, "identifier": {testSessionID}}
			if tc.wantPath != "" {
				wantQuery.Set("path", tc.wantPath)
			}
			assert.Equal(t, wantQuery, s.query)
			assert.Equal(t, int64(len(s.rawBody)), s.contentLength, "Content-Length must be the exact envelope size")
			assert.Equal(t, 1, s.partCount, "exactly one part")
			assert.Equal(t, "file", s.partName)
			assert.Equal(t, tc.wantFile, s.partFile)
			assert.Equal(t, tc.wantType, s.partType)
			assert.Equal(t, tc.content, string(s.partContent))
			_, params, _ := mime.ParseMediaType(s.contentType)
			assert.True(t, bytes.HasPrefix(s.rawBody, []byte("--"+params["boundary"]+"\r\n")), "body starts with the boundary")
			assert.True(t, bytes.HasSuffix(s.rawBody, []byte("\r\n--"+params["boundary"]+"--\r\n")), "body ends with the closing boundary")

			if tc.wantShape == "empty" {
				assert.Equal(t, sessions.File{}, resp.File)
				return
			}
			assert.Equal(t, tc.wantFile, resp.Name)
			assert.Equal(t, int64(len(tc.content)), resp.SizeInBytes)
			assert.False(t, resp.IsDir())
			assert.Equal(t, time.Date(2024, 5, 29, 2, 17, 25, 902000000, time.UTC), resp.LastModifiedAt)
		})
	}
}

func TestUploadFileDecodesSpecExample(t *testing.T) {
	t.Parallel()
	body := specBody(t, "SessionResourceFiles_Upload.json")
	w := setupWire(t, func(rw http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		writeJSON(rw, http.StatusOK, body)
	})
	resp, err := w.client.UploadFile(t.Context(), testSessionID, "testfile.yaml", strings.NewReader("1010"), nil)
	require.NoError(t, err)
	assert.Equal(t, specExampleFile, resp.File)
}

// TestUploadFileRewindsOnRetry: the streamed envelope is rewound by azcore's
// retry policy, so the second attempt carries the same bytes.
func TestUploadFileRewindsOnRetry(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var bodies [][]byte
	w := setupWire(t, func(rw http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, raw)
		n := len(bodies)
		mu.Unlock()
		if n == 1 {
			writeServiceError(rw, http.StatusServiceUnavailable, "Busy")
			return
		}
		writeJSON(rw, http.StatusOK, []byte(`{"name":"data.bin","type":"file","sizeInBytes":100000}`))
	})
	content := bytes.Repeat([]byte("0123456789"), 10000)
	var lastSent, lastTotal, calls atomic.Int64
	resp, err := w.client.UploadFile(t.Context(), testSessionID, "data.bin", bytes.NewReader(content), &sessions.UploadFileOptions{
		Progress: func(sent, total int64) { calls.Add(1); lastSent.Store(sent); lastTotal.Store(total) },
	})
	require.NoError(t, err)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, bodies, 2, "one failed attempt, one retry")
	assert.Equal(t, bodies[0], bodies[1], "the retry must send the same envelope")
	assert.True(t, bytes.Contains(bodies[1], content))
	assert.Equal(t, int64(len(content)), lastSent.Load(), "progress ends at the size")
	assert.Equal(t, int64(len(content)), lastTotal.Load())
	assert.Greater(t, calls.Load(), int64(1), "progress is reported as the body streams")
	assert.Equal(t, int64(len(content)), resp.SizeInBytes)
	assert.True(t, resp.Type == "file" && !resp.IsDir())
}

// shrinkingReader claims a size when measured, then yields fewer bytes.
type shrinkingReader struct {
	*strings.Reader
	claimed int64
}

func (s *shrinkingReader) Seek(off int64, whence int) (int64, error) {
	if whence == io.SeekEnd {
		return s.claimed, nil
	}
	return s.Reader.Seek(off, whence)
}

func TestUploadFileBodyShorterThanMeasuredFails(t *testing.T) {
	t.Parallel()
	w := setupWire(t, func(rw http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		writeJSON(rw, http.StatusOK, []byte(`{}`))
	})
	_, err := w.client.UploadFile(t.Context(), testSessionID, "a.txt", &shrinkingReader{Reader: strings.NewReader("abc"), claimed: 10}, nil)
	require.Error(t, err)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.NotContains(t, err.Error(), testSessionID, "errors never show the whole session id")
}

func TestFileOperationsRefuseBadSessionID(t *testing.T) {
	t.Parallel()
	w := setupWire(t, nil)
	ctx := t.Context()
	for _, id := range []string{"", "abc", "has space in it", strings.Repeat("x", 129)} {
		_, err := w.client.UploadFile(ctx, id, "a.txt", strings.NewReader("x"), nil)
		assert.ErrorIs(t, err, sessions.ErrInvalidArgument)
		_, err = w.client.DownloadFile(ctx, id, "a.txt", nil)
		assert.ErrorIs(t, err, sessions.ErrInvalidArgument)
		_, err = w.client.GetFile(ctx, id, "a.txt", nil)
		assert.ErrorIs(t, err, sessions.ErrInvalidArgument)
		_, err = w.client.DeleteFile(ctx, id, "a.txt", nil)
		assert.ErrorIs(t, err, sessions.ErrInvalidArgument)
		_, err = w.client.NewListFilesPager(id, nil).NextPage(ctx)
		assert.ErrorIs(t, err, sessions.ErrInvalidArgument)
	}
	_, err := w.client.UploadFile(ctx, testSessionID, "a.txt", nil, nil)
	assert.ErrorIs(t, err, sessions.ErrInvalidArgument, "nil body")
	_, err = w.client.DownloadFileTo(ctx, testSessionID, "a.txt", nil, nil)
	assert.ErrorIs(t, err, sessions.ErrInvalidArgument, "nil writer")
	_, err = w.client.DownloadFileToPath(ctx, testSessionID, "a.txt", "", nil)
	assert.ErrorIs(t, err, sessions.ErrInvalidArgument, "empty local path")
	_, err = w.client.UploadFile(ctx, testSessionID, "a.txt", strings.NewReader("x"), &sessions.UploadFileOptions{ContentType: "text/plain\r\nX-Injected: 1"})
	assert.ErrorIs(t, err, sessions.ErrInvalidArgument, "header injection through the part's content type")
	assert.Zero(t, w.hits.Load())
}

// TestFileRequestsWireForm checks method, escaped path and query of the
// per-file operations.
func TestFileRequestsWireForm(t *testing.T) {
	t.Parallel()
	type call func(c *sessions.Client, ctx context.Context) error
	tests := []struct {
		name       string
		call       call
		wantMethod string
		wantPath   string
		wantDir    string
	}{
		{
			name: "download with dir in name",
			call: func(c *sessions.Client, ctx context.Context) error {
				r, err := c.DownloadFile(ctx, testSessionID, "out/a b#c?d%e.txt", nil)
				if err == nil {
					r.Body.Close()
				}
				return err
			},
			wantMethod: http.MethodGet, wantPath: "/files/a%20b%23c%3Fd%25e.txt/content", wantDir: "out",
		},
		{
			name: "get metadata, unicode name",
			call: func(c *sessions.Client, ctx context.Context) error {
				_, err := c.GetFile(ctx, testSessionID, "données/報告.txt", &sessions.GetFileOptions{Path: "/mnt/data/x"})
				return err
			},
			wantMethod: http.MethodGet, wantPath: "/files/" + url.PathEscape("報告.txt"), wantDir: "x/données",
		},
		{
			name: "delete at the root",
			call: func(c *sessions.Client, ctx context.Context) error {
				_, err := c.DeleteFile(ctx, testSessionID, "old.log", nil)
				return err
			},
			wantMethod: http.MethodDelete, wantPath: "/files/old.log",
		},
		{
			name: "download to writer with path option",
			call: func(c *sessions.Client, ctx context.Context) error {
				_, err := c.DownloadFileTo(ctx, testSessionID, "r.csv", io.Discard, &sessions.DownloadFileToOptions{Path: "results"})
				return err
			},
			wantMethod: http.MethodGet, wantPath: "/files/r.csv/content", wantDir: "results",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			type seen struct {
				method, path string
				query        url.Values
			}
			ch := make(chan seen, 1)
			w := setupWire(t, func(rw http.ResponseWriter, r *http.Request) {
				ch <- seen{r.Method, r.URL.EscapedPath(), r.URL.Query()}
				switch r.Method {
				case http.MethodDelete:
					rw.WriteHeader(http.StatusNoContent)
				default:
					if strings.HasSuffix(r.URL.Path, "/content") {
						_, _ = io.WriteString(rw, "content")
						return
					}
					writeJSON(rw, http.StatusOK, []byte(`{"name":"x","type":"File"}`))
				}
			})
			require.NoError(t, tc.call(w.client, t.Context()))
			s := <-ch
			assert.Equal(t, tc.wantMethod, s.method)
			assert.Equal(t, testPrefix+tc.wantPath, s.path)
			want := url.Values{"api-version": {sessions.DefaultDataPlaneAPIVersion}, "identifier": {testSessionID}}
			if tc.wantDir != "" {
				want.Set("path", tc.wantDir)
			}
			assert.Equal(t, want, s.query)
		})
	}
}

// TestDownloadFileStreams: DownloadFile returns while the server is still
// sending, so the body is not buffered by the pipeline.
func TestDownloadFileStreams(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	w := setupWire(t, func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/plain")
		rw.Header().Set("Content-Length", "10")
		_, _ = io.WriteString(rw, "first")
		rw.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		_, _ = io.WriteString(rw, "-rest")
	})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	resp, err := w.client.DownloadFile(ctx, testSessionID, "a.txt", nil)
	require.NoError(t, err, "DownloadFile must return before the body is complete")
	defer resp.Body.Close()
	assert.Equal(t, int64(10), resp.ContentLength)
	assert.Equal(t, "text/plain", resp.ContentType)
	first := make([]byte, 5)
	_, err = io.ReadFull(resp.Body, first)
	require.NoError(t, err)
	assert.Equal(t, "first", string(first))
	close(release)
	rest, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, "-rest", string(rest))
}

func TestDownloadFileToReportsProgress(t *testing.T) {
	t.Parallel()
	content := bytes.Repeat([]byte("abcdefgh"), 64<<10) // 512 KiB
	w := setupWire(t, func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "application/octet-stream")
		http.ServeContent(rw, r, "", time.Time{}, bytes.NewReader(content))
	})
	var buf bytes.Buffer
	var prev int64
	var monotonic = true
	var last, total int64
	resp, err := w.client.DownloadFileTo(t.Context(), testSessionID, "big.bin", &buf, &sessions.DownloadFileToOptions{
		Progress: func(received, tot int64) {
			if received < prev {
				monotonic = false
			}
			prev, last, total = received, received, tot
		},
	})
	require.NoError(t, err)
	assert.Equal(t, content, buf.Bytes())
	assert.Equal(t, int64(len(content)), resp.BytesWritten)
	assert.Equal(t, "application/octet-stream", resp.ContentType)
	assert.True(t, monotonic)
	assert.Equal(t, int64(len(content)), last)
	assert.Equal(t, int64(len(content)), total)
}

func TestDownloadFileToDetectsTruncation(t *testing.T) {
	t.Parallel()
	w := setupWire(t, func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Length", "100")
		_, _ = io.WriteString(rw, "only part of it")
		// Returning closes the connection short of Content-Length.
	})
	var buf bytes.Buffer
	_, err := w.client.DownloadFileTo(t.Context(), testSessionID, "a.txt", &buf, nil)
	require.Error(t, err)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.NotContains(t, err.Error(), testSessionID)
}

func TestDownloadFileToPath(t *testing.T) {
	t.Parallel()
	w := setupWire(t, func(rw http.ResponseWriter, r *http.Request) {
		switch path.Base(r.URL.Path[:len(r.URL.Path)-len("/content")]) {
		case "good.txt":
			_, _ = io.WriteString(rw, "new content")
		case "cut.txt":
			rw.Header().Set("Content-Length", "100")
			_, _ = io.WriteString(rw, "partial")
		default:
			writeServiceError(rw, http.StatusNotFound, "FileNotFound")
		}
	})
	ctx := t.Context()

	t.Run("writes the file and leaves nothing else", func(t *testing.T) {
		dir := t.TempDir()
		dst := filepath.Join(dir, "good.txt")
		resp, err := w.client.DownloadFileToPath(ctx, testSessionID, "good.txt", dst, nil)
		require.NoError(t, err)
		assert.Equal(t, int64(len("new content")), resp.BytesWritten)
		got, err := os.ReadFile(dst)
		require.NoError(t, err)
		assert.Equal(t, "new content", string(got))
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		assert.Len(t, entries, 1, "no temporary file is left behind")
	})
	for _, name := range []string{"missing.txt", "cut.txt"} {
		t.Run("failure keeps the old file: "+name, func(t *testing.T) {
			dir := t.TempDir()
			dst := filepath.Join(dir, "target.txt")
			require.NoError(t, os.WriteFile(dst, []byte("old"), 0o600))
			_, err := w.client.DownloadFileToPath(ctx, testSessionID, name, dst, nil)
			require.Error(t, err)
			if name == "missing.txt" {
				assert.ErrorIs(t, err, sessions.ErrFileNotFound)
			}
			got, err := os.ReadFile(dst)
			require.NoError(t, err)
			assert.Equal(t, "old", string(got), "a failed download must not touch the destination")
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			assert.Len(t, entries, 1, "no temporary file is left behind")
		})
	}
}

func TestGetFileDecodesSpecExample(t *testing.T) {
	t.Parallel()
	body := specBody(t, "SessionResourceFiles_Get.json")
	w := setupWire(t, func(rw http.ResponseWriter, r *http.Request) { writeJSON(rw, http.StatusOK, body) })
	resp, err := w.client.GetFile(t.Context(), testSessionID, "testfile", nil)
	require.NoError(t, err)
	assert.Equal(t, specExampleFile, resp.File)
}

func TestFileErrorsAreTyped(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		status     int
		code       string
		want       error
		wantAdvice string // what the message tells the user to do
	}{
		{name: "file not found", status: http.StatusNotFound, code: "FileNotFound", want: sessions.ErrFileNotFound, wantAdvice: "NewListFilesPager"},
		{name: "bare 404 on a file op", status: http.StatusNotFound, code: "", want: sessions.ErrFileNotFound, wantAdvice: "NewListFilesPager"},
		{name: "session not found", status: http.StatusNotFound, code: "SessionNotFound", want: sessions.ErrSessionNotFound, wantAdvice: "new, empty session"},
		{name: "pool at capacity", status: http.StatusNotFound, code: "MaxConcurrentSessionsReached", want: sessions.ErrPoolAtCapacity, wantAdvice: "maxConcurrentSessions"},
		{name: "too large", status: http.StatusRequestEntityTooLarge, code: "FileTooLarge"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := setupWire(t, func(rw http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				if tc.code == "" {
					rw.WriteHeader(tc.status)
					return
				}
				// Echo the identifier in the message, as some services do.
				rw.Header().Set("x-ms-error-code", tc.code)
				writeJSON(rw, tc.status, []byte(fmt.Sprintf(`{"error":{"code":%q,"message":"session %s: %s"}}`, tc.code, r.URL.Query().Get("identifier"), tc.code)))
			})
			ctx := t.Context()
			dl, dlErr := w.client.DownloadFile(ctx, testSessionID, "a.txt", nil)
			if dlErr == nil {
				dl.Body.Close()
			}
			_, upErr := w.client.UploadFile(ctx, testSessionID, "a.txt", strings.NewReader("x"), nil)
			_, getErr := w.client.GetFile(ctx, testSessionID, "a.txt", nil)
			_, delErr := w.client.DeleteFile(ctx, testSessionID, "a.txt", nil)
			_, listErr := w.client.NewListFilesPager(testSessionID, nil).NextPage(ctx)
			for i, err := range []error{dlErr, upErr, getErr, delErr, listErr} {
				require.Error(t, err, i)
				if tc.want != nil {
					assert.ErrorIs(t, err, tc.want, i)
				}
				var re *azcore.ResponseError
				require.ErrorAs(t, err, &re, i)
				assert.Equal(t, tc.status, re.StatusCode, i)
				assert.Equal(t, tc.code, re.ErrorCode, i)
				assert.NotContains(t, err.Error(), testSessionID, "errors never show the whole session id")
				if tc.want != nil {
					assert.Contains(t, err.Error(), fmt.Sprintf("HTTP %d", tc.status), i)
					assert.Contains(t, err.Error(), tc.wantAdvice, i)
				}
			}
		})
	}
}

func TestTransportErrorsRedactSessionID(t *testing.T) {
	t.Parallel()
	w := setupWire(t, nil)
	w.srv.Close() // every request now fails to connect
	ctx := t.Context()
	_, err := w.client.UploadFile(ctx, testSessionID, "a.txt", strings.NewReader("x"), nil)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), testSessionID)
	assert.Contains(t, err.Error(), sessions.RedactSessionID(testSessionID))
	_, err = w.client.GetFile(ctx, testSessionID, "a.txt", nil)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), testSessionID)
	_, err = w.client.NewListFilesPager(testSessionID, nil).NextPage(ctx)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), testSessionID)
}

func TestListFilesPager(t *testing.T) {
	t.Parallel()
	var log queryLog
	var w *wire
	w = setupWire(t, func(rw http.ResponseWriter, r *http.Request) {
		assert.Equal(t, http.MethodGet, r.Method)
		assert.Equal(t, testPrefix+"/files", r.URL.Path)
		log.add(r)
		switch r.URL.Query().Get("page") {
		case "":
			next := w.srv.URL + testPrefix + "/files?page=2&identifier=" + url.QueryEscape(testSessionID)
			writeJSON(rw, http.StatusOK, []byte(fmt.Sprintf(`{"value":[
				{"name":"a.txt","type":"File","sizeInBytes":3,"lastModifiedAt":"2025-01-02T03:04:05Z"},
				{"name":"sub","type":"directory","lastModifiedAt":"2025-01-02T03:04:05Z"}],"nextLink":%q}`, next)))
		case "2":
			// A relative nextLink, without api-version or identifier.
			writeJSON(rw, http.StatusOK, []byte(`{"value":[{"name":"b.txt","type":"file","sizeInBytes":1,"directory":"sub","lastModifiedAt":"2025-01-02T03:04:05"}],"nextLink":"files?page=3"}`))
		case "3":
			writeJSON(rw, http.StatusOK, []byte(`[{"name":"c.txt","type":"File","sizeInBytes":2}]`))
		}
	})
	pager := w.client.NewListFilesPager(testSessionID, &sessions.ListFilesOptions{Path: "sub", Recursive: true})
	var names []string
	var dirs []bool
	var links []*string
	for pager.More() {
		page, err := pager.NextPage(t.Context())
		require.NoError(t, err)
		links = append(links, page.NextLink)
		for _, f := range page.Value {
			names = append(names, f.Directory+"|"+f.Name)
			dirs = append(dirs, f.IsDir())
		}
	}
	require.Len(t, links, 3)
	require.NotNil(t, links[0])
	assert.Contains(t, *links[0], "page=2")
	assert.NotContains(t, *links[0], testSessionID, "a returned page holds no session identifier")
	assert.NotContains(t, *links[0], url.QueryEscape(testSessionID))
	require.NotNil(t, links[1])
	assert.Equal(t, "files?page=3", *links[1])
	assert.Nil(t, links[2], "NextLink is nil on the last page")
	assert.Equal(t, []string{"|a.txt", "|sub", "sub|b.txt", "|c.txt"}, names)
	assert.Equal(t, []bool{false, true, false, false}, dirs)
	queries := log.all()
	require.Len(t, queries, 3)
	assert.Equal(t, url.Values{"api-version": {sessions.DefaultDataPlaneAPIVersion}, "identifier": {testSessionID}, "path": {"sub"}, "recursive": {"true"}}, queries[0])
	assert.Equal(t, url.Values{"api-version": {sessions.DefaultDataPlaneAPIVersion}, "identifier": {testSessionID}, "page": {"2"}}, queries[1])
	assert.Equal(t, url.Values{"api-version": {sessions.DefaultDataPlaneAPIVersion}, "identifier": {testSessionID}, "page": {"3"}}, queries[2])
}

func TestListFilesShapesAndDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		body      []byte
		wantNames []string
	}{
		{name: "spec example with value wrapper", body: specBody(t, "SessionResourceFiles_List.json"), wantNames: []string{"testfile.yaml", "test-directory"}},
		{name: "bare array", body: []byte(`[{"name":"x","type":"File"},{"name":"y","type":"Directory"}]`), wantNames: []string{"x", "y"}},
		{name: "empty list", body: []byte(`{"value":[]}`), wantNames: []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reqs := make(chan url.Values, 1)
			w := setupWire(t, func(rw http.ResponseWriter, r *http.Request) {
				reqs <- r.URL.Query()
				writeJSON(rw, http.StatusOK, tc.body)
			})
			pager := w.client.NewListFilesPager(testSessionID, nil)
			page, err := pager.NextPage(t.Context())
			require.NoError(t, err)
			assert.False(t, pager.More())
			names := []string{}
			for _, f := range page.Value {
				names = append(names, f.Name)
			}
			assert.Equal(t, tc.wantNames, names)
			assert.Equal(t, url.Values{"api-version": {sessions.DefaultDataPlaneAPIVersion}, "identifier": {testSessionID}}, <-reqs, "no path and no recursive by default")
		})
	}
}

func TestListFilesRefusesForeignNextLink(t *testing.T) {
	t.Parallel()
	var foreignHits atomic.Int32
	foreign := httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { foreignHits.Add(1) }))
	defer foreign.Close()
	w := setupWire(t, func(rw http.ResponseWriter, r *http.Request) {
		writeJSON(rw, http.StatusOK, []byte(fmt.Sprintf(`{"value":[],"nextLink":%q}`, foreign.URL+"/files?page=2")))
	})
	pager := w.client.NewListFilesPager(testSessionID, nil)
	_, err := pager.NextPage(t.Context())
	require.NoError(t, err)
	require.True(t, pager.More())
	_, err = pager.NextPage(t.Context())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "another host")
	assert.Zero(t, foreignHits.Load(), "credentials must never be sent to another host")
}

func TestFileTypeIsDir(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		typ  sessions.FileType
		want bool
	}{{"Directory", true}, {"directory", true}, {"DIRECTORY", true}, {"File", false}, {"file", false}, {"", false}} {
		assert.Equal(t, tc.want, tc.typ.IsDir(), string(tc.typ))
	}
	assert.ElementsMatch(t, []sessions.FileType{sessions.FileTypeFile, sessions.FileTypeDirectory}, sessions.PossibleFileTypeValues())
}

// sha256Of hashes a reader in a streaming way.
func sha256Of(t testing.TB, r io.Reader) [32]byte {
	t.Helper()
	h := sha256.New()
	_, err := io.Copy(h, r)
	require.NoError(t, err)
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum
}

// patternReader is a deterministic, seekable stream of size bytes that is
// computed on the fly, never held in memory.
type patternReader struct {
	size, pos int64
}

func patternByte(i int64) byte { return byte((uint64(i) * 2654435761) >> 11) }

func (p *patternReader) Read(b []byte) (int, error) {
	if p.pos >= p.size {
		return 0, io.EOF
	}
	if rest := p.size - p.pos; int64(len(b)) > rest {
		b = b[:rest]
	}
	for i := range b {
		b[i] = patternByte(p.pos + int64(i))
	}
	p.pos += int64(len(b))
	return len(b), nil
}

func (p *patternReader) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		off += p.pos
	case io.SeekEnd:
		off += p.size
	}
	if off < 0 {
		return 0, errors.New("negative position")
	}
	p.pos = off
	return off, nil
}

// heapPeak samples the heap in use until stop is called and returns the
// highest value seen.
func heapPeak() (stop func() uint64) {
	var peak atomic.Uint64
	done := make(chan struct{})
	finished := make(chan struct{})
	sample := func() {
		var ms goruntime.MemStats
		goruntime.ReadMemStats(&ms)
		if ms.HeapInuse > peak.Load() {
			peak.Store(ms.HeapInuse)
		}
	}
	go func() {
		defer close(finished)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			sample()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-finished
		sample()
		return peak.Load()
	}
}

// TestUploadDownloadRoundTrip uploads to the emulator and downloads back,
// byte-exact, for an empty file, a 1-byte file, a file in a subdirectory
// and (unless -short) a 256 MiB file that is generated on the fly and never
// held in memory, with the heap growth bounded.
func TestUploadDownloadRoundTrip(t *testing.T) {
	// 256 MiB, or 64 MiB under the race detector (still twice the heap cap,
	// so a buffered transfer would fail either way).
	large := int64(256 << 20)
	if raceEnabled {
		large = 64 << 20
	}
	_, c := setupEmulator(t, &sessionstest.Options{MaxUploadBytes: large + (1 << 20)})
	tests := []struct {
		name   string
		file   string
		size   int64
		memCap uint64 // maximum heap growth during the transfer; 0 = unchecked
	}{
		{name: "empty file", file: "empty.bin", size: 0},
		{name: "one byte", file: "one.bin", size: 1},
		{name: "subdirectory and odd characters", file: "out/a b#1 (x).txt", size: 70_000},
		{name: "large file streamed", file: "large.bin", size: large, memCap: 32 << 20},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.size >= large && testing.Short() {
				t.Skip("moves hundreds of MiB; skipped with -short")
			}
			ctx := t.Context()
			s := c.NewSessionClient(sessions.NewSessionID())
			defer s.Close(ctx)

			want := sha256Of(t, &patternReader{size: tc.size})
			goruntime.GC()
			var before goruntime.MemStats
			goruntime.ReadMemStats(&before)
			stop := heapPeak()

			up, err := s.UploadFile(ctx, tc.file, &patternReader{size: tc.size}, nil)
			require.NoError(t, err)
			assert.Equal(t, path.Base(tc.file), up.Name)
			assert.Equal(t, tc.size, up.SizeInBytes)

			h := sha256.New()
			down, err := s.DownloadFileTo(ctx, tc.file, h, nil)
			require.NoError(t, err)
			peak := stop()
			var after goruntime.MemStats
			goruntime.ReadMemStats(&after)

			assert.Equal(t, tc.size, down.BytesWritten)
			var got [32]byte
			copy(got[:], h.Sum(nil))
			assert.Equal(t, want, got, "downloaded bytes equal uploaded bytes")

			meta, err := s.GetFile(ctx, tc.file, nil)
			require.NoError(t, err)
			assert.Equal(t, tc.size, meta.SizeInBytes)
			if tc.memCap > 0 {
				growth := int64(peak) - int64(before.HeapInuse)
				t.Logf("heap in use: %d MiB before, %d MiB peak; %d MiB allocated in total while moving %d MiB each way",
					before.HeapInuse>>20, peak>>20, (after.TotalAlloc-before.TotalAlloc)>>20, tc.size>>20)
				assert.Less(t, growth, int64(tc.memCap), "the heap must stay flat whatever the file size")
			}
		})
	}
}

// TestListAndDeleteAgainstEmulator: listing pages through nextLink, lists
// one directory or the whole tree, and delete removes a file.
func TestListAndDeleteAgainstEmulator(t *testing.T) {
	t.Parallel()
	_, c := setupEmulator(t, &sessionstest.Options{PageSize: 2})
	ctx := t.Context()
	s := c.NewSessionClient(sessions.NewSessionID())
	defer s.Close(ctx)
	for _, name := range []string{"a.txt", "b.txt", "c.txt", "sub/d.txt", "sub/deeper/e.txt"} {
		_, err := s.UploadFile(ctx, name, strings.NewReader(name), nil)
		require.NoError(t, err, name)
	}
	list := func(opts *sessions.ListFilesOptions) (entries []string, pages int) {
		t.Helper()
		for pager := s.NewListFilesPager(opts); pager.More(); {
			page, err := pager.NextPage(ctx)
			require.NoError(t, err)
			pages++
			for _, f := range page.Value {
				e := path.Join(f.Directory, f.Name)
				if f.IsDir() {
					e += "/"
				}
				entries = append(entries, e)
			}
		}
		return entries, pages
	}

	top, pages := list(nil)
	assert.ElementsMatch(t, []string{"a.txt", "b.txt", "c.txt", "sub/"}, top)
	assert.Equal(t, 2, pages, "four entries in pages of two")

	sub, _ := list(&sessions.ListFilesOptions{Path: "sub"})
	assert.ElementsMatch(t, []string{"d.txt", "deeper/"}, sub)

	all, pages := list(&sessions.ListFilesOptions{Recursive: true})
	assert.Subset(t, all, []string{"a.txt", "b.txt", "c.txt", "sub/d.txt", "sub/deeper/e.txt"})
	assert.GreaterOrEqual(t, pages, 3)

	_, err := s.DeleteFile(ctx, "sub/d.txt", nil)
	require.NoError(t, err)
	_, err = s.GetFile(ctx, "sub/d.txt", nil)
	assert.ErrorIs(t, err, sessions.ErrFileNotFound)
	_, err = s.DeleteFile(ctx, "sub/d.txt", nil)
	assert.ErrorIs(t, err, sessions.ErrFileNotFound, "deleting twice reports the file gone")
	sub, _ = list(&sessions.ListFilesOptions{Path: "/mnt/data/sub"})
	assert.ElementsMatch(t, []string{"deeper/"}, sub)
}
