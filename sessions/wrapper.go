package sessions

// The process layer's bash scripts and the parsing of what they report.
//
// Every process has an ID (24 hex digits) and files named
// ProcessFilePrefix+ID+"."+kind in the session's file root (/mnt/data, or
// $SHELLPOOL_FILES_ROOT where the session sets it, as the emulator does; see
// filesRootLine):
//
//	.out .err  the command's stdout and stderr, exactly as written
//	.in        its stdin (written by the wrapper, or uploaded when large)
//	.sh .def   an uploaded script / definition (large commands only)
//	.pid       "PGID SUPERVISOR-PID", written once the command started
//	.rc        the completion record "EXIT TIMEDOUT T0 T1 end"
//	.to .kill  markers: the timeout fired / a kill was requested
//	.nodir     Command.Dir could not be entered
//	.c<nonce>  a copy of new output for one read
//
// The wrapper (one execution) starts a supervisor in the background, which
// runs the command in its own process group with stdio on those files, and
// waits up to a bound for it; then it reports. A report is the inline
// content of each stream that fits under the service's 4,096-byte cap,
// followed on both stdout and stderr by a record line naming sizes and
// checksums (POSIX cksum), so that a cut, a mangled byte or a lost final
// write is detected; whatever does not fit or does not verify is fetched
// with DownloadFile. Polls, kills and clean-ups are separate, idempotent
// executions.
//
// The scripts need bash (4.3 or later: process substitution, read -t with
// fractions, $BASHPID; $EPOCHREALTIME from 5.0 for Duration) and the POSIX
// tools cat, wc, tail -c, cksum and rm. They do not use timeout, setsid,
// sleep or ps: timeouts and waits are bash's read -t on a pipe that never
// delivers, process groups come from bash job control (set -m).

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ProcessFilePrefix is the prefix of the files that Run and Start create in
// the session's file root (/mnt/data): ProcessFilePrefix + process ID + "." +
// a kind such as "out". They are deleted once their result has been read,
// by a later Run, Start or read in the session, in the same request: the
// next one after a result that needed a download, else the one that finds
// eight small results waiting; all of them go with the session when it is
// deleted (SessionClient.Close). Do not create files with this prefix yourself.
const ProcessFilePrefix = "shellpool-proc-"

// inlineBudget is the most content of one stream a report prints inline:
// the service cuts each stream at 4,096 bytes, and the record line needs
// room after the content.
const inlineBudget = 3584

// recordTag starts every record line, followed by a per-request nonce.
const recordTag = "@@shellpool-rec:"

// newHexID returns n random bytes as lower-case hex.
func newHexID(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("sessions: crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b)
}

// validProcessID reports whether id has the form of a process ID (24
// lower-case hex digits), which makes it safe to splice into a script.
func validProcessID(id string) bool {
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
// with \xHH escapes, so that the JSON request never has to carry invalid
// UTF-8.
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

// filesRootLine sets F to the directory the files API serves: the one
// named by $SHELLPOOL_FILES_ROOT when the session sets it (the emulator
// does: its session directory, the working directory of every command),
// else /mnt/data (live pools). It never guesses from the host: an emulator
// on a machine with its own /mnt/data still keeps its files in the
// session's directory. Without either, F is the working directory, and
// the files API will not find the files (ErrProcessNotFound).
const filesRootLine = "F=${SHELLPOOL_FILES_ROOT:-/mnt/data}; [ -d \"$F\" ] || F=$PWD\n"

// scriptHeader sets F (the file root) and P (the process's file stem).
func scriptHeader(id string) string {
	return filesRootLine + "P=\"$F/" + ProcessFilePrefix + id + "\"\n"
}

// cleanupLine removes every file of the processes ids and the single files
// names (bare names made by this layer). ids and names are validated.
func cleanupLine(ids, names []string) string {
	if len(ids) == 0 && len(names) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("rm -f --")
	for _, id := range ids {
		b.WriteString(" \"$F\"/" + ProcessFilePrefix + id + ".*")
	}
	for _, n := range names {
		b.WriteString(" \"$F\"/" + n)
	}
	b.WriteString(" 2>/dev/null\n")
	return b.String()
}

// reportFunc is the bash that reports on the process at stem $P. Call
// `rep OOFF EOFF` (an offset of -1 skips the stream, -2 reports it from
// the start once the process is done); it needs $M (the
// record tag with nonce) and $N (a nonce for chunk names).
const reportFunc = `nap() { [ -e /dev/fd/9 ] || exec 9<>/dev/ptmx 2>/dev/null || exec 9<> <(:); read -r -t "$1" -u 9 _; }
seg() {
  local f=$1 off=$2 done=$3 src c
  S_m=n S_l=0 S_k=0 S_n=-
  if [ "$off" = -2 ]; then [ "$done" = 1 ] || return 0; off=0; fi
  [ "$off" -ge 0 ] || return 0
  if [ "$done" = 1 ] && [ "$off" = 0 ]; then src=$f
  else
    [ -e "$f" ] || return 0
    c="$P.c$N$4"; tail -c "+$((off+1))" -- "$f" > "$c" 2>/dev/null || { rm -f -- "$c"; return 0; }; src=$c
  fi
  [ -s "$src" ] || { [ -n "$c" ] && rm -f -- "$c"; return 0; }
  S_n=${src##*/} S_v=
  IFS= read -r -d '' -N ` + "INLINE1" + ` S_v < "$src"
  if [ "${#S_v}" -le ` + "INLINE" + ` ]; then set -- $(cksum < "$src"); S_k=$1 S_l=$2 S_m=i
    [ "$S_l" -le ` + "INLINE" + ` ] || S_m=d
  elif [ "$src" = "$f" ]; then S_l=-1 S_m=d
  else S_l=$(wc -c < "$src"); S_l=$((S_l)) S_m=d; fi
}
# put NAME LENGTH prints an inline stream, from S_v when it holds every byte.
put() { if [ "${#S_v}" = "$2" ]; then printf '%s' "$S_v"; else cat -- "$F/$1"; fi; }
rep() {
  local st=running rc=- to=0 t0=- t1=- e x pg sp
  if [ -e "$P.rc" ]; then read -r rc to t0 t1 e < "$P.rc"; [ "$e" = end ] && st=done; fi
  if [ -e "$P.nodir" ]; then st=nodir
  elif [ "$st" != done ]; then
    if [ -e "$P.pid" ]; then
      read -r pg sp < "$P.pid"
      if ! kill -0 "$sp" 2>/dev/null; then
        nap 0.05; rc=-; [ -e "$P.rc" ] && read -r rc to t0 t1 e < "$P.rc"
        if [ "$e" = end ]; then st=done; else st=lost; fi
      fi
    else st=unknown
    fi
  fi
  x=0; [ "$st" = done ] && x=1
  LC_ALL=C
  seg "$P.out" "$1" $x o; local om=$S_m ol=$S_l ok=$S_k on=$S_n ov=$S_v
  seg "$P.err" "$2" $x e; local em=$S_m el=$S_l ek=$S_k en=$S_n ev=$S_v
  S_v=$ov; [ "$om" = i ] && put "$on" "$ol"
  S_v=$ev; [ "$em" = i ] && put "$en" "$el" >&2
  local r="$M st=$st rc=$rc to=$to t0=$t0 t1=$t1 om=$om ol=$ol ok=$ok on=$on em=$em el=$el ek=$ek en=$en"
  printf '\n%s\n' "$r"
  printf '\n%s\n' "$r" >&2
}
waitfor() {
  local lim=$1 oo=$2 eo=$3 d=1 s sp
  while [ ! -e "$P.rc" ]; do
    if [ "$oo" -ge 0 ] && [ -s "$P.out" ]; then s=$(wc -c < "$P.out"); [ $((s)) -gt "$oo" ] && break; fi
    if [ "$eo" -ge 0 ] && [ -s "$P.err" ]; then s=$(wc -c < "$P.err"); [ $((s)) -gt "$eo" ] && break; fi
    [ -e "$P.pid" ] || break
    read -r s sp < "$P.pid"; kill -0 "$sp" 2>/dev/null || break
    [ "$lim" -gt 0 ] || break
    case $d in 1) nap 0.01; d=2;; 2) nap 0.02; d=5;; 5) nap 0.05; d=10;; 10) nap 0.1; d=20;; *) nap 0.2;; esac
    lim=$((lim-d))
  done
}
`

// reportFuncText is reportFunc with the inline budget filled in.
var reportFuncText = strings.NewReplacer("INLINE1", strconv.Itoa(inlineBudget+1), "INLINE", strconv.Itoa(inlineBudget)).Replace(reportFunc)

// jobSpec is what the supervisor runs, already quoted for bash.
type jobSpec struct {
	env       []string // "NAME=value" pairs, validated
	dir       string
	shell     string   // inline script, or ""
	args      []string // argv, or nil
	scriptRef bool     // the script was uploaded as $P.sh
	defRef    bool     // env/dir/args were uploaded as $P.def
	stdin     string   // inline stdin ("" = none unless stdinRef)
	stdinRef  bool     // stdin was uploaded as $P.in
	timeout   float64  // seconds; 0 = none
}

// definition is the bash assigning E (env), D (dir) and A (argv) or S
// (script).
func (j jobSpec) definition() string {
	var b strings.Builder
	b.WriteString("E=(")
	for _, kv := range j.env {
		b.WriteString(" " + shq(kv))
	}
	b.WriteString(" )\nD=" + shq(j.dir) + "\n")
	if j.args != nil {
		b.WriteString("A=(")
		for _, a := range j.args {
			b.WriteString(" " + shq(a))
		}
		b.WriteString(" )\n")
	} else if !j.scriptRef {
		b.WriteString("S=" + shq(j.shell) + "\n")
	}
	return b.String()
}

// wrapperScript starts the job under a supervisor and reports after it
// finished or after wait seconds. cleanIDs/cleanNames are removed first.
func wrapperScript(id, nonce string, j jobSpec, wait float64, cleanIDs, cleanNames []string, reportFrom int64) string {
	var b strings.Builder
	b.WriteString(scriptHeader(id))
	b.WriteString(cleanupLine(cleanIDs, cleanNames))
	b.WriteString("M=" + recordTag + nonce + "\nN=" + nonce + "\n")
	if j.defRef {
		b.WriteString(". \"$P.def\"\n")
	} else {
		b.WriteString(j.definition())
	}
	in := "/dev/null"
	if j.stdinRef {
		in = "$P.in"
	} else if j.stdin != "" {
		b.WriteString("IN=" + shq(j.stdin) + "\nprintf '%s' \"$IN\" > \"$P.in\"\n")
		in = "$P.in"
	}
	run := `exec "$BASH" -c "$S" bash`
	switch {
	case j.args != nil:
		run = `exec -- "${A[@]}"`
	case j.scriptRef:
		run = `exec "$BASH" -- "$P.sh"`
	}
	b.WriteString(reportFuncText)
	b.WriteString(`sup() {
  set -m
  ( if [ -n "$D" ]; then cd -- "$D" || { : > "$P.nodir"; exit 126; }; fi
    [ ${#E[@]} -eq 0 ] || export "${E[@]}"
    ` + run + ` ) < "` + in + `" > "$P.out" 2> "$P.err" &
  local pg=$! wd= rc to=0 t0=$EPOCHREALTIME
`)
	if j.timeout > 0 {
		fmt.Fprintf(&b, "  ( nap %.3f; : > \"$P.to\"; kill -TERM -- -$pg; nap 2; kill -KILL -- -$pg ) </dev/null >/dev/null 2>&1 &\n  wd=$!\n", j.timeout)
	}
	b.WriteString(`  echo "$pg $BASHPID" > "$P.pid"
  [ -e "$P.kill" ] && kill -KILL -- -$pg
  echo s
  wait $pg; rc=$?
  local t1=$EPOCHREALTIME
  [ -n "$wd" ] && kill -KILL -- -$wd 2>/dev/null
  [ -e "$P.to" ] && { to=1; rc=124; }
  printf '%s %s %s %s end\n' "$rc" "$to" "${t0:--}" "${t1:--}" > "$P.rc"
}
exec 3< <(exec </dev/null 2>/dev/null; sup)
read -r -t 10 -u 3 _
`)
	if wait > 0 {
		fmt.Fprintf(&b, "read -r -t %.3f -u 3 _\n", wait)
	}
	fmt.Fprintf(&b, "exec 3<&-\nrep %d %d\n", reportFrom, reportFrom)
	return b.String()
}

// pollScript reports on process id from the offsets (-1 skips a stream),
// after waiting up to wait seconds for new output on a watched stream or
// for the end. It is idempotent.
func pollScript(id, nonce string, outOff, errOff int64, wait float64, cleanIDs, cleanNames []string) string {
	var b strings.Builder
	b.WriteString(scriptHeader(id))
	b.WriteString(cleanupLine(cleanIDs, cleanNames))
	b.WriteString("M=" + recordTag + nonce + "\nN=" + nonce + "\n")
	b.WriteString(reportFuncText)
	fmt.Fprintf(&b, "waitfor %d %d %d\n", int(wait*100), outOff, errOff)
	if wait > 0 {
		// Let a burst of output settle into one read.
		b.WriteString("[ -e \"$P.rc\" ] || nap 0.02\n")
	}
	fmt.Fprintf(&b, "rep %d %d\n", outOff, errOff)
	return b.String()
}

// killScript kills the process group of id (or stops it from starting) and
// waits up to 3 s for the supervisor to record the end.
func killScript(id, nonce string) string {
	var b strings.Builder
	b.WriteString(scriptHeader(id))
	b.WriteString("M=" + recordTag + nonce + "\nN=" + nonce + "\n")
	b.WriteString(reportFuncText)
	b.WriteString(`if [ ! -e "$P.rc" ]; then
  : > "$P.kill"
  if [ -e "$P.pid" ]; then read -r pg sp < "$P.pid"; kill -KILL -- -"$pg" 2>/dev/null; fi
  n=0; while [ -e "$P.pid" ] && [ ! -e "$P.rc" ] && [ $n -lt 300 ]; do nap 0.01; n=$((n+1)); done
  [ -n "$sp" ] && { n=0; while kill -0 "$sp" 2>/dev/null && [ $n -lt 100 ]; do
    z=; [ -r "/proc/$sp/stat" ] && read -r _ _ z _ < "/proc/$sp/stat" 2>/dev/null; [ "$z" = Z ] && break
    nap 0.01; n=$((n+1)); done; }
fi
rep -1 -1
`)
	return b.String()
}

// cleanupScript removes the files of ids and names.
func cleanupScript(ids, names []string) string {
	return filesRootLine + cleanupLine(ids, names) + "true\n"
}

// procState is a process's state in a record.
type procState string

const (
	stateRunning procState = "running"
	stateDone    procState = "done"
	stateLost    procState = "lost"    // the supervisor died without a record
	stateUnknown procState = "unknown" // no such process (never started, or cleaned up)
	stateNoDir   procState = "nodir"   // Command.Dir could not be entered
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
	state    procState
	exitCode int
	timedOut bool
	t0, t1   float64 // EPOCHREALTIME of start and end, 0 when unknown
	out, err segment
}

// findRecord splits stream into content and the record line tagged with tag.
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
	case stateRunning, stateDone, stateLost, stateUnknown, stateNoDir:
	default:
		return r, false
	}
	if r.state == stateDone {
		n, err := strconv.Atoi(kv["rc"])
		if err != nil {
			return r, false
		}
		r.exitCode = n
	}
	r.timedOut = kv["to"] == "1"
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
	if name != "-" && !strings.HasPrefix(name, ProcessFilePrefix) {
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
