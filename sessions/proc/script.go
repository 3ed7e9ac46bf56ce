package proc

import (
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// wrapperSource is the bash of the session side, commented; see wrapper.sh.
//
//go:embed wrapper.sh
var wrapperSource string

// wrapperBody is wrapperSource as sent: without comment lines and
// indentation (the script has no here-documents or multi-line strings, so
// this changes nothing it does).
var wrapperBody = func() string {
	var b strings.Builder
	for line := range strings.SplitSeq(wrapperSource, "\n") {
		line = strings.TrimLeft(line, " \t")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}()

// FilePrefix is the prefix of the files a process keeps in the session's
// file root (/mnt/data): FilePrefix + process ID + "." + a kind such as
// "out". Do not create files with this prefix yourself.
const FilePrefix = "shellpool-proc-"

// inlineBudget is the most content of one stream a report prints inline:
// the service cuts each stream at 4,096 bytes, and the record line needs
// room after the content.
const inlineBudget = 3584

// recordTag starts every record line, followed by a per-request nonce.
const recordTag = "@@shellpool-rec:"

// newHexID returns n random bytes as lower-case hex.
func newHexID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand panics on its own failure)
	return hex.EncodeToString(b)
}

// validID reports whether id has the form of a process ID (24 lower-case
// hex digits), which makes it safe to splice into a script.
func validID(id string) bool {
	if len(id) != 24 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// shq quotes s as one bash word that expands to exactly s. s must not hold
// a NUL byte (bash cannot). Valid UTF-8 without control characters other
// than tab and newline is single-quoted as is; anything else uses $'...'
// with \xHH escapes, so that the JSON request never carries invalid UTF-8.
func shq(s string) string {
	plain := utf8.ValidString(s)
	if plain {
		for i := 0; i < len(s); i++ {
			if c := s[i]; (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f {
				plain = false
				break
			}
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

// shArray is a bash array literal of words.
func shArray(words []string) string {
	var b strings.Builder
	b.WriteString("(")
	for i, w := range words {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(shq(w))
	}
	b.WriteString(")")
	return b.String()
}

// header is the prologue every script starts with.
func header(id, nonce string, keep int, ib int, rm []string) string {
	return "ID=" + id + "\nN=" + nonce + "\nKEEP=" + strconv.Itoa(keep) + "\nIB=" + strconv.Itoa(ib) + "\nRM=" + shArray(rm) + "\n"
}

// script assembles a request: prologue, the wrapper's functions, a call.
func script(prologue, call string) string {
	return prologue + wrapperBody + call + "\n"
}

// procState is a process's state in a record.
type procState string

const (
	stateRunning  procState = "running"
	stateDone     procState = "done"
	stateLost     procState = "lost"     // the supervisor died without a record
	stateUnknown  procState = "unknown"  // no such process (never started, or its files are gone)
	stateNoDir    procState = "nodir"    // Cmd.Dir could not be entered
	stateReleased procState = "released" // Release removed the files
	stateGone     procState = "gone"     // only Release's tombstone is left
)

// segment says how one stream's requested content is delivered.
type segment struct {
	mode   byte   // 'n' nothing new, 'i' inline, 'd' download name
	length int64  // bytes of content; -1: a whole finished stream, to EOF
	sum    uint32 // cksum of inline content
	name   string // the file holding the content (bare name), "-" for none
	inline []byte // the content that arrived inline, verified
}

// record is a parsed report.
type record struct {
	state     procState
	exitCode  int
	timedOut  bool
	waitDelay bool    // WaitDelay expired with writers left
	t0, t1    float64 // EPOCHREALTIME of start and end, 0 when unknown
	out, err  segment
}

// findRecord splits stream into content and the record line tagged tag.
func findRecord(stream, tag string) (content string, line string, ok bool) {
	i := strings.LastIndex(stream, "\n"+tag+" ")
	if i < 0 {
		return stream, "", false
	}
	rest := stream[i+1:]
	j := strings.IndexByte(rest, '\n')
	if j < 0 {
		return stream, "", false // the line itself was cut
	}
	return stream[:i], rest[:j], true
}

// parseRecord parses a record line.
func parseRecord(line string) (record, bool) {
	var r record
	fields := strings.Fields(line)
	if len(fields) < 2 {
		return r, false
	}
	kv := map[string]string{}
	for _, f := range fields[1:] {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return r, false
		}
		kv[k] = v
	}
	r.state = procState(kv["st"])
	switch r.state {
	case stateReleased:
		return r, true
	case stateRunning, stateDone, stateLost, stateUnknown, stateNoDir, stateGone:
	default:
		return r, false
	}
	if _, ok := kv["om"]; !ok && r.state == stateRunning {
		return r, true // a release's answer
	}
	if r.state == stateDone {
		n, err := strconv.Atoi(kv["rc"])
		if err != nil {
			return r, false
		}
		r.exitCode = n
	}
	r.timedOut = kv["to"] == "1"
	r.waitDelay = kv["wd"] == "1"
	r.t0, _ = strconv.ParseFloat(kv["t0"], 64)
	r.t1, _ = strconv.ParseFloat(kv["t1"], 64)
	var ok1, ok2 bool
	r.out, ok1 = parseSegment(kv["om"], kv["ol"], kv["ok"], kv["on"])
	r.err, ok2 = parseSegment(kv["em"], kv["el"], kv["ek"], kv["en"])
	return r, ok1 && ok2
}

func parseSegment(mode, length, sum, name string) (segment, bool) {
	if len(mode) != 1 || (mode[0] != 'n' && mode[0] != 'i' && mode[0] != 'd') {
		return segment{}, false
	}
	l, err := strconv.ParseInt(length, 10, 64)
	if err != nil || l < -1 || (l == -1 && mode != "d") {
		return segment{}, false
	}
	k, err := strconv.ParseUint(sum, 10, 32)
	if err != nil {
		return segment{}, false
	}
	if name != "-" && !strings.HasPrefix(name, FilePrefix) {
		return segment{}, false
	}
	if mode[0] != 'n' && name == "-" {
		return segment{}, false
	}
	return segment{mode: mode[0], length: l, sum: uint32(k), name: name}, true
}

// parseReport reads a report from an execution's stdout and stderr. The
// record may arrive on either stream (a final write can be lost); inline
// content is kept only when its length and cksum match. ok is false when
// neither stream carried a whole record.
func parseReport(stdout, stderr, nonce string) (rec record, ok bool) {
	tag := recordTag + nonce
	outContent, outLine, okOut := findRecord(stdout, tag)
	errContent, errLine, okErr := findRecord(stderr, tag)
	switch {
	case okOut:
		rec, ok = parseRecord(outLine)
	case okErr:
		rec, ok = parseRecord(errLine)
	}
	if !ok {
		return record{}, false
	}
	verify := func(s *segment, content string, hadRecord bool) {
		if s.mode != 'i' {
			return
		}
		if int64(len(content)) == s.length && cksum([]byte(content)) == s.sum {
			s.inline = []byte(content)
			return
		}
		// The record line was lost from this stream: the newline printed
		// before it may still be there.
		if c, ok := strings.CutSuffix(content, "\n"); !hadRecord && ok && int64(len(c)) == s.length && cksum([]byte(c)) == s.sum {
			s.inline = []byte(c)
		}
	}
	verify(&rec.out, outContent, okOut)
	verify(&rec.err, errContent, okErr)
	return rec, true
}

// crcTable is the table of the POSIX cksum CRC (polynomial 0x04C11DB7,
// most significant bit first).
var crcTable = func() (t [256]uint32) {
	for i := range t {
		c := uint32(i) << 24
		for j := 0; j < 8; j++ {
			if c&0x80000000 != 0 {
				c = c<<1 ^ 0x04C11DB7
			} else {
				c <<= 1
			}
		}
		t[i] = c
	}
	return t
}()

// cksum is the checksum POSIX cksum prints for b.
func cksum(b []byte) uint32 {
	var c uint32
	for _, x := range b {
		c = c<<8 ^ crcTable[byte(c>>24)^x]
	}
	for n := len(b); n > 0; n >>= 8 {
		c = c<<8 ^ crcTable[byte(c>>24)^byte(n)]
	}
	return ^c
}
