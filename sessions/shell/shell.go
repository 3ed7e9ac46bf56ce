package shell

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/shellpool/shellpool/sessions"
)

// Errors a caller can branch on with errors.Is.
var (
	// ErrShellExited matches an *ExitedError: the shell ended (exit, exec,
	// a signal) and its state is gone. Restart starts a fresh one.
	ErrShellExited = errors.New("shell: the shell has exited")
	// ErrShellNotFound is returned by Exec when the session holds no shell
	// with the handle's ID: it was closed, its session was deleted or
	// replaced, or the ID is wrong. Open a new shell.
	ErrShellNotFound = errors.New("shell: no shell with this ID in the session; it was closed or its session ended: open a new one with shell.Open")
	// ErrShellClosed is returned by the methods of a Shell whose Close has
	// succeeded.
	ErrShellClosed = errors.New("shell: the shell handle is closed; open a new one with shell.Open")
)

// ExitedError reports that the shell ended: a command ran exit or exec, or
// a signal killed bash. Everything the shell held (directory, variables,
// functions, jobs) is gone; Restart starts a fresh shell with the same ID.
// errors.Is(err, ErrShellExited) matches it.
type ExitedError struct {
	// ExitCode is the shell's exit status (128+n for signal n), or -1 when
	// it is not known.
	ExitCode int
	// Ran is true when the command had started before the shell ended
	// (the command ended it, most likely); false when the shell was gone
	// before the command could start, so it did not run.
	Ran bool
}

// Error implements error.
func (e *ExitedError) Error() string {
	status := "with an unknown status"
	if e.ExitCode >= 0 {
		status = fmt.Sprintf("with status %d", e.ExitCode)
	}
	if e.Ran {
		return "shell: the shell exited " + status + " while running this command (an exit, an exec or a signal ended bash); its state is gone: call Restart to start a fresh shell in the same session"
	}
	return "shell: the shell had exited " + status + " before this command could start, so it did not run; call Restart to start a fresh shell in the same session"
}

// Is makes errors.Is(err, ErrShellExited) true.
func (e *ExitedError) Is(target error) bool { return target == ErrShellExited }

// OpenOptions contains the optional parameters of Open.
type OpenOptions struct {
	// Dir is the shell's first working directory; empty means the
	// session's default. A relative Dir is relative to the file root,
	// /mnt/data, as UploadDir's dir is. A Dir that does not exist makes
	// Open fail.
	Dir string
	// Env holds environment variables exported in the shell before its
	// first command. Names must match [A-Za-z_][A-Za-z0-9_]*; values may
	// hold any byte except NUL.
	Env map[string]string
}

// ExecOptions contains the optional parameters of Shell.Exec.
type ExecOptions struct {
	// Stdin is read to its end and becomes the command's standard input;
	// nil gives it /dev/null. Any size and any bytes.
	Stdin io.Reader
	// Stdout and Stderr, when set, receive the command's output as it is
	// written (within about a second), and the Result's field of that
	// stream stays empty. A writer is called from Exec's goroutine only;
	// if it fails, the command is stopped as by a cancel and Exec returns
	// the writer's error.
	Stdout, Stderr io.Writer
	// Timeout, when positive, stops the command after this long, counted
	// from when Exec sends it: the shell gets SIGINT (as Ctrl-C at a
	// terminal: the command line is abandoned, its foreground processes
	// die, and the shell and its state stay), then 2 s later every process
	// the command started is killed. The Result then has ExitCode 124 and
	// TimedOut set, with the output written until then. Zero means no
	// limit; a negative value is refused.
	Timeout time.Duration
}

// Result is what a command did.
type Result struct {
	// Stdout and Stderr are the command's output, byte for byte (empty
	// when sent to ExecOptions.Stdout or Stderr).
	Stdout, Stderr []byte
	// ExitCode is the command's exit status ($? in the shell); 124 when
	// the Timeout stopped it, 130 when SIGINT did.
	ExitCode int
	// TimedOut is true when ExecOptions.Timeout stopped the command.
	TimedOut bool
}

// Shell is a bash shell that lives in a session and keeps its state between
// commands: the working directory, variables (exported or not), functions,
// aliases, set and shopt options, and background jobs, as at a terminal.
//
// Its state lives in the session, not in the Shell value: the shell can be
// reached again from another Shell value, client or program with Attach
// and its ID. A Shell is safe for concurrent use; Exec calls on one shell
// run one at a time, in the order they were made (calls from several
// handles of one shell run in the order they reach the session). Several
// shells in one session are independent.
//
// The shell is an interactive bash started in the background, reading
// commands from a named pipe in the session's file root (/mnt/data), with
// its files named shellpool-sh-<ID>.*. It lives until Close, until a
// command ends it, or until its session ends.
type Shell struct {
	s    *sessions.SessionClient
	id   string
	opts OpenOptions

	q fifoLock

	mu     sync.Mutex
	wid    string   // this handle's reply FIFO
	trash  []string // finished commands whose files can go
	big    bool     // the trash holds large outputs: remove it soon
	closed bool
}

// Wait bounds of one request: a request waits this long for its command
// before it returns and the next one is sent.
const (
	requestWait = 20 // seconds, no writers
	streamWait  = 5  // seconds, with writers (they get output within a second)
	slack       = 30 // seconds added to the execution's timeout
	trashBatch  = 8  // finished commands whose files are removed together
	// inlineMax bounds a quoted script and a quoted stdin sent inside the
	// request: with shell.sh, the request stays well under the 128 KiB
	// Linux allows one argument (MAX_ARG_STRLEN); larger ones are uploaded.
	inlineMax = 48 << 10
)

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Open starts a shell in the session s and returns a handle on it. It sends
// one request and returns once the shell reads commands. options may be nil.
func Open(ctx context.Context, s *sessions.SessionClient, options *OpenOptions) (*Shell, error) {
	var o OpenOptions
	if options != nil {
		o = *options
	}
	if s == nil {
		return nil, argError("s", "is nil; pass the *sessions.SessionClient of the session to open the shell in")
	}
	if strings.IndexByte(o.Dir, 0) >= 0 {
		return nil, argError("OpenOptions.Dir", "contains a NUL byte")
	}
	for k, v := range o.Env {
		if !envName.MatchString(k) {
			return nil, argError("OpenOptions.Env", fmt.Sprintf("has the name %q; names must match [A-Za-z_][A-Za-z0-9_]*", k))
		}
		if strings.IndexByte(v, 0) >= 0 {
			return nil, argError("OpenOptions.Env", fmt.Sprintf("%s's value contains a NUL byte", k))
		}
	}
	sh := &Shell{s: s, id: newHex(12), opts: o, wid: newHex(4)}
	if err := sh.start(ctx, false); err != nil {
		return nil, err
	}
	return sh, nil
}

// Attach returns a handle on the shell with the given ID in the session s,
// started by Open in this or another program. It sends nothing: if there is
// no such shell, the first Exec returns ErrShellNotFound.
func Attach(s *sessions.SessionClient, id string) (*Shell, error) {
	if s == nil {
		return nil, argError("s", "is nil; pass the *sessions.SessionClient of the shell's session")
	}
	if !isHex(id, 24) {
		return nil, argError("id", "is not a shell ID (24 lower-case hex digits, from Shell.ID)")
	}
	return &Shell{s: s, id: id, wid: newHex(4)}, nil
}

// ID returns the shell's ID, for Attach.
func (sh *Shell) ID() string { return sh.id }

// String describes the shell without its session's identifier.
func (sh *Shell) String() string { return "shell.Shell(" + sh.id + ")" }

func (sh *Shell) request(cmd string) request {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	r := request{id: sh.id, cmd: cmd, wid: sh.wid, nonce: newHex(8)}
	if len(sh.trash) >= trashBatch || (sh.big && len(sh.trash) > 0) {
		r.trash = sh.trash
		sh.trash, sh.big = nil, false
	}
	return r
}

// send runs script as one execution and parses its report.
func (sh *Shell) send(ctx context.Context, r request, script string, wait int, idempotent bool) (record, error) {
	cmd := sessions.ShellCommand(script)
	cmd.Timeout = time.Duration(wait+slack) * time.Second
	res, err := sh.s.Execute(ctx, cmd, &sessions.ExecuteOptions{RetryAmbiguousFailures: idempotent})
	if err != nil {
		return record{}, err
	}
	rec, ok := parseReport(res.Stdout, res.Stderr, r.nonce)
	if !ok {
		detail := strings.TrimSpace(res.Stderr)
		if len(detail) > 300 {
			detail = detail[:300] + "…"
		}
		if res.Error != nil {
			detail = res.Error.Error() + "; " + detail
		}
		return record{}, fmt.Errorf("shell: the session's answer has no report (does it run bash 4.4 or later?): %s", detail)
	}
	return rec, nil
}

// start starts the shell (restart: after ending the one with this ID).
func (sh *Shell) start(ctx context.Context, restart bool) error {
	r := sh.request("")
	rec, err := sh.send(ctx, r, openScript(r, initScript(sh.opts), restart), 10, false)
	if err != nil {
		return fmt.Errorf("shell: open: %w", err)
	}
	if rec.state != "ready" {
		return fmt.Errorf("shell: open: the shell did not start (exit status %d): check that the session has bash 4.4 or later, that OpenOptions.Dir exists, and that commands may run in the background", rec.shellRC)
	}
	return nil
}

// Restart ends the shell, if it still runs, with everything it started,
// and starts a fresh one with the same ID (so other handles reach the new
// shell), with the OpenOptions of Open (none for a handle from Attach).
func (sh *Shell) Restart(ctx context.Context) error {
	if err := sh.check(); err != nil {
		return err
	}
	if err := sh.q.lock(ctx); err != nil {
		return err
	}
	defer sh.q.unlock()
	sh.mu.Lock()
	sh.trash, sh.big = nil, false
	sh.mu.Unlock()
	return sh.start(ctx, true)
}

// Close ends the shell and every process it started, and removes its files
// from the session. It is idempotent; Exec on a closed handle returns
// ErrShellClosed. Other handles on the shell get ErrShellNotFound.
func (sh *Shell) Close(ctx context.Context) error {
	sh.mu.Lock()
	closed := sh.closed
	sh.mu.Unlock()
	if closed {
		return nil
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	r := sh.request("")
	if _, err := sh.send(ctx, r, closeScript(r), 0, true); err != nil && !errors.Is(err, sessions.ErrSessionNotFound) {
		return fmt.Errorf("shell: close: %w", err)
	}
	sh.mu.Lock()
	sh.closed = true
	sh.mu.Unlock()
	return nil
}

func (sh *Shell) check() error {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.closed {
		return ErrShellClosed
	}
	return nil
}

// Exec runs script in the shell and returns its exact output and exit
// status: stdout and stderr byte for byte at any size, never cut at the
// service's 4,096 bytes nor missing a final write, with scripts and stdin
// of any size. A command that exits non-zero is a Result, not an error.
//
// The script runs in the shell itself (as if typed at its prompt, but read
// from a file), so what it changes stays for the next Exec. Output that a
// background job writes after its command returned may be missing or only
// partly included; redirect such jobs to a file (cmd > log 2>&1 &).
//
// A command that ends the shell (exit 3, exec true, kill -9 $$, set -e and
// a failure) returns an *ExitedError (errors.Is(err, ErrShellExited)) with
// the output it wrote. If ctx is done first, the command is stopped as
// ExecOptions.Timeout would stop it, and Exec returns the output so far
// with ctx.Err().
//
// Exec(ctx, "true", nil) costs one request.
func (sh *Shell) Exec(ctx context.Context, script string, options *ExecOptions) (*Result, error) {
	var o ExecOptions
	if options != nil {
		o = *options
	}
	switch {
	case script == "":
		return nil, argError("script", "is empty; pass the command line to run, such as \"ls -la\"")
	case strings.IndexByte(script, 0) >= 0:
		return nil, argError("script", "contains a NUL byte, which bash cannot read")
	case o.Timeout < 0:
		return nil, argError("ExecOptions.Timeout", "is negative; use zero for no limit or a positive duration")
	}
	if err := sh.check(); err != nil {
		return nil, err
	}
	if err := sh.q.lock(ctx); err != nil {
		return nil, err
	}
	defer sh.q.unlock()

	c := newHex(8)
	r := sh.request(c)
	stem := filePrefix + "sh-" + sh.id + "." + c
	var inlineScript, inlineStdin *string
	if len(script) <= inlineMax && len(shq(script)) <= inlineMax { // quoted: at most 4 bytes a byte
		inlineScript = &script
	} else if _, err := sh.s.UploadFile(ctx, stem+".sh", strings.NewReader(script), nil); err != nil {
		return nil, fmt.Errorf("shell: upload the script: %w", err)
	}
	if o.Stdin != nil {
		head, err := io.ReadAll(io.LimitReader(o.Stdin, inlineMax+1))
		if err != nil {
			return nil, fmt.Errorf("shell: read stdin: %w", err)
		}
		// Bash strings cannot hold NUL: such stdin is uploaded.
		if s := string(head); len(head) <= inlineMax && bytes.IndexByte(head, 0) < 0 && len(shq(s)) <= inlineMax {
			inlineStdin = &s
		} else if _, err := sh.s.UploadFile(ctx, stem+".in", io.MultiReader(bytes.NewReader(head), o.Stdin), nil); err != nil {
			return nil, fmt.Errorf("shell: upload stdin: %w", err)
		}
	}

	res := &Result{}
	outW, errW := o.Stdout, o.Stderr
	var outBuf, errBuf bytes.Buffer
	if outW == nil {
		outW = &outBuf
	}
	if errW == nil {
		errW = &errBuf
	}
	streaming := o.Stdout != nil || o.Stderr != nil
	wait := requestWait
	if streaming {
		wait = streamWait
	}
	var oOff, eOff int64
	timeout := o.Timeout.Seconds()
	rec, err := sh.send(ctx, r, execScript(r, inlineScript, inlineStdin, timeout, wait, streaming), wait, false)
	state := "" // the last state reported; "" while unknown (the command may run)
	for err == nil {
		state = rec.state
		if err = sh.consume(ctx, rec, outW, errW, &oOff, &eOff); err != nil {
			break
		}
		if rec.state != "running" {
			break
		}
		po, pe := oOff, eOff
		if !streaming {
			po, pe = -2, -2
		}
		r = sh.request(c)
		rec, err = sh.send(ctx, r, pollScript(r, po, pe, wait, streaming), wait, true)
	}
	if err != nil && (state == "" || state == "running") {
		// The command may still run: stop it in the session (a command
		// not started yet is then skipped), and collect what it wrote.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		defer cancel()
		sh.mu.Lock()
		sh.wid = newHex(4) // a request of this handle may still wait on the old FIFO
		sh.mu.Unlock()
		r = sh.request(c)
		if srec, serr := sh.send(sctx, r, stopScript(r, oOff, eOff), 10, true); serr == nil {
			_ = sh.consume(sctx, srec, outW, errW, &oOff, &eOff)
			if srec.state == "done" {
				res.ExitCode = srec.exitCode
			}
		}
		if ctx.Err() != nil {
			err = ctx.Err()
		}
	}
	sh.finish(c, oOff+eOff > inlineBudget*2)
	if !streaming || o.Stdout == nil {
		res.Stdout = outBuf.Bytes()
	}
	if !streaming || o.Stderr == nil {
		res.Stderr = errBuf.Bytes()
	}
	if err != nil {
		return res, err
	}
	switch rec.state {
	case "done":
		res.ExitCode, res.TimedOut = rec.exitCode, rec.timedOut
		if rec.timedOut {
			res.ExitCode = 124
		}
		return res, nil
	case "exited", "lost":
		return res, &ExitedError{ExitCode: rec.shellRC, Ran: rec.started}
	case "noshell":
		return res, ErrShellNotFound
	}
	return res, fmt.Errorf("shell: unexpected state %q", rec.state)
}

// consume writes the segments of a report to the writers and advances the
// offsets. Inline content that did not verify, and content too large to be
// inline, is downloaded.
func (sh *Shell) consume(ctx context.Context, rec record, outW, errW io.Writer, oOff, eOff *int64) error {
	for _, x := range []struct {
		seg segment
		w   io.Writer
		off *int64
	}{{rec.out, outW, oOff}, {rec.err, errW, eOff}} {
		seg := x.seg
		switch {
		case seg.mode == 'n':
			continue
		case seg.mode == 'i' && seg.inline != nil:
			if _, err := x.w.Write(seg.inline); err != nil {
				return err
			}
			*x.off += int64(len(seg.inline))
			continue
		}
		got, err := sh.s.DownloadFileTo(ctx, seg.name, x.w, nil)
		if err != nil {
			return fmt.Errorf("shell: fetch the command's output: %w", err)
		}
		if seg.length >= 0 && got.BytesWritten != seg.length {
			return fmt.Errorf("shell: fetch the command's output: got %d bytes of %d", got.BytesWritten, seg.length)
		}
		*x.off += got.BytesWritten
	}
	return nil
}

// finish marks command c's files for removal by a later request.
func (sh *Shell) finish(c string, big bool) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.trash = append(sh.trash, c)
	sh.big = sh.big || big
}

// fifoLock is a mutex that serves waiters in arrival order.
type fifoLock struct {
	mu      sync.Mutex
	busy    bool
	waiters []chan struct{}
}

func (l *fifoLock) lock(ctx context.Context) error {
	l.mu.Lock()
	if !l.busy {
		l.busy = true
		l.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	l.waiters = append(l.waiters, ch)
	l.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		l.mu.Lock()
		defer l.mu.Unlock()
		for i, w := range l.waiters {
			if w == ch {
				l.waiters = append(l.waiters[:i], l.waiters[i+1:]...)
				return ctx.Err()
			}
		}
		// Handed the lock just now: pass it on.
		l.unlockLocked()
		return ctx.Err()
	}
}

func (l *fifoLock) unlock() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.unlockLocked()
}

func (l *fifoLock) unlockLocked() {
	if len(l.waiters) == 0 {
		l.busy = false
		return
	}
	ch := l.waiters[0]
	l.waiters = l.waiters[1:]
	close(ch)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
