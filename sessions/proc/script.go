package proc

import (
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/shellpool/shellpool/internal/report"
)

// wrapperSource is the bash of the session side, commented; see wrapper.sh.
//
//go:embed wrapper.sh
var wrapperSource string

// wrapperBody is wrapperSource as sent: without comment lines and
// indentation (the script has no here-documents or multi-line strings, so
// this changes nothing it does).
var wrapperBody = strip(wrapperSource)

// strip drops comment lines, blank lines and indentation.
func strip(src string) string {
	var b strings.Builder
	for line := range strings.SplitSeq(src, "\n") {
		line = strings.TrimLeft(line, " \t")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}

// wrapperFunc is one function of the wrapper, as sent.
type wrapperFunc struct {
	name string
	body string   // "name() {" to "}", stripped
	uses []string // the other functions its body names
}

// wrapperParts splits wrapperSource into the top-level code that every
// request runs and its functions (each from a line "name() {" to the next
// line "}" in column 0), in the file's order.
var wrapperTop, wrapperFuncs = func() (string, []wrapperFunc) {
	var top strings.Builder
	var funcs []wrapperFunc
	var cur *strings.Builder
	name := ""
	for line := range strings.SplitSeq(wrapperSource, "\n") {
		if cur == nil {
			if n, ok := strings.CutSuffix(line, "() {"); ok && isName(n) {
				cur, name = &strings.Builder{}, n
			} else {
				top.WriteString(line + "\n")
				continue
			}
		}
		cur.WriteString(line + "\n")
		if line == "}" {
			funcs = append(funcs, wrapperFunc{name: name, body: strip(cur.String())})
			cur = nil
		}
	}
	for i := range funcs {
		for j := range funcs {
			if i != j && namesWord(funcs[i].body, funcs[j].name) {
				funcs[i].uses = append(funcs[i].uses, funcs[j].name)
			}
		}
	}
	return strip(top.String()), funcs
}()

// isName reports whether s is a bash function name of the wrapper's kind.
func isName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '_' && (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return s != ""
}

// namesWord reports whether name stands in body as a whole word.
func namesWord(body, name string) bool {
	word := func(c byte) bool {
		return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
	}
	for i := 0; ; {
		j := strings.Index(body[i:], name)
		if j < 0 {
			return false
		}
		j += i
		k := j + len(name)
		if (j == 0 || !word(body[j-1])) && (k == len(body) || !word(body[k])) {
			return true
		}
		i = j + 1
	}
}

// wrapperFor returns what a request whose call starts with entry sends of
// the wrapper: the top-level code and only the functions entry needs
// (itself and those it names, transitively), so that bash parses no more
// than it runs; parsing is a good part of a short request's cost.
func wrapperFor(entry string) string {
	var b strings.Builder
	b.WriteString(wrapperTop)
	for _, i := range needs(entry) {
		b.WriteString(wrapperFuncs[i].body)
	}
	return b.String()
}

// needs returns the indexes in wrapperFuncs of entry and the functions it
// names, transitively, in the file's order.
func needs(entry string) []int {
	if v, ok := wrapperCache.Load(entry); ok {
		return v.([]int)
	}
	need := map[string]bool{}
	var visit func(string)
	visit = func(n string) {
		if need[n] {
			return
		}
		for _, f := range wrapperFuncs {
			if f.name == n {
				need[n] = true
				for _, u := range f.uses {
					visit(u)
				}
			}
		}
	}
	visit(entry)
	var idx []int
	for i, f := range wrapperFuncs {
		if need[f.name] {
			idx = append(idx, i)
		}
	}
	v, _ := wrapperCache.LoadOrStore(entry, idx)
	return v.([]int)
}

var wrapperCache sync.Map

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

// shq quotes s as one bash word that expands to exactly s (report.Quote).
func shq(s string) string { return report.Quote(s) }

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

// script assembles a request: the prologue, the wrapper's top-level code,
// then for each call the functions it needs that were not sent yet and the
// call. Bash reads and runs a script one command at a time, so a call runs
// before the functions after it are even parsed.
func script(prologue string, calls ...string) string {
	var b strings.Builder
	b.WriteString(prologue)
	b.WriteString(wrapperTop)
	sent := make([]bool, len(wrapperFuncs))
	for _, call := range calls {
		entry, _, _ := strings.Cut(call, " ")
		for _, i := range needs(entry) {
			if !sent[i] {
				sent[i] = true
				b.WriteString(wrapperFuncs[i].body)
			}
		}
		b.WriteString(call)
		b.WriteByte('\n')
	}
	return b.String()
}

// runCalls are the calls of the request that starts a command: run_start
// starts it, then main_run (sent after it) waits up to wait and reports
// from the offsets.
func runCalls(wait string, oo, eo int64) []string {
	return []string{"run_start " + wait, fmt.Sprintf("main_run %s %d %d", wait, oo, eo)}
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

// parseRecord parses a record line.
func parseRecord(line string) (record, bool) {
	var r record
	kv, ok := report.Fields(line)
	if !ok {
		return r, false
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
	m, l, k, ok := report.ParseSegment(mode, length, sum, name, FilePrefix)
	return segment{mode: m, length: l, sum: k, name: name}, ok
}

// parseReport reads a report from an execution's stdout and stderr. The
// record may arrive on either stream (a final write can be lost); inline
// content is kept only when its length and cksum match. ok is false when
// neither stream carried a whole record.
func parseReport(stdout, stderr, nonce string) (rec record, ok bool) {
	line, outContent, errContent, okOut, okErr, found := report.Locate(stdout, stderr, recordTag+nonce)
	if !found {
		return record{}, false
	}
	if rec, ok = parseRecord(line); !ok {
		return record{}, false
	}
	verify := func(s *segment, content string, hadRecord bool) {
		if s.mode == 'i' {
			s.inline = report.Verify(content, hadRecord, s.length, s.sum)
		}
	}
	verify(&rec.out, outContent, okOut)
	verify(&rec.err, errContent, okErr)
	return rec, true
}
