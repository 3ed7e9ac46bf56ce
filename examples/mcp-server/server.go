package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/shellpool/shellpool/sessions"
	"github.com/shellpool/shellpool/sessions/agent"
	"github.com/shellpool/shellpool/sessions/fleet"
	"github.com/shellpool/shellpool/sessions/proc"
)

// protocolVersions are the MCP versions the server speaks: those with
// sessions (initialize), because each MCP session owns a sandbox and a
// persistent shell. Clients of the sessionless 2026-07-28 version fall back
// to one of these.
var protocolVersions = []string{"2025-11-25", "2025-06-18", "2025-03-26"}

// config is what the MCP server needs.
type config struct {
	client        *sessions.Client // the pool's data-plane client
	ids           *fleet.IDs       // derives each MCP session's sandbox identifier
	idle          time.Duration    // a sandbox unused this long is deleted
	progressEvery time.Duration    // how often long commands report progress
	log           *slog.Logger
}

// sandboxServer serves a session pool as MCP tools: each MCP session gets
// its own sandbox session, created on its first tool call and deleted when
// the MCP session ends or its sandbox sits idle.
type sandboxServer struct {
	cfg config

	mu     sync.Mutex
	boxes  map[*mcp.ServerSession]*sandbox
	idled  map[*mcp.ServerSession]bool // their sandbox was deleted for idleness
	closed bool
	wg     sync.WaitGroup
	// deletes counts the deletions drop has started, which Close waits
	// for: the program must not exit while a sandbox is being deleted.
	deletes sync.WaitGroup
}

// sandbox is the sandbox session of one MCP session.
type sandbox struct {
	session *sessions.SessionClient
	shell   *agent.SessionSandbox
	tools   agent.Tools
	used    atomic.Bool // a request was sent, so there is a session to delete

	mu       sync.Mutex
	inFlight int
	timer    *time.Timer
	gone     bool
	procs    map[string]*proc.Process
	ended    map[string]int // exit codes of processes whose output was read to the end
	firstUse string         // a note for the first result, after an idle-out
}

func newSandboxServer(cfg config) *sandboxServer {
	if cfg.log == nil {
		cfg.log = slog.New(slog.DiscardHandler)
	}
	if cfg.progressEvery <= 0 {
		cfg.progressEvery = 5 * time.Second
	}
	return &sandboxServer{cfg: cfg, boxes: map[*mcp.ServerSession]*sandbox{}, idled: map[*mcp.ServerSession]bool{}}
}

var errShuttingDown = errors.New("the server is shutting down; start a new MCP session later")

// acquire returns the sandbox of ss, creating it (which sends nothing), and
// holds it busy until release.
func (s *sandboxServer) acquire(ss *mcp.ServerSession) (*sandbox, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errShuttingDown
	}
	b := s.boxes[ss]
	if b == nil {
		nonce := make([]byte, 16)
		_, _ = rand.Read(nonce)
		id, err := s.cfg.ids.ID(fleet.User{Tenant: "mcp-server", ID: hex.EncodeToString(nonce), Purpose: "sandbox"})
		if err != nil {
			return nil, err
		}
		session := s.cfg.client.NewSessionClient(id)
		b = &sandbox{session: session, shell: agent.NewSessionSandbox(session), procs: map[string]*proc.Process{}, ended: map[string]int{}}
		b.tools = agent.Tools{Sandbox: &usedSandbox{Sandbox: b.shell, used: &b.used}, OnError: func(err error) {
			s.cfg.log.Warn("sandbox request failed", "session", session.String(), "err", err)
		}}
		if s.idled[ss] {
			b.firstUse = fmt.Sprintf("[note: the previous sandbox of this MCP session was deleted after %s without use; this is a fresh one: earlier files, processes and shell state are gone]\n", s.cfg.idle)
			delete(s.idled, ss)
		} else {
			// The first sandbox of ss: delete whatever it has when ss ends.
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				_ = ss.Wait()
				s.drop(ss, false)
			}()
		}
		s.boxes[ss] = b
	}
	b.mu.Lock()
	b.inFlight++
	if b.timer != nil {
		b.timer.Stop()
	}
	b.mu.Unlock()
	return b, nil
}

// release ends a tool call on b, arming its idle timer.
func (s *sandboxServer) release(ss *mcp.ServerSession, b *sandbox) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.inFlight--
	if b.inFlight == 0 && s.cfg.idle > 0 && !b.gone {
		b.timer = time.AfterFunc(s.cfg.idle, func() { s.idleOut(ss, b) })
	}
}

func (s *sandboxServer) idleOut(ss *mcp.ServerSession, b *sandbox) {
	b.mu.Lock()
	busy := b.inFlight > 0
	b.mu.Unlock()
	if !busy {
		s.drop(ss, true)
	}
}

// drop deletes the sandbox of ss, if it has one.
func (s *sandboxServer) drop(ss *mcp.ServerSession, idle bool) {
	s.mu.Lock()
	b := s.boxes[ss]
	if b != nil && idle {
		b.mu.Lock()
		busy := b.inFlight > 0
		b.mu.Unlock()
		if busy {
			s.mu.Unlock()
			return
		}
	}
	delete(s.boxes, ss)
	if idle && b != nil {
		s.idled[ss] = true
	} else {
		delete(s.idled, ss)
	}
	if b != nil {
		s.deletes.Add(1) // under s.mu, so that Close sees it
	}
	s.mu.Unlock()
	if b != nil {
		defer s.deletes.Done()
		s.deleteSandbox(b)
	}
}

func (s *sandboxServer) deleteSandbox(b *sandbox) {
	b.mu.Lock()
	b.gone = true
	if b.timer != nil {
		b.timer.Stop()
	}
	b.mu.Unlock()
	if !b.used.Load() {
		return // nothing was ever sent: there is no session to delete
	}
	if err := b.session.Close(context.Background()); err != nil {
		s.cfg.log.Warn("deleting a sandbox session failed; the pool deletes it after its cooldown", "session", b.session.String(), "err", err)
		return
	}
	s.cfg.log.Info("sandbox session deleted", "session", b.session.String())
}

// Close deletes every sandbox and refuses new tool calls; it returns once
// every deletion, including those of MCP sessions that just ended, is done.
func (s *sandboxServer) Close() {
	s.mu.Lock()
	s.closed = true
	boxes := s.boxes
	s.boxes = map[*mcp.ServerSession]*sandbox{}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, b := range boxes {
		wg.Go(func() { s.deleteSandbox(b) })
	}
	wg.Wait()
	s.deletes.Wait() // those an ended MCP session started
}

// usedSandbox marks its sandbox used on every call, so that an MCP session
// that only ever sent bad input leaves nothing to delete.
type usedSandbox struct {
	agent.Sandbox
	used *atomic.Bool
}

func (u *usedSandbox) Exec(ctx context.Context, req agent.ExecRequest) (agent.ExecResult, error) {
	u.used.Store(true)
	return u.Sandbox.Exec(ctx, req)
}

func (u *usedSandbox) Restart(ctx context.Context) error {
	u.used.Store(true)
	return u.Sandbox.Restart(ctx)
}

func (u *usedSandbox) ReadFile(ctx context.Context, p string, limit int64) ([]byte, error) {
	u.used.Store(true)
	return u.Sandbox.ReadFile(ctx, p, limit)
}

func (u *usedSandbox) WriteFile(ctx context.Context, p string, data []byte) error {
	u.used.Store(true)
	return u.Sandbox.WriteFile(ctx, p, data)
}

func (u *usedSandbox) ListDir(ctx context.Context, p string, depth int) ([]string, error) {
	u.used.Store(true)
	return u.Sandbox.ListDir(ctx, p, depth)
}

// progressSandbox reports the progress of each command to the MCP client
// that asked for it: once when it starts, then every interval.
type progressSandbox struct {
	agent.Sandbox
	notify func(ctx context.Context, elapsed time.Duration, outBytes int64)
	every  time.Duration
}

type countingWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c countingWriter) Write(p []byte) (int, error) {
	c.n.Add(int64(len(p)))
	return c.w.Write(p)
}

func (p *progressSandbox) Exec(ctx context.Context, req agent.ExecRequest) (agent.ExecResult, error) {
	var n atomic.Int64
	req.Stdout = countingWriter{req.Stdout, &n}
	req.Stderr = countingWriter{req.Stderr, &n}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		start := time.Now()
		tick := time.NewTicker(p.every)
		defer tick.Stop()
		p.notify(ctx, 0, 0)
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
				p.notify(ctx, time.Since(start), n.Load())
			}
		}
	})
	res, err := p.Sandbox.Exec(ctx, req)
	close(done)
	wg.Wait()
	return res, err
}

// Tool inputs. Field descriptions are what the model reads.

type runInput struct {
	Command        string `json:"command,omitempty" jsonschema:"the bash command line to run in the persistent shell (omit it with restart to only restart)"`
	TimeoutSeconds int    `json:"timeout_seconds,omitempty" jsonschema:"stop the command after this many seconds (default 120, at most 600); the shell and its state survive"`
	Restart        bool   `json:"restart,omitempty" jsonschema:"start a fresh shell first: the directory, variables and functions are reset, files are kept"`
}

type editInput struct {
	Command    string  `json:"command" jsonschema:"one of view, create, str_replace, insert"`
	Path       string  `json:"path" jsonschema:"absolute path of a file or directory under /mnt/data"`
	ViewRange  []int64 `json:"view_range,omitempty" jsonschema:"view: [start, end] line numbers, 1-based; -1 as end for the rest of the file"`
	FileText   *string `json:"file_text,omitempty" jsonschema:"create: the whole content of the file"`
	OldStr     *string `json:"old_str,omitempty" jsonschema:"str_replace: the exact text to replace; it must occur exactly once"`
	NewStr     *string `json:"new_str,omitempty" jsonschema:"str_replace: the replacement text"`
	InsertLine *int64  `json:"insert_line,omitempty" jsonschema:"insert: the line after which to insert (0 for the start of the file)"`
	InsertText *string `json:"insert_text,omitempty" jsonschema:"insert: the text to insert"`
}

type startInput struct {
	Command string `json:"command" jsonschema:"the bash command line to start in the background; it starts in /mnt/data, not in the persistent shell's directory"`
}

type readInput struct {
	ProcessID    string `json:"process_id" jsonschema:"the process_id start_process returned"`
	StdoutOffset int64  `json:"stdout_offset,omitempty" jsonschema:"read stdout from this byte offset (the next_stdout_offset of the previous read)"`
	StderrOffset int64  `json:"stderr_offset,omitempty" jsonschema:"read stderr from this byte offset (the next_stderr_offset of the previous read)"`
	WaitSeconds  int    `json:"wait_seconds,omitempty" jsonschema:"wait up to this many seconds for new output (default 2, at most 30); the read returns as soon as new output arrives or the process ends"`
}

type readOutput struct {
	Stdout           string `json:"stdout"`
	Stderr           string `json:"stderr"`
	NextStdoutOffset int64  `json:"next_stdout_offset"`
	NextStderrOffset int64  `json:"next_stderr_offset"`
	Running          bool   `json:"running"`
	ExitCode         *int   `json:"exit_code,omitempty"`
}

type killInput struct {
	ProcessID string `json:"process_id" jsonschema:"the process_id start_process returned"`
}

type uploadInput struct {
	Path          string `json:"path" jsonschema:"absolute path under /mnt/data to write; directories are created"`
	Content       string `json:"content,omitempty" jsonschema:"the file's content as text"`
	ContentBase64 string `json:"content_base64,omitempty" jsonschema:"the file's content, base64-encoded, for binary files (instead of content)"`
}

type pathInput struct {
	Path string `json:"path" jsonschema:"absolute path under /mnt/data"`
}

type listInput struct {
	Path string `json:"path,omitempty" jsonschema:"directory under /mnt/data to list (default /mnt/data)"`
}

// limits of the tools
const (
	maxReadChunk = 64 << 10 // bytes of each stream one read_process_output returns
	maxDownload  = 4 << 20
	defaultWait  = 2 * time.Second
	maxWait      = 30 * time.Second
	// A read returns this long after the first new output it sees (or
	// earlier, at the end of both streams), so that output written together
	// is returned together and a large chunk is read whole.
	settleAfterOutput = 200 * time.Millisecond
	maxProcsPerBox    = 32
)

func boolp(b bool) *bool { return &b }

func textResult(text string) *mcp.CallToolResult {
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: text}}}
}

func errorResult(text string) *mcp.CallToolResult {
	return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: text}}}
}

// toolResult turns a handler's (text, error) into an MCP result.
func toolResult(b *sandbox, text string, err error) *mcp.CallToolResult {
	note := b.takeNote()
	if err != nil {
		return errorResult(note + err.Error())
	}
	return textResult(note + text)
}

func (b *sandbox) takeNote() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := b.firstUse
	b.firstUse = ""
	return n
}

// newMCPServer returns the MCP server with the sandbox tools.
func (s *sandboxServer) newMCPServer(version string) *mcp.Server {
	server := mcp.NewServer(&mcp.Implementation{Name: "shellpool-sandbox", Title: "Sandbox (Azure Container Apps dynamic sessions)", Version: version}, &mcp.ServerOptions{
		Instructions: "Each MCP session has its own sandbox: a Linux container in an Azure Container Apps session pool, " +
			"with a persistent bash shell and files under /mnt/data. It is deleted when the MCP session ends or after " +
			s.cfg.idle.String() + " without use. Network access depends on the pool's egress setting.",
		Logger:                    s.cfg.log,
		SupportedProtocolVersions: protocolVersions,
	})
	// Honest annotations: commands are arbitrary (destructive, and open
	// world: a pool may allow egress); file tools stay in the sandbox.
	mcp.AddTool(server, &mcp.Tool{
		Name:        "run_command",
		Description: "Run a bash command in the sandbox's persistent shell and return its output (stdout and stderr) and exit code. The working directory, variables and functions carry over to the next call. Output over 30,000 bytes is cut. Long commands report progress.",
		Annotations: &mcp.ToolAnnotations{Title: "Run a command", DestructiveHint: boolp(true), OpenWorldHint: boolp(true)},
	}, s.runCommand)
	mcp.AddTool(server, &mcp.Tool{
		Name:        "edit_file",
		Description: "View, create or edit a text file under /mnt/data, with the semantics of Anthropic's text editor tool: view (numbered lines, optional view_range; a directory lists two levels), create (writes file_text), str_replace (replaces old_str, which must occur exactly once, with new_str), insert (insert_text after line insert_line).",
		Annotations: &mcp.ToolAnnotations{Title: "Edit a file", DestructiveHint: boolp(true), OpenWorldHint: boolp(false)},
	}, s.editFile)
	mcp.AddTool(server, &mcp.Tool{
		Name:        "start_process",
		Description: "Start a bash command in the background in the sandbox and return its process_id at once. Read its output with read_process_output and stop it with kill_process. It starts in /mnt/data with the session's environment, not the persistent shell's.",
		Annotations: &mcp.ToolAnnotations{Title: "Start a background process", DestructiveHint: boolp(true), OpenWorldHint: boolp(true)},
	}, s.startProcess)
	mcp.AddTool(server, &mcp.Tool{
		Name:        "read_process_output",
		Description: "Read a background process's output from the given offsets (waiting up to wait_seconds for new output, but returning as soon as there is some or the process has ended), whether it still runs, and its exit code once it has ended and all its output was read.",
		Annotations: &mcp.ToolAnnotations{Title: "Read a process's output", ReadOnlyHint: true, OpenWorldHint: boolp(false)},
	}, s.readProcess)
	mcp.AddTool(server, &mcp.Tool{
		Name:        "kill_process",
		Description: "Kill a background process (and its children) started with start_process.",
		Annotations: &mcp.ToolAnnotations{Title: "Kill a process", DestructiveHint: boolp(true), IdempotentHint: true, OpenWorldHint: boolp(false)},
	}, s.killProcess)
	mcp.AddTool(server, &mcp.Tool{
		Name:        "upload_file",
		Description: "Write a file into the sandbox under /mnt/data (text in content, or binary in content_base64), replacing any file there and creating directories.",
		Annotations: &mcp.ToolAnnotations{Title: "Upload a file", DestructiveHint: boolp(true), IdempotentHint: true, OpenWorldHint: boolp(false)},
	}, s.uploadFile)
	mcp.AddTool(server, &mcp.Tool{
		Name:        "download_file",
		Description: "Read a file of the sandbox under /mnt/data (at most 4 MiB): its text, or base64 for a binary file.",
		Annotations: &mcp.ToolAnnotations{Title: "Download a file", ReadOnlyHint: true, OpenWorldHint: boolp(false)},
	}, s.downloadFile)
	mcp.AddTool(server, &mcp.Tool{
		Name:        "list_files",
		Description: "List a directory of the sandbox under /mnt/data (default /mnt/data); directories end with /.",
		Annotations: &mcp.ToolAnnotations{Title: "List files", ReadOnlyHint: true, OpenWorldHint: boolp(false)},
	}, s.listFiles)
	return server
}

// call runs one tool call with the sandbox of the calling MCP session.
func (s *sandboxServer) call(req *mcp.CallToolRequest, f func(b *sandbox) *mcp.CallToolResult) (*mcp.CallToolResult, any, error) {
	b, err := s.acquire(req.Session)
	if err != nil {
		return errorResult(err.Error()), nil, nil
	}
	defer s.release(req.Session, b)
	return f(b), nil, nil
}

func (s *sandboxServer) runCommand(ctx context.Context, req *mcp.CallToolRequest, in runInput) (*mcp.CallToolResult, any, error) {
	return s.call(req, func(b *sandbox) *mcp.CallToolResult {
		if in.TimeoutSeconds < 0 {
			return toolResult(b, "", fmt.Errorf("invalid timeout_seconds %d: give a positive number of seconds, or leave it out for 120", in.TimeoutSeconds))
		}
		tools := b.tools
		if token := req.Params.GetProgressToken(); token != nil {
			var seq atomic.Int64
			tools.Sandbox = &progressSandbox{Sandbox: tools.Sandbox, every: s.cfg.progressEvery, notify: func(ctx context.Context, elapsed time.Duration, n int64) {
				_ = req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{
					ProgressToken: token,
					Progress:      float64(seq.Add(1)),
					Message:       fmt.Sprintf("running for %s, %d bytes of output so far", elapsed.Round(time.Second), n),
				})
			}}
		}
		text, err := tools.Bash(ctx, agent.BashInput{Command: in.Command, Restart: in.Restart, TimeoutMS: int64(in.TimeoutSeconds) * 1000})
		return toolResult(b, text, err)
	})
}

func (s *sandboxServer) editFile(ctx context.Context, req *mcp.CallToolRequest, in editInput) (*mcp.CallToolResult, any, error) {
	return s.call(req, func(b *sandbox) *mcp.CallToolResult {
		text, err := b.tools.Edit(ctx, agent.EditInput(in))
		return toolResult(b, text, err)
	})
}

func (s *sandboxServer) startProcess(ctx context.Context, req *mcp.CallToolRequest, in startInput) (*mcp.CallToolResult, any, error) {
	return s.call(req, func(b *sandbox) *mcp.CallToolResult {
		if strings.TrimSpace(in.Command) == "" {
			return toolResult(b, "", errors.New("missing command: give the bash command line to start in the background"))
		}
		b.mu.Lock()
		n := len(b.procs) - len(b.ended) // started, and not yet seen ending
		b.mu.Unlock()
		if n >= maxProcsPerBox {
			return toolResult(b, "", fmt.Errorf("this sandbox has %d background processes that may still run: kill some with kill_process and read them to the end with read_process_output first", n))
		}
		b.used.Store(true)
		cmd := proc.Script(b.session, in.Command)
		if err := cmd.Start(ctx); err != nil {
			return toolResult(b, "", b.tools.SandboxError(ctx, "the process could not be started", err))
		}
		p := cmd.Process
		b.mu.Lock()
		b.procs[p.ID()] = p
		b.mu.Unlock()
		return toolResult(b, fmt.Sprintf("started process_id %s. Read its output with read_process_output, stop it with kill_process.", p.ID()), nil)
	})
}

func (b *sandbox) process(id string) (*proc.Process, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.procs[id]
	if p == nil {
		return nil, fmt.Errorf("unknown process_id %q: use an ID that start_process returned in this MCP session", id)
	}
	return p, nil
}

func (s *sandboxServer) readProcess(ctx context.Context, req *mcp.CallToolRequest, in readInput) (*mcp.CallToolResult, any, error) {
	return s.call(req, func(b *sandbox) *mcp.CallToolResult {
		p, err := b.process(in.ProcessID)
		if err == nil && (in.StdoutOffset < 0 || in.StderrOffset < 0 || in.WaitSeconds < 0) {
			err = errors.New("offsets and wait_seconds must not be negative; start from 0 and pass back next_stdout_offset and next_stderr_offset")
		}
		if err != nil {
			return toolResult(b, "", err)
		}
		wait := defaultWait
		if in.WaitSeconds > 0 {
			wait = min(time.Duration(in.WaitSeconds)*time.Second, maxWait)
		}
		out := readOutput{NextStdoutOffset: in.StdoutOffset, NextStderrOffset: in.StderrOffset, Running: true}
		b.mu.Lock()
		code, ended := b.ended[in.ProcessID]
		b.mu.Unlock()
		if ended {
			out.Running, out.ExitCode = false, &code
			return structured(b, out)
		}
		// The wait ends at its deadline, or settleAfterOutput after the
		// first new output on either stream, whichever comes first.
		rctx, cancel := context.WithTimeout(ctx, wait)
		defer cancel()
		var settle sync.Once
		var timer *time.Timer
		gotOutput := func() {
			settle.Do(func() { timer = time.AfterFunc(settleAfterOutput, cancel) })
		}
		var outErr, errErr error
		var outEOF, errEOF bool
		var wg sync.WaitGroup
		wg.Go(func() {
			out.Stdout, outEOF, outErr = readChunk(rctx, p, proc.StreamStdout, in.StdoutOffset, gotOutput)
		})
		wg.Go(func() {
			out.Stderr, errEOF, errErr = readChunk(rctx, p, proc.StreamStderr, in.StderrOffset, gotOutput)
		})
		wg.Wait()
		settle.Do(func() {}) // no timer starts after this
		if timer != nil {
			timer.Stop()
		}
		for _, err := range []error{outErr, errErr} {
			if err != nil {
				if errors.Is(err, proc.ErrProcessNotFound) {
					return toolResult(b, "", fmt.Errorf("process %s is gone from the sandbox (its output was already read to the end, or the sandbox was replaced)", in.ProcessID))
				}
				return toolResult(b, "", b.tools.SandboxError(ctx, "the output could not be read", err))
			}
		}
		out.NextStdoutOffset += int64(len(out.Stdout))
		out.NextStderrOffset += int64(len(out.Stderr))
		if outEOF && errEOF {
			st, err := p.Wait(ctx)
			if err != nil {
				return toolResult(b, "", b.tools.SandboxError(ctx, "the process's exit code could not be read", err))
			}
			code := st.ExitCode()
			b.mu.Lock()
			b.ended[in.ProcessID] = code
			b.mu.Unlock()
			out.Running, out.ExitCode = false, &code
		}
		return structured(b, out)
	})
}

// readChunk reads one stream of p from offset until its end, maxReadChunk
// bytes, or the end of ctx (then the output so far is returned). It calls
// gotOutput after each read that returned output.
func readChunk(ctx context.Context, p *proc.Process, stream proc.OutputStream, offset int64, gotOutput func()) (string, bool, error) {
	r := p.NewOutputReader(ctx, stream, offset)
	defer r.Close()
	buf := make([]byte, 0, 4096)
	for len(buf) < maxReadChunk {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, len(buf))
		}
		n, err := r.Read(buf[len(buf):min(cap(buf), maxReadChunk)])
		buf = buf[:len(buf)+n]
		if n > 0 {
			gotOutput()
		}
		if errors.Is(err, io.EOF) {
			return string(buf), true, nil
		}
		if err != nil {
			if ctx.Err() != nil {
				break // the wait is over: return what arrived
			}
			return "", false, err
		}
	}
	// Cut at a UTF-8 boundary; the offset advances by what is returned.
	return string(trimIncomplete(buf)), false, nil
}

// trimIncomplete drops a UTF-8 sequence cut off at the end of b.
func trimIncomplete(b []byte) []byte {
	for i := 1; i < utf8.UTFMax && i <= len(b); i++ {
		if utf8.RuneStart(b[len(b)-i]) {
			if !utf8.FullRune(b[len(b)-i:]) {
				return b[:len(b)-i]
			}
			break
		}
	}
	return b
}

func structured(b *sandbox, out readOutput) *mcp.CallToolResult {
	state := "running"
	if !out.Running {
		state = fmt.Sprintf("ended with exit code %d", *out.ExitCode)
	}
	text := fmt.Sprintf("process %s; next_stdout_offset %d, next_stderr_offset %d\n--- stdout ---\n%s\n--- stderr ---\n%s", state, out.NextStdoutOffset, out.NextStderrOffset, out.Stdout, out.Stderr)
	res := toolResult(b, text, nil)
	res.StructuredContent = out
	return res
}

func (s *sandboxServer) killProcess(ctx context.Context, req *mcp.CallToolRequest, in killInput) (*mcp.CallToolResult, any, error) {
	return s.call(req, func(b *sandbox) *mcp.CallToolResult {
		p, err := b.process(in.ProcessID)
		if err != nil {
			return toolResult(b, "", err)
		}
		if err := p.Kill(ctx); err != nil && !errors.Is(err, proc.ErrProcessNotFound) {
			return toolResult(b, "", b.tools.SandboxError(ctx, "the process could not be killed", err))
		}
		return toolResult(b, fmt.Sprintf("process %s killed (exit code 137). Read its last output with read_process_output.", in.ProcessID), nil)
	})
}

func (s *sandboxServer) uploadFile(ctx context.Context, req *mcp.CallToolRequest, in uploadInput) (*mcp.CallToolResult, any, error) {
	return s.call(req, func(b *sandbox) *mcp.CallToolResult {
		p, err := b.tools.ResolvePath(in.Path)
		if err != nil {
			return toolResult(b, "", err)
		}
		data := []byte(in.Content)
		if in.ContentBase64 != "" {
			if in.Content != "" {
				return toolResult(b, "", errors.New("give either content (text) or content_base64 (binary), not both"))
			}
			if data, err = base64.StdEncoding.DecodeString(in.ContentBase64); err != nil {
				return toolResult(b, "", fmt.Errorf("content_base64 is not valid base64 (%v): encode the file with standard base64, padding included", err))
			}
		}
		if err := b.tools.Sandbox.WriteFile(ctx, p, data); err != nil {
			if errors.Is(err, agent.ErrIsDir) {
				return toolResult(b, "", fmt.Errorf("%s is a directory: upload to a file path inside it", p))
			}
			return toolResult(b, "", b.tools.SandboxError(ctx, "the file could not be written", err))
		}
		return toolResult(b, fmt.Sprintf("wrote %d bytes to %s", len(data), p), nil)
	})
}

func (s *sandboxServer) downloadFile(ctx context.Context, req *mcp.CallToolRequest, in pathInput) (*mcp.CallToolResult, any, error) {
	return s.call(req, func(b *sandbox) *mcp.CallToolResult {
		p, err := b.tools.ResolvePath(in.Path)
		if err != nil {
			return toolResult(b, "", err)
		}
		data, err := b.tools.Sandbox.ReadFile(ctx, p, maxDownload)
		switch {
		case errors.Is(err, agent.ErrNotExist):
			return toolResult(b, "", fmt.Errorf("%s does not exist: list its directory with list_files", p))
		case errors.Is(err, agent.ErrIsDir):
			return toolResult(b, "", fmt.Errorf("%s is a directory: list it with list_files", p))
		case errors.Is(err, agent.ErrFileTooLarge):
			return toolResult(b, "", fmt.Errorf("%s is larger than %d bytes: read parts of it with run_command (head, tail, split)", p, maxDownload))
		case err != nil:
			return toolResult(b, "", b.tools.SandboxError(ctx, "the file could not be read", err))
		}
		if utf8.Valid(data) && !slices.Contains(data, 0) {
			return toolResult(b, string(data), nil)
		}
		return toolResult(b, fmt.Sprintf("%s is binary (%d bytes); its content in base64:\n%s", p, len(data), base64.StdEncoding.EncodeToString(data)), nil)
	})
}

func (s *sandboxServer) listFiles(ctx context.Context, req *mcp.CallToolRequest, in listInput) (*mcp.CallToolResult, any, error) {
	return s.call(req, func(b *sandbox) *mcp.CallToolResult {
		dir := in.Path
		if dir == "" {
			dir = agent.DefaultRoot
		}
		p, err := b.tools.ResolvePath(dir)
		if err != nil {
			return toolResult(b, "", err)
		}
		entries, err := b.tools.Sandbox.ListDir(ctx, p, 1)
		switch {
		case errors.Is(err, agent.ErrNotExist):
			return toolResult(b, "", fmt.Errorf("%s is not a directory of the sandbox: list /mnt/data to see what is there", p))
		case err != nil:
			return toolResult(b, "", b.tools.SandboxError(ctx, "the directory could not be listed", err))
		}
		var shown []string
		for _, e := range entries {
			if !strings.HasPrefix(e, ".shellpool") {
				shown = append(shown, e)
			}
		}
		slices.Sort(shown)
		if len(shown) == 0 {
			return toolResult(b, p+" is empty.", nil)
		}
		return toolResult(b, strings.Join(shown, "\n")+"\n", nil)
	})
}
