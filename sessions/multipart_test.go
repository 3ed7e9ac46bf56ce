package sessions

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMultipartBodySeek: the streamed envelope behaves as an io.ReadSeeker
// over the bytes it stands for, which is what azcore relies on to compute
// Content-Length and to rewind a retry.
func TestMultipartBodySeek(t *testing.T) {
	t.Parallel()
	content := []byte("0123456789abcdefghij")
	src := bytes.NewReader(content)
	_, err := src.Seek(7, io.SeekStart) // the caller's offset does not matter
	require.NoError(t, err)
	var sent, total []int64
	m, contentType, err := newMultipartBody(src, "file", `a "b".txt`, "text/plain", func(s, t int64) { sent = append(sent, s); total = append(total, t) })
	require.NoError(t, err)

	full, err := io.ReadAll(m)
	require.NoError(t, err)
	assert.Equal(t, m.Len(), int64(len(full)), "Len is the exact envelope size")
	assert.Equal(t, int64(len(content)), sent[len(sent)-1], "progress ends at the file size")
	assert.Equal(t, int64(len(content)), total[0])

	_, params, err := mime.ParseMediaType(contentType)
	require.NoError(t, err)
	part, err := multipart.NewReader(bytes.NewReader(full), params["boundary"]).NextPart()
	require.NoError(t, err)
	assert.Equal(t, `a "b".txt`, part.FileName())
	got, err := io.ReadAll(part)
	require.NoError(t, err)
	assert.Equal(t, content, got, "the whole file, from offset 0")

	for off := int64(0); off <= m.Len(); off++ {
		pos, err := m.Seek(off, io.SeekStart)
		require.NoError(t, err)
		require.Equal(t, off, pos)
		rest, err := io.ReadAll(m)
		require.NoError(t, err)
		require.Equal(t, full[off:], rest, "reading from offset %d", off)
	}

	pos, err := m.Seek(-5, io.SeekEnd)
	require.NoError(t, err)
	assert.Equal(t, m.Len()-5, pos)
	pos, err = m.Seek(2, io.SeekCurrent)
	require.NoError(t, err)
	assert.Equal(t, m.Len()-3, pos)
	rest, err := io.ReadAll(m)
	require.NoError(t, err)
	assert.Equal(t, full[len(full)-3:], rest)

	pos, err = m.Seek(10, io.SeekEnd)
	require.NoError(t, err, "seeking past the end is allowed, as for *os.File")
	assert.Equal(t, m.Len()+10, pos)
	n, err := m.Read(make([]byte, 8))
	assert.Zero(t, n)
	assert.ErrorIs(t, err, io.EOF)

	_, err = m.Seek(-1, io.SeekStart)
	assert.Error(t, err)
	_, err = m.Seek(0, 42)
	assert.Error(t, err)
	assert.NoError(t, m.Close())
}
