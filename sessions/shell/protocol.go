package shell

import (
	_ "embed" // the shell's bash
	"fmt"
	"strconv"
	"strings"

	"github.com/shellpool/shellpool/internal/report"
)

//go:embed shell.sh
var shellSource string

// inlineBudget is the most content of one stream a report prints inline:
// the service cuts each stream at 4,096 bytes, and the record line needs
// room after the content.
const inlineBudget = 3584

// recordTag starts every record line, followed by a per-request nonce.
const recordTag = "@@shellpool-sh:"

// funcsText is the request side of shell.sh; initText the shell's rcfile.
var funcsText, initText = func() (string, string) {
	i := strings.Index(shellSource, "# ---- INIT")
	return shellSource[:i], shellSource[i:]
}()

// request names what one execution works on.
type request struct {
	id    string // the shell's ID (24 hex)
	cmd   string // the command's ID (16 hex), or ""
	wid   string // the caller's reply FIFO suffix (8 hex)
	nonce string // this request's nonce (16 hex)
	trash []string
}

// header sets the variables every script of shell.sh expects, removes the
// files of finished commands, and defines the functions.
func (r request) header() string {
	var b strings.Builder
	b.WriteString(rootLine)
	b.WriteString("P=\"$F/" + filePrefix + "sh-" + r.id + "\"\nID=" + r.id + "\nC=" + r.cmd + "\nWID=" + r.wid + "\nW=\"$P.w$WID\"\n")
	b.WriteString("N=" + r.nonce + "\nM=" + recordTag + r.nonce + "\nIL=" + strconv.Itoa(inlineBudget) + "\n")
	if len(r.trash) > 0 {
		b.WriteString("rm -f --")
		for _, c := range r.trash {
			b.WriteString(" \"$P." + c + "\".*")
		}
		b.WriteString(" 2>/dev/null\n")
	}
	b.WriteString(funcsText)
	return b.String()
}

// openScript starts a shell (after killing the one with the same ID, for
// Restart) and waits up to 10 s for it to answer.
func openScript(r request, init string, restart bool) string {
	var b strings.Builder
	b.WriteString(r.header())
	if restart {
		b.WriteString("killshell\n")
	}
	b.WriteString("rm -f -- \"$P\".* 2>/dev/null\n")
	b.WriteString("INIT=" + shq(init) + "\n")
	b.WriteString(`mkfifo -- "$W" && exec 3<> "$W" && start && exec 4<> "$P.fifo" && echo '__shellpool_hello "$__shellpool_P.w'"$WID"'"' >&4 && read -r -t 10 -u 3 m && [ "$m" = ready ]
# (fd 4 stayed open until now: a pipe no process holds loses its data.)
if [ $? = 0 ]; then r="$M st=ready"; else x=-; [ -e "$P.exit" ] && read -r x < "$P.exit"; r="$M st=failed x=$x"; killshell; rm -f -- "$P".*; fi
exec 4>&-
printf '\n%s\n' "$r"; printf '\n%s\n' "$r" >&2
`)
	return b.String()
}

// initScript is the shell's rcfile: shell.sh's INIT part, then the working
// directory and environment of OpenOptions.
func initScript(o OpenOptions) string {
	var b strings.Builder
	b.WriteString(initText)
	for _, k := range sortedKeys(o.Env) {
		b.WriteString("export " + k + "=" + shq(o.Env[k]) + "\n")
	}
	if o.Dir != "" {
		// Relative to the file root, where __shellpool_P lives.
		b.WriteString("__shellpool_d=" + shq(o.Dir) + "; case $__shellpool_d in /*) ;; *) __shellpool_d=\"${__shellpool_P%/*}/$__shellpool_d\";; esac\n")
		b.WriteString("cd -- \"$__shellpool_d\" || exit 1; unset __shellpool_d\n")
	}
	return b.String()
}

// execScript writes command r.cmd's script and stdin (unless uploaded),
// queues it in the shell, waits up to wait seconds (streaming: until new
// output), and reports.
func execScript(r request, script, stdin *string, timeout float64, wait int, streaming bool) string {
	var b strings.Builder
	b.WriteString(r.header())
	// No shell: leave nothing behind (an uploaded script or stdin included).
	b.WriteString("state\nif [ \"$st\" = noshell ]; then rm -f -- \"$P.$C\".*; fi\nif [ \"$st\" = running ]; then\n")
	if script != nil {
		b.WriteString("printf '%s' " + shq(*script) + " >| \"$P.$C.sh\"\n")
	}
	if stdin != nil {
		b.WriteString("printf '%s' " + shq(*stdin) + " >| \"$P.$C.in\"\n")
	}
	b.WriteString("[ -p \"$W\" ] || mkfifo -- \"$W\" 2>/dev/null\nexec 3<> \"$W\"\n")
	if timeout > 0 {
		fmt.Fprintf(&b, "  ( exec </dev/null >/dev/null 2>&1 3>&- 4>&-; trap '' HUP; nap %.3f; stop to ) &\n  echo $! >| \"$P.$C.wd\"\n", timeout)
	}
	// The line the shell reads: every expansion happens in the shell.
	line := `__shellpool_pre ` + r.cmd + ` "$__shellpool_P.w` + r.wid + `"; . "$__shellpool_src" < "$__shellpool_in" >| "$__shellpool_P.$__shellpool_c.out" 2>| "$__shellpool_P.$__shellpool_c.err"; __shellpool_end "$?"`
	b.WriteString("  exec 4<> \"$P.fifo\"\n  printf '%s\\n' '" + line + "' >&4\n  exec 4>&-\n")
	if streaming {
		fmt.Fprintf(&b, "  waitout %d 0 0\nfi\nrep 0 0\n", wait*100)
	} else {
		fmt.Fprintf(&b, "  waitdone %d\nfi\nrep -2 -2\n", wait)
	}
	return b.String()
}

// pollScript waits for command r.cmd (up to wait seconds; streaming: until
// output past the offsets) and reports from the offsets (-2: all, once
// done).
func pollScript(r request, oOff, eOff int64, wait int, streaming bool) string {
	var b strings.Builder
	b.WriteString(r.header())
	b.WriteString("[ -p \"$W\" ] || mkfifo -- \"$W\" 2>/dev/null\nexec 3<> \"$W\"\nstate\nif [ \"$st\" = running ]; then ")
	if streaming {
		fmt.Fprintf(&b, "waitout %d %d %d; fi\n", wait*100, max(oOff, 0), max(eOff, 0))
	} else {
		fmt.Fprintf(&b, "waitdone %d; fi\n", wait)
	}
	fmt.Fprintf(&b, "rep %d %d\n", oOff, eOff)
	return b.String()
}

// stopScript stops command r.cmd (see stop in shell.sh) and reports.
func stopScript(r request, oOff, eOff int64) string {
	return r.header() + "stop kill\n" + fmt.Sprintf("rep %d %d\n", oOff, eOff)
}

// closeScript ends the shell and removes its files.
func closeScript(r request) string {
	return r.header() + "killshell\nrm -f -- \"$P\".* 2>/dev/null\nr=\"$M st=closed\"\nprintf '\\n%s\\n' \"$r\"; printf '\\n%s\\n' \"$r\" >&2\n"
}

// segment says how one stream's requested content is delivered.
type segment struct {
	mode   byte   // 'n' nothing new, 'i' inline, 'd' download name
	length int64  // bytes of content; -1: a whole finished stream, to EOF
	sum    uint32 // cksum of inline content
	name   string // the file holding the content (bare name), "-" for none
	inline []byte // the content that arrived inline, verified; nil if it did not
}

// record is a parsed report.
type record struct {
	state    string // done, running, exited, lost, noshell; ready, failed, closed
	exitCode int    // the command's, once done
	timedOut bool
	shellRC  int  // the shell's exit status when exited; -1 unknown
	started  bool // the command had started
	out, err segment
}

// parseRecord parses a record line.
func parseRecord(line string) (record, bool) {
	r := record{shellRC: -1}
	kv, ok := report.Fields(line)
	if !ok {
		return r, false
	}
	r.state = kv["st"]
	if x, err := strconv.Atoi(kv["x"]); err == nil {
		r.shellRC = x
	}
	switch r.state {
	case "ready", "failed", "closed":
		return r, true
	case "running", "exited", "lost", "noshell":
	case "done":
		n, err := strconv.Atoi(kv["rc"])
		if err != nil {
			return r, false
		}
		r.exitCode = n
	default:
		return r, false
	}
	r.timedOut = kv["to"] == "1"
	r.started = kv["sd"] == "1"
	var ok1, ok2 bool
	r.out, ok1 = parseSegment(kv["om"], kv["ol"], kv["ok"], kv["on"])
	r.err, ok2 = parseSegment(kv["em"], kv["el"], kv["ek"], kv["en"])
	return r, ok1 && ok2
}

func parseSegment(mode, length, sum, name string) (segment, bool) {
	m, l, k, ok := report.ParseSegment(mode, length, sum, name, filePrefix+"sh-")
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
	if rec.out.mode == 'i' {
		rec.out.inline = report.Verify(outContent, okOut, rec.out.length, rec.out.sum)
	}
	if rec.err.mode == 'i' {
		rec.err.inline = report.Verify(errContent, okErr, rec.err.length, rec.err.sum)
	}
	return rec, true
}
