package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/shellpool/shellpool/sessions"
	"github.com/shellpool/shellpool/sessions/proc"
	"github.com/shellpool/shellpool/sessions/shell"
)

// SessionSandbox is the Sandbox of one session of a shell session pool:
// commands run in a persistent shell (sessions/shell) opened in the session
// on first use, and files are read and written by short commands of their
// own (sessions/proc, through the files API when large), so the shell's
// state (an alias, set -e, a cd) never changes how a file is read. Paths
// under /mnt/data are the session's file area wherever the pool keeps it.
//
// Creating one sends nothing. Close ends the shell; closing the session
// (sessions.SessionClient.Close) ends everything in it.
type SessionSandbox struct {
	session *sessions.SessionClient

	mu sync.Mutex
	sh *shell.Shell // nil until the first Exec, and after the shell was lost
}

// NewSessionSandbox returns the Sandbox of the session s. It sends nothing.
func NewSessionSandbox(s *sessions.SessionClient) *SessionSandbox {
	return &SessionSandbox{session: s}
}

// Close ends the shell, with everything it started, and removes its files
// from the session; the session and its other files stay. The next Exec
// opens a fresh shell.
func (sb *SessionSandbox) Close(ctx context.Context) error {
	sb.mu.Lock()
	sh := sb.sh
	sb.sh = nil
	sb.mu.Unlock()
	if sh == nil {
		return nil
	}
	return sh.Close(ctx)
}

// shell returns the open shell, opening one if there is none.
func (sb *SessionSandbox) shell(ctx context.Context) (*shell.Shell, error) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	if sb.sh == nil {
		sh, err := shell.Open(ctx, sb.session, nil)
		if err != nil {
			return nil, err
		}
		sb.sh = sh
	}
	return sb.sh, nil
}

// lost forgets sh, a shell the session no longer holds.
func (sb *SessionSandbox) lost(sh *shell.Shell) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	if sb.sh == sh {
		sb.sh = nil
	}
}

// Exec runs req.Script in the session's persistent shell. A command that
// ends the shell gives an error matching ErrShellExited; a shell the
// session no longer holds (the session expired or was replaced) one
// matching ErrShellLost, and the next Exec opens a fresh shell.
func (sb *SessionSandbox) Exec(ctx context.Context, req ExecRequest) (ExecResult, error) {
	sh, err := sb.shell(ctx)
	if err != nil {
		return ExecResult{ExitCode: -1}, err
	}
	res, err := sh.Exec(ctx, req.Script, &shell.ExecOptions{Stdout: req.Stdout, Stderr: req.Stderr, Timeout: req.Timeout})
	var exited *shell.ExitedError
	switch {
	case errors.As(err, &exited):
		return ExecResult{ExitCode: exited.ExitCode}, fmt.Errorf("%w: %w", ErrShellExited, err)
	case errors.Is(err, shell.ErrShellNotFound), errors.Is(err, shell.ErrShellClosed):
		sb.lost(sh)
		return ExecResult{ExitCode: -1}, fmt.Errorf("%w: %w", ErrShellLost, err)
	case err != nil:
		return ExecResult{ExitCode: -1}, err
	}
	return ExecResult{ExitCode: res.ExitCode, TimedOut: res.TimedOut}, nil
}

// Restart replaces the shell with a fresh one; the next Exec runs in it.
func (sb *SessionSandbox) Restart(ctx context.Context) error {
	sb.mu.Lock()
	sh := sb.sh
	sb.mu.Unlock()
	if sh == nil {
		return nil // the next Exec opens a fresh shell
	}
	err := sh.Restart(ctx)
	if errors.Is(err, shell.ErrShellNotFound) || errors.Is(err, shell.ErrShellClosed) {
		sb.lost(sh)
		return nil
	}
	return err
}

// run runs a short script of the sandbox's own (not in the shell) and
// returns its output and exit code.
func (sb *SessionSandbox) run(ctx context.Context, script string, stdin []byte) (result, int, error) {
	cmd := proc.Script(sb.session, script)
	var res result
	cmd.Stdout, cmd.Stderr = &res.stdout, &res.stderr
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	err := cmd.Run(ctx)
	var ee *proc.ExitError
	if errors.As(err, &ee) {
		return res, ee.ExitCode(), nil
	}
	return res, 0, err
}

type result struct{ stdout, stderr bytes.Buffer }

// filesRoot is the shell expression of the session's file area: /mnt/data
// on live pools; the emulator names its own with SHELLPOOL_FILES_ROOT.
const filesRoot = `${SHELLPOOL_FILES_ROOT:-/mnt/data}`

// sessionPath is the shell expression for the absolute path p, with
// /mnt/data mapped to the session's file area.
func sessionPath(p string) string {
	if rel, ok := strings.CutPrefix(p, DefaultRoot); ok && (rel == "" || rel[0] == '/') {
		return `"` + filesRoot + `"` + shq(rel)
	}
	return shq(p)
}

// shq quotes s for bash.
func shq(s string) string {
	if s == "" {
		return ""
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Exit codes of the file scripts.
const (
	exitIsDir    = 81
	exitNotExist = 82
	exitTooLarge = 83
	exitNotDir   = 84
)

// fileError maps the exit code of a file script to the Sandbox errors.
func fileError(p string, res result, code int) error {
	switch code {
	case 0:
		return nil
	case exitIsDir:
		return fmt.Errorf("%s: %w", p, ErrIsDir)
	case exitNotExist:
		return fmt.Errorf("%s: %w", p, ErrNotExist)
	case exitTooLarge:
		return fmt.Errorf("%s: %w", p, ErrFileTooLarge)
	case exitNotDir:
		return fmt.Errorf("%s: not a directory: %w", p, ErrNotExist)
	}
	msg := strings.TrimSpace(res.stderr.String())
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	if len(msg) > 300 {
		msg = string(trimBrokenEnd([]byte(msg[:300])))
	}
	return &fileOpError{path: p, code: code, detail: msg}
}

// fileOpError is a file operation that ran in the session and failed there
// (a directory that cannot be created, a file that cannot be read): the
// tool's result shows its first line of stderr, which names only the path.
type fileOpError struct {
	path   string
	code   int
	detail string
}

func (e *fileOpError) Error() string {
	return fmt.Sprintf("agent: %s: exit code %d: %s", e.path, e.code, e.detail)
}

// ReadFile reads the file at p, refusing one larger than limit bytes.
func (sb *SessionSandbox) ReadFile(ctx context.Context, p string, limit int64) ([]byte, error) {
	script := fmt.Sprintf(`f=%s
if [ -d "$f" ]; then exit %d; fi
if [ ! -e "$f" ]; then exit %d; fi
s=$(wc -c < "$f") || exit 1
if [ "$s" -gt %d ]; then exit %d; fi
exec cat -- "$f"
`, sessionPath(p), exitIsDir, exitNotExist, limit, exitTooLarge)
	res, code, err := sb.run(ctx, script, nil)
	if err != nil {
		return nil, err
	}
	if err := fileError(p, res, code); err != nil {
		return nil, err
	}
	return res.stdout.Bytes(), nil
}

// WriteFile replaces the file at p with data, creating its directories.
func (sb *SessionSandbox) WriteFile(ctx context.Context, p string, data []byte) error {
	script := fmt.Sprintf(`f=%s
if [ -d "$f" ]; then exit %d; fi
mkdir -p -- "$(dirname -- "$f")" && cat > "$f"
`, sessionPath(p), exitIsDir)
	if data == nil {
		data = []byte{}
	}
	res, code, err := sb.run(ctx, script, data)
	if err != nil {
		return err
	}
	return fileError(p, res, code)
}

// ListDir lists the directory at p down to depth levels, leaving out the
// files the process layer keeps in /mnt/data (proc.FilePrefix).
func (sb *SessionSandbox) ListDir(ctx context.Context, p string, depth int) ([]string, error) {
	script := fmt.Sprintf(`f=%s
if [ ! -e "$f" ]; then exit %d; fi
if [ ! -d "$f" ]; then exit %d; fi
cd -- "$f" || exit 1
find . -mindepth 1 -maxdepth %d -type d -exec printf '%%s/\0' {} + && find . -mindepth 1 -maxdepth %d ! -type d -exec printf '%%s\0' {} +
`, sessionPath(p), exitNotExist, exitNotDir, depth, depth)
	res, code, err := sb.run(ctx, script, nil)
	if err != nil {
		return nil, err
	}
	if err := fileError(p, res, code); err != nil {
		return nil, err
	}
	var out []string
	for _, e := range bytes.Split(res.stdout.Bytes(), []byte{0}) {
		name, ok := strings.CutPrefix(string(e), "./")
		if !ok || name == "" || (p == DefaultRoot && isLayerFile(name)) {
			continue // the process layer's and the shell's files are not the user's
		}
		out = append(out, name)
	}
	return out, nil
}

// shellFilePrefix starts the names of the files a shell keeps in /mnt/data
// (sessions/shell).
const shellFilePrefix = "shellpool-sh-"

// isLayerFile reports whether name, directly under /mnt/data, is a file of
// sessions/proc or sessions/shell.
func isLayerFile(name string) bool {
	return strings.HasPrefix(name, proc.FilePrefix) || strings.HasPrefix(name, shellFilePrefix)
}
