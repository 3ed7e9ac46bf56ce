package proc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/shellpool/shellpool/internal/outcome"
	"github.com/shellpool/shellpool/sessions"
)

// Cmd is a command to run in a session, configured by its fields as
// os/exec's Cmd is: build it with Command or Script, set the fields, then
// call Run, Output, CombinedOutput or Start (and Wait). A Cmd cannot be
// reused after Run, Output, CombinedOutput or Start.
//
// What differs from os/exec, because the process is remote: every method
// that talks to the session takes a ctx; cancelling the ctx of Run or Wait
// kills the command (as exec.CommandContext's context does); the process
// has an ID with which any program can find it again (Attach).
type Cmd struct {
	// Args holds the program and its arguments, as set by Command: Args[0]
	// is looked up in the session's PATH unless it contains a slash. The
	// arguments reach the program exactly, without a shell. Empty for a
	// Script.
	Args []string

	// Script is a bash script, as set by Script: run by a fresh bash of the
	// session ("bash -c Script", so $$ and $0 are its own). A script too
	// large for one request (over about 90 KiB) is uploaded and run as a
	// file, $0 being its path. Empty for a Command.
	Script string

	// Env holds environment variables in the form "NAME=value". Unlike
	// os/exec's, they are added to the session's environment rather than
	// replacing it (the client does not know the session's environment);
	// a later entry for a name wins over an earlier one. Names must match
	// [A-Za-z_][A-Za-z0-9_]*; values may hold any bytes but NUL. They reach
	// the command exactly, through env(1): no name or value changes what
	// runs. SHELLPOOL_PROCESS is reserved (see Process.Kill).
	Env []string

	// Dir is the working directory; empty means the session's (for live
	// pools /mnt/data). A relative path is relative to it. A directory
	// that cannot be entered makes Start and Run fail with an error
	// matching ErrDirNotFound, naming it; the command does not run.
	Dir string

	// Stdin is the command's standard input; nil means none (/dev/null).
	// It is read to EOF by Start, before the command starts, and sent with
	// it: inline when small, else uploaded (of any size).
	Stdin io.Reader

	// Stdout and Stderr receive the command's standard output and error;
	// nil discards them (nothing is downloaded). Output reaches a writer
	// while the command runs, within about a second of being written, and
	// large output is streamed from the session's files, never held in
	// memory. When Stdout and Stderr are the same writer, both streams
	// go, interleaved as written, to one file in the session.
	Stdout io.Writer
	Stderr io.Writer

	// Timeout, when positive, kills the command and everything it started
	// (see Process.Kill) after that long: the command ends with exit code
	// 124, ProcessState.TimedOut is true, and the output written until then
	// is kept. It must be at least a millisecond.
	Timeout time.Duration

	// WaitDelay bounds how long Wait waits, after the command's main
	// process exited, for the processes it left in its process group to
	// close its stdout and stderr (os/exec waits for every writer of its
	// pipes too). Zero waits without bound (as with os/exec); when the delay
	// expires Wait returns ErrWaitDelay, or the *ExitError of a failed
	// command, with the output written until then. A child that left the
	// group (setsid) is not waited for.
	WaitDelay time.Duration

	// Process is the started process, set by Start (and Run), also when the
	// request that starts it failed in a way that leaves open whether it
	// ran: its Wait and Kill then tell.
	Process *Process

	// ProcessState describes the process once Wait (or Run) has seen it
	// end.
	ProcessState *ProcessState

	s        *sessions.SessionClient
	w        waiter
	start    time.Time
	internal [2]bool // Stdout/Stderr were set by Output or CombinedOutput
	started  bool
	waited   bool
}

// Command returns a Cmd that runs the program name with args in the session
// s, without a shell, as exec.Command does locally:
// Command(s, "ls", "-la", "/mnt/data"). s may also be the session of a
// fleet lease.
func Command(s *sessions.SessionClient, name string, args ...string) *Cmd {
	argv := make([]string, 0, 1+len(args))
	argv = append(argv, name)
	argv = append(argv, args...)
	return &Cmd{s: s, Args: argv}
}

// Script returns a Cmd that runs script with the session's bash:
// Script(s, "cd src && make test 2>&1 | tail -n 20").
func Script(s *sessions.SessionClient, script string) *Cmd {
	return &Cmd{s: s, Script: script}
}

// String returns the command line (Args joined by spaces) or the script,
// for logs; it never holds the session identifier.
func (c *Cmd) String() string {
	if c.Script != "" {
		return c.Script
	}
	return strings.Join(c.Args, " ")
}

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// markName is the environment variable that marks the command's processes.
const markName = "SHELLPOOL_PROCESS"

// validate reports the first rule c breaks, as an *sessions.ArgumentError.
func (c *Cmd) validate() error {
	switch {
	case c.s == nil:
		return newArgumentError("s", "is nil; pass the session to run in to Command or Script")
	case c.Script == "" && len(c.Args) == 0:
		return newArgumentError("cmd", "is empty; build it with Command (a program and arguments) or Script (a bash script)")
	case c.Script != "" && len(c.Args) > 0:
		return newArgumentError("cmd", "sets both Args and Script; set exactly one")
	case len(c.Args) > 0 && c.Args[0] == "":
		return newArgumentError("cmd.Args", "Args[0] is empty; it must name the program to run")
	case strings.IndexByte(c.Script, 0) >= 0:
		return newArgumentError("cmd.Script", "holds a NUL byte, which bash cannot run; remove it")
	case strings.IndexByte(c.Dir, 0) >= 0:
		return newArgumentError("cmd.Dir", "holds a NUL byte, which no path can; remove it")
	case c.Timeout < 0:
		return newArgumentError("cmd.Timeout", fmt.Sprintf("is negative (%s); use zero for none or a positive duration", c.Timeout))
	case c.Timeout > 0 && c.Timeout < time.Millisecond:
		return newArgumentError("cmd.Timeout", fmt.Sprintf("is %s; use at least a millisecond, or zero for none", c.Timeout))
	case c.WaitDelay < 0:
		return newArgumentError("cmd.WaitDelay", fmt.Sprintf("is negative (%s); use zero for no bound or a positive duration", c.WaitDelay))
	case c.Stdin != nil && isNil(c.Stdin):
		return newArgumentError("cmd.Stdin", fmt.Sprintf("is a nil %T; set Stdin to nil for no input", c.Stdin))
	case c.Stdout != nil && isNil(c.Stdout):
		return newArgumentError("cmd.Stdout", fmt.Sprintf("is a nil %T; set Stdout to nil to discard the output", c.Stdout))
	case c.Stderr != nil && isNil(c.Stderr):
		return newArgumentError("cmd.Stderr", fmt.Sprintf("is a nil %T; set Stderr to nil to discard the output", c.Stderr))
	}
	for i, a := range c.Args {
		if strings.IndexByte(a, 0) >= 0 {
			return newArgumentError(fmt.Sprintf("cmd.Args[%d]", i), "holds a NUL byte, which no argument can; remove it")
		}
	}
	for i, kv := range c.Env {
		name, value, ok := strings.Cut(kv, "=")
		field := fmt.Sprintf("cmd.Env[%d]", i)
		switch {
		case !ok:
			return newArgumentError(field, fmt.Sprintf("is %s, not NAME=value", strconv.Quote(truncate(kv))))
		case !envNameRE.MatchString(name):
			return newArgumentError(field, fmt.Sprintf("has the name %s; names must match [A-Za-z_][A-Za-z0-9_]*", strconv.Quote(truncate(name))))
		case name == markName:
			return newArgumentError(field, "sets "+markName+", which marks the command's processes for Kill; use another name")
		case strings.IndexByte(value, 0) >= 0:
			return newArgumentError(field, "the value of "+name+" holds a NUL byte, which no environment variable can; remove it")
		}
	}
	return nil
}

// isNil reports whether v holds a nil pointer, map, slice, func or chan.
func isNil(v any) bool {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan, reflect.Interface:
		return rv.IsNil()
	}
	return false
}

// truncate shortens s for an error message.
func truncate(s string) string {
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return s
}

// sameWriter reports whether a and b are the same comparable writer.
func sameWriter(a, b io.Writer) (same bool) {
	defer func() {
		if recover() != nil {
			same = false
		}
	}()
	return a == b
}

// Limits of what one request carries. A single argument is bounded by the
// kernel (MAX_ARG_STRLEN, 128 KiB); live pools were measured to take a 64 KB
// script and to refuse a 120 KB one, so one request carries a wrapper of up
// to 96 KiB, and anything larger is uploaded first.
const (
	maxInlineScript = 96 << 10
	maxInlineStdin  = 64 << 10
)

// upload is a file to upload before the command starts.
type upload struct {
	kind string
	body io.Reader
}

// job builds the prologue of main_run for c, and the uploads it needs.
func (c *Cmd) job(id string) (string, []upload, error) {
	var ups []upload
	kind, stdinMode := "a", 0
	var stdin []byte
	if c.Script != "" {
		kind = "s"
	}
	if c.Stdin != nil {
		head, err := io.ReadAll(io.LimitReader(c.Stdin, maxInlineStdin+1))
		if err != nil {
			return "", nil, fmt.Errorf("proc: reading Cmd.Stdin (nothing was sent): %w", err)
		}
		switch {
		case len(head) > maxInlineStdin:
			stdinMode = 2
			ups = append(ups, upload{"in", io.MultiReader(bytes.NewReader(head), c.Stdin)})
		case len(head) > 0 && bytes.IndexByte(head, 0) >= 0:
			stdinMode = 2
			ups = append(ups, upload{"in", bytes.NewReader(head)})
		case len(head) > 0:
			stdinMode, stdin = 1, head
		}
	}
	to := ""
	if c.Timeout > 0 {
		to = strconv.FormatFloat(c.Timeout.Seconds(), 'f', 3, 64)
	}
	wdc := int64(-1)
	if c.WaitDelay > 0 {
		wdc = int64((c.WaitDelay + 10*time.Millisecond - 1) / (10 * time.Millisecond))
	}
	cb := 0
	if c.w.mode[1] == -1 && c.Stderr != nil {
		cb = 1 // Stderr is Stdout: one file
	}
	fixed := fmt.Sprintf("TO=%s\nWDC=%d\nCB=%d\n", to, wdc, cb)
	def := func() string {
		var b strings.Builder
		b.WriteString("E=" + shArray(c.Env) + "\nD=" + shq(c.Dir) + "\nA=" + shArray(c.Args) + "\n")
		if kind == "s" {
			b.WriteString("S=" + shq(c.Script) + "\n")
		}
		if stdinMode == 1 {
			b.WriteString("IN=" + shq(string(stdin)) + "\n")
		}
		return b.String()
	}
	state := func(df int) string {
		return fmt.Sprintf("K=%s\nSI=%d\nDF=%d\n", kind, stdinMode, df) + fixed
	}
	size := func(d string) int { return len(d) + len(state(0)) + len(wrapperBody) + 200 }
	d := def()
	if size(d) <= maxInlineScript {
		return state(0) + d, ups, nil
	}
	if kind == "s" && len(c.Script) > maxInlineScript/4 {
		kind = "f"
		ups = append(ups, upload{"sh", strings.NewReader(c.Script)})
	}
	if stdinMode == 1 {
		stdinMode = 2
		ups = append(ups, upload{"in", bytes.NewReader(stdin)})
	}
	if d = def(); size(d) <= maxInlineScript {
		return state(0) + d, ups, nil
	}
	ups = append(ups, upload{"def", strings.NewReader(d)})
	return state(1) + "E=()\nA=()\nD=\n", ups, nil
}

// prepare checks c and sets up how its streams are collected.
func (c *Cmd) prepare() error {
	if c.started {
		return errors.New("proc: Cmd already started; a Cmd runs once, build another with Command or Script")
	}
	if err := c.validate(); err != nil {
		return err
	}
	c.started = true
	ws := [2]io.Writer{c.Stdout, c.Stderr}
	for i, w := range ws {
		switch {
		case w == nil:
			c.w.mode[i] = -1
		case c.internal[i]:
			c.w.mode[i] = -2
		default:
			c.w.mode[i] = 0
		}
	}
	if c.Stdout != nil && sameWriter(c.Stdout, c.Stderr) {
		c.w.mode[1] = -1 // both go to the stdout file (CB=1)
	}
	c.w.ws = ws
	return nil
}

// begin uploads what must be uploaded and runs main_run, waiting up to
// wait for the command; it returns the wrapper's report.
func (c *Cmd) begin(ctx context.Context, wait time.Duration, keep time.Duration) (record, error) {
	c.start = time.Now()
	p := &Process{s: c.s, id: newHexID(12), keep: keep, dir: c.Dir}
	c.w.p = p
	prologue, ups, err := c.job(p.id)
	if err != nil {
		return record{}, err
	}
	for _, u := range ups {
		if _, err := c.s.UploadFile(ctx, FilePrefix+p.id+"."+u.kind, u.body, nil); err != nil {
			return record{}, fmt.Errorf("proc: uploading the command's %s to the session failed (nothing ran): %w", u.kind, err)
		}
	}
	oo, eo := int64(-1), int64(-1)
	if wait > 0 {
		oo, eo = c.w.offsets()
	}
	nonce := newHexID(6)
	sc := script(header(p.id, nonce, int(keep/time.Second), inlineBudget, nil)+prologue,
		runCalls(runWait(wait), oo, eo)...)
	resp, err := c.s.Execute(ctx, sessions.Command{Shell: sc, Timeout: wait + execMargin}, nil)
	if err != nil {
		if ctx.Err() != nil {
			c.w.killAndTake(ctx)
			return record{}, fmt.Errorf("proc: %w before the command's start was confirmed; it was killed if it had started (process %s)", ctx.Err(), p.id)
		}
		if outcome.Classify(err).NotRun() {
			return record{}, fmt.Errorf("proc: the execution that starts the command failed, so the command did not run (process %s): %w", p.id, err)
		}
		c.Process = p // Process.Wait, Kill and Attach find out what happened
		return record{}, fmt.Errorf("proc: the execution that starts the command failed, so the command may or may not have run (process %s; Cmd.Process.Wait or Attach tell what happened): %w", p.id, err)
	}
	c.Process = p
	rec, ok := parseReport(resp.Stdout, resp.Stderr, nonce)
	if !ok {
		// The report was lost or cut: ask again, idempotently. The wrapper
		// ran, so a process that is not there now was lost.
		p.mu.Lock()
		p.seen = true
		p.mu.Unlock()
		if rec, err = p.poll(ctx, oo, eo, 0); err != nil {
			if ctx.Err() != nil {
				c.w.killAndTake(ctx)
				return record{}, ctx.Err()
			}
			return record{}, err
		}
	}
	if err := p.stateError(rec); err != nil {
		return record{}, err
	}
	return rec, nil
}

// Start starts the command in the background and returns at once (one
// request, plus an upload for a script, arguments or stdin too large to
// travel inline). Wait then collects its output and its exit status; or
// use Process to read, wait for or kill it, also from another program
// (Attach). Start is as non-idempotent as the command: a failure it cannot
// prove happened before the command started is returned, not retried.
// Invalid input is an *sessions.ArgumentError, before anything is sent.
func (c *Cmd) Start(ctx context.Context) error {
	if err := c.prepare(); err != nil {
		return err
	}
	_, err := c.begin(ctx, 0, KeepAfterEnd)
	return err
}

// Wait waits for the command started by Start to end, writing its output to
// Stdout and Stderr as it comes, and sets ProcessState. As with os/exec,
// the error is nil when the command exited with code 0, an *ExitError when
// it exited otherwise or timed out, ErrWaitDelay when WaitDelay expired;
// other errors mean its result could not be read. Cancelling ctx kills the
// command (see Process.Kill), writes the output it wrote until then and
// returns an error matching ctx.Err(). Each poll waits up to 20 s in the
// session, so a long wait costs about three requests a minute.
func (c *Cmd) Wait(ctx context.Context) error {
	switch {
	case c.Process == nil:
		return errors.New("proc: Cmd not started; call Start first")
	case c.waited:
		return errors.New("proc: Wait was already called")
	}
	return c.finish(ctx, nil)
}

// finish follows the process to its end and builds the result.
func (c *Cmd) finish(ctx context.Context, first *record) error {
	c.waited = true
	rec, err := c.w.run(ctx, first)
	if err != nil {
		if ctx.Err() != nil {
			if rec, ok := c.w.killAndTake(ctx); ok {
				c.ProcessState = c.Process.state(rec, c.start)
			}
			return fmt.Errorf("proc: %w; the command was killed and its output until then kept (process %s)", ctx.Err(), c.Process.id)
		}
		return err
	}
	c.ProcessState = c.Process.state(rec, c.start)
	if !c.ProcessState.Success() || c.ProcessState.TimedOut() {
		return &ExitError{ProcessState: c.ProcessState}
	}
	if rec.waitDelay {
		return ErrWaitDelay
	}
	return nil
}

// Run starts the command and waits for it to end: Start and Wait in one
// request for a command that ends within about 40 s with output that fits
// inline (3.5 KiB per stream); longer commands are polled, larger output
// is downloaded (one download per stream). See Start and Wait for the
// errors; a non-zero exit is an *ExitError.
func (c *Cmd) Run(ctx context.Context) error {
	if err := c.prepare(); err != nil {
		return err
	}
	wait := runWaitMax
	if c.Timeout > 0 && c.Timeout+2500*time.Millisecond < wait {
		// The timeout fires, TERM, then KILL two seconds later at most.
		wait = c.Timeout + 2500*time.Millisecond
	}
	if dl, ok := ctx.Deadline(); ok {
		// Report before ctx ends, so that the output so far is kept.
		if left := time.Until(dl) - time.Second; left < wait {
			wait = max(left, 0)
		}
	}
	rec, err := c.begin(ctx, wait, runKeep)
	if err != nil {
		return err
	}
	return c.finish(ctx, &rec)
}

// Output runs the command and returns its standard output. When Stderr is
// nil, a failed command's *ExitError holds the beginning and end of its
// standard error (up to 32 KiB). The output is read once the command has
// ended (in one download when large), unless ctx ends first: then the
// output written until then is returned with the error.
func (c *Cmd) Output(ctx context.Context) ([]byte, error) {
	if c.Stdout != nil {
		return nil, errors.New("proc: Stdout already set")
	}
	var out bytes.Buffer
	c.Stdout, c.internal[0] = &out, true
	var saver *prefixSuffixSaver
	if c.Stderr == nil {
		saver = &prefixSuffixSaver{N: 16 << 10}
		c.Stderr, c.internal[1] = saver, true
	}
	err := c.Run(ctx)
	var ee *ExitError
	if saver != nil && errors.As(err, &ee) {
		ee.Stderr = saver.Bytes()
	}
	return out.Bytes(), err
}

// CombinedOutput runs the command and returns its standard output and
// standard error together, interleaved as written (both go to one file in
// the session).
func (c *Cmd) CombinedOutput(ctx context.Context) ([]byte, error) {
	if c.Stdout != nil {
		return nil, errors.New("proc: Stdout already set")
	}
	if c.Stderr != nil {
		return nil, errors.New("proc: Stderr already set")
	}
	var b bytes.Buffer
	c.Stdout, c.Stderr = &b, &b
	c.internal = [2]bool{true, true}
	err := c.Run(ctx)
	return b.Bytes(), err
}

// prefixSuffixSaver keeps the first and last N bytes written to it (as
// os/exec's does for ExitError.Stderr).
type prefixSuffixSaver struct {
	N       int
	prefix  []byte
	suffix  []byte // a ring buffer once len == N
	pos     int
	skipped int64
}

func (w *prefixSuffixSaver) Write(p []byte) (int, error) {
	n := len(p)
	if k := min(w.N-len(w.prefix), len(p)); k > 0 {
		w.prefix = append(w.prefix, p[:k]...)
		p = p[k:]
	}
	for len(p) > 0 {
		if len(w.suffix) < w.N {
			k := min(w.N-len(w.suffix), len(p))
			w.suffix = append(w.suffix, p[:k]...)
			p = p[k:]
			continue
		}
		k := copy(w.suffix[w.pos:], p)
		p = p[k:]
		w.skipped += int64(k)
		w.pos += k
		if w.pos == w.N {
			w.pos = 0
		}
	}
	return n, nil
}

// Bytes returns what was kept, with a note of what was left out.
func (w *prefixSuffixSaver) Bytes() []byte {
	if w.suffix == nil {
		return w.prefix
	}
	if w.skipped == 0 {
		return append(w.prefix, w.suffix...)
	}
	var b bytes.Buffer
	b.Grow(len(w.prefix) + len(w.suffix) + 50)
	b.Write(w.prefix)
	fmt.Fprintf(&b, "\n... omitting %d bytes ...\n", w.skipped)
	b.Write(w.suffix[w.pos:])
	b.Write(w.suffix[:w.pos])
	return b.Bytes()
}

// runWait is main_run's wait argument: "0" (Start) or decimal seconds.
func runWait(d time.Duration) string {
	if d <= 0 {
		return "0"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 3, 64)
}
