package sessions_test

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/sessions"
	"github.com/shellpool/shellpool/sessions/sessionstest"
)

// benchFileSize is the size of the file each benchmark iteration moves.
const benchFileSize = 8 << 20

// benchEnv is an emulator, a client for it, and what a bare net/http
// baseline needs to send the same requests.
type benchEnv struct {
	client   *sessions.Client
	http     *http.Client
	endpoint string
	token    string
	session  string
	content  []byte
}

func setupBenchEnv(b *testing.B) *benchEnv {
	b.Helper()
	srv, c := setupEmulator(b, &sessionstest.Options{})
	tok, err := srv.Credential().GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{sessions.Audience + "/.default"}})
	require.NoError(b, err)
	content := make([]byte, benchFileSize)
	for i := range content {
		content[i] = byte(i * 7)
	}
	return &benchEnv{client: c, http: srv.Client(), endpoint: srv.PoolEndpoint(), token: tok.Token, session: sessions.NewSessionID(), content: content}
}

func (e *benchEnv) url(path string, q url.Values) string {
	if q == nil {
		q = url.Values{}
	}
	q.Set("api-version", sessions.DefaultDataPlaneAPIVersion)
	q.Set("identifier", e.session)
	return e.endpoint + path + "?" + q.Encode()
}

// BenchmarkUploadFile measures Client.UploadFile of an 8 MiB file to the
// emulator. Compare with BenchmarkUploadFileBaseline.
func BenchmarkUploadFile(b *testing.B) {
	e := setupBenchEnv(b)
	ctx := context.Background()
	b.SetBytes(benchFileSize)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.client.UploadFile(ctx, e.session, "bench.bin", bytes.NewReader(e.content), nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUploadFileBaseline sends the same multipart upload with bare
// net/http: mime/multipart writing into an io.Pipe.
func BenchmarkUploadFileBaseline(b *testing.B) {
	e := setupBenchEnv(b)
	b.SetBytes(benchFileSize)
	b.ReportAllocs()
	for b.Loop() {
		pr, pw := io.Pipe()
		mw := multipart.NewWriter(pw)
		go func() {
			part, err := mw.CreateFormFile("file", "bench.bin")
			if err == nil {
				_, err = io.Copy(part, bytes.NewReader(e.content))
			}
			if err == nil {
				err = mw.Close()
			}
			pw.CloseWithError(err)
		}()
		req, err := http.NewRequest(http.MethodPost, e.url("/files", nil), pr)
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Authorization", "Bearer "+e.token)
		resp, err := e.http.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("upload: HTTP %d", resp.StatusCode)
		}
	}
}

// uploadBenchFile puts the file the download benchmarks read.
func (e *benchEnv) uploadBenchFile(b *testing.B) {
	b.Helper()
	_, err := e.client.UploadFile(context.Background(), e.session, "bench.bin", bytes.NewReader(e.content), nil)
	require.NoError(b, err)
}

// BenchmarkDownloadFile measures Client.DownloadFileTo of an 8 MiB file from
// the emulator into io.Discard. Compare with BenchmarkDownloadFileBaseline.
func BenchmarkDownloadFile(b *testing.B) {
	e := setupBenchEnv(b)
	e.uploadBenchFile(b)
	ctx := context.Background()
	b.SetBytes(benchFileSize)
	b.ReportAllocs()
	for b.Loop() {
		resp, err := e.client.DownloadFileTo(ctx, e.session, "bench.bin", io.Discard, nil)
		if err != nil {
			b.Fatal(err)
		}
		if resp.BytesWritten != benchFileSize {
			b.Fatalf("downloaded %d bytes", resp.BytesWritten)
		}
	}
}

// BenchmarkDownloadFileBaseline downloads the same file with bare net/http.
func BenchmarkDownloadFileBaseline(b *testing.B) {
	e := setupBenchEnv(b)
	e.uploadBenchFile(b)
	b.SetBytes(benchFileSize)
	b.ReportAllocs()
	for b.Loop() {
		req, err := http.NewRequest(http.MethodGet, e.url("/files/bench.bin/content", nil), nil)
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+e.token)
		resp, err := e.http.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || n != benchFileSize {
			b.Fatalf("download: HTTP %d, %d bytes, %v", resp.StatusCode, n, err)
		}
	}
}
