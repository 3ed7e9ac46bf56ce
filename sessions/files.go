package sessions

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
)

// UploadFile uploads body to the session as the file name, relative to
// /mnt/data: "out/report.csv" goes into the directory out, as the Azure CLI
// does. Names that are not a plain path under /mnt/data are refused before
// sending. body is streamed, never buffered, and not closed. A body whose
// Seek works (an *os.File, a *bytes.Reader, a *strings.Reader) is sent with
// a Content-Length and rewound for each retry; any other io.Reader is sent
// chunked in a single attempt. A file over the pool's size limit gives an
// *azcore.ResponseError with status 413. options may be nil.
func (c *Client) UploadFile(ctx context.Context, sessionID, name string, body io.Reader, options *UploadFileOptions) (resp UploadFileResponse, err error) {
	ctx, endSpan := c.startSpan(ctx, "Client.UploadFile")
	defer func() { endSpan(err) }()
	if options == nil {
		options = &UploadFileOptions{}
	}
	if err := ValidateSessionID(sessionID); err != nil {
		return resp, err
	}
	if isNil(body) {
		return resp, newArgumentError("body", "must not be nil (nor a nil pointer in the interface); pass the content as an io.Reader, such as an *os.File, a *bytes.Reader or a *strings.Reader")
	}
	dir, base, err := splitFileName(options.Path, name)
	if err != nil {
		return resp, err
	}
	partType := options.ContentType
	if partType == "" {
		partType = "application/octet-stream"
	}
	if strings.ContainsAny(partType, "\r\n") {
		return resp, newArgumentError("UploadFileOptions.ContentType", "must not contain line breaks")
	}
	var seekable *multipartBody
	var contentType string
	if rs, ok := body.(io.ReadSeeker); ok {
		// A Seek that fails (a pipe behind an *os.File) leaves the reader
		// where it was, so it can still be streamed.
		if mp, ct, err := newMultipartBody(rs, "file", base, partType, options.Progress); err == nil {
			seekable, contentType = mp, ct
		}
	}
	if seekable == nil {
		// Sent in one attempt: a consumed stream cannot be replayed.
		ctx = policy.WithRetryOptions(ctx, policy.RetryOptions{MaxRetries: -1})
	}
	req, err := c.newRequest(ctx, http.MethodPost, "files", sessionID, dirQuery(dir))
	if err != nil {
		return resp, err
	}
	if seekable != nil {
		if err := req.SetBody(seekable, contentType); err != nil {
			return resp, fmt.Errorf("sessions: upload %q: %w", base, err)
		}
	} else {
		stream, ct := newStreamingMultipartBody(body, "file", base, partType, options.Progress)
		raw := req.Raw()
		raw.Body = io.NopCloser(stream)
		raw.ContentLength = -1 // unknown: sent chunked
		raw.Header.Set("Content-Type", ct)
	}
	httpResp, err := c.pl.Do(req)
	if err != nil {
		return resp, redactError(fmt.Errorf("sessions: upload %q: %w", base, ctxErr(ctx, err)), sessionID)
	}
	if !runtime.HasStatusCode(httpResp, http.StatusOK, http.StatusCreated, http.StatusAccepted) {
		return resp, redactError(newServiceError(httpResp, "file"), sessionID)
	}
	payload, err := runtime.Payload(httpResp)
	if err != nil {
		return resp, redactError(fmt.Errorf("sessions: upload %q: read response: %w", base, ctxErr(ctx, err)), sessionID)
	}
	f, err := decodeUploadedFile(payload)
	if err != nil {
		return resp, fmt.Errorf("sessions: upload %q: %w", base, err)
	}
	return UploadFileResponse{File: f}, nil
}

// DownloadFile opens a file in the session for reading. The content is not
// buffered: read it from the response's Body and close the Body.
//
// A missing file gives an error matching ErrFileNotFound.
func (c *Client) DownloadFile(ctx context.Context, sessionID, name string, options *DownloadFileOptions) (resp DownloadFileResponse, err error) {
	ctx, endSpan := c.startSpan(ctx, "Client.DownloadFile")
	defer func() { endSpan(err) }()
	if options == nil {
		options = &DownloadFileOptions{}
	}
	httpResp, err := c.fileRequest(ctx, fileCall{fileRef: fileRef{sessionID: sessionID, dir: options.Path, name: name}, method: http.MethodGet, verb: "download", suffix: "/content", stream: true})
	if err != nil {
		return resp, err
	}
	return DownloadFileResponse{
		Body:          httpResp.Body,
		ContentLength: httpResp.ContentLength,
		ContentType:   httpResp.Header.Get("Content-Type"),
	}, nil
}

// DownloadFileTo downloads a file from the session and writes it to w,
// streaming. It fails if the service sends fewer bytes than it announced.
//
// A missing file gives an error matching ErrFileNotFound.
func (c *Client) DownloadFileTo(ctx context.Context, sessionID, name string, w io.Writer, options *DownloadFileToOptions) (resp DownloadFileToResponse, err error) {
	ctx, endSpan := c.startSpan(ctx, "Client.DownloadFileTo")
	defer func() { endSpan(err) }()
	if options == nil {
		options = &DownloadFileToOptions{}
	}
	if w == nil {
		return resp, newArgumentError("w", "must not be nil; pass the io.Writer the content should go to")
	}
	return c.downloadTo(ctx, fileRef{sessionID: sessionID, dir: options.Path, name: name}, w, options.Progress)
}

// DownloadFileToPath downloads a file from the session to localPath. The
// content goes to a temporary file in the same directory, which is renamed
// to localPath only once complete: localPath never holds a partial file, and
// an existing file there is replaced only on success.
//
// A missing file gives an error matching ErrFileNotFound.
func (c *Client) DownloadFileToPath(ctx context.Context, sessionID, name, localPath string, options *DownloadFileToPathOptions) (resp DownloadFileToResponse, err error) {
	ctx, endSpan := c.startSpan(ctx, "Client.DownloadFileToPath")
	defer func() { endSpan(err) }()
	if options == nil {
		options = &DownloadFileToPathOptions{}
	}
	if localPath == "" {
		return resp, newArgumentError("localPath", "must not be empty; pass the local file to write")
	}
	perm := options.Perm
	if perm == 0 {
		perm = 0o644
	}
	// Validate before creating anything locally.
	if err := ValidateSessionID(sessionID); err != nil {
		return resp, err
	}
	if _, _, err := splitFileName(options.Path, name); err != nil {
		return resp, err
	}
	dir, base := filepath.Split(localPath)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".*.partial")
	if err != nil {
		return resp, fmt.Errorf("sessions: download %q: create temporary file next to %s: %w", name, localPath, err)
	}
	done := false
	defer func() {
		if !done {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	resp, err = c.downloadTo(ctx, fileRef{sessionID: sessionID, dir: options.Path, name: name}, tmp, options.Progress)
	if err != nil {
		return resp, err
	}
	if err := tmp.Chmod(perm); err != nil {
		return resp, fmt.Errorf("sessions: download %q: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return resp, fmt.Errorf("sessions: download %q: write %s: %w", name, tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), localPath); err != nil {
		return resp, fmt.Errorf("sessions: download %q: %w", name, err)
	}
	done = true
	return resp, nil
}

// downloadTo is DownloadFileTo without the span.
func (c *Client) downloadTo(ctx context.Context, f fileRef, w io.Writer, progress func(received, total int64)) (DownloadFileToResponse, error) {
	sessionID, name := f.sessionID, f.name
	httpResp, err := c.fileRequest(ctx, fileCall{fileRef: f, method: http.MethodGet, verb: "download", suffix: "/content", stream: true})
	if err != nil {
		return DownloadFileToResponse{}, err
	}
	defer httpResp.Body.Close()
	resp := DownloadFileToResponse{ContentType: httpResp.Header.Get("Content-Type")}
	dst := w
	if progress != nil {
		dst = &progressWriter{w: w, total: httpResp.ContentLength, progress: progress}
	}
	n, err := io.Copy(dst, httpResp.Body)
	resp.BytesWritten = n
	if err != nil {
		return resp, redactError(fmt.Errorf("sessions: download %q: after %d bytes: %w", name, n, ctxErr(ctx, err)), sessionID)
	}
	if httpResp.ContentLength >= 0 && n != httpResp.ContentLength {
		return resp, fmt.Errorf("sessions: download %q: got %d of %d bytes: %w", name, n, httpResp.ContentLength, io.ErrUnexpectedEOF)
	}
	return resp, nil
}

// progressWriter reports the bytes written through it.
type progressWriter struct {
	w        io.Writer
	n, total int64
	progress func(received, total int64)
}

func (p *progressWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.n += int64(n)
	if n > 0 {
		p.progress(p.n, p.total)
	}
	return n, err
}

// GetFile returns the metadata of a file or directory in the session.
//
// A missing file gives an error matching ErrFileNotFound.
func (c *Client) GetFile(ctx context.Context, sessionID, name string, options *GetFileOptions) (resp GetFileResponse, err error) {
	ctx, endSpan := c.startSpan(ctx, "Client.GetFile")
	defer func() { endSpan(err) }()
	if options == nil {
		options = &GetFileOptions{}
	}
	httpResp, err := c.fileRequest(ctx, fileCall{fileRef: fileRef{sessionID: sessionID, dir: options.Path, name: name}, method: http.MethodGet, verb: "get"})
	if err != nil {
		return resp, err
	}
	payload, err := runtime.Payload(httpResp)
	if err != nil {
		return resp, redactError(fmt.Errorf("sessions: get file %q: read response: %w", name, ctxErr(ctx, err)), sessionID)
	}
	f, err := decodeUploadedFile(payload)
	if err != nil {
		return resp, fmt.Errorf("sessions: get file %q: %w", name, err)
	}
	return GetFileResponse{File: f}, nil
}

// DeleteFile deletes a file from the session.
//
// A missing file gives an error matching ErrFileNotFound.
func (c *Client) DeleteFile(ctx context.Context, sessionID, name string, options *DeleteFileOptions) (resp DeleteFileResponse, err error) {
	ctx, endSpan := c.startSpan(ctx, "Client.DeleteFile")
	defer func() { endSpan(err) }()
	if options == nil {
		options = &DeleteFileOptions{}
	}
	httpResp, err := c.fileRequest(ctx, fileCall{fileRef: fileRef{sessionID: sessionID, dir: options.Path, name: name}, method: http.MethodDelete, verb: "delete"})
	if err != nil {
		return resp, err
	}
	_ = httpResp.Body.Close()
	return resp, nil
}

// fileRef names a file of a session as the caller gave it.
type fileRef struct {
	sessionID string
	dir       string // the Path option: a directory relative to /mnt/data
	name      string // may hold a directory part ("out/report.csv")
}

// fileCall is one request about a single file: {method} files/{name}{suffix}.
type fileCall struct {
	fileRef
	method string // http.MethodGet or http.MethodDelete
	verb   string // names the operation in errors: "download", "get", "delete"
	suffix string // appended to the file's path: "/content" or ""
	stream bool   // leave the response body unread for the caller
}

// fileRequest validates f, sends it and checks the status (200, or also 204
// for a delete). With f.stream set the body is left unread for the caller.
func (c *Client) fileRequest(ctx context.Context, f fileCall) (*http.Response, error) {
	if err := ValidateSessionID(f.sessionID); err != nil {
		return nil, err
	}
	dir, base, err := splitFileName(f.dir, f.name)
	if err != nil {
		return nil, err
	}
	req, err := c.newRequest(ctx, f.method, "files/"+url.PathEscape(base)+f.suffix, f.sessionID, dirQuery(dir))
	if err != nil {
		return nil, err
	}
	if f.stream {
		runtime.SkipBodyDownload(req)
	}
	httpResp, err := c.pl.Do(req)
	if err != nil {
		return nil, redactError(fmt.Errorf("sessions: %s %q: %w", f.verb, base, ctxErr(ctx, err)), f.sessionID)
	}
	want := []int{http.StatusOK}
	if f.method == http.MethodDelete {
		want = []int{http.StatusOK, http.StatusNoContent}
	}
	if !runtime.HasStatusCode(httpResp, want...) {
		return nil, redactError(newServiceError(httpResp, "file"), f.sessionID)
	}
	return httpResp, nil
}

// NewListFilesPager lists the files in a directory of the session, page by
// page, following the service's nextLink. It sends nothing until the first
// call to NextPage.
//
// Invalid arguments are reported by the first NextPage.
func (c *Client) NewListFilesPager(sessionID string, options *ListFilesOptions) *runtime.Pager[ListFilesResponse] {
	var opts ListFilesOptions
	if options != nil {
		opts = *options
	}
	return runtime.NewPager(runtime.PagingHandler[ListFilesResponse]{
		More: func(page ListFilesResponse) bool { return page.NextLink != nil && *page.NextLink != "" },
		Fetcher: func(ctx context.Context, page *ListFilesResponse) (resp ListFilesResponse, err error) {
			ctx, endSpan := c.startSpan(ctx, "Client.NewListFilesPager")
			defer func() { endSpan(err) }()
			if err := ValidateSessionID(sessionID); err != nil {
				return resp, err
			}
			dir, err := cleanDir(opts.Path, "ListFilesOptions.Path")
			if err != nil {
				return resp, err
			}
			var req *policy.Request
			if page == nil {
				q := dirQuery(dir)
				if opts.Recursive {
					q.Set("recursive", "true")
				}
				req, err = c.newRequest(ctx, http.MethodGet, "files", sessionID, q)
			} else {
				req, err = c.nextLinkRequest(ctx, *page.NextLink, sessionID)
			}
			if err != nil {
				return resp, redactError(fmt.Errorf("sessions: list files: %w", err), sessionID)
			}
			payload, err := c.send(ctx, req, serviceCall{sessionID: sessionID, what: "list files", op: "file", want: okOnly})
			if err != nil {
				return resp, err
			}
			items, next, err := decodeList[wireFile](payload, "list files", "value")
			if err != nil {
				return resp, err
			}
			resp = ListFilesResponse{Value: make([]*File, len(items))}
			if next != "" {
				// The page is a returned value: it carries no session
				// identifier (nextLinkRequest adds it back).
				next = withoutIdentifier(next, sessionID)
				resp.NextLink = &next
			}
			vals := make([]File, len(items)) // one allocation for the page
			for i, it := range items {
				vals[i] = it.file()
				resp.Value[i] = &vals[i]
			}
			return resp, nil
		},
		Tracer: c.tracer,
	})
}
