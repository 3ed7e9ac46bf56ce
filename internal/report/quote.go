package report

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Quote quotes s as one bash word that expands to exactly s, for the
// scripts sessions/proc and sessions/shell send. s must not hold a NUL byte
// (bash cannot). Valid UTF-8 without control characters other than tab and
// newline is single-quoted as is; anything else becomes $'...' with \xHH
// escapes, so that the JSON request never carries invalid UTF-8 (which a
// JSON encoder would replace).
func Quote(s string) string {
	plain := utf8.ValidString(s)
	for i := 0; plain && i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f {
			plain = false
		}
	}
	if plain {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	var b strings.Builder
	b.Grow(len(s)*2 + 3)
	b.WriteString("$'")
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' || c == '\'':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c >= 0x20 && c < 0x7f:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, `\x%02x`, c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}
