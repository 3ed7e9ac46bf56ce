package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Exit codes of the output items that OpenAI's shell tool cannot express
// otherwise (shell_call_output has no error flag).
const (
	// ExitInvalidInput is the exit code of an output item whose command was
	// refused before anything ran (an empty command, an invalid timeout).
	ExitInvalidInput = 2
	// ExitSandboxFailure is the exit code of an output item whose command
	// the sandbox could not run or report (its stderr says why), and of the
	// commands of the same call after it, which were not run.
	ExitSandboxFailure = 125
)

// ShellCall is a shell_call item of OpenAI's Responses API: the model asks
// for Action.Commands to be run.
type ShellCall struct {
	Type   string      `json:"type"`
	ID     string      `json:"id,omitempty"`
	CallID string      `json:"call_id"`
	Action ShellAction `json:"action"`
	Status string      `json:"status,omitempty"`
}

// ShellAction is what a ShellCall asks for: commands to run in order, an
// optional timeout for each, in milliseconds, and an optional maximum
// number of characters of output per command.
type ShellAction struct {
	Commands        []string `json:"commands"`
	TimeoutMS       *int64   `json:"timeout_ms,omitempty"`
	MaxOutputLength *int64   `json:"max_output_length,omitempty"`
}

// ShellCallOutput is the shell_call_output item that answers a ShellCall:
// one ShellOutput per command, in order, and the call's max_output_length
// passed back as the API asks.
type ShellCallOutput struct {
	Type            string        `json:"type"`
	CallID          string        `json:"call_id"`
	Output          []ShellOutput `json:"output"`
	MaxOutputLength *int64        `json:"max_output_length,omitempty"`
}

// ShellOutput is the result of one command of a ShellCall.
type ShellOutput struct {
	Stdout  string       `json:"stdout"`
	Stderr  string       `json:"stderr"`
	Outcome ShellOutcome `json:"outcome"`
}

// ShellOutcome is how a command ended: Type "exit" with ExitCode, or Type
// "timeout" (no exit code).
type ShellOutcome struct {
	Type     string `json:"type"`
	ExitCode *int   `json:"exit_code,omitempty"`
}

// FunctionCallOutput answers a function_call item; OpenAI uses it to answer
// calls of functions this package does not serve, with an error text.
type FunctionCallOutput struct {
	Type   string `json:"type"`
	CallID string `json:"call_id"`
	Output string `json:"output"`
}

func exitOutcome(code int) ShellOutcome { return ShellOutcome{Type: "exit", ExitCode: &code} }

// OpenAI answers one output item of OpenAI's Responses API that calls a
// tool, as the API sends it, with the item the API expects, both as JSON:
// a shell_call gets a shell_call_output (see Tools.Shell); a function_call
// (a function this package does not serve) gets a function_call_output
// saying so. The error is non-nil only when item is neither, or has no
// call_id (there is nothing to answer); then nothing is sent to the
// sandbox.
func (t *Tools) OpenAI(ctx context.Context, item []byte) ([]byte, error) {
	var head struct {
		Type   string          `json:"type"`
		CallID string          `json:"call_id"`
		Name   string          `json:"name"`
		Action json.RawMessage `json:"action"`
	}
	if err := json.Unmarshal(item, &head); err != nil {
		return nil, fmt.Errorf("agent: not a Responses API item: %w", err)
	}
	if head.CallID == "" {
		return nil, fmt.Errorf("agent: the item (type %q) has no call_id; answer only tool call items", head.Type)
	}
	switch head.Type {
	case "shell_call":
		out := ShellCallOutput{Type: "shell_call_output", CallID: head.CallID}
		var action ShellAction
		if err := decodeInput(head.Action, &action, "the shell call's action", `{"commands": ["ls -la"]}`); err != nil {
			out.Output = []ShellOutput{{Stderr: err.Error(), Outcome: exitOutcome(ExitInvalidInput)}}
			return json.Marshal(out)
		}
		out.Output = t.Shell(ctx, action)
		out.MaxOutputLength = action.MaxOutputLength
		return json.Marshal(out)
	case "function_call":
		return json.Marshal(FunctionCallOutput{
			Type:   "function_call_output",
			CallID: head.CallID,
			Output: fmt.Sprintf("error: unknown function %s: this sandbox answers only the shell tool; run commands with it instead", quote(head.Name)),
		})
	}
	return nil, fmt.Errorf("agent: item type %q is not a call this package answers (shell_call, function_call)", head.Type)
}

// Shell runs the commands of one call of OpenAI's shell tool, in order, in
// the persistent shell, and returns one ShellOutput per command. Each
// command gets Action.TimeoutMS (Tools.Timeout when absent); a timeout
// kills that command only and gives outcome "timeout". A command's
// combined stdout and stderr longer than Action.MaxOutputLength characters
// (and in any case longer than Tools.MaxOutput bytes) keep their beginning
// and end, with a note in place of the middle that says how much was cut.
// A command that ends the shell gets a note in its stderr, and a fresh
// shell runs the next one. Invalid input gives outputs with exit code
// ExitInvalidInput and nothing is sent; a sandbox failure gives exit code
// ExitSandboxFailure for that command and those after it, which are not
// run.
func (t *Tools) Shell(ctx context.Context, action ShellAction) []ShellOutput {
	if len(action.Commands) == 0 {
		return []ShellOutput{{Stderr: `the shell call has no commands: send action.commands with at least one command, such as ["ls -la"]`, Outcome: exitOutcome(ExitInvalidInput)}}
	}
	if action.TimeoutMS != nil && *action.TimeoutMS <= 0 {
		msg := fmt.Sprintf("invalid timeout_ms %d: give a positive number of milliseconds, or leave it out for %s; nothing was run", *action.TimeoutMS, t.timeout(0))
		return repeatOutput(len(action.Commands), msg, ExitInvalidInput)
	}
	if action.MaxOutputLength != nil && *action.MaxOutputLength <= 0 {
		msg := fmt.Sprintf("invalid max_output_length %d: give a positive number of characters, or leave it out; nothing was run", *action.MaxOutputLength)
		return repeatOutput(len(action.Commands), msg, ExitInvalidInput)
	}
	var ms int64
	if action.TimeoutMS != nil {
		ms = *action.TimeoutMS
	}
	d := t.timeout(ms)
	// budget is in characters when the call sets max_output_length, else
	// in bytes; the captures keep enough bytes for either.
	budget, runes := t.maxOutput(), false
	if action.MaxOutputLength != nil {
		budget, runes = int(min(*action.MaxOutputLength, int64(t.maxOutput()))), true
	}
	captureLimit := budget
	if runes {
		captureLimit = budget * utf8.UTFMax
	}
	outputs := make([]ShellOutput, 0, len(action.Commands))
	for i, cmd := range action.Commands {
		if strings.TrimSpace(cmd) == "" {
			outputs = append(outputs, ShellOutput{Stderr: "empty command: give a bash command line", Outcome: exitOutcome(ExitInvalidInput)})
			continue
		}
		if strings.IndexByte(cmd, 0) >= 0 {
			outputs = append(outputs, ShellOutput{Stderr: "invalid command: it contains a NUL byte, which bash cannot read; nothing was run", Outcome: exitOutcome(ExitInvalidInput)})
			continue
		}
		stdout, stderr := newCapture(captureLimit), newCapture(captureLimit)
		res, err := t.Sandbox.Exec(ctx, ExecRequest{Script: cmd, Timeout: d, Stdout: stdout, Stderr: stderr})
		o := ShellOutput{}
		o.Stdout, o.Stderr = shellText(stdout, stderr, budget, runes, action.MaxOutputLength)
		switch {
		case errors.Is(err, ErrShellExited):
			note := "[this command ended the shell; a fresh shell was started for the next command: the working directory and variables were reset, the files are kept]"
			if rerr := t.Sandbox.Restart(ctx); rerr != nil {
				o.Stderr = appendLine(o.Stderr, t.sandboxError(ctx, "the command ended the shell and a new shell could not be started", rerr).Message)
				o.Outcome = exitOutcome(ExitSandboxFailure)
				outputs = append(outputs, o)
				return append(outputs, notRun(action.Commands[i+1:])...)
			}
			o.Stderr = appendLine(o.Stderr, note)
			o.Outcome = exitOutcome(res.ExitCode)
		case err != nil:
			o.Stderr = appendLine(o.Stderr, t.sandboxError(ctx, "the command did not finish normally", err).Message)
			o.Outcome = exitOutcome(ExitSandboxFailure)
			outputs = append(outputs, o)
			return append(outputs, notRun(action.Commands[i+1:])...)
		case res.TimedOut:
			o.Outcome = ShellOutcome{Type: "timeout"}
		default:
			o.Outcome = exitOutcome(res.ExitCode)
		}
		outputs = append(outputs, o)
	}
	return outputs
}

func repeatOutput(n int, msg string, code int) []ShellOutput {
	out := make([]ShellOutput, n)
	for i := range out {
		out[i] = ShellOutput{Stderr: msg, Outcome: exitOutcome(code)}
	}
	return out
}

func notRun(cmds []string) []ShellOutput {
	return repeatOutput(len(cmds), "not run: an earlier command of this call failed in the sandbox", ExitSandboxFailure)
}

func appendLine(s, line string) string {
	if s != "" && !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	return s + line
}

// shellText returns stdout and stderr within budget units (characters when
// runes, else bytes) together, splitting the budget fairly and keeping
// each cut stream's beginning and end around a note.
func shellText(stdout, stderr *capture, budget int, runes bool, maxLen *int64) (string, string) {
	size := func(c *capture) int {
		if runes && c.whole() {
			return utf8.RuneCount(c.bytes())
		}
		return int(min(c.total, int64(1<<40)))
	}
	so, se := size(stdout), size(stderr)
	if so+se <= budget && stdout.whole() && stderr.whole() {
		return string(stdout.bytes()), string(stderr.bytes())
	}
	half := budget / 2
	var keepOut, keepErr int
	switch {
	case se <= half:
		keepErr, keepOut = se, budget-se
	case so <= budget-half:
		keepOut, keepErr = so, budget-so
	default:
		keepOut, keepErr = budget-half, half
	}
	limitNote := fmt.Sprintf("%d bytes", budget)
	if runes {
		limitNote = fmt.Sprintf("max_output_length (%d characters)", *maxLen)
	}
	return shorten(stdout, so, keepOut, runes, "stdout", limitNote), shorten(stderr, se, keepErr, runes, "stderr", limitNote)
}

// shorten returns the stream's text, or its first and last keep/2 units
// around a note on how many bytes were cut.
func shorten(c *capture, size, keep int, runes bool, name, limitNote string) string {
	if size <= keep && c.whole() {
		return string(c.bytes())
	}
	headKeep := keep / 2
	tailKeep := keep - headKeep
	var head, tail []byte
	if runes {
		head = firstRunes(c.headN(headKeep*utf8.UTFMax), headKeep)
		tail = lastRunes(c.tailN(tailKeep*utf8.UTFMax), tailKeep)
	} else {
		head = c.headN(headKeep)
		tail = c.tailN(tailKeep)
	}
	cut := c.total - int64(len(head)) - int64(len(tail))
	return fmt.Sprintf("%s\n[... %d bytes of %s cut here: the output was longer than %s. Write long output to a file and read it in parts with head, tail or grep ...]\n%s", head, cut, name, limitNote, tail)
}

func firstRunes(b []byte, n int) []byte {
	off := 0
	for i := 0; i < n && off < len(b); i++ {
		_, size := utf8.DecodeRune(b[off:])
		off += size
	}
	return b[:off]
}

func lastRunes(b []byte, n int) []byte {
	off := len(b)
	for i := 0; i < n && off > 0; i++ {
		_, size := utf8.DecodeLastRune(b[:off])
		off -= size
	}
	return b[off:]
}
