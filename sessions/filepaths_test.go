package sessions_test

import (
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shellpool/shellpool/sessions"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFileNamesRefusedBeforeSending: bad names and paths are refused by
// every file operation with an *ArgumentError, and nothing reaches the
// server.
func TestFileNamesRefusedBeforeSending(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		fileName string
		path     string
	}{
		{name: "empty name", fileName: ""},
		{name: "parent traversal", fileName: "../etc/passwd"},
		{name: "traversal in the middle", fileName: "a/../../b.txt"},
		{name: "dot segment", fileName: "./a.txt"},
		{name: "dot segment inside", fileName: "a/./b.txt"},
		{name: "bare dot dot", fileName: ".."},
		{name: "NUL", fileName: "a\x00b.txt"},
		{name: "newline", fileName: "a\nb.txt"},
		{name: "tab", fileName: "a\tb.txt"},
		{name: "DEL", fileName: "a\x7fb.txt"},
		{name: "C1 control", fileName: "a\u0085b.txt"},
		{name: "absolute outside /mnt/data", fileName: "/etc/passwd"},
		{name: "absolute sibling of /mnt/data", fileName: "/mnt/database/x.txt"},
		{name: "the root itself", fileName: "/mnt/data"},
		{name: "trailing slash", fileName: "dir/"},
		{name: "empty segment", fileName: "a//b.txt"},
		{name: "backslash", fileName: `..\..\windows.ini`},
		{name: "invalid UTF-8", fileName: "a\xffb.txt"},
		{name: "traversal in path option", fileName: "ok.txt", path: "../outside"},
		{name: "absolute path option outside root", fileName: "ok.txt", path: "/tmp"},
		{name: "control character in path option", fileName: "ok.txt", path: "a\rb"},
		{name: "traversal hidden behind /mnt/data", fileName: "/mnt/data/../../etc/shadow"},
	}
	w := setupWire(t, func(rw http.ResponseWriter, r *http.Request) {
		t.Errorf("request reached the server: %s %s", r.Method, r.URL)
	})
	c := w.client
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			ops := map[string]func() error{
				"UploadFile": func() error {
					_, err := c.UploadFile(ctx, testSessionID, tc.fileName, strings.NewReader("x"), &sessions.UploadFileOptions{Path: tc.path})
					return err
				},
				"DownloadFile": func() error {
					_, err := c.DownloadFile(ctx, testSessionID, tc.fileName, &sessions.DownloadFileOptions{Path: tc.path})
					return err
				},
				"DownloadFileTo": func() error {
					_, err := c.DownloadFileTo(ctx, testSessionID, tc.fileName, io.Discard, &sessions.DownloadFileToOptions{Path: tc.path})
					return err
				},
				"DownloadFileToPath": func() error {
					_, err := c.DownloadFileToPath(ctx, testSessionID, tc.fileName, filepath.Join(t.TempDir(), "out"), &sessions.DownloadFileToPathOptions{Path: tc.path})
					return err
				},
				"GetFile": func() error {
					_, err := c.GetFile(ctx, testSessionID, tc.fileName, &sessions.GetFileOptions{Path: tc.path})
					return err
				},
				"DeleteFile": func() error {
					_, err := c.DeleteFile(ctx, testSessionID, tc.fileName, &sessions.DeleteFileOptions{Path: tc.path})
					return err
				},
			}
			for op, call := range ops {
				err := call()
				require.Error(t, err, op)
				assert.ErrorIs(t, err, sessions.ErrInvalidArgument, op)
				var ae *sessions.ArgumentError
				if assert.ErrorAs(t, err, &ae, op) {
					assert.NotEmpty(t, ae.Reason, op)
				}
			}
		})
	}
	assert.Zero(t, w.hits.Load(), "no request may reach the server")
}

func TestListFilesPathRefusedBeforeSending(t *testing.T) {
	t.Parallel()
	w := setupWire(t, nil)
	for _, p := range []string{"../x", "/etc", "a/./b", "a\x00"} {
		pager := w.client.NewListFilesPager(testSessionID, &sessions.ListFilesOptions{Path: p})
		require.True(t, pager.More())
		_, err := pager.NextPage(t.Context())
		assert.ErrorIs(t, err, sessions.ErrInvalidArgument, p)
	}
	assert.Zero(t, w.hits.Load())
}
