package sessions

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
	"weak"
)

// Errors of the process layer (Run, Start, Process), for errors.Is.
var (
	// ErrProcessNotFound: the session holds no process with that ID: it was
	// never started there, its files were already cleaned up after its
	// result was read, or the session was deleted or expired (a process
	// never outlives its session). Start it again if it must run.
	ErrProcessNotFound = errors.New("sessions: process not found in the session (never started, already read and cleaned up, or the session is gone)")
	// ErrProcessLost: the process's supervisor ended without recording the
	// command's exit status (the session was restarted, or something killed
	// it), so the exit code is unknown. Output written until then can still
	// be read.
	ErrProcessLost = errors.New("sessions: process ended without a completion record; its exit code is unknown")
	// ErrOutputLost: the service lost part of a report and the layer could
	// not recover it from the session's files after several attempts. The
	// command ran; do not run it again blindly. Check the session's health
	// and read the process again with AttachProcess.
	ErrOutputLost = errors.New("sessions: the service lost the command's report and it could not be recovered")
	// ErrDirNotFound: Command.Dir does not exist in the session or cannot be
	// entered; the command did not run. Create the directory first (for
	// example with Run of "mkdir -p DIR") or fix Command.Dir.
	ErrDirNotFound = errors.New("sessions: Command.Dir cannot be entered in the session; the command did not run")
)

// OutputStream names one of a process's output streams.
type OutputStream int

const (
	// StreamStdout is the command's standard output.
	StreamStdout OutputStream = iota
	// StreamStderr is the command's standard error.
	StreamStderr
)

// String returns "stdout" or "stderr".
func (s OutputStream) String() string {
	if s == StreamStderr {
		return "stderr"
	}
	return "stdout"
}

// Limits of what travels inside the wrapper script (measured live limit:
// 128 KiB per argument; 64 KB passed). Larger parts are uploaded.
const (
	maxInlineScript = 32 << 10
	maxInlineStdin  = 16 << 10
	maxInlineDef    = 8 << 10
)

// Waits of the layer's executions.
const (
	runWaitMax     = 40 * time.Second // longest a Run's first execution waits for the command
	pollWait       = 20 * time.Second // longest a poll waits in the session for news
	execMargin     = 30 * time.Second // added to a script's own wait for the service timeout
	killBudget     = 5 * time.Second  // bound of the kill sent when a Run is cancelled
	maxReportTries = 8                // executions tried for one report whose record was lost
	maxPendingIDs  = 256              // processes awaiting clean-up per session
	cleanupBatch   = 8                // finished processes whose clean-up rides on one call
)

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// StartOptions contains the optional parameters of Client.Start.
type StartOptions struct {
	// placeholder for future options
}

// Process is a command started in a session by Client.Start (or found again
// with Client.AttachProcess). It runs in the background, outlives the call
// and the Client that started it, and can be waited for, killed and read
// while it runs. A process never outlives its session: deleting the
// session, or its expiry after the pool's cooldown, ends it. Every Wait,
// Kill and read is a request to the session and so keeps it alive.
//
// A Process is safe for concurrent use. Its files (ProcessFilePrefix) are
// deleted once Wait has returned its result and every reader made with
// Stdout, Stderr or NewOutputReader has reached EOF or been closed; to read
// it from another program, attach before that.
type Process struct {
	c   *Client
	sid string
	id  string

	mu        sync.Mutex
	readers   int  // open readers
	waited    bool // Wait has returned a result
	cleaned   bool
	hadReader [2]bool
	chunks    []string // chunk files read, to remove with the next request
	recovered bool
}

// ID returns the process's identifier: 24 hex digits, safe to store and
// log (it does not contain the session identifier). Pass it with the
// session identifier to Client.AttachProcess to find the process again.
func (p *Process) ID() string { return p.id }

// String describes the process without the session identifier.
func (p *Process) String() string { return "sessions.Process(" + p.id + ")" }

// Start starts cmd in the background in the session sessionID and returns
// at once (one request, plus uploads for a script over 32 KiB or stdin over
// 16 KiB). The command runs with cmd.Env, in cmd.Dir, with cmd.Stdin; its
// stdout and stderr go to files in the session and are read, exactly and
// whole, through the Process. cmd.Timeout, when set, kills the command
// after that long: Wait then reports TimedOut and exit code 124.
//
// Invalid input is an *ArgumentError, before anything is sent. Start is as
// non-idempotent as the command: a failure it cannot prove happened before
// the command started is returned, not retried.
func (c *Client) Start(ctx context.Context, sessionID string, cmd Command, options *StartOptions) (p *Process, err error) {
	ctx, endSpan := c.startSpan(ctx, "Client.Start")
	defer func() { endSpan(err) }()
	p, _, err = c.startProcess(ctx, sessionID, cmd, 0)
	return p, err
}

// AttachProcess returns the process processID (Process.ID) of the session
// sessionID, started by this or another Client or program, to wait for,
// kill or read from the start or from an offset. It sends nothing; a
// process that does not exist makes the first call fail with
// ErrProcessNotFound. Invalid input is an *ArgumentError.
func (c *Client) AttachProcess(sessionID, processID string) (*Process, error) {
	if err := ValidateSessionID(sessionID); err != nil {
		return nil, err
	}
	if !validProcessID(processID) {
		return nil, newArgumentError("processID", "is not a process ID; pass Process.ID as returned by Start (24 hex digits)")
	}
	return &Process{c: c, sid: sessionID, id: processID}, nil
}

// prepareJob validates cmd for the process layer and turns it into a
// jobSpec plus the files to upload first.
func prepareJob(cmd Command) (jobSpec, map[string][]byte, error) {
	var j jobSpec
	up := map[string][]byte{}
	switch {
	case cmd.Shell == "" && len(cmd.Args) == 0:
		return j, nil, newArgumentError("cmd", "is empty; set Shell (a bash script) or Args (an argv), e.g. with ShellCommand or ExecCommand")
	case cmd.Shell != "" && len(cmd.Args) > 0:
		return j, nil, newArgumentError("cmd", "sets both Shell and Args; set exactly one")
	case len(cmd.Args) > 0 && cmd.Args[0] == "":
		return j, nil, newArgumentError("cmd.Args", "Args[0] is empty; it must name the executable to run")
	case cmd.Timeout < 0:
		return j, nil, newArgumentError("cmd.Timeout", fmt.Sprintf("is negative (%s); use zero for no timeout or a positive duration", cmd.Timeout))
	case cmd.Timeout > 0 && cmd.Timeout < time.Millisecond:
		return j, nil, newArgumentError("cmd.Timeout", fmt.Sprintf("is %s; use at least a millisecond, or zero for none", cmd.Timeout))
	case cmd.OutputLimit != 0:
		return j, nil, newArgumentError("cmd.OutputLimit", "applies to Execute only; Run and Start never cut output (leave it zero)")
	case strings.IndexByte(cmd.Shell, 0) >= 0:
		return j, nil, newArgumentError("cmd.Shell", "holds a NUL byte, which bash cannot run; remove it")
	case strings.IndexByte(cmd.Dir, 0) >= 0:
		return j, nil, newArgumentError("cmd.Dir", "holds a NUL byte, which no path can; remove it")
	}
	for i, a := range cmd.Args {
		if strings.IndexByte(a, 0) >= 0 {
			return j, nil, newArgumentError(fmt.Sprintf("cmd.Args[%d]", i), "holds a NUL byte, which no argument can; remove it")
		}
	}
	names := make([]string, 0, len(cmd.Env))
	for k, v := range cmd.Env {
		if !envNameRE.MatchString(k) {
			return j, nil, newArgumentError("cmd.Env", fmt.Sprintf("has the name %q; names must match [A-Za-z_][A-Za-z0-9_]*", truncateForError(k)))
		}
		if strings.IndexByte(v, 0) >= 0 {
			return j, nil, newArgumentError("cmd.Env", fmt.Sprintf("value of %s holds a NUL byte, which no environment variable can; remove it", k))
		}
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		j.env = append(j.env, k+"="+cmd.Env[k])
	}
	j.dir = cmd.Dir
	j.args = cmd.Args
	if cmd.Shell != "" {
		if len(shq(cmd.Shell)) > maxInlineScript {
			j.scriptRef = true
			up["sh"] = []byte(cmd.Shell)
		} else {
			j.shell = cmd.Shell
		}
	}
	if cmd.Stdin != "" {
		if strings.IndexByte(cmd.Stdin, 0) >= 0 || len(shq(cmd.Stdin)) > maxInlineStdin {
			j.stdinRef = true
			up["in"] = []byte(cmd.Stdin)
		} else {
			j.stdin = cmd.Stdin
		}
	}
	if def := j.definition(); len(def) > maxInlineDef {
		j.defRef = true
		up["def"] = []byte(def)
	}
	j.timeout = cmd.Timeout.Seconds()
	return j, up, nil
}

// truncateForError shortens s for an error message.
func truncateForError(s string) string {
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	if !utf8.ValidString(s) {
		return fmt.Sprintf("%x", s)
	}
	return s
}

// startProcess uploads what must be uploaded, runs the wrapper (waiting up
// to wait for the command) and returns the process and the wrapper's
// report.
func (c *Client) startProcess(ctx context.Context, sessionID string, cmd Command, wait time.Duration) (*Process, record, error) {
	if err := ValidateSessionID(sessionID); err != nil {
		return nil, record{}, err
	}
	j, uploads, err := prepareJob(cmd)
	if err != nil {
		return nil, record{}, err
	}
	p := &Process{c: c, sid: sessionID, id: newHexID(12)}
	for _, kind := range []string{"sh", "in", "def"} {
		data, ok := uploads[kind]
		if !ok {
			continue
		}
		name := ProcessFilePrefix + p.id + "." + kind
		if _, err := c.UploadFile(ctx, sessionID, name, bytes.NewReader(data), nil); err != nil {
			c.layer().add(sessionID, p.id)
			return nil, record{}, fmt.Errorf("sessions: uploading the command's %s to the session failed (nothing ran): %w", kind, err)
		}
	}
	nonce := newHexID(6)
	ids, names := c.layer().take(sessionID, false)
	reportFrom := int64(-1)
	if wait > 0 {
		reportFrom = -2
	}
	script := wrapperScript(p.id, nonce, j, wait.Seconds(), ids, names, reportFrom)
	resp, err := c.Execute(ctx, sessionID, Command{Shell: script, Timeout: wait + execMargin}, nil)
	if err != nil {
		c.layer().giveBack(sessionID, ids, names)
		if ctx.Err() != nil {
			p.killBestEffort(ctx)
			c.layer().add(sessionID, p.id)
			return nil, record{}, ctx.Err()
		}
		c.layer().add(sessionID, p.id)
		return nil, record{}, fmt.Errorf("sessions: the execution that starts the command failed, so the command may or may not have run (process %s; its files, if any, are cleaned up with the next call): %w", p.id, err)
	}
	rec, ok := parseReport(resp.Stdout, resp.Stderr, nonce)
	if !ok {
		// The report was lost or cut: ask again, idempotently.
		p.recovered = true
		rec, err = p.poll(ctx, reportFrom, reportFrom, 0, 1)
		if err != nil {
			if ctx.Err() != nil {
				p.killBestEffort(ctx)
				return nil, record{}, ctx.Err()
			}
			return nil, record{}, err
		}
	}
	if err := rec.stateError(); err != nil {
		c.layer().add(sessionID, p.id)
		return nil, record{}, err
	}
	return p, rec, nil
}

// stateError is the error for a record's state, or nil for running/done.
func (r record) stateError() error {
	switch r.state {
	case stateUnknown:
		return ErrProcessNotFound
	case stateLost:
		return ErrProcessLost
	case stateNoDir:
		return ErrDirNotFound
	}
	return nil
}

// poll runs a poll script and returns its report, asking again when the
// report was lost (counting from try). Offsets: >= 0 read from there, -1
// skip, -2 from 0 once done.
func (p *Process) poll(ctx context.Context, outOff, errOff int64, wait time.Duration, try int) (record, error) {
	for ; try < maxReportTries; try++ {
		nonce := newHexID(6)
		ids, names := p.c.layer().take(p.sid, false)
		p.mu.Lock()
		names = append(names, p.chunks...)
		chunks := p.chunks
		p.chunks = nil
		p.mu.Unlock()
		script := pollScript(p.id, nonce, outOff, errOff, wait.Seconds(), ids, names)
		resp, err := p.c.Execute(ctx, p.sid, Command{Shell: script, Timeout: wait + execMargin}, &ExecuteOptions{RetryAmbiguousFailures: true})
		if err != nil {
			p.c.layer().giveBack(p.sid, ids, names[:len(names)-len(chunks)])
			p.mu.Lock()
			p.chunks = append(p.chunks, chunks...)
			p.mu.Unlock()
			return record{}, err
		}
		if rec, ok := parseReport(resp.Stdout, resp.Stderr, nonce); ok {
			return rec, nil
		}
		p.mu.Lock()
		p.recovered = true
		p.mu.Unlock()
		wait = 0
	}
	return record{}, fmt.Errorf("%w (process %s, %d attempts)", ErrOutputLost, p.id, maxReportTries)
}

// fetch writes the content of seg to w: the verified inline bytes, or the
// file it names, downloaded and checked against its length. It reports
// whether it downloaded.
func (p *Process) fetch(ctx context.Context, seg segment, w io.Writer) (bool, error) {
	switch {
	case seg.mode == 'n':
		return false, nil
	case seg.inline != nil:
		_, err := w.Write(seg.inline)
		p.noteChunk(seg.name)
		return false, err
	}
	if seg.mode == 'i' {
		p.mu.Lock()
		p.recovered = true
		p.mu.Unlock()
	}
	body, err := p.openSegment(ctx, seg)
	if err != nil {
		return true, err
	}
	defer body.Close()
	n, err := io.Copy(w, body)
	if err != nil {
		return true, err
	}
	if seg.length >= 0 && n != seg.length {
		return true, fmt.Errorf("%w: %s holds %d bytes, the record says %d", ErrOutputLost, seg.name, n, seg.length)
	}
	p.noteChunk(seg.name)
	return true, nil
}

// openSegment downloads the file of seg, limited to seg.length bytes (the
// whole file when the length is -1: a finished stream, which no longer
// grows; the transfer's Content-Length still catches a short body).
func (p *Process) openSegment(ctx context.Context, seg segment) (io.ReadCloser, error) {
	resp, err := p.c.DownloadFile(ctx, p.sid, seg.name, nil)
	if err != nil {
		if errors.Is(err, ErrFileNotFound) {
			return nil, fmt.Errorf("%w: %s is gone (process %s)", ErrProcessNotFound, seg.name, p.id)
		}
		return nil, err
	}
	if seg.length < 0 {
		return resp.Body, nil
	}
	return struct {
		io.Reader
		io.Closer
	}{io.LimitReader(resp.Body, seg.length), resp.Body}, nil
}

// noteChunk remembers a chunk file to remove with the next request.
func (p *Process) noteChunk(name string) {
	if strings.HasPrefix(name, ProcessFilePrefix+p.id+".c") {
		p.mu.Lock()
		p.chunks = append(p.chunks, name)
		p.mu.Unlock()
	}
}

// killBestEffort kills the process with its own short deadline, ignoring
// errors: for a Run whose ctx was cancelled.
func (p *Process) killBestEffort(ctx context.Context) {
	kctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), killBudget)
	defer cancel()
	_, _ = p.kill(kctx)
}

// Kill kills the process (its whole process group, with SIGKILL) and waits
// briefly until the session has recorded its end; Wait then returns exit
// code 137. Killing a process that has already finished does nothing and
// returns nil. It is idempotent and retried safely. A process the session
// does not hold is ErrProcessNotFound.
func (p *Process) Kill(ctx context.Context) (err error) {
	ctx, endSpan := p.c.startSpan(ctx, "Process.Kill")
	defer func() { endSpan(err) }()
	rec, err := p.kill(ctx)
	if err != nil {
		return redactError(err, p.sid)
	}
	if rec.state == stateUnknown {
		return ErrProcessNotFound
	}
	return nil
}

func (p *Process) kill(ctx context.Context) (record, error) {
	for try := 0; try < maxReportTries; try++ {
		nonce := newHexID(6)
		resp, err := p.c.Execute(ctx, p.sid, Command{Shell: killScript(p.id, nonce), Timeout: execMargin}, &ExecuteOptions{RetryAmbiguousFailures: true})
		if err != nil {
			return record{}, err
		}
		if rec, ok := parseReport(resp.Stdout, resp.Stderr, nonce); ok {
			return rec, nil
		}
	}
	return record{}, fmt.Errorf("%w (process %s, kill)", ErrOutputLost, p.id)
}

// Wait waits for the process to end and returns its result: ExitCode (124
// and TimedOut after cmd.Timeout, 137 after Kill), Duration, and the whole
// stdout and stderr, read into memory, of each stream for which no reader
// was made (Stdout, Stderr, NewOutputReader); streams being read through a
// reader are left empty. It polls the session (each poll waits up to 20 s
// there for the end, so a long wait costs about three requests a minute).
//
// Cancelling ctx stops waiting, not the process: use Kill for that. Wait
// may be called again, also from another program after AttachProcess, until
// the process's files are cleaned up (see Process).
func (p *Process) Wait(ctx context.Context) (resp RunResponse, err error) {
	ctx, endSpan := p.c.startSpan(ctx, "Process.Wait")
	defer func() { endSpan(err) }()
	start := time.Now()
	resp, err = p.waitAndCollect(ctx, nil, nil, nil, start)
	return resp, redactError(err, p.sid)
}

// waitAndCollect polls until the process is done (unless first already
// says so), then collects the output of the streams without a reader into
// w (or memory), cleans up and builds the result. With stream set, output
// is written to the writers while the process runs.
func (p *Process) waitAndCollect(ctx context.Context, first *record, wout, werr io.Writer, start time.Time) (RunResponse, error) {
	p.mu.Lock()
	skipOut, skipErr := p.hadReader[0], p.hadReader[1]
	p.mu.Unlock()
	var outBuf, errBuf bytes.Buffer
	if wout == nil {
		wout = &outBuf
	}
	if werr == nil {
		werr = &errBuf
	}
	streaming := wout != &outBuf || werr != &errBuf
	off := [2]int64{-2, -2}
	if skipOut {
		off[0] = -1
	}
	if skipErr {
		off[1] = -1
	}
	if streaming {
		for i := range off {
			if off[i] == -2 {
				off[i] = 0
			}
		}
	}
	downloaded := false
	var rec record
	if first != nil {
		rec = *first
	} else {
		var err error
		if rec, err = p.poll(ctx, off[0], off[1], pollWait, 0); err != nil {
			return RunResponse{}, err
		}
	}
	for {
		if err := rec.stateError(); err != nil {
			return RunResponse{}, err
		}
		segs := [2]segment{rec.out, rec.err}
		ws := [2]io.Writer{wout, werr}
		for i := range segs {
			if off[i] == -1 {
				continue
			}
			d, err := p.fetch(ctx, segs[i], ws[i])
			downloaded = downloaded || d
			if err != nil {
				return RunResponse{}, err
			}
			if off[i] >= 0 {
				off[i] += segs[i].length
			}
		}
		if rec.state == stateDone {
			break
		}
		var err error
		if rec, err = p.poll(ctx, off[0], off[1], pollWait, 0); err != nil {
			return RunResponse{}, err
		}
	}
	// The report reads the completion record before the files, so a
	// "done" report carried everything up to the end.
	resp := RunResponse{
		ExitCode:  rec.exitCode,
		TimedOut:  rec.timedOut,
		ProcessID: p.id,
	}
	if rec.t0 > 0 && rec.t1 >= rec.t0 {
		resp.Duration = time.Duration(math.Round((rec.t1 - rec.t0) * 1e9))
	} else {
		resp.Duration = time.Since(start)
	}
	if wout == &outBuf {
		resp.Stdout = outBuf.Bytes()
	}
	if werr == &errBuf {
		resp.Stderr = errBuf.Bytes()
	}
	p.mu.Lock()
	p.waited = true
	resp.Recovered = p.recovered
	p.mu.Unlock()
	p.maybeCleanup(ctx, downloaded)
	return resp, nil
}

// maybeCleanup queues the process's files for removal once its result is
// read and no reader is open. The removal rides on the session's next
// layer call: the very next one when output was downloaded (large files
// should not linger), else once cleanupBatch results are waiting.
func (p *Process) maybeCleanup(_ context.Context, large bool) {
	p.mu.Lock()
	if p.cleaned || !p.waited || p.readers > 0 {
		p.mu.Unlock()
		return
	}
	p.cleaned = true
	p.chunks = nil
	p.mu.Unlock()
	p.c.layer().add(p.sid, p.id)
	if large {
		p.c.layer().markUrgent(p.sid)
	}
}

// Stdout returns a reader of the process's standard output from its first
// byte; see NewOutputReader.
func (p *Process) Stdout(ctx context.Context) io.ReadCloser {
	return p.NewOutputReader(ctx, StreamStdout, 0)
}

// Stderr returns a reader of the process's standard error from its first
// byte; see NewOutputReader.
func (p *Process) Stderr(ctx context.Context) io.ReadCloser {
	return p.NewOutputReader(ctx, StreamStderr, 0)
}

// NewOutputReader returns a reader of one of the process's streams from
// byte offset (0 for the start). It yields output while the process runs,
// as soon as a poll sees it (each poll waits in the session up to 20 s for
// new output and returns within about 20-200 ms of it), exactly as written,
// and returns io.EOF after the last byte once the process has ended. Large
// output is streamed from the session's files, not held in memory. ctx
// bounds every read; Close releases the reader (and lets the process's
// files be cleaned up once Wait has returned). The stream made by a
// reader is left out of Wait's result.
func (p *Process) NewOutputReader(ctx context.Context, stream OutputStream, offset int64) io.ReadCloser {
	p.mu.Lock()
	p.readers++
	if stream == StreamStderr {
		p.hadReader[1] = true
	} else {
		p.hadReader[0] = true
	}
	p.mu.Unlock()
	r := &outputReader{p: p, ctx: ctx, stream: stream, off: offset}
	if offset < 0 {
		r.err = newArgumentError("offset", fmt.Sprintf("is negative (%d); use 0 for the start", offset))
	}
	return r
}

type outputReader struct {
	p      *Process
	ctx    context.Context
	stream OutputStream
	off    int64

	buf    []byte
	body   io.ReadCloser
	seg    segment
	remain int64
	done   bool  // the process has ended; EOF once everything is read
	endErr error // returned instead of io.EOF at the end
	err    error
	closed bool
}

// Read implements io.Reader.
func (r *outputReader) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	for {
		if r.err != nil {
			return 0, r.err
		}
		if len(r.buf) > 0 {
			n := copy(b, r.buf)
			r.buf = r.buf[n:]
			r.off += int64(n)
			return n, nil
		}
		if r.body != nil {
			if r.remain >= 0 {
				b = b[:min(int64(len(b)), r.remain)]
			}
			n, err := r.body.Read(b)
			if r.remain >= 0 {
				r.remain -= int64(n)
			}
			r.off += int64(n)
			if r.remain == 0 || (r.remain < 0 && err == io.EOF) {
				r.body.Close()
				r.body = nil
				r.p.noteChunk(r.seg.name)
			} else if err == io.EOF {
				r.body.Close()
				r.body = nil
				r.err = fmt.Errorf("%w: %s ended %d bytes early", ErrOutputLost, r.seg.name, r.remain)
			} else if err != nil {
				r.body.Close()
				r.body = nil
				r.err = err
			}
			if n > 0 {
				return n, nil
			}
			continue
		}
		if r.done {
			r.finish()
			if r.endErr != nil {
				return 0, r.endErr
			}
			return 0, io.EOF
		}
		wait := pollWait
		oo, eo := r.off, int64(-1)
		if r.stream == StreamStderr {
			oo, eo = -1, r.off
		}
		rec, err := r.p.poll(r.ctx, oo, eo, wait, 0)
		if err != nil {
			r.err = redactError(err, r.p.sid)
			continue
		}
		if e := rec.stateError(); e != nil && rec.state != stateLost {
			r.err = e
			continue
		}
		seg := rec.out
		if r.stream == StreamStderr {
			seg = rec.err
		}
		// A report reads the completion record before the files, so once
		// the process has ended this segment runs to the end of the stream.
		if rec.state == stateDone {
			r.done = true
		} else if rec.state == stateLost {
			r.done, r.endErr = true, ErrProcessLost
		}
		switch {
		case seg.mode == 'n':
		case seg.inline != nil:
			r.buf = seg.inline
			r.p.noteChunk(seg.name)
		default:
			body, err := r.p.openSegment(r.ctx, seg)
			if err != nil {
				r.err = redactError(err, r.p.sid)
				continue
			}
			r.body, r.seg, r.remain = body, seg, seg.length
		}
	}
}

// Close implements io.Closer.
func (r *outputReader) Close() error {
	if r.body != nil {
		r.body.Close()
		r.body = nil
	}
	r.finish()
	return nil
}

// finish releases the reader once.
func (r *outputReader) finish() {
	if r.closed {
		return
	}
	r.closed = true
	r.p.mu.Lock()
	r.p.readers--
	r.p.mu.Unlock()
	r.p.maybeCleanup(r.ctx, false)
}

// layerState holds, per Client, the processes whose files await clean-up,
// by session. It is keyed weakly so that it goes with the Client.
type layerState struct {
	mu      sync.Mutex
	pending map[string][]string // session ID -> process IDs
	urgent  map[string]bool     // session ID -> a large result awaits clean-up
}

var layerStates sync.Map // weak.Pointer[Client] -> *layerState

func (c *Client) layer() *layerState {
	k := weak.Make(c)
	if v, ok := layerStates.Load(k); ok {
		return v.(*layerState)
	}
	v, loaded := layerStates.LoadOrStore(k, &layerState{pending: map[string][]string{}, urgent: map[string]bool{}})
	if !loaded {
		runtime.AddCleanup(c, func(k weak.Pointer[Client]) { layerStates.Delete(k) }, k)
	}
	return v.(*layerState)
}

// add queues ids for clean-up in sessionID.
func (l *layerState) add(sessionID string, ids ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	q := append(l.pending[sessionID], ids...)
	if len(q) > maxPendingIDs {
		q = q[len(q)-maxPendingIDs:]
	}
	l.pending[sessionID] = q
}

// markUrgent makes the next take in sessionID return what is pending
// without waiting for a full batch.
func (l *layerState) markUrgent(sessionID string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.urgent[sessionID] = true
}

// take removes and returns what awaits clean-up in sessionID: everything
// when force is set or a large result is pending, else only once
// cleanupBatch processes are waiting (an rm per call would cost as much
// as a small command).
func (l *layerState) take(sessionID string, force bool) (ids, names []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ids = l.pending[sessionID]
	if !force && !l.urgent[sessionID] && len(ids) < cleanupBatch {
		return nil, nil
	}
	delete(l.pending, sessionID)
	delete(l.urgent, sessionID)
	return ids, nil
}

// giveBack re-queues what a failed request did not clean up.
func (l *layerState) giveBack(sessionID string, ids, _ []string) {
	if len(ids) > 0 {
		l.add(sessionID, ids...)
		l.markUrgent(sessionID)
	}
}
