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
)

// SessionSandbox is the Sandbox of one session of a shell session pool:
// commands run in a persistent shell in the session, opened on first use,
// and files are read and written by short commands of their own (through
// the files API when large), so the shell's state (an alias, set -e) never
// changes how a file is read. Paths under /mnt/data are the session's file
// area wherever the pool keeps it.
//
// Creating one sends nothing. Close removes the shell; closing the session
// (sessions.SessionClient.Close) ends everything in it.
type SessionSandbox struct {
	session *sessions.SessionClient

	mu      sync.Mutex
	stateID string // the shell's state file, in the session's file area
}

// NewSessionSandbox returns the Sandbox of the session s. It sends nothing.
func NewSessionSandbox(s *sessions.SessionClient) *SessionSandbox {
	return &SessionSandbox{session: s}
}

// Close removes the shell's files from the session; the session itself and
// its files stay (close the session for that).
func (sb *SessionSandbox) Close(ctx context.Context) error {
	sb.mu.Lock()
	id := sb.stateID
	sb.stateID = ""
	sb.mu.Unlock()
	if id == "" {
		return nil
	}
	_, _, err := sb.run(ctx, `rm -f -- "`+filesRoot+`/`+stateName(id)+`.sh"`, nil)
	return err
}

// filesRoot is the shell expression of the session's file area: /mnt/data
// on live pools; the emulator names its own with SHELLPOOL_FILES_ROOT.
const filesRoot = `${SHELLPOOL_FILES_ROOT:-/mnt/data}`

func stateName(id string) string { return ".shellpool-agent-" + id }

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

// Exec runs req.Script in the session's persistent shell.
func (sb *SessionSandbox) Exec(ctx context.Context, req ExecRequest) (ExecResult, error) {
	sb.mu.Lock()
	if sb.stateID == "" {
		sb.stateID = strings.ReplaceAll(sessions.NewSessionID(), "-", "")[:16]
	}
	state := `"` + filesRoot + `/` + stateName(sb.stateID) + `.sh"`
	sb.mu.Unlock()
	// Until the persistent shell of sessions/shell is wired in, the shell's
	// state (directory, exported variables, functions) is carried from one
	// command to the next in a state file.
	script := "__spa_state=" + state + "\nif [ -f \"$__spa_state\" ]; then . \"$__spa_state\"; fi\n" +
		req.Script + "\n__spa_rc=$?\n" +
		`{ export -p; declare -f; printf 'cd -- %q\n' "$PWD"; } > "$__spa_state" 2>/dev/null` + "\nexit $__spa_rc\n"
	cmd := proc.Script(sb.session, script)
	cmd.Timeout = req.Timeout
	cmd.Stdout, cmd.Stderr = req.Stdout, req.Stderr
	err := cmd.Run(ctx)
	var ee *proc.ExitError
	switch {
	case errors.As(err, &ee):
		return ExecResult{ExitCode: ee.ExitCode(), TimedOut: ee.TimedOut()}, nil
	case err != nil:
		return ExecResult{ExitCode: -1}, err
	}
	return ExecResult{}, nil
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

// Restart starts a fresh shell: the next Exec starts from the session's
// defaults.
func (sb *SessionSandbox) Restart(ctx context.Context) error {
	if err := sb.Close(ctx); err != nil {
		return err
	}
	return nil
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
	if len(msg) > 300 {
		msg = msg[:300]
	}
	return fmt.Errorf("agent: %s: exit code %d: %s", p, code, msg)
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
		if !ok || name == "" || (p == DefaultRoot && strings.HasPrefix(name, proc.FilePrefix)) {
			continue // the process layer's files are not the user's
		}
		out = append(out, name)
	}
	return out, nil
}
