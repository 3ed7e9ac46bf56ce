package report

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCksum(t *testing.T) {
	// Values printed by POSIX cksum (GNU coreutils 9.1).
	assert.Equal(t, uint32(4294967295), Cksum(nil))
	assert.Equal(t, uint32(701174007), Cksum([]byte("ok")))
	if _, err := exec.LookPath("cksum"); err != nil {
		t.Skip("no cksum on this machine")
	}
	for _, in := range []string{"a", "hello\n", strings.Repeat("\x00\xff", 3000)} {
		cmd := exec.Command("cksum")
		cmd.Stdin = strings.NewReader(in)
		out, err := cmd.Output()
		require.NoError(t, err)
		want, err := strconv.ParseUint(strings.Fields(string(out))[0], 10, 32)
		require.NoError(t, err)
		assert.Equal(t, uint32(want), Cksum([]byte(in)))
	}
}

func TestFindAndVerify(t *testing.T) {
	content, line, ok := Find("abc\n@@t:n st=done x=1\n", "@@t:n")
	require.True(t, ok)
	assert.Equal(t, "abc", content)
	kv, ok := Fields(line)
	require.True(t, ok)
	assert.Equal(t, map[string]string{"st": "done", "x": "1"}, kv)
	assert.Equal(t, []byte("abc"), Verify(content, true, 3, Cksum([]byte("abc"))))
	// A cut record line is no record.
	_, _, ok = Find("abc\n@@t:n st=do", "@@t:n")
	assert.False(t, ok)
	// The record was lost from this stream: the newline before it stays.
	assert.Equal(t, []byte("abc"), Verify("abc\n", false, 3, Cksum([]byte("abc"))))
	// Content that does not match is not kept.
	assert.Nil(t, Verify("abd", true, 3, Cksum([]byte("abc"))))
	assert.Nil(t, Verify("ab", true, 3, Cksum([]byte("abc"))))
	_, ok = Fields("@@t:n novalue")
	assert.False(t, ok)
}

func TestParseSegmentRefusesMalformedOrForeignFields(t *testing.T) {
	for _, tc := range []struct {
		mode, length, sum, name string
		ok                      bool
	}{
		{"i", "2", "701174007", "p-x.out", true},
		{"d", "-1", "0", "p-x.out", true},
		{"n", "0", "0", "-", true},
		{"i", "-1", "0", "p-x.out", false},    // a whole stream only by download
		{"d", "5", "0", "-", false},           // content needs a file
		{"d", "5", "0", "other.txt", false},   // not this layer's file
		{"x", "0", "0", "-", false},           // unknown mode
		{"i", "two", "0", "p-x.out", false},   // not a number
		{"i", "2", "99999999999", "-", false}, // sum over 32 bits
	} {
		_, _, _, ok := ParseSegment(tc.mode, tc.length, tc.sum, tc.name, "p-")
		assert.Equal(t, tc.ok, ok, "%+v", tc)
	}
}

func TestLocateFallsBackToStderr(t *testing.T) {
	rec := "\n@@t st=done\n"
	line, _, errc, onOut, onErr, ok := Locate("partial", "err"+rec, "@@t")
	require.True(t, ok)
	assert.Equal(t, "@@t st=done", line)
	assert.False(t, onOut, "stdout lost its record")
	assert.True(t, onErr)
	assert.Equal(t, "err", errc)
	_, _, _, _, _, ok = Locate("cut @@t st=do", "", "@@t")
	assert.False(t, ok, "a cut record is no record")
}
