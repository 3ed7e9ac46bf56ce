package shell

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/internal/report"
)

// A report survives a lost final write on stdout and rejects content that
// was cut or changed, so that the caller downloads it instead.
func TestParseReport(t *testing.T) {
	const nonce = "n1"
	out, errs := "hello\n", "oops"
	line := fmt.Sprintf("%s%s st=done rc=3 to=0 x=- sd=1 om=i ol=%d ok=%d on=%s em=i el=%d ek=%d en=%s",
		recordTag, nonce, len(out), report.Cksum([]byte(out)), "shellpool-sh-x.c.out", len(errs), report.Cksum([]byte(errs)), "shellpool-sh-x.c.err")
	full := func(content string) string { return content + "\n" + line + "\n" }

	rec, ok := parseReport(full(out), full(errs), nonce)
	require.True(t, ok)
	assert.Equal(t, "done", rec.state)
	assert.Equal(t, 3, rec.exitCode)
	assert.Equal(t, out, string(rec.out.inline))
	assert.Equal(t, errs, string(rec.err.inline))

	// stdout lost its final write (the record line): stderr's record serves.
	rec, ok = parseReport(out+"\n", full(errs), nonce)
	require.True(t, ok)
	assert.Equal(t, out, string(rec.out.inline))

	// Content cut or changed is not kept inline: the caller downloads it.
	rec, ok = parseReport(full("hel"), full("oopz"), nonce)
	require.True(t, ok)
	assert.Nil(t, rec.out.inline)
	assert.Nil(t, rec.err.inline)
	assert.Equal(t, "shellpool-sh-x.c.out", rec.out.name)

	// No whole record on either stream, another nonce, or a bad field.
	_, ok = parseReport(out, errs, nonce)
	assert.False(t, ok)
	_, ok = parseReport(full(out), full(errs), "other")
	assert.False(t, ok)
	_, ok = parseReport("\n"+recordTag+nonce+" st=done rc=x\n", "", nonce)
	assert.False(t, ok)
	_, ok = parseReport("\n"+recordTag+nonce+" st=done rc=0 om=d ol=5 ok=0 on=/etc/passwd em=n el=0 ek=0 en=-\n", "", nonce)
	assert.False(t, ok, "a download name outside the shell's files is refused")
}
