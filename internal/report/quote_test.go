package report

import (
	"os/exec"
	"runtime"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every byte string without NUL comes back from bash exactly, and the quoted
// form is valid UTF-8 (it travels in a JSON request).
func TestQuoteRoundTripsThroughBash(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil && runtime.GOOS != "linux" {
		t.Skip("no bash on this machine")
	}
	require.NoError(t, err, "bash is needed on Linux")
	values := []string{"", "plain", "it's", `$(id) ` + "`id`" + ` "x" \n`, "a\nb\tc", "\xff\xfe\x80", "\x01\x1b\x7f", "😀é", "'", `\`, `\'`, "-n", "*"}
	for _, v := range values {
		q := Quote(v)
		assert.True(t, utf8.ValidString(q), "%q -> %s", v, q)
		out, err := exec.Command(bash, "-c", "printf '%s' "+q).Output()
		require.NoError(t, err, "%q", v)
		assert.Equal(t, v, string(out), "%q -> %s", v, q)
	}
}
