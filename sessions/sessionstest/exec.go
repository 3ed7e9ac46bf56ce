package sessionstest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
)

// sessionPATH is the PATH of every command the emulator runs.
const sessionPATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

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
	if s.opts.Strict && strings.EqualFold(p.spec.ContainerType, ContainerTypeShell) && (b.CodeInputType != nil || b.ExecutionType != nil) {
		return req, false, "shell session pools do not accept codeInputType or executionType (strict mode, as some live pools answer); send only shellCommand or execCommandAndArgs, timeoutInSeconds and stdin"
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
	if b.OutputStreamsMaxLength != nil {
		if *b.OutputStreamsMaxLength < 0 || *b.OutputStreamsMaxLength > 1<<24 {
			return req, false, "outputStreamsMaxLength must be between 0 and 16777216"
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

	s.mu.Lock()
	ss, err := s.getOrCreateSessionLocked(p, sid)
	if err != nil {
		s.mu.Unlock()
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
		status := http.StatusAccepted
		if done {
			status = http.StatusOK
		}
		writeJSON(w, status, res)
		return
	}
	select {
	case <-e.done:
		writeJSON(w, http.StatusOK, e.res)
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
	res, _ := e.snapshot()
	writeJSON(w, http.StatusOK, res)
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
	if s.opts.Scripted != nil {
		res = s.opts.Scripted(ctx, req)
		res.Stdout = truncateChars(res.Stdout, req.OutputStreamsMaxLength)
		res.Stderr = truncateChars(res.Stderr, req.OutputStreamsMaxLength)
		if ctx.Err() != nil && res.ErrorCode == "" {
			res = timeoutResult(ctx, req, res)
		}
	} else {
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

func (s *Server) runProcess(ctx context.Context, ss *session, req ExecRequest) ExecResult {
	argv := req.Args
	if argv == nil {
		argv = []string{"bash", "-c", req.ShellCommand}
	}
	path, err := lookPath(argv[0])
	if err != nil {
		return ExecResult{ExitCode: -1, ErrorCode: "CommandStartError",
			ErrorMessage: fmt.Sprintf("cannot start %q: %v (PATH is %s)", argv[0], err, sessionPATH)}
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
	}
	cmd.Stdin = strings.NewReader(req.Stdin)
	stdout := newCappedWriter(req.OutputStreamsMaxLength)
	stderr := newCappedWriter(req.OutputStreamsMaxLength)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	setProcessGroup(cmd)
	// Commands that leave background children holding stdout do not block
	// the answer for longer than this.
	cmd.WaitDelay = 250 * time.Millisecond

	s.mu.Lock()
	if ctx.Err() != nil {
		s.mu.Unlock()
		return timeoutResult(ctx, req, ExecResult{})
	}
	err = cmd.Start()
	if err == nil {
		s.running++
	}
	s.mu.Unlock()
	if err != nil {
		return ExecResult{ExitCode: -1, ErrorCode: "CommandStartError",
			ErrorMessage: fmt.Sprintf("cannot start %q: %v", argv[0], err)}
	}
	waitErr := cmd.Wait()
	pgid := cmd.Process.Pid

	s.mu.Lock()
	s.running--
	alive := groupAlive(pgid)
	if alive && ss.ctx.Err() == nil {
		ss.groups[pgid] = struct{}{} // background processes the command left
	}
	s.mu.Unlock()
	if alive && ss.ctx.Err() != nil {
		killGroup(pgid)
	}

	res := ExecResult{Stdout: stdout.String(), Stderr: stderr.String()}
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

// lookPath finds an executable in the session PATH (not the host's).
func lookPath(name string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil // absolute, or relative to the session directory
	}
	for _, dir := range filepath.SplitList(sessionPATH) {
		p := filepath.Join(dir, name)
		fi, err := os.Stat(p)
		if err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fs.ErrNotExist
}

// cappedWriter keeps the first max characters written to it and discards
// the rest, so that memory stays bounded whatever a command prints.
type cappedWriter struct {
	max       int // characters
	buf       []byte
	truncated bool
}

func newCappedWriter(maxChars int) *cappedWriter {
	return &cappedWriter{max: maxChars}
}

// Write keeps at most 4*max bytes (enough for max UTF-8 characters).
func (c *cappedWriter) Write(p []byte) (int, error) {
	limit := 4 * c.max
	if room := limit - len(c.buf); room > 0 {
		c.buf = append(c.buf, p[:min(room, len(p))]...)
		if room < len(p) {
			c.truncated = true
		}
	} else if len(p) > 0 {
		c.truncated = true
	}
	return len(p), nil
}

// String returns the kept output, cut to max characters.
func (c *cappedWriter) String() string { return truncateChars(string(c.buf), c.max) }

func truncateChars(s string, maxChars int) string {
	if maxChars <= 0 || len(s) <= maxChars {
		return s
	}
	if utf8.RuneCountInString(s) <= maxChars {
		return s
	}
	n := 0
	for i := range s {
		if n == maxChars {
			return s[:i]
		}
		n++
	}
	return s
}
