package sessions

import (
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCksumMatchesPOSIX(t *testing.T) {
	// Values printed by POSIX cksum (GNU coreutils 9.1).
	assert.Equal(t, uint32(4294967295), cksum(nil))
	assert.Equal(t, uint32(701174007), cksum([]byte("ok")))
}

func TestShqRoundTrips(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	values := []string{"", "plain", "it's", `$(id) ` + "`id`" + ` "x" \n`, "a\nb\tc", "\xff\xfe\x80", "\x01\x1b\x7f", "😀é", "'", `\`, `\'`}
	for _, v := range values {
		out, err := exec.Command(bash, "-c", "printf '%s' "+shq(v)).Output()
		require.NoError(t, err, "%q", v)
		assert.Equal(t, v, string(out), "%q -> %s", v, shq(v))
	}
}

func TestParseReportRefusesForgedOrCutRecords(t *testing.T) {
	rec := "@@shellpool-rec:n1 st=done rc=0 to=0 t0=- t1=- om=i ol=2 ok=701174007 on=shellpool-proc-x.out em=n el=0 ek=0 en=-"
	r, ok := parseReport("ok\n"+rec+"\n", "", "n1")
	require.True(t, ok)
	assert.Equal(t, "ok", string(r.out.inline))
	// Another nonce (a command printing a record of its own) is not a record.
	_, ok = parseReport("ok\n"+rec+"\n", "", "n2")
	assert.False(t, ok)
	// A record cut before its newline is not trusted.
	_, ok = parseReport("ok\n"+rec, "", "n1")
	assert.False(t, ok)
	// Content that does not match the checksum is not kept inline.
	r, ok = parseReport("oK\n"+rec+"\n", "", "n1")
	require.True(t, ok)
	assert.Nil(t, r.out.inline)
	// A lost stdout record is read from stderr, and the content verified.
	r, ok = parseReport("ok\n", "\n"+rec+"\n", "n1")
	require.True(t, ok)
	assert.Equal(t, "ok", string(r.out.inline))
}
