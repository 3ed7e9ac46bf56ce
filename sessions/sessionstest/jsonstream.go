package sessionstest

import (
	"bufio"
	"net/http"
	"strconv"
	"unicode/utf8"
)

// writeExecJSON writes an execution resource without building it in memory
// first: stdout and stderr (up to 16 MiB each) are escaped straight into a
// small buffered writer, so answering costs about nothing beyond the output
// itself.
func writeExecJSON(w http.ResponseWriter, status int, e *execResource) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	size := 256 + len(e.ID) + len(e.Identifier)
	if e.Result != nil {
		size += len(e.Result.Stdout) + len(e.Result.Stderr)
	}
	bw := bufio.NewWriterSize(w, min(size, 16<<10))
	bw.WriteString(`{"id":`)
	writeJSONString(bw, e.ID)
	bw.WriteString(`,"identifier":`)
	writeJSONString(bw, e.Identifier)
	if e.ExecutionType != "" {
		bw.WriteString(`,"executionType":`)
		writeJSONString(bw, e.ExecutionType)
	}
	bw.WriteString(`,"status":`)
	writeJSONString(bw, e.Status)
	if r := e.Result; r != nil {
		bw.WriteString(`,"result":{"stdout":`)
		writeJSONString(bw, r.Stdout)
		bw.WriteString(`,"stderr":`)
		writeJSONString(bw, r.Stderr)
		bw.WriteString(`,"executionTimeInMilliseconds":`)
		bw.WriteString(strconv.FormatInt(r.ExecutionTimeInMilliseconds, 10))
		bw.WriteByte('}')
	}
	if er := e.Error; er != nil {
		bw.WriteString(`,"error":{"code":`)
		writeJSONString(bw, er.Code)
		bw.WriteString(`,"message":`)
		writeJSONString(bw, er.Message)
		bw.WriteByte('}')
	}
	bw.WriteString("}\n")
	_ = bw.Flush()
}

const hexDigits = "0123456789abcdef"

// writeJSONString writes s as a JSON string, as encoding/json does without
// HTML escaping: invalid UTF-8 becomes U+FFFD, control characters and
// U+2028/U+2029 are escaped.
func writeJSONString(bw *bufio.Writer, s string) {
	bw.WriteByte('"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			bw.WriteString(s[start:i])
			switch c {
			case '"', '\\':
				bw.WriteByte('\\')
				bw.WriteByte(c)
			case '\n':
				bw.WriteString(`\n`)
			case '\r':
				bw.WriteString(`\r`)
			case '\t':
				bw.WriteString(`\t`)
			default:
				bw.WriteString(`\u00`)
				bw.WriteByte(hexDigits[c>>4])
				bw.WriteByte(hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			bw.WriteString(s[start:i])
			bw.WriteString(`\ufffd`)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			bw.WriteString(s[start:i])
			bw.WriteString(`\u202`)
			bw.WriteByte(hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	bw.WriteString(s[start:])
	bw.WriteByte('"')
}
