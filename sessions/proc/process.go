package proc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/shellpool/shellpool/sessions"
)

// KeepAfterEnd is how long a process's files stay in the session after its
// end was first reported (to a Wait, a reader or Attach, from any program):
// long enough to attach from another program and read the result again.
// A process that Run started keeps them one minute (runKeep): no one else
// can attach to it. Release removes them at once; deleting the session
// removes them with it.
const KeepAfterEnd = 10 * time.Minute

// runKeep is KeepAfterEnd for the processes of Run, Output and
// CombinedOutput: long enough to recover a report the service lost.
const runKeep = time.Minute

// Waits of the layer's executions.
const (
	runWaitMax     = 40 * time.Second // longest Run's first execution waits for the end
	pollWait       = 20 * time.Second // longest a poll waits in the session for news
	execMargin     = 30 * time.Second // added to a script's own wait for the service timeout
	killBudget     = 5 * time.Second  // bound of the kill after a cancelled Run or Wait
	maxReportTries = 8                // executions tried for one report that was lost or cut
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

// Process is a command started in a session (by Cmd.Start, or found again
// with Attach). It runs in the background, outlives the call and the
// program that started it, and can be waited for, killed and read while it
// runs. A process never outlives its session: deleting the session, or its
// expiry after the pool's cooldown, ends it. Every call is a request to
// the session and so keeps it alive.
//
// Ownership of the files: a process's stdout, stderr and records are files
// in the session (named FilePrefix + ID + ".*"). They stay until
// KeepAfterEnd after its end was first reported to anyone (one minute for
// a process of Run), or until Release. Until then any program can Attach
// and read the result, as often as it likes. The first request of the
// package in the session after that removes them (a request looks for
// expired files at most every 5 s, so they may stay up to that much
// longer); then Attach and every read fail with ErrProcessNotFound.
//
// A Process is safe for concurrent use.
type Process struct {
	s    *sessions.SessionClient
	id   string
	keep time.Duration
	dir  string // Cmd.Dir, for ErrDirNotFound

	mu     sync.Mutex
	chunks []string // chunk files read, removed by the next request
	seen   bool     // a report showed the process: "unknown" now means lost
}

// ID returns the process's identifier: 24 hex digits, safe to store and
// log (it does not contain the session identifier). Pass it to Attach to
// find the process again.
func (p *Process) ID() string { return p.id }

// String describes the process without the session identifier.
func (p *Process) String() string { return "proc.Process(" + p.id + ")" }

// Attach returns the process id (Process.ID) of the session s, started by
// this or another program, to wait for, kill or read from the start or from
// an offset. It sends one request, which fails with ErrProcessNotFound when
// the session holds no such process. Invalid input is an
// *sessions.ArgumentError.
func Attach(ctx context.Context, s *sessions.SessionClient, id string) (*Process, error) {
	if s == nil {
		return nil, newArgumentError("s", "is nil; pass the session the process runs in")
	}
	if !validID(id) {
		return nil, newArgumentError("id", "is not a process ID; pass Process.ID as returned by Start (24 lower-case hex digits)")
	}
	p := &Process{s: s, id: id, keep: KeepAfterEnd}
	rec, err := p.poll(ctx, -1, -1, 0)
	if err != nil {
		return nil, err
	}
	if err := p.stateError(rec); err != nil && !errors.Is(err, ErrProcessLost) {
		return nil, err
	}
	return p, nil
}

// stateError is the error for a record's state, or nil for running/done.
func (p *Process) stateError(r record) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch r.state {
	case stateUnknown:
		if p.seen {
			return fmt.Errorf("%w (process %s: its files are gone: the session was deleted or restarted, or they were removed after KeepAfterEnd)", ErrProcessLost, p.id)
		}
		return fmt.Errorf("%w (process %s)", ErrProcessNotFound, p.id)
	case stateGone:
		return fmt.Errorf("%w (process %s: Release removed its files)", ErrProcessNotFound, p.id)
	case stateLost:
		return fmt.Errorf("%w (process %s)", ErrProcessLost, p.id)
	case stateNoDir:
		return dirError(p.dir)
	}
	p.seen = true
	return nil
}

// exec runs one of the layer's scripts (idempotent: polls, kills, releases).
func (p *Process) exec(ctx context.Context, nonce, call string, wait time.Duration, ib int) (sessions.ExecuteResponse, []string, error) {
	p.mu.Lock()
	rm := p.chunks
	p.chunks = nil
	p.mu.Unlock()
	sc := script(header(p.id, nonce, int(p.keep/time.Second), ib, rm), call)
	resp, err := p.s.Execute(ctx, sessions.Command{Shell: sc, Timeout: wait + execMargin}, &sessions.ExecuteOptions{RetryAmbiguousFailures: true})
	if err != nil {
		p.mu.Lock()
		p.chunks = append(p.chunks, rm...)
		p.mu.Unlock()
	}
	return resp, rm, err
}

// report runs call (a main_* taking the offsets) until a whole report
// arrives: a report that was lost or cut is asked for again, without
// inline content (a cut one) and without waiting.
func (p *Process) report(ctx context.Context, call func(wait time.Duration) string, wait time.Duration) (record, error) {
	ib := inlineBudget
	for try := 0; try < maxReportTries; try++ {
		nonce := newHexID(6)
		resp, _, err := p.exec(ctx, nonce, call(wait), wait, ib)
		if err != nil {
			return record{}, err
		}
		if rec, ok := parseReport(resp.Stdout, resp.Stderr, nonce); ok {
			return rec, nil
		}
		wait, ib = 0, 0
	}
	return record{}, fmt.Errorf("%w (process %s, %d attempts)", ErrOutputLost, p.id, maxReportTries)
}

// poll reports on the process from the offsets (-1 skips a stream, -2
// reports it from the start once the process has ended), after waiting up
// to wait in the session for news.
func (p *Process) poll(ctx context.Context, oo, eo int64, wait time.Duration) (record, error) {
	return p.report(ctx, func(w time.Duration) string {
		return fmt.Sprintf("main_poll %d %d %d", oo, eo, int64(w/(10*time.Millisecond)))
	}, wait)
}

// kill kills the process and reports from the offsets.
func (p *Process) kill(ctx context.Context, oo, eo int64) (record, error) {
	return p.report(ctx, func(time.Duration) string { return fmt.Sprintf("main_kill %d %d", oo, eo) }, 0)
}

// Kill kills the process and everything it started: its process group and
// every process that carries its mark (the environment variable
// SHELLPOOL_PROCESS, which children inherit, even after setsid), with
// SIGKILL, and waits briefly until the session has recorded the end; Wait
// then reports exit code 137. A process that cleared its environment, or
// was handed to a daemon outside the command's tree, cannot be found.
// Killing a process that has already ended does nothing and returns nil. It
// is idempotent and retried safely. A process the session does not hold is
// ErrProcessNotFound.
func (p *Process) Kill(ctx context.Context) error {
	rec, err := p.kill(ctx, -1, -1)
	if err != nil {
		return err
	}
	if rec.state == stateUnknown || rec.state == stateGone {
		return fmt.Errorf("%w (process %s)", ErrProcessNotFound, p.id)
	}
	return nil
}

// Release removes the process's files from the session: at once when it
// has ended, else as soon as it ends (Release does not stop it; Kill does).
// Afterwards nothing can read its result: Wait, readers and Attach fail
// with ErrProcessNotFound. Releasing twice is harmless.
func (p *Process) Release(ctx context.Context) error {
	for try := 0; try < maxReportTries; try++ {
		nonce := newHexID(6)
		resp, _, err := p.exec(ctx, nonce, "main_release", 0, 0)
		if err != nil {
			return err
		}
		if _, ok := parseReport(resp.Stdout, resp.Stderr, nonce); ok {
			return nil
		}
	}
	return fmt.Errorf("%w (process %s, release)", ErrOutputLost, p.id)
}

// Wait waits for the process to end and returns its state (a non-zero exit
// code is a state, not an error, as with os.Process.Wait). Output is read
// with Stdout, Stderr and NewOutputReader. Each poll waits up to 20 s in
// the session for the end, so a long wait costs about three requests a
// minute. Cancelling ctx stops waiting, not the process: use Kill for
// that.
func (p *Process) Wait(ctx context.Context) (*ProcessState, error) {
	for {
		rec, err := p.poll(ctx, -1, -1, pollWait)
		if err != nil {
			return nil, err
		}
		if err := p.stateError(rec); err != nil {
			return nil, err
		}
		if rec.state == stateDone {
			return p.state(rec, time.Time{}), nil
		}
	}
}

// state builds the ProcessState of a done record.
func (p *Process) state(rec record, start time.Time) *ProcessState {
	st := &ProcessState{id: p.id, exitCode: rec.exitCode, timedOut: rec.timedOut, waitDelay: rec.waitDelay}
	if rec.t0 > 0 && rec.t1 >= rec.t0 {
		st.duration = time.Duration(math.Round((rec.t1 - rec.t0) * 1e9))
	} else if !start.IsZero() {
		st.duration = time.Since(start)
	}
	return st
}

// noteChunk remembers a chunk file to remove with the next request.
func (p *Process) noteChunk(name string) {
	if strings.HasPrefix(name, FilePrefix+p.id+".c") {
		p.mu.Lock()
		p.chunks = append(p.chunks, name)
		p.mu.Unlock()
	}
}

// openSegment downloads the file of seg, limited to seg.length bytes (the
// whole file when the length is -1: a finished stream, which no longer
// grows; the transfer's Content-Length still catches a short body).
func (p *Process) openSegment(ctx context.Context, seg segment) (io.ReadCloser, error) {
	resp, err := p.s.DownloadFile(ctx, seg.name, nil)
	if err != nil {
		if errors.Is(err, sessions.ErrFileNotFound) {
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

// fetch writes the content of seg to w: the verified inline bytes, or the
// file it names, downloaded and checked against its length. It returns the
// bytes written.
func (p *Process) fetch(ctx context.Context, seg segment, w io.Writer) (int64, error) {
	switch {
	case seg.mode == 'n':
		return 0, nil
	case seg.inline != nil:
		n, err := w.Write(seg.inline)
		p.noteChunk(seg.name)
		return int64(n), err
	}
	body, err := p.openSegment(ctx, seg)
	if err != nil {
		return 0, err
	}
	defer body.Close()
	n, err := io.Copy(w, body)
	if err != nil {
		return n, err
	}
	if seg.length >= 0 && n != seg.length {
		return n, fmt.Errorf("%w: %s holds %d bytes, the record says %d", ErrOutputLost, seg.name, n, seg.length)
	}
	p.noteChunk(seg.name)
	return n, nil
}

// waiter follows a process to its end, writing the streams it collects.
// mode: -1 skip a stream, -2 collect it once the process has ended, 0
// stream it while the process runs.
type waiter struct {
	p    *Process
	mode [2]int64
	ws   [2]io.Writer
	n    [2]int64 // bytes written of each stream
}

// offsets are the offsets of the next report.
func (w *waiter) offsets() (int64, int64) {
	var o [2]int64
	for i := range o {
		switch {
		case w.mode[i] == -1:
			o[i] = -1
		case w.mode[i] == -2 && w.n[i] == 0:
			o[i] = -2
		default:
			o[i] = w.n[i]
		}
	}
	return o[0], o[1]
}

// take writes the segments of rec.
func (w *waiter) take(ctx context.Context, rec record) error {
	segs := [2]segment{rec.out, rec.err}
	for i := range segs {
		if w.mode[i] == -1 {
			continue
		}
		n, err := w.p.fetch(ctx, segs[i], w.ws[i])
		w.n[i] += n
		if err != nil {
			return err
		}
	}
	return nil
}

// run polls until the process is done (unless first already says so),
// writing the streams as they come.
func (w *waiter) run(ctx context.Context, first *record) (record, error) {
	var rec record
	if first != nil {
		rec = *first
	} else {
		oo, eo := w.offsets()
		var err error
		if rec, err = w.p.poll(ctx, oo, eo, pollWait); err != nil {
			return rec, err
		}
	}
	for {
		if err := w.p.stateError(rec); err != nil {
			return rec, err
		}
		if err := w.take(ctx, rec); err != nil {
			return rec, err
		}
		if rec.state == stateDone {
			return rec, nil
		}
		oo, eo := w.offsets()
		var err error
		if rec, err = w.p.poll(ctx, oo, eo, pollWait); err != nil {
			return rec, err
		}
	}
}

// killAndTake kills the process with its own short deadline (ctx has
// ended) and writes what it wrote until then; it returns the final record
// when it could get one.
func (w *waiter) killAndTake(ctx context.Context) (record, bool) {
	kctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), killBudget)
	defer cancel()
	oo, eo := w.offsets()
	rec, err := w.p.kill(kctx, oo, eo)
	if err != nil || rec.state != stateDone {
		return rec, false
	}
	if w.take(kctx, rec) != nil {
		return rec, false
	}
	return rec, true
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
// within about a second of it being written (each poll waits in the session
// up to 20 s for news, checking every 10 to 200 ms, and lets a burst settle
// for up to half a second), exactly as written, and returns io.EOF after
// the last byte once the process has ended. Large output is streamed from
// the session's files, not held in memory. ctx bounds every read; Close
// releases the reader. Any number of readers may read a process, from any
// program, until its files are removed (see Process).
func (p *Process) NewOutputReader(ctx context.Context, stream OutputStream, offset int64) io.ReadCloser {
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
			if r.endErr != nil {
				return 0, r.endErr
			}
			return 0, io.EOF
		}
		oo, eo := r.off, int64(-1)
		if r.stream == StreamStderr {
			oo, eo = -1, r.off
		}
		rec, err := r.p.poll(r.ctx, oo, eo, pollWait)
		if err != nil {
			r.err = err
			continue
		}
		if e := r.p.stateError(rec); e != nil && rec.state != stateLost {
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
			r.done, r.endErr = true, fmt.Errorf("%w (process %s)", ErrProcessLost, r.p.id)
		}
		switch {
		case seg.mode == 'n':
		case seg.inline != nil:
			r.buf = seg.inline
			r.p.noteChunk(seg.name)
		default:
			body, err := r.p.openSegment(r.ctx, seg)
			if err != nil {
				r.err = err
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
	if r.err == nil {
		r.err = errors.New("proc: read from a closed output reader")
	}
	return nil
}
