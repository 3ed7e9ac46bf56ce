package sessionstest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestWriteJSONStringMatchesEncodingJSON: the streaming escaper writes what
// encoding/json writes without HTML escaping, invalid UTF-8 included.
func TestWriteJSONStringMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"", "plain", "quote \" backslash \\ slash /", "nl\ncr\rtab\t", "\x00\x01\x1f\x7f",
		"é😀", "bad \xff\xfe utf8", "cut \xe2\x82", "\u2028\u2029", "<&>", strings.Repeat("a\n", 10000),
	} {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(s)
		var got bytes.Buffer
		bw := bufio.NewWriter(&got)
		writeJSONString(bw, s)
		_ = bw.Flush()
		assert.Equal(t, strings.TrimSuffix(want.String(), "\n"), got.String(), "%q", s)
	}
}
