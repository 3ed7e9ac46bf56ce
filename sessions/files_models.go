package sessions

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
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
	// Value holds the entries on this page.
	Value []*File
	// NextLink is the URL of the next page; nil on the last page.
	NextLink *string
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
