package sessionstest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
)

// execBody is every request dialect of POST /executions (API.md §1.5).
type execBody struct {
	CodeInputType          *string         `json:"codeInputType"`
	ExecutionType          *string         `json:"executionType"`
	ShellCommand           *string         `json:"shellCommand"`
	ExecCommandAndArgs     []string        `json:"execCommandAndArgs"`
	Command                json.RawMessage `json:"command"`
	Code                   *string         `json:"code"`
	Stdin                  *string         `json:"stdin"`
	TimeoutInSeconds       *int64          `json:"timeoutInSeconds"`
	OutputStreamsMaxLength *int64          `json:"outputStreamsMaxLength"`
}

type execResultJSON struct {
	Stdout                      string `json:"stdout"`
	Stderr                      string `json:"stderr"`
	ExecutionTimeInMilliseconds int64  `json:"executionTimeInMilliseconds"`
}

type execResource struct {
	ID            string          `json:"id"`
	Identifier    string          `json:"identifier"`
	ExecutionType string          `json:"executionType,omitempty"`
	Status        string          `json:"status"`
	Result        *execResultJSON `json:"result,omitempty"`
	Error         *errorBody      `json:"error,omitempty"`
}

type execution struct {
	id       string
	session  string
	execType string
	done     chan struct{}
	res      execResource // set before done is closed
}

func (e *execution) snapshot() (execResource, bool) {
	select {
	case <-e.done:
		return e.res, true
	default:
		return execResource{ID: e.id, Identifier: e.session, ExecutionType: e.execType, Status: "Running"}, false
	}
}

// parseExec turns a request body into an ExecRequest, or says what is wrong.
func (s *Server) parseExec(body []byte, p *pool) (ExecRequest, bool, string) {
	var b execBody
	var req ExecRequest
	if len(bytes.TrimSpace(body)) == 0 {
		return req, false, "the request body is empty; send JSON such as {\"shellCommand\":\"echo hello\",\"timeoutInSeconds\":60}"
	}
	if err := json.Unmarshal(body, &b); err != nil {
		return req, false, "the request body is not valid JSON for an execution: " + err.Error()
	}
	if s.opts.Behavior.RejectTutorialDialect && strings.EqualFold(p.spec.ContainerType, ContainerTypeShell) && (b.CodeInputType != nil || b.ExecutionType != nil) {
		return req, false, "shell session pools do not accept codeInputType or executionType (Behavior.RejectTutorialDialect, as some live pools answer); send only shellCommand or execCommandAndArgs, timeoutInSeconds and stdin"
	}
	async := false
	if b.ExecutionType != nil {
		switch strings.ToLower(*b.ExecutionType) {
		case "synchronous":
		case "asynchronous":
			async = true
		default:
			return req, false, fmt.Sprintf("executionType %q is not supported; use Synchronous or Asynchronous", *b.ExecutionType)
		}
	}
	if b.CodeInputType != nil {
		switch strings.ToLower(*b.CodeInputType) {
		case "inline", "inlinetext":
		default:
			return req, false, fmt.Sprintf("codeInputType %q is not supported for shell pools; use Inline", *b.CodeInputType)
		}
	}
	n := 0
	if b.ShellCommand != nil {
		n++
		req.ShellCommand = *b.ShellCommand
	}
	if b.ExecCommandAndArgs != nil {
		n++
		req.Args = b.ExecCommandAndArgs
	}
	if b.Code != nil {
		n++
		req.ShellCommand = *b.Code
	}
	if len(b.Command) > 0 && string(b.Command) != "null" {
		n++
		var argv []string
		var script string
		if err := json.Unmarshal(b.Command, &argv); err == nil {
			req.Args = argv
		} else if err := json.Unmarshal(b.Command, &script); err == nil {
			req.ShellCommand = script
		} else {
			return req, false, "command must be an array of strings (the executable and its arguments) or a string"
		}
	}
	switch {
	case n == 0:
		return req, false, "the body has no command; send shellCommand (a bash script) or execCommandAndArgs (an array: executable and arguments)"
	case n > 1:
		return req, false, "send exactly one of shellCommand, execCommandAndArgs, command and code"
	case req.Args != nil && len(req.Args) == 0:
		return req, false, "the command array is empty; put the executable first, e.g. [\"ls\",\"-la\"]"
	case req.Args == nil && strings.TrimSpace(req.ShellCommand) == "":
		return req, false, "the shell command is empty"
	case req.Args != nil && req.Args[0] == "":
		return req, false, "the executable name (first element of the command array) is empty"
	}
	if b.Stdin != nil {
		req.Stdin = *b.Stdin
	}
	req.Timeout = DefaultExecutionTimeout
	if b.TimeoutInSeconds != nil {
		if *b.TimeoutInSeconds < 0 {
			return req, false, "timeoutInSeconds must not be negative"
		}
		if *b.TimeoutInSeconds > 0 {
			req.Timeout = time.Duration(min(*b.TimeoutInSeconds, 1<<30)) * time.Second
		}
	}
	if s.opts.MaxTimeout > 0 && req.Timeout > s.opts.MaxTimeout {
		req.Timeout = s.opts.MaxTimeout
	}
	req.OutputStreamsMaxLength = DefaultOutputStreamsMaxLength
	if s.opts.Behavior.UncappedOutput {
		req.OutputStreamsMaxLength = MaxOutputStreamsMaxLength
	}
	if b.OutputStreamsMaxLength != nil {
		if *b.OutputStreamsMaxLength < 0 || *b.OutputStreamsMaxLength > MaxOutputStreamsMaxLength {
			return req, false, "outputStreamsMaxLength must be between 0 and 16777216 (bytes per stream)"
		}
		if *b.OutputStreamsMaxLength > 0 {
			req.OutputStreamsMaxLength = int(*b.OutputStreamsMaxLength)
		}
	}
	return req, async, ""
}

func validOperationID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, c := range id {
		if unicode.IsControl(c) || unicode.IsSpace(c) || c == '/' || c == '?' || c == '#' || c == '%' {
			return false
		}
	}
	return true
}

func (s *Server) handleExecute(w http.ResponseWriter, r *http.Request, rt route, p *pool) {
	sid, ok := sessionParam(w, r)
	if !ok {
		return
	}
	opID := r.Header.Get("operation-id")
	if opID != "" && !validOperationID(opID) {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "the operation-id header must be 1 to 128 characters without spaces, control characters, '/', '?', '#' or '%'; a UUID is best")
		return
	}
	body, err := readAllBody(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "reading the request body failed: "+err.Error())
		return
	}
	req, async, msg := s.parseExec(body, p)
	if msg != "" {
		writeError(w, http.StatusBadRequest, "InvalidRequest", msg)
		return
	}
	if !strings.EqualFold(p.spec.ContainerType, ContainerTypeShell) {
		writeError(w, http.StatusNotImplemented, "NotImplemented", fmt.Sprintf(
			"the emulator runs executions for Shell pools only; pool %q has containerType %s", p.spec.Name, p.spec.ContainerType))
		return
	}
	execType := "Synchronous"
	if async {
		execType = "Asynchronous"
	}

	ss, err := s.lockSession(p, sid) // holds s.mu on success
	if err != nil {
		s.writeAllocError(w, p, err)
		return
	}
	var e *execution
	repeat := false
	if opID != "" {
		if old := ss.execs[opID]; old != nil {
			e, repeat = old, true
		}
	} else {
		opID = uuid.NewString()
	}
	if e == nil {
		e = &execution{id: opID, session: sid, execType: execType, done: make(chan struct{})}
		ss.rememberLocked(e)
		ss.running++
		ss.wg.Add(1)
		s.wg.Add(1)
	}
	s.mu.Unlock()

	w.Header().Set("operation-id", e.id)
	q := url.Values{}
	q.Set("api-version", r.URL.Query().Get("api-version"))
	q.Set("identifier", sid)
	w.Header().Set("Operation-Location", s.absURL(r, rt, "/executions/"+url.PathEscape(e.id), q))

	if !repeat {
		req.Pool = p.spec.Name
		req.SessionID = sid
		req.ExecutionID = e.id
		req.Dir = ss.dir
		run := func() {
			defer s.wg.Done()
			defer ss.wg.Done()
			e.res = s.run(ss, req, e)
			close(e.done)
			s.mu.Lock()
			ss.running--
			ss.lastAccessed = s.opts.Now().UTC()
			s.mu.Unlock()
		}
		// Not on the handler goroutine: a client that goes away must not
		// stop the command, so that a retry finds its result.
		go run()
	}
	if e.execType == "Asynchronous" {
		res, done := e.snapshot()
		status := http.StatusOK
		if !done {
			status = http.StatusAccepted
			setRetryAfter(w, asyncRetryAfter)
		}
		writeExecJSON(w, status, &res)
		return
	}
	select {
	case <-e.done:
		writeExecJSON(w, http.StatusOK, &e.res)
	case <-r.Context().Done():
	}
}

// MaxRememberedExecutions is how many executions a session remembers for
// GET /executions/{id} and operation-id deduplication; older finished ones
// are forgotten, so a long-lived session does not grow without bound.
const MaxRememberedExecutions = 1000

// rememberLocked adds e to the session's executions and forgets the oldest
// finished ones beyond MaxRememberedExecutions. The caller holds Server.mu.
func (ss *session) rememberLocked(e *execution) {
	ss.execs[e.id] = e
	ss.order = append(ss.order, e.id)
	if len(ss.order) <= MaxRememberedExecutions {
		return
	}
	keep := ss.order[:0]
	excess := len(ss.order) - MaxRememberedExecutions
	for _, id := range ss.order {
		if old := ss.execs[id]; excess > 0 && old != nil && old.finished() {
			delete(ss.execs, id)
			excess--
			continue
		}
		keep = append(keep, id)
	}
	clear(ss.order[len(keep):])
	ss.order = keep
}

func (e *execution) finished() bool {
	select {
	case <-e.done:
		return true
	default:
		return false
	}
}

func (s *Server) handleGetExecution(w http.ResponseWriter, r *http.Request, p *pool, execID string) {
	sid, ok := sessionParam(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	var e *execution
	ss := s.sessionLocked(p, sid)
	if ss != nil {
		e = ss.execs[execID]
	}
	s.mu.Unlock()
	if e == nil {
		where := ""
		if ss == nil {
			where = " (session " + redactID(sid) + " does not exist)"
		}
		writeError(w, http.StatusNotFound, "ExecutionNotFound", fmt.Sprintf(
			"no execution with id %q in this session%s; executions are kept while their session lives", execID, where))
		return
	}
	res, done := e.snapshot()
	if !done {
		setRetryAfter(w, asyncRetryAfter)
	}
	writeExecJSON(w, http.StatusOK, &res)
}

// asyncRetryAfter is the Retry-After of answers about an execution that is
// still running: a poller that honours it (azcore's does) asks again after a
// second rather than its default 30 s.
const asyncRetryAfter = time.Second

// setRetryAfter adds Retry-After (whole seconds, at least 1).
func setRetryAfter(w http.ResponseWriter, d time.Duration) {
	secs := max(int64((d+time.Second-1)/time.Second), 1)
	w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
}

func readAllBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	var buf bytes.Buffer
	_, err := buf.ReadFrom(r.Body)
	return buf.Bytes(), err
}

// run executes the request (scripted or for real) and builds the result.
func (s *Server) run(ss *session, req ExecRequest, e *execution) execResource {
	ctx, cancel := context.WithTimeout(ss.ctx, req.Timeout)
	defer cancel()
	start := time.Now()
	var res ExecResult
	switch {
	case tooLongArg(req) >= 0:
		res = argTooLongResult(req)
	case s.opts.Scripted != nil:
		res = s.opts.Scripted(ctx, req)
		if s.loseFinalWrite(len(res.Stdout)) {
			res.Stdout = res.Stdout[:lastWriteStart(res.Stdout)]
		}
		res.Stdout = cutBytes(res.Stdout, req.OutputStreamsMaxLength)
		res.Stderr = cutBytes(res.Stderr, req.OutputStreamsMaxLength)
		if ctx.Err() != nil && res.ErrorCode == "" {
			res = timeoutResult(ctx, req, res)
		}
	default:
		res = s.runProcess(ctx, ss, req)
	}
	out := execResource{
		ID:            e.id,
		Identifier:    e.session,
		ExecutionType: e.execType,
		Status:        strconv.Itoa(res.ExitCode),
		Result: &execResultJSON{
			Stdout:                      res.Stdout,
			Stderr:                      res.Stderr,
			ExecutionTimeInMilliseconds: time.Since(start).Milliseconds(),
		},
	}
	if res.ErrorCode != "" {
		out.Error = &errorBody{Code: res.ErrorCode, Message: res.ErrorMessage}
	}
	return out
}

// tooLongArg returns the index of the first argument longer than
// MaxArgBytes (0 for a shellCommand script), or -1.
func tooLongArg(req ExecRequest) int {
	if req.Args == nil {
		if len(req.ShellCommand) > MaxArgBytes {
			return 0
		}
		return -1
	}
	for i, a := range req.Args {
		if len(a) > MaxArgBytes {
			return i
		}
	}
	return -1
}

// argTooLongResult is the answer to a command with an argument beyond
// MaxArgBytes: exit status 126, as bash reports an exec that failed with
// E2BIG, and the reason on stderr. Nothing runs.
func argTooLongResult(req ExecRequest) ExecResult {
	i := tooLongArg(req)
	what, n := "the shellCommand script", len(req.ShellCommand)
	if req.Args != nil {
		what, n = fmt.Sprintf("argument %d of the command array", i), len(req.Args[i])
	}
	return ExecResult{ExitCode: 126, Stderr: fmt.Sprintf(
		"bash: Argument list too long: %s is %d bytes; Linux limits one argument to %d bytes (MAX_ARG_STRLEN). "+
			"Upload the script with POST /files and run it with bash <name>, or pass the data on stdin\n", what, n, MaxArgBytes)}
}

func timeoutResult(ctx context.Context, req ExecRequest, res ExecResult) ExecResult {
	res.ExitCode = -1
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		res.ErrorCode = "ExecutionTimeout"
		res.ErrorMessage = fmt.Sprintf("the command did not finish within %s (timeoutInSeconds) and its process group was killed; output so far is included", req.Timeout)
	} else {
		res.ErrorCode = "ExecutionCanceled"
		res.ErrorMessage = "the session was deleted or the emulator closed while the command ran; its processes were killed"
	}
	return res
}

// markEnv is the environment variable that marks every process a session
// starts (and, by inheritance, their children), so that deleting the
// session or closing the server finds them even after they left the
// command's process group. Its value is "<emulator pid>.<server>.<session>",
// random and unrelated to the session identifier.
const markEnv = "SESSIONSTEST_MARK"

// filesRootEnv names the directory the files API serves (the session's
// directory, also the working directory) to every command, so that the
// sessions package's Run and Start keep their files there and never in a
// /mnt/data the host may have; live pools do not set it (their files root
// is /mnt/data).
const filesRootEnv = "SHELLPOOL_FILES_ROOT"

func (s *Server) runProcess(ctx context.Context, ss *session, req ExecRequest) ExecResult {
	argv := req.Args
	if argv == nil {
		argv = []string{"bash", "-c", req.ShellCommand}
	}
	path := ""
	if ss.sb == nil {
		var err error
		if path, err = lookPath(argv[0]); err != nil {
			return ExecResult{ExitCode: -1, ErrorCode: "CommandStartError",
				ErrorMessage: fmt.Sprintf("cannot start %q: %v (PATH is %s)", argv[0], err, sessionPATH)}
		}
	}
	// The streams go to files, not pipes: the process writes straight to
	// disk and no goroutine has to copy its output, so nothing it wrote
	// before exiting can be lost, however busy the machine is, and a
	// background process that keeps the streams open delays nothing.
	stdout, err := s.newStream("out")
	if err != nil {
		return startError(argv[0], err)
	}
	defer closeRemove(stdout)
	stderr, err := s.newStream("err")
	if err != nil {
		return startError(argv[0], err)
	}
	defer closeRemove(stderr)
	var stdin *os.File
	if req.Stdin != "" {
		if stdin, err = s.newStream("in"); err == nil {
			defer closeRemove(stdin)
			_, err = stdin.WriteString(req.Stdin)
			if err == nil {
				_, err = stdin.Seek(0, io.SeekStart)
			}
		}
		if err != nil {
			return startError(argv[0], err)
		}
	}

	if ss.sb != nil {
		return s.runSandboxed(ctx, ss, req, argv, stdin, stdout, stderr)
	}

	cmd := exec.CommandContext(ctx, path, argv[1:]...)
	cmd.Args[0] = argv[0]
	cmd.Dir = ss.dir
	cmd.Env = []string{
		"PATH=" + sessionPATH,
		"HOME=" + ss.dir,
		"PWD=" + ss.dir,
		"LANG=C.UTF-8",
		"TERM=dumb",
		markEnv + "=" + ss.mark,
		filesRootEnv + "=" + ss.dir,
	}
	if stdin != nil {
		cmd.Stdin = stdin
	}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	setProcessGroup(cmd)

	// The slot is counted under the lock; the process starts outside it.
	s.mu.Lock()
	s.running++
	s.mu.Unlock()
	err = cmd.Start()
	if err != nil {
		s.mu.Lock()
		s.running--
		s.mu.Unlock()
		if ctx.Err() != nil {
			return timeoutResult(ctx, req, ExecResult{})
		}
		return startError(argv[0], err)
	}
	stopTrim := trimStreams(int64(req.OutputStreamsMaxLength), stdout, stderr)
	waitErr := cmd.Wait()
	stopTrim()
	pgid := cmd.Process.Pid
	alive := groupAlive(pgid)

	s.mu.Lock()
	s.running--
	if alive && ss.ctx.Err() == nil {
		ss.groups[pgid] = struct{}{} // background processes the command left
	}
	s.mu.Unlock()
	if alive && ss.ctx.Err() != nil {
		killGroup(pgid)
	}

	res, ok := s.readOutput(stdout, stderr, req.OutputStreamsMaxLength)
	if !ok {
		return res
	}
	if ctx.Err() != nil {
		return timeoutResult(ctx, req, res)
	}
	res.ExitCode = exitCode(cmd.ProcessState)
	if waitErr != nil && cmd.ProcessState == nil {
		res.ExitCode = -1
		res.ErrorCode = "CommandStartError"
		res.ErrorMessage = waitErr.Error()
	}
	return res
}

// sandboxEnv is the environment of every command of a sandboxed session
// (nothing from the host): root's, in /mnt/data.
var sandboxEnv = []string{
	"PATH=" + sessionPATH,
	"HOME=" + sandboxHome,
	"PWD=" + sandboxDataDir,
	"LANG=C.UTF-8",
	"TERM=dumb",
}

// sandboxDataDir is /mnt/data, the session's file store, as the commands
// of a sandboxed session see it.
const sandboxDataDir = "/mnt/data"

// sandboxHome is HOME in a sandboxed session: root's home, empty and
// private to the session.
const sandboxHome = "/root"

// runSandboxed runs argv in the session's sandbox, in /mnt/data, with the
// given streams.
func (s *Server) runSandboxed(ctx context.Context, ss *session, req ExecRequest, argv []string, stdin, stdout, stderr *os.File) ExecResult {
	s.mu.Lock()
	s.running++
	s.mu.Unlock()
	stopTrim := trimStreams(int64(req.OutputStreamsMaxLength), stdout, stderr)
	code, notStarted, err := ss.sb.run(ctx.Done(), argv, sandboxEnv, stdin, stdout, stderr)
	stopTrim()
	s.mu.Lock()
	s.running--
	s.mu.Unlock()
	if notStarted != "" {
		return ExecResult{ExitCode: -1, ErrorCode: "CommandStartError", ErrorMessage: notStarted}
	}
	res, ok := s.readOutput(stdout, stderr, req.OutputStreamsMaxLength)
	if !ok {
		return res
	}
	if ctx.Err() != nil {
		return timeoutResult(ctx, req, res)
	}
	if err != nil {
		res.ExitCode = -1
		res.ErrorCode = "ExecutionCanceled"
		res.ErrorMessage = "the session's sandbox ended while the command ran; its processes were killed"
		return res
	}
	res.ExitCode = code
	return res
}

// readOutput reads a finished command's streams back; when that fails
// (ok false) the result is the error to answer.
func (s *Server) readOutput(stdout, stderr *os.File, max int) (res ExecResult, ok bool) {
	var err error
	res.Stdout, err = s.readStream(stdout, max, true)
	if err == nil {
		res.Stderr, err = s.readStream(stderr, max, false)
	}
	if err != nil {
		return ExecResult{ExitCode: -1, Stdout: res.Stdout, ErrorCode: "InternalServerError",
			ErrorMessage: "the emulator could not read the command's output back: " + err.Error()}, false
	}
	return res, true
}

// streamSlack is how far a stream file may grow beyond its cap before
// trimStreams cuts it back.
const streamSlack = 8 << 20

// trimStreams keeps the disk use of a command's output files bounded while
// it runs: every 50 ms, a file grown more than streamSlack beyond max bytes
// is truncated to max+1 (the process writes on at its offset, into a sparse
// file). Only the first max bytes are ever answered, so nothing the answer
// needs is lost, however late this runs. The returned func stops it.
func trimStreams(max int64, files ...*os.File) func() {
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				for _, f := range files {
					if fi, err := f.Stat(); err == nil && fi.Size() > max+streamSlack {
						_ = f.Truncate(max + 1)
					}
				}
			}
		}
	}()
	return func() { close(done); <-stopped }
}

func startError(name string, err error) ExecResult {
	return ExecResult{ExitCode: -1, ErrorCode: "CommandStartError",
		ErrorMessage: fmt.Sprintf("cannot start %q: %v", name, err)}
}

// newStream makes a file for a command's stream. When sessions are
// sandboxes the server has no directory: the file is made in Options.Dir
// (or the temporary directory) and unlinked at once, so nothing is left
// on disk whatever happens to the emulator. closeRemove disposes of it.
func (s *Server) newStream(kind string) (*os.File, error) {
	if !s.iso.Sandboxed {
		return os.CreateTemp(s.streams, kind+"-*")
	}
	f, err := os.CreateTemp(s.streams, "sessionstest-"+kind+"-*")
	if err == nil {
		err = os.Remove(f.Name())
		if err != nil {
			_ = f.Close()
			f = nil
		}
	}
	return f, err
}

// closeRemove closes a stream file and removes it.
func closeRemove(f *os.File) {
	_ = f.Close()
	_ = os.Remove(f.Name())
}

// readStream reads a command's output back from its file: the first max
// bytes (a UTF-8 character cut in two becomes U+FFFD), after dropping the
// final write when the lost-final-write quirk strikes (stdout only). It
// allocates the answer once, at its final size.
func (s *Server) readStream(f *os.File, max int, isStdout bool) (string, error) {
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	end := fi.Size()
	if isStdout && s.loseFinalWrite(int(min(end, 1<<30))) {
		if end, err = lastWriteStartFile(f, end); err != nil {
			return "", err
		}
	}
	n := min(end, int64(max))
	cut := n < end
	fix := false
	if cut && n > 0 {
		// Look at the bytes around the cut for a split character.
		lo := max64(n-3, 0)
		win := make([]byte, min(end, n+1)-lo)
		if _, err := f.ReadAt(win, lo); err != nil && !errors.Is(err, io.EOF) {
			return "", err
		}
		if k := validPrefixLen(win[:n-lo]); k < int(n-lo) {
			n, fix = lo+int64(k), true
		}
	}
	if n == 0 && !fix {
		return "", nil
	}
	var sb strings.Builder
	sb.Grow(int(n) + 3)
	buf := make([]byte, min(n, 16<<10)+1)
	if _, err := io.CopyBuffer(&sb, io.NewSectionReader(f, 0, n), buf); err != nil {
		return "", err
	}
	if fix {
		sb.WriteRune(utf8.RuneError)
	}
	return sb.String(), nil
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

// validPrefixLen returns the length of b without an incomplete UTF-8
// sequence at its end (b holds at most the last 3 bytes before a cut).
func validPrefixLen(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-3; i-- {
		c := b[i]
		if c&0xC0 == 0x80 {
			continue // continuation byte: look further back for the lead
		}
		need := 1
		switch {
		case c&0xE0 == 0xC0:
			need = 2
		case c&0xF0 == 0xE0:
			need = 3
		case c&0xF8 == 0xF0:
			need = 4
		}
		if i+need > len(b) {
			return i
		}
		return len(b)
	}
	return len(b)
}

// cutBytes cuts s to max bytes, replacing a character split by the cut with
// U+FFFD, as the live service does.
func cutBytes(s string, max int) string {
	if max <= 0 || len(s) <= max {
		return s
	}
	lo := max - min(3, max)
	k := lo + validPrefixLen([]byte(s[lo:max]))
	if k < max {
		return s[:k] + string(utf8.RuneError)
	}
	return s[:max]
}

// lastWriteStart returns where the final write of s starts: after the
// newline that ends the line before the last one (0 when there is none).
func lastWriteStart(s string) int {
	t := strings.TrimSuffix(s, "\n")
	return strings.LastIndexByte(t, '\n') + 1
}

// lastWriteStartFile is lastWriteStart for the first size bytes of f.
func lastWriteStartFile(f *os.File, size int64) (int64, error) {
	if size == 0 {
		return 0, nil
	}
	end := size
	last := make([]byte, 1)
	if _, err := f.ReadAt(last, size-1); err != nil {
		return 0, err
	}
	if last[0] == '\n' {
		end--
	}
	buf := make([]byte, 64<<10)
	for end > 0 {
		lo := max64(end-int64(len(buf)), 0)
		chunk := buf[:end-lo]
		if _, err := f.ReadAt(chunk, lo); err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		if i := bytes.LastIndexByte(chunk, '\n'); i >= 0 {
			return lo + int64(i) + 1, nil
		}
		end = lo
	}
	return 0, nil
}

// loseFinalWrite draws whether the lost-final-write quirk strikes a run
// whose stdout has n bytes (a run that printed nothing has no final write).
func (s *Server) loseFinalWrite(n int) bool {
	rate := s.opts.Behavior.LostFinalWriteRate
	if rate <= 0 || n == 0 {
		return false
	}
	s.quirkMu.Lock()
	defer s.quirkMu.Unlock()
	return s.quirks.Float64() < rate
}
