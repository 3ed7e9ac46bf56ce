package shell

import (
	"crypto/rand"
	"encoding/hex"
	"strings"

	"github.com/shellpool/shellpool/internal/report"
	"github.com/shellpool/shellpool/internal/sdkerr"
)

// filePrefix starts the name of every file this package keeps in a
// session's file root: shells use filePrefix+"sh-"+ID, archives
// filePrefix+"dir-"+nonce.
const filePrefix = "shellpool-"

// rootLine sets F to the directory the files API serves: $SHELLPOOL_FILES_ROOT
// where the session sets it (the emulator in sessions/sessionstest does),
// else /mnt/data (live pools), else the working directory. Files this
// package creates there can be moved with the files API under their bare
// names, which live pools require (their file store is flat).
const rootLine = `F=${SHELLPOOL_FILES_ROOT:-/mnt/data}; [ -d "$F" ] || F=$PWD` + "\n"

// newHex returns n random bytes as lower-case hex.
func newHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("shell: crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b)
}

// isHex reports whether s is n lower-case hex digits, which makes it safe to
// splice into a script and a file name.
func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// shq quotes s as one bash word that expands to exactly s (report.Quote).
func shq(s string) string { return report.Quote(s) }

// argError returns an *sdkerr.ArgumentError of this package; it matches
// sessions.ErrInvalidArgument.
func argError(name, reason string) error { return sdkerr.NewArgument("shell", name, reason) }

// checkSessionPath refuses a session path that bash cannot carry.
func checkSessionPath(name, p string) error {
	switch {
	case p == "":
		return argError(name, "is empty; name a directory in the session, such as \"work\" (relative to /mnt/data) or \"/tmp/work\"")
	case strings.IndexByte(p, 0) >= 0:
		return argError(name, "contains a NUL byte, which no path can hold")
	}
	return nil
}

// dirLine sets D to the session directory p: a relative p is relative to
// the file root $F.
func dirLine(p string) string {
	return "D=" + shq(p) + "; case $D in /*) ;; *) D=\"$F/$D\";; esac\n"
}
