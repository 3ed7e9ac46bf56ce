package agent

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shellpool/shellpool/sessions"
)

// Defaults of Tools.
const (
	// DefaultRoot is the directory the tools keep file paths under: the
	// session's file area, where the files API reads and writes.
	DefaultRoot = "/mnt/data"
	// DefaultTimeout bounds one command when the tool call names no
	// timeout.
	DefaultTimeout = 2 * time.Minute
	// DefaultMaxTimeout is the longest timeout a tool call may ask for.
	DefaultMaxTimeout = 10 * time.Minute
	// DefaultMaxOutput is the most bytes of output one result carries
	// (30,000: most command output whole, and a small part of a model's
	// context).
	DefaultMaxOutput = 30000
	// DefaultMaxFileSize is the largest file the text editor reads.
	DefaultMaxFileSize = 4 << 20
)

// Tools answers the tool calls a model makes (Anthropic's bash and text
// editor tools, OpenAI's shell tool) in one sandbox. The zero value of each
// option field means its default. A Tools is safe for concurrent use when
// its Sandbox is; calls on one shell run one at a time.
type Tools struct {
	// Sandbox runs the commands and holds the files (required).
	Sandbox Sandbox
	// Root is the directory file paths must lie under; relative paths are
	// taken relative to it. Default DefaultRoot.
	Root string
	// Timeout bounds a command whose call names no timeout. Default
	// DefaultTimeout.
	Timeout time.Duration
	// MaxTimeout is the longest timeout a call may ask for; longer ones are
	// cut to it. Default DefaultMaxTimeout.
	MaxTimeout time.Duration
	// MaxOutput is the most bytes of command output or file text one result
	// carries; the rest is cut, and the result says so and how to see it.
	// Default DefaultMaxOutput.
	MaxOutput int
	// MaxFileSize is the largest file the text editor opens. Default
	// DefaultMaxFileSize.
	MaxFileSize int64
	// OnError, when set, receives the sandbox failures the handlers turned
	// into tool results (for your logs); tool results carry only a summary.
	OnError func(error)
}

func (t *Tools) root() string {
	if t.Root == "" {
		return DefaultRoot
	}
	return path.Clean(t.Root)
}

func (t *Tools) timeout(ms int64) time.Duration {
	d := t.Timeout
	if d <= 0 {
		d = DefaultTimeout
	}
	if ms > 0 {
		d = time.Duration(ms) * time.Millisecond
	}
	maxD := t.MaxTimeout
	if maxD <= 0 {
		maxD = DefaultMaxTimeout
	}
	return min(d, maxD)
}

func (t *Tools) maxOutput() int {
	if t.MaxOutput <= 0 {
		return DefaultMaxOutput
	}
	return t.MaxOutput
}

func (t *Tools) maxFileSize() int64 {
	if t.MaxFileSize <= 0 {
		return DefaultMaxFileSize
	}
	return t.MaxFileSize
}

// ToolError is a tool call the handlers answered with an error result: bad
// input, an edit that cannot be made, or a sandbox failure. Its message is
// written for the model and says what to do next.
type ToolError struct {
	// Message is the text the model sees.
	Message string
	// Err is the sandbox failure behind it, or nil for bad input.
	Err error
}

// Error returns Message, the text for the model.
func (e *ToolError) Error() string { return e.Message }

// Unwrap returns the sandbox failure behind the error, if any.
func (e *ToolError) Unwrap() error { return e.Err }

// toolErrorf is bad input or an impossible edit: no request was needed.
func toolErrorf(format string, args ...any) *ToolError {
	return &ToolError{Message: fmt.Sprintf(format, args...)}
}

// SandboxError returns the *ToolError the handlers give for err, a failure
// of the sandbox while doing what: advice for the model (try again, restart
// the shell, stop and report), without the service's raw answer, which goes
// to OnError.
func (t *Tools) SandboxError(ctx context.Context, what string, err error) error {
	return t.sandboxError(ctx, what, err)
}

// sandboxError turns a failure of the sandbox into advice for the model,
// without the service's raw answer (which the OnError hook receives).
func (t *Tools) sandboxError(ctx context.Context, what string, err error) *ToolError {
	if t.OnError != nil {
		t.OnError(err)
	}
	var advice string
	var se *sessions.ServiceError
	var fe *fileOpError
	switch {
	case errors.As(err, &fe) && fe.detail != "":
		advice = "it failed in the sandbox (" + fe.detail + "). Check the path and its directories with the bash tool, then try again"
	case errors.Is(err, ErrShellExited):
		advice = "the command ended the shell (exit, exec or a signal to the shell). Restart the shell (send restart: true) before running more commands; the files in the session are kept, the shell's directory and variables are not. To leave a script early without ending the shell, use return in a function or (exit N) in a subshell"
	case errors.Is(err, ErrShellLost):
		advice = "the shell was lost (the sandbox session ended or was replaced), so its directory, variables and background jobs are gone; a fresh shell runs the next command. Check the working directory and the files, then run the command again"
	case ctx.Err() != nil:
		advice = "the request was cancelled before the result arrived (" + ctx.Err().Error() + "). The command may still have run; check its effects before running it again"
	case errors.Is(err, sessions.ErrSessionClosed):
		advice = "this sandbox was closed by the program serving the tools; nothing more can run in it"
	case errors.Is(err, sessions.ErrPoolAtCapacity):
		advice = "the session pool is full. Wait a minute and try again"
	case errors.Is(err, sessions.ErrUnauthorized), errors.Is(err, sessions.ErrForbidden):
		advice = "the sandbox refused this server's credentials. This is a configuration problem for the operator; retrying will not help"
	case errors.As(err, &se) && se.Response != nil:
		advice = fmt.Sprintf("the sandbox service answered HTTP %d. Try again; if it keeps failing, stop and report it", se.Response.StatusCode)
	default:
		advice = "the sandbox could not be reached or failed. Try again; if it keeps failing, stop and report it"
	}
	return &ToolError{Message: what + ": " + advice + ".", Err: err}
}

// ResolvePath returns p as the clean absolute path the tools use: a
// relative p is taken relative to Root, and a path outside Root (after
// resolving "..") is refused with a *ToolError that says which paths are
// allowed. It sends nothing.
func (t *Tools) ResolvePath(p string) (string, error) {
	full, err := t.resolve(p)
	if err != nil {
		return "", err
	}
	return full, nil
}

// resolve checks p and returns it as a clean absolute path under the root.
func (t *Tools) resolve(p string) (string, *ToolError) {
	root := t.root()
	switch {
	case p == "":
		return "", toolErrorf("missing path: give the file's absolute path under %s, such as %s/notes.txt", root, root)
	case strings.IndexByte(p, 0) >= 0:
		return "", toolErrorf("invalid path: it contains a NUL byte; give a path under %s", root)
	case !utf8.ValidString(p):
		return "", toolErrorf("invalid path: it is not valid UTF-8; give a path under %s", root)
	}
	full := p
	if !path.IsAbs(full) {
		full = path.Join(root, full)
	}
	full = path.Clean(full)
	if full != root && !strings.HasPrefix(full, root+"/") {
		return "", toolErrorf("path %s is outside %s, the only directory these tools may touch; use a path under %s, such as %s/%s", quote(p), root, root, root, path.Base(full))
	}
	return full, nil
}

// quote shows a model-supplied string in a message, shortened.
func quote(s string) string {
	const maxLen = 200
	if len(s) > maxLen {
		cut := maxLen
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return fmt.Sprintf("%q", s)
}

// capture is an io.Writer that keeps the first and the last limit bytes
// written to it and counts them all, so a command's output costs bounded
// memory whatever its size.
type capture struct {
	limit int
	head  []byte
	tail  []byte // the last bytes past head, at most 2*limit before trimming
	total int64
}

func newCapture(limit int) *capture { return &capture{limit: limit} }

func (c *capture) Write(p []byte) (int, error) {
	n := len(p)
	c.total += int64(n)
	if room := c.limit - len(c.head); room > 0 {
		k := min(room, len(p))
		c.head = append(c.head, p[:k]...)
		p = p[k:]
	}
	if len(p) == 0 {
		return n, nil
	}
	if len(p) >= c.limit {
		c.tail = append(c.tail[:0], p[len(p)-c.limit:]...)
		return n, nil
	}
	c.tail = append(c.tail, p...)
	if len(c.tail) > 2*c.limit {
		c.tail = append(c.tail[:0], c.tail[len(c.tail)-c.limit:]...)
	}
	return n, nil
}

// whole reports whether every byte written is kept.
func (c *capture) whole() bool { return c.total <= int64(c.limit) }

// bytes returns all the output; call it only when whole.
func (c *capture) bytes() []byte { return c.head }

// headN returns up to n bytes from the start, cut at a UTF-8 boundary.
func (c *capture) headN(n int) []byte {
	b := c.head
	if len(b) > n {
		b = b[:n]
	}
	return trimBrokenEnd(b)
}

// tailN returns up to n (at most limit) bytes from the end of the output,
// cut at a UTF-8 boundary.
func (c *capture) tailN(n int) []byte {
	all := c.tail
	if int64(len(c.head)+len(c.tail)) == c.total { // nothing was dropped
		all = append(append([]byte(nil), c.head...), c.tail...)
	}
	if len(all) > n {
		all = all[len(all)-n:]
	}
	for len(all) > 0 && !utf8.RuneStart(all[0]) {
		all = all[1:]
	}
	return all
}

// trimBrokenEnd drops a UTF-8 sequence cut off at the end of b.
func trimBrokenEnd(b []byte) []byte {
	for i := 1; i <= utf8.UTFMax && i <= len(b); i++ {
		if utf8.RuneStart(b[len(b)-i]) {
			if !utf8.FullRune(b[len(b)-i:]) {
				return b[:len(b)-i]
			}
			break
		}
	}
	return b
}

// countLines counts the lines of b as an editor shows them.
func countLines(b []byte) int {
	if len(b) == 0 {
		return 0
	}
	n := strings.Count(string(b), "\n")
	if b[len(b)-1] != '\n' {
		n++
	}
	return n
}
