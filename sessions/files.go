package sessions

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
)

// FileType says whether a File is a regular file or a directory. The service
// has been seen sending both "File" and "file" (API.md §1.6.1): compare with
// IsDir, or with strings.EqualFold.
type FileType string

const (
	// FileTypeFile is a regular file.
	FileTypeFile FileType = "File"
	// FileTypeDirectory is a directory.
	FileTypeDirectory FileType = "Directory"
)

// PossibleFileTypeValues returns the file types the service documents.
func PossibleFileTypeValues() []FileType { return []FileType{FileTypeFile, FileTypeDirectory} }

// IsDir reports whether t is a directory, whatever its letter case.
func (t FileType) IsDir() bool { return strings.EqualFold(string(t), string(FileTypeDirectory)) }

// File describes a file or directory in a session. Paths are relative to the
// session's file root, /mnt/data.
type File struct {
	// Name is the file's base name, such as "report.csv".
	Name string
	// Type says whether this is a file or a directory (see FileType.IsDir).
	Type FileType
	// SizeInBytes is the file's size; zero for directories.
	SizeInBytes int64
	// ContentType is the media type the service reports, when it does.
	ContentType string
	// LastModifiedAt is when the file last changed; the zero time when the
	// service did not say.
	LastModifiedAt time.Time
	// Directory is the parent directory relative to the listed directory,
	// such as "level1/level2", in recursive listings (api-version
	// 2025-10-02-preview and later); empty otherwise.
	Directory string
}

// IsDir reports whether f is a directory.
func (f File) IsDir() bool { return f.Type.IsDir() }

// fileRoot is the directory every session's file API is rooted at.
const fileRoot = "/mnt/data"

// UploadFileOptions contains the optional parameters of Client.UploadFile.
type UploadFileOptions struct {
	// Path is the directory to upload into, relative to /mnt/data (an
	// absolute path under /mnt/data is accepted too). Empty means /mnt/data
	// itself. A directory in the name ("out/report.csv") is appended to it.
	Path string
	// ContentType is the media type of the file part. Empty means
	// application/octet-stream.
	ContentType string
	// Progress, when set, is called as the body is sent, with the file
	// bytes sent so far and the file's size (-1 when the body cannot seek,
	// so its size is unknown). It may be called from the HTTP transport's
	// goroutine rather than the caller's, one call at a time. If the
	// request is retried, sent starts again from zero.
	Progress func(sent, total int64)
}

// UploadFileResponse is the result of Client.UploadFile.
type UploadFileResponse struct {
	// File is the uploaded file's metadata as the service reported it. It
	// is the zero File when the service answered without a body.
	File
}

// DownloadFileOptions contains the optional parameters of Client.DownloadFile.
type DownloadFileOptions struct {
	// Path is the directory holding the file, relative to /mnt/data. A
	// directory in the name is appended to it.
	Path string
}

// DownloadFileResponse is the result of Client.DownloadFile.
type DownloadFileResponse struct {
	// Body streams the file's content. The caller must close it.
	Body io.ReadCloser
	// ContentLength is the size of Body in bytes, or -1 when the service did
	// not say.
	ContentLength int64
	// ContentType is the Content-Type header of the answer.
	ContentType string
}

// DownloadFileToOptions contains the optional parameters of
// Client.DownloadFileTo.
type DownloadFileToOptions struct {
	// Path is the directory holding the file, relative to /mnt/data.
	Path string
	// Progress, when set, is called as bytes arrive with the bytes written
	// so far and the file's size (-1 when the service did not say).
	Progress func(received, total int64)
}

// DownloadFileToResponse is the result of Client.DownloadFileTo and
// Client.DownloadFileToPath.
type DownloadFileToResponse struct {
	// BytesWritten is the number of bytes written.
	BytesWritten int64
	// ContentType is the Content-Type header of the answer.
	ContentType string
}

// DownloadFileToPathOptions contains the optional parameters of
// Client.DownloadFileToPath.
type DownloadFileToPathOptions struct {
	// Path is the directory holding the file in the session, relative to
	// /mnt/data.
	Path string
	// Progress: see DownloadFileToOptions.Progress.
	Progress func(received, total int64)
	// Perm is the permission of the local file. Zero means 0o644.
	Perm os.FileMode
}

// GetFileOptions contains the optional parameters of Client.GetFile.
type GetFileOptions struct {
	// Path is the directory holding the file, relative to /mnt/data.
	Path string
}

// GetFileResponse is the result of Client.GetFile.
type GetFileResponse struct {
	// File is the file's metadata.
	File
}

// DeleteFileOptions contains the optional parameters of Client.DeleteFile.
type DeleteFileOptions struct {
	// Path is the directory holding the file, relative to /mnt/data.
	Path string
}

// DeleteFileResponse is the result of Client.DeleteFile.
type DeleteFileResponse struct {
	// placeholder for future fields
}

// ListFilesOptions contains the optional parameters of Client.NewListFilesPager.
type ListFilesOptions struct {
	// Path is the directory to list, relative to /mnt/data. Empty lists
	// /mnt/data.
	Path string
	// Recursive lists the whole tree under Path; each File's Directory then
	// says where it is. The service supports it from api-version
	// 2025-10-02-preview (set the azcore option
	// ClientOptions.ClientOptions.APIVersion); older versions ignore it or
	// refuse the request. The parameter is sent only when true.
	Recursive bool
}

// ListFilesResponse is one page of Client.NewListFilesPager.
type ListFilesResponse struct {
	// Files are the entries on this page.
	Files []File
	// NextLink is the URL of the next page; empty on the last page.
	NextLink string
}

// UploadFile uploads body to the session as a file named name.
//
//   - sessionID - the session identifier (see NewSessionID); a new
//     identifier allocates a session.
//   - name - the file name, relative to /mnt/data. "out/report.csv" is
//     uploaded as report.csv into the directory out (as the Azure CLI does).
//     Names with "." or ".." segments, control characters, a trailing slash
//     or an absolute path outside /mnt/data are refused before sending.
//   - body - the content. It is streamed, never buffered: memory use is
//     the same for a kilobyte and a gigabyte. An io.Seeker whose Seek works
//     (an *os.File on disk, a *bytes.Reader, a *strings.Reader) is sent
//     from offset 0 to its end with a Content-Length, and rewound if the
//     request is retried. Any other io.Reader (an HTTP request body, a pipe,
//     os.Stdin) is sent as it is read, chunked, in a single attempt: it is
//     not spooled to memory or disk, so the client cannot replay it, and a
//     failed attempt is returned to the caller rather than retried; seekable
//     content gets the retries. UploadFile does not close body.
//   - options - nil for defaults.
//
// If the service refuses the upload it returns an *azcore.ResponseError
// (413 when the file is over the pool's size limit).
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
		return resp, &ArgumentError{Name: "body", Reason: "must not be nil (nor a nil pointer in the interface); pass the content as an io.Reader, such as an *os.File, a *bytes.Reader or a *strings.Reader"}
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
		return resp, &ArgumentError{Name: "UploadFileOptions.ContentType", Reason: "must not contain line breaks"}
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
//   - sessionID - the session identifier.
//   - name - the file name, relative to /mnt/data ("out/report.csv" works).
//   - options - nil for defaults.
//
// A missing file gives an error matching ErrFileNotFound; other service
// failures return an *azcore.ResponseError.
func (c *Client) DownloadFile(ctx context.Context, sessionID, name string, options *DownloadFileOptions) (resp DownloadFileResponse, err error) {
	ctx, endSpan := c.startSpan(ctx, "Client.DownloadFile")
	defer func() { endSpan(err) }()
	if options == nil {
		options = &DownloadFileOptions{}
	}
	httpResp, err := c.fileRequest(ctx, http.MethodGet, "download", sessionID, options.Path, name, "/content", true)
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
//   - sessionID - the session identifier.
//   - name - the file name, relative to /mnt/data.
//   - w - where the content goes.
//   - options - nil for defaults.
//
// A missing file gives an error matching ErrFileNotFound; other service
// failures return an *azcore.ResponseError.
func (c *Client) DownloadFileTo(ctx context.Context, sessionID, name string, w io.Writer, options *DownloadFileToOptions) (resp DownloadFileToResponse, err error) {
	ctx, endSpan := c.startSpan(ctx, "Client.DownloadFileTo")
	defer func() { endSpan(err) }()
	if options == nil {
		options = &DownloadFileToOptions{}
	}
	if w == nil {
		return resp, &ArgumentError{Name: "w", Reason: "must not be nil; pass the io.Writer the content should go to"}
	}
	return c.downloadTo(ctx, sessionID, options.Path, name, w, options.Progress)
}

// DownloadFileToPath downloads a file from the session to localPath. The
// content goes to a temporary file in the same directory, which is renamed
// to localPath only once complete: localPath never holds a partial file, and
// an existing file there is replaced only on success.
//
//   - sessionID - the session identifier.
//   - name - the file name in the session, relative to /mnt/data.
//   - localPath - where to write the file on this machine.
//   - options - nil for defaults.
//
// A missing file gives an error matching ErrFileNotFound; other service
// failures return an *azcore.ResponseError.
func (c *Client) DownloadFileToPath(ctx context.Context, sessionID, name, localPath string, options *DownloadFileToPathOptions) (resp DownloadFileToResponse, err error) {
	ctx, endSpan := c.startSpan(ctx, "Client.DownloadFileToPath")
	defer func() { endSpan(err) }()
	if options == nil {
		options = &DownloadFileToPathOptions{}
	}
	if localPath == "" {
		return resp, &ArgumentError{Name: "localPath", Reason: "must not be empty; pass the local file to write"}
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
	resp, err = c.downloadTo(ctx, sessionID, options.Path, name, tmp, options.Progress)
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
func (c *Client) downloadTo(ctx context.Context, sessionID, path, name string, w io.Writer, progress func(received, total int64)) (DownloadFileToResponse, error) {
	httpResp, err := c.fileRequest(ctx, http.MethodGet, "download", sessionID, path, name, "/content", true)
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
//   - sessionID - the session identifier.
//   - name - the file name, relative to /mnt/data.
//   - options - nil for defaults.
//
// A missing file gives an error matching ErrFileNotFound; other service
// failures return an *azcore.ResponseError.
func (c *Client) GetFile(ctx context.Context, sessionID, name string, options *GetFileOptions) (resp GetFileResponse, err error) {
	ctx, endSpan := c.startSpan(ctx, "Client.GetFile")
	defer func() { endSpan(err) }()
	if options == nil {
		options = &GetFileOptions{}
	}
	httpResp, err := c.fileRequest(ctx, http.MethodGet, "get", sessionID, options.Path, name, "", false)
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
//   - sessionID - the session identifier.
//   - name - the file name, relative to /mnt/data.
//   - options - nil for defaults.
//
// A missing file gives an error matching ErrFileNotFound; other service
// failures return an *azcore.ResponseError.
func (c *Client) DeleteFile(ctx context.Context, sessionID, name string, options *DeleteFileOptions) (resp DeleteFileResponse, err error) {
	ctx, endSpan := c.startSpan(ctx, "Client.DeleteFile")
	defer func() { endSpan(err) }()
	if options == nil {
		options = &DeleteFileOptions{}
	}
	httpResp, err := c.fileRequest(ctx, http.MethodDelete, "delete", sessionID, options.Path, name, "", false)
	if err != nil {
		return resp, err
	}
	_ = httpResp.Body.Close()
	return resp, nil
}

// fileRequest validates, sends {method} files/{name}{suffix} and checks the
// status. With stream set the body is left unread for the caller.
func (c *Client) fileRequest(ctx context.Context, method, verb, sessionID, path, name, suffix string, stream bool) (*http.Response, error) {
	if err := ValidateSessionID(sessionID); err != nil {
		return nil, err
	}
	dir, base, err := splitFileName(path, name)
	if err != nil {
		return nil, err
	}
	req, err := c.newRequest(ctx, method, "files/"+url.PathEscape(base)+suffix, sessionID, dirQuery(dir))
	if err != nil {
		return nil, err
	}
	if stream {
		runtime.SkipBodyDownload(req)
	}
	httpResp, err := c.pl.Do(req)
	if err != nil {
		return nil, redactError(fmt.Errorf("sessions: %s %q: %w", verb, base, ctxErr(ctx, err)), sessionID)
	}
	want := []int{http.StatusOK}
	if method == http.MethodDelete {
		want = []int{http.StatusOK, http.StatusNoContent}
	}
	if !runtime.HasStatusCode(httpResp, want...) {
		return nil, redactError(newServiceError(httpResp, "file"), sessionID)
	}
	return httpResp, nil
}

// NewListFilesPager lists the files in a directory of the session, page by
// page, following the service's nextLink. It sends nothing until the first
// call to NextPage.
//
//   - sessionID - the session identifier.
//   - options - nil lists /mnt/data, non-recursively.
//
// Invalid arguments are reported by the first NextPage. Service failures
// return an *azcore.ResponseError.
func (c *Client) NewListFilesPager(sessionID string, options *ListFilesOptions) *runtime.Pager[ListFilesResponse] {
	var opts ListFilesOptions
	if options != nil {
		opts = *options
	}
	return runtime.NewPager(runtime.PagingHandler[ListFilesResponse]{
		More: func(page ListFilesResponse) bool { return page.NextLink != "" },
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
				req, err = c.nextLinkRequest(ctx, page.NextLink, sessionID)
			}
			if err != nil {
				return resp, redactError(fmt.Errorf("sessions: list files: %w", err), sessionID)
			}
			payload, err := c.send(ctx, req, sessionID, "list files", "file", http.StatusOK)
			if err != nil {
				return resp, err
			}
			items, next, err := decodeList[wireFile](payload, "list files", "value")
			if err != nil {
				return resp, err
			}
			resp = ListFilesResponse{Files: make([]File, 0, len(items)), NextLink: next}
			for _, it := range items {
				resp.Files = append(resp.Files, it.file())
			}
			return resp, nil
		},
		Tracer: c.tracer,
	})
}

// nextLinkRequest builds the GET of a page's nextLink. The link must point
// at the client's own endpoint (the bearer token is never sent elsewhere);
// api-version and identifier are added when the link lacks them.
func (c *Client) nextLinkRequest(ctx context.Context, link, sessionID string) (*policy.Request, error) {
	base, err := url.Parse(c.endpoint + "/")
	if err != nil {
		return nil, err
	}
	u, err := base.Parse(link)
	if err != nil {
		return nil, errors.New("the service sent a nextLink that is not a URL; list again from the first page, or check the pool's api-version")
	}
	if !strings.EqualFold(u.Scheme, base.Scheme) || !strings.EqualFold(u.Host, base.Host) {
		return nil, fmt.Errorf("the service's nextLink points at another host (%s); refusing to send credentials there", u.Host)
	}
	q := u.Query()
	if q.Get("api-version") == "" {
		q.Set("api-version", c.apiVersion)
	}
	if sessionID != "" && q.Get("identifier") == "" {
		q.Set("identifier", sessionID)
	}
	u.RawQuery = q.Encode()
	return runtime.NewRequest(ctx, http.MethodGet, u.String())
}

// dirQuery is the query carrying a directory: "path" when dir is not the
// root, nothing otherwise.
func dirQuery(dir string) url.Values {
	q := url.Values{}
	if dir != "" {
		q.Set("path", dir)
	}
	return q
}

// splitFileName validates a directory option and a file name and returns
// the directory (relative to /mnt/data, "" for the root) and the base name.
// A directory part in name is appended to dir, as the Azure CLI does.
func splitFileName(dirOpt, name string) (dir, base string, err error) {
	const field = "name"
	if name == "" {
		return "", "", &ArgumentError{Name: field, Reason: "must not be empty; pass a file name such as \"report.csv\" or \"out/report.csv\""}
	}
	if strings.HasSuffix(name, "/") {
		return "", "", &ArgumentError{Name: field, Reason: fmt.Sprintf("%q ends with a slash; name a file, and pass directories in the Path option", name)}
	}
	segs, err := pathSegments(name, field)
	if err != nil {
		return "", "", err
	}
	if len(segs) == 0 {
		return "", "", &ArgumentError{Name: field, Reason: fmt.Sprintf("%q names the root directory, not a file", name)}
	}
	d, err := cleanDir(dirOpt, "Path")
	if err != nil {
		return "", "", err
	}
	parts := segs[:len(segs)-1]
	if d != "" {
		parts = append(strings.Split(d, "/"), parts...)
	}
	return strings.Join(parts, "/"), segs[len(segs)-1], nil
}

// cleanDir validates a directory option and returns it relative to
// /mnt/data, without leading or trailing slashes; "" is the root.
func cleanDir(dir, field string) (string, error) {
	if dir == "" || dir == "/" {
		// "/" is what the service's own examples send for the root.
		return "", nil
	}
	segs, err := pathSegments(strings.TrimSuffix(dir, "/"), field)
	if err != nil {
		return "", err
	}
	return strings.Join(segs, "/"), nil
}

// pathSegments splits a slash-separated path relative to /mnt/data (or
// absolute under /mnt/data) into its segments, refusing traversal, empty
// segments and characters no file name may hold.
func pathSegments(p, field string) ([]string, error) {
	if !utf8.ValidString(p) {
		return nil, &ArgumentError{Name: field, Reason: "is not valid UTF-8"}
	}
	for i, r := range p {
		if r == 0 || unicode.IsControl(r) {
			return nil, &ArgumentError{Name: field, Reason: fmt.Sprintf("%q contains a control character at byte %d (NUL, newline, tab, ...); remove it", p, i)}
		}
	}
	if strings.Contains(p, "\\") {
		return nil, &ArgumentError{Name: field, Reason: fmt.Sprintf("%q contains a backslash; separate directories with \"/\"", p)}
	}
	if strings.HasPrefix(p, "/") {
		switch {
		case p == fileRoot:
			return nil, nil
		case strings.HasPrefix(p, fileRoot+"/"):
			p = strings.TrimPrefix(p, fileRoot+"/")
		default:
			return nil, &ArgumentError{Name: field, Reason: fmt.Sprintf("%q is an absolute path outside %s; session files live under %s, so pass a path relative to it", p, fileRoot, fileRoot)}
		}
	}
	segs := strings.Split(p, "/")
	for _, s := range segs {
		switch s {
		case "":
			return nil, &ArgumentError{Name: field, Reason: fmt.Sprintf("%q has an empty segment (\"//\"); remove the extra slash", p)}
		case ".", "..":
			return nil, &ArgumentError{Name: field, Reason: fmt.Sprintf("%q has a %q segment; paths may not traverse directories, pass the path relative to %s without . or ..", p, s, fileRoot)}
		}
	}
	return segs, nil
}

// wireFile is SessionResourceFile as the service sends it.
type wireFile struct {
	Name           string      `json:"name"`
	Type           string      `json:"type"`
	ContentType    string      `json:"contentType"`
	SizeInBytes    json.Number `json:"sizeInBytes"`
	LastModifiedAt lenientTime `json:"lastModifiedAt"`
	Directory      string      `json:"directory"`
}

func (w wireFile) file() File {
	size, _ := strconv.ParseInt(w.SizeInBytes.String(), 10, 64)
	if size == 0 && w.SizeInBytes != "" {
		if f, err := w.SizeInBytes.Float64(); err == nil {
			size = int64(f)
		}
	}
	return File{
		Name:           w.Name,
		Type:           FileType(w.Type),
		SizeInBytes:    size,
		ContentType:    w.ContentType,
		LastModifiedAt: time.Time(w.LastModifiedAt),
		Directory:      w.Directory,
	}
}

// decodeUploadedFile decodes one SessionResourceFile, or an array of them
// (the container-level specs' shape; the first element is used). An empty
// body yields the zero File.
func decodeUploadedFile(payload []byte) (File, error) {
	payload = bytes.TrimSpace(payload)
	if len(payload) == 0 || bytes.Equal(payload, []byte("null")) {
		return File{}, nil
	}
	if payload[0] == '[' {
		var arr []wireFile
		if err := json.Unmarshal(payload, &arr); err != nil {
			return File{}, fmt.Errorf("decode file metadata: %w", err)
		}
		if len(arr) == 0 {
			return File{}, nil
		}
		return arr[0].file(), nil
	}
	var w struct {
		wireFile
		Value []wireFile `json:"value"` // tolerated: a list wrapper around one file
	}
	if err := json.Unmarshal(payload, &w); err != nil {
		return File{}, fmt.Errorf("decode file metadata: %w", err)
	}
	if w.Name == "" && len(w.Value) > 0 {
		return w.Value[0].file(), nil
	}
	return w.wireFile.file(), nil
}

// decodeList decodes one page of a list: a bare JSON array of items, or an
// object holding the items under the first of keys that is present (names
// compared case-insensitively, as encoding/json does) and an optional
// nextLink. An empty body is an empty last page.
func decodeList[T any](payload []byte, what string, keys ...string) (items []T, nextLink string, err error) {
	fail := func(err error) ([]T, string, error) {
		return nil, "", fmt.Errorf("sessions: %s: decode response: %w; check that the endpoint is a session pool's management endpoint", what, err)
	}
	payload = bytes.TrimSpace(payload)
	switch {
	case len(payload) == 0 || bytes.Equal(payload, []byte("null")):
		return nil, "", nil
	case payload[0] == '[':
		if err := json.Unmarshal(payload, &items); err != nil {
			return fail(err)
		}
		return items, "", nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(payload, &obj); err != nil {
		return fail(err)
	}
	member := func(name string) (json.RawMessage, bool) {
		for k, v := range obj {
			if strings.EqualFold(k, name) {
				return v, true
			}
		}
		return nil, false
	}
	for _, k := range keys {
		if raw, ok := member(k); ok {
			if err := json.Unmarshal(raw, &items); err != nil {
				return fail(err)
			}
			if items != nil {
				break
			}
		}
	}
	if raw, ok := member("nextLink"); ok {
		if err := json.Unmarshal(raw, &nextLink); err != nil {
			return fail(err)
		}
	}
	return items, nextLink, nil
}

// lenientTime decodes RFC 3339 timestamps, and also timestamps without a
// zone (taken as UTC), as some service versions send them.
type lenientTime time.Time

func (t *lenientTime) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
			return nil
		}
		return err
	}
	if s == "" {
		return nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999"} {
		if v, err := time.Parse(layout, s); err == nil {
			*t = lenientTime(v)
			return nil
		}
	}
	return fmt.Errorf("unrecognised timestamp %q", s)
}
