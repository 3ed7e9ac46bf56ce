package armemu

import (
	"bytes"
	"fmt"
)

// jsoncToJSON turns the relaxed JSON ARM accepts in deployment bodies into
// strict JSON: // and /* */ comments are dropped, bare identifier object keys
// (the Azure CLI sends `template:` unquoted, followed by the template file as
// written, comments included) are quoted, and trailing commas before } or ]
// are removed. Strings are copied untouched.
func jsoncToJSON(in []byte) ([]byte, error) {
	var out bytes.Buffer
	out.Grow(len(in) + 16)
	for i := 0; i < len(in); {
		c := in[i]
		switch {
		case c == '"':
			j := i + 1
			for ; j < len(in); j++ {
				if in[j] == '\\' {
					j++
					continue
				}
				if in[j] == '"' {
					break
				}
			}
			if j >= len(in) {
				return nil, fmt.Errorf("unterminated string at offset %d", i)
			}
			out.Write(in[i : j+1])
			i = j + 1
		case c == '/' && i+1 < len(in) && in[i+1] == '/':
			for i < len(in) && in[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(in) && in[i+1] == '*':
			end := bytes.Index(in[i+2:], []byte("*/"))
			if end < 0 {
				return nil, fmt.Errorf("unterminated /* comment at offset %d", i)
			}
			out.WriteByte(' ')
			i += end + 4
		case c == ',':
			// Drop the comma when only whitespace and comments precede } or ].
			j := skipSpaceAndComments(in, i+1)
			if j < len(in) && (in[j] == '}' || in[j] == ']') {
				i++
				continue
			}
			out.WriteByte(c)
			i++
		case isIdentStart(c):
			j := i
			for j < len(in) && isIdentPart(in[j]) {
				j++
			}
			word := in[i:j]
			k := skipSpaceAndComments(in, j)
			if k < len(in) && in[k] == ':' {
				out.WriteByte('"')
				out.Write(word)
				out.WriteByte('"')
			} else {
				out.Write(word) // true, false, null, numbers' exponents
			}
			i = j
		default:
			out.WriteByte(c)
			i++
		}
	}
	return out.Bytes(), nil
}

func skipSpaceAndComments(in []byte, i int) int {
	for i < len(in) {
		switch {
		case in[i] == ' ' || in[i] == '\t' || in[i] == '\n' || in[i] == '\r':
			i++
		case in[i] == '/' && i+1 < len(in) && in[i+1] == '/':
			for i < len(in) && in[i] != '\n' {
				i++
			}
		case in[i] == '/' && i+1 < len(in) && in[i+1] == '*':
			end := bytes.Index(in[i+2:], []byte("*/"))
			if end < 0 {
				return len(in)
			}
			i += end + 4
		default:
			return i
		}
	}
	return i
}

func isIdentStart(c byte) bool {
	return c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isIdentPart(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }
