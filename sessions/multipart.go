package sessions

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"strings"
)

// multipartBody is a multipart/form-data request body with a single file
// part, built around the caller's reader: it concatenates a small header, the
// caller's bytes and a small trailer without ever buffering the file. It is an
// io.ReadSeekCloser, so azcore computes Content-Length from it and rewinds it
// before a retry.
type multipartBody struct {
	head     []byte
	tail     []byte
	body     io.ReadSeeker
	size     int64 // bytes of body that belong to the upload
	pos      int64 // position in the whole stream
	synced   bool  // body's own offset equals pos-len(head)
	progress func(sent, total int64)
}

// multipartHead builds the envelope around one file part: the bytes before
// the file and after it, and the Content-Type header value.
func multipartHead(field, filename, partType string) (head, tail []byte, contentType string) {
	// A random boundary from the standard library; the writer itself is not used.
	boundary := multipart.NewWriter(io.Discard).Boundary()
	var h strings.Builder
	h.WriteString("--")
	h.WriteString(boundary)
	h.WriteString("\r\nContent-Disposition: form-data; name=\"")
	h.WriteString(quoteEscaper.Replace(field))
	h.WriteString("\"; filename=\"")
	h.WriteString(quoteEscaper.Replace(filename))
	h.WriteString("\"\r\nContent-Type: ")
	h.WriteString(partType)
	h.WriteString("\r\n\r\n")
	return []byte(h.String()), []byte("\r\n--" + boundary + "--\r\n"), "multipart/form-data; boundary=" + boundary
}

// newStreamingMultipartBody wraps a reader that cannot seek: the envelope
// is read once, straight through, with no buffering of the file and no
// length known in advance (the request is sent chunked). progress, when
// set, is called with total -1.
func newStreamingMultipartBody(body io.Reader, field, filename, partType string, progress func(sent, total int64)) (io.Reader, string) {
	head, tail, contentType := multipartHead(field, filename, partType)
	var file io.Reader = body
	if progress != nil {
		file = &progressReader{r: body, progress: progress}
	}
	return io.MultiReader(bytes.NewReader(head), file, bytes.NewReader(tail)), contentType
}

// progressReader reports the bytes read through it, with an unknown total.
type progressReader struct {
	r        io.Reader
	n        int64
	progress func(sent, total int64)
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		p.n += int64(n)
		p.progress(p.n, -1)
	}
	return n, err
}

// newMultipartBody measures body (from offset 0 to its end) and returns the
// envelope with its Content-Type header value. The body is left positioned
// at its start.
func newMultipartBody(body io.ReadSeeker, field, filename, partType string, progress func(sent, total int64)) (*multipartBody, string, error) {
	size, err := body.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, "", fmt.Errorf("measure upload body: %w", err)
	}
	if _, err := body.Seek(0, io.SeekStart); err != nil {
		return nil, "", fmt.Errorf("rewind upload body: %w", err)
	}
	head, tail, contentType := multipartHead(field, filename, partType)
	m := &multipartBody{
		head:     head,
		tail:     tail,
		body:     body,
		size:     size,
		synced:   true,
		progress: progress,
	}
	return m, contentType, nil
}

// quoteEscaper escapes a quoted-string parameter the way mime/multipart does.
var quoteEscaper = strings.NewReplacer("\\", "\\\\", `"`, "\\\"", "\r", "%0D", "\n", "%0A")

// Len is the number of bytes the whole envelope has.
func (m *multipartBody) Len() int64 { return int64(len(m.head)) + m.size + int64(len(m.tail)) }

// Read implements io.Reader.
func (m *multipartBody) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	headLen := int64(len(m.head))
	switch {
	case m.pos < headLen:
		n := copy(p, m.head[m.pos:])
		m.pos += int64(n)
		return n, nil
	case m.pos < headLen+m.size:
		off := m.pos - headLen
		if !m.synced {
			if _, err := m.body.Seek(off, io.SeekStart); err != nil {
				return 0, fmt.Errorf("seek upload body: %w", err)
			}
			m.synced = true
		}
		if rest := m.size - off; int64(len(p)) > rest {
			p = p[:rest]
		}
		n, err := m.body.Read(p)
		m.pos += int64(n)
		if n > 0 && m.progress != nil {
			m.progress(m.pos-headLen, m.size)
		}
		if errors.Is(err, io.EOF) {
			if m.pos < headLen+m.size {
				if n > 0 {
					return n, nil // the next Read reports the short body
				}
				return 0, fmt.Errorf("upload body ended after %d of %d bytes (it changed while being sent): %w", m.pos-headLen, m.size, io.ErrUnexpectedEOF)
			}
			err = nil
		}
		return n, err
	default:
		off := m.pos - headLen - m.size
		if off >= int64(len(m.tail)) {
			return 0, io.EOF
		}
		n := copy(p, m.tail[off:])
		m.pos += int64(n)
		return n, nil
	}
}

// Seek implements io.Seeker over the whole envelope.
func (m *multipartBody) Seek(offset int64, whence int) (int64, error) {
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = m.pos + offset
	case io.SeekEnd:
		abs = m.Len() + offset
	default:
		return 0, errors.New("multipart body: invalid whence")
	}
	if abs < 0 {
		return 0, errors.New("multipart body: negative position")
	}
	if abs != m.pos {
		m.pos = abs
		m.synced = false
	}
	return abs, nil
}

// Close implements io.Closer. It does not close the caller's reader: the
// caller owns it.
func (m *multipartBody) Close() error { return nil }

var _ io.ReadSeekCloser = (*multipartBody)(nil)
