package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Names and types of Anthropic's client tools that Tools answers, as a
// request's tools list declares them and tool_use blocks name them.
const (
	// BashToolName is the name of Anthropic's bash tool.
	BashToolName = "bash"
	// BashToolType is the version of the bash tool this package implements.
	BashToolType = "bash_20250124"
	// TextEditorToolName is the name of Anthropic's text editor tool.
	TextEditorToolName = "str_replace_based_edit_tool"
	// TextEditorToolType is the version of the text editor tool this
	// package implements (view, create, str_replace, insert).
	TextEditorToolType = "text_editor_20250728"
)

// ToolUse is a tool_use content block of Anthropic's Messages API: a call
// the model makes. Input is the tool's input object as the model sent it.
type ToolUse struct {
	Type  string          `json:"type"`
	ID    string          `json:"id"`
	Name  string          `json:"name"`
	Input json.RawMessage `json:"input"`
}

// ToolResult is the tool_result content block that answers a ToolUse, sent
// back in the next user message. IsError marks a call that failed; its text
// says what to do next.
type ToolResult struct {
	Type      string      `json:"type"`
	ToolUseID string      `json:"tool_use_id"`
	Content   []TextBlock `json:"content"`
	IsError   bool        `json:"is_error,omitempty"`
}

// TextBlock is a text content block.
type TextBlock struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// BashInput is the input of Anthropic's bash tool: a command to run in the
// persistent shell, or Restart to start a fresh one. TimeoutMS, from the
// newer agent toolset's bash input, bounds the command (Tools.Timeout when
// zero).
type BashInput struct {
	Command   string `json:"command,omitempty"`
	Restart   bool   `json:"restart,omitempty"`
	TimeoutMS int64  `json:"timeout_ms,omitempty"`
}

// EditInput is the input of Anthropic's text editor tool
// (text_editor_20250728). Command is "view" (Path, optional ViewRange of
// two 1-based line numbers, -1 as the end meaning the last line), "create"
// (FileText), "str_replace" (OldStr, which must occur exactly once, and
// NewStr) or "insert" (InsertLine, 0 for the start of the file, and
// InsertText; NewStr is accepted in its place, as older versions sent it).
type EditInput struct {
	Command    string  `json:"command"`
	Path       string  `json:"path"`
	ViewRange  []int64 `json:"view_range,omitempty"`
	FileText   *string `json:"file_text,omitempty"`
	OldStr     *string `json:"old_str,omitempty"`
	NewStr     *string `json:"new_str,omitempty"`
	InsertLine *int64  `json:"insert_line,omitempty"`
	InsertText *string `json:"insert_text,omitempty"`
}

// Anthropic answers one tool_use block of Anthropic's Messages API, as the
// API sends it, with the tool_result block the API expects, both as JSON.
// It serves the bash tool (BashToolName) and the text editor tool
// (TextEditorToolName); a call of another tool, bad input and failures are
// results with is_error set and a message for the model. The error is
// non-nil only when block is not a tool_use block with an id (there is
// nothing to answer); then nothing is sent to the sandbox.
func (t *Tools) Anthropic(ctx context.Context, block []byte) ([]byte, error) {
	var use ToolUse
	if err := json.Unmarshal(block, &use); err != nil {
		return nil, fmt.Errorf("agent: not a tool_use block: %w", err)
	}
	if use.Type != "tool_use" || use.ID == "" {
		return nil, fmt.Errorf("agent: not a tool_use block (type %q, id set: %t); answer only blocks of type tool_use", use.Type, use.ID != "")
	}
	var text string
	var err error
	switch use.Name {
	case BashToolName:
		var in BashInput
		if err = decodeInput(use.Input, &in, "the tool's input", `{"command": "ls -la"}`); err == nil {
			text, err = t.Bash(ctx, in)
		}
	case TextEditorToolName:
		var in EditInput
		if err = decodeInput(use.Input, &in, "the tool's input", `{"command": "view", "path": "/mnt/data"}`); err == nil {
			text, err = t.Edit(ctx, in)
		}
	default:
		err = toolErrorf("unknown tool %s: this sandbox answers the tools %s and %s", quote(use.Name), BashToolName, TextEditorToolName)
	}
	res := ToolResult{Type: "tool_result", ToolUseID: use.ID}
	if err != nil {
		res.IsError = true
		text = err.Error()
	}
	res.Content = []TextBlock{{Type: "text", Text: text}}
	return json.Marshal(res)
}

// decodeInput decodes a tool's input object, or says what was wrong with it.
func decodeInput(raw json.RawMessage, v any, what, example string) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return toolErrorf("invalid input: %s must be a JSON object, such as %s", what, example)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return toolErrorf("invalid input: field %s must be %s, not a JSON %s; for example %s", te.Field, jsonKind(te.Type.Kind().String()), te.Value, example)
		}
		return toolErrorf("invalid input: %v; send an object such as %s", err, example)
	}
	return nil
}

func jsonKind(goKind string) string {
	switch {
	case goKind == "string":
		return "a string"
	case goKind == "bool":
		return "a boolean"
	case strings.HasPrefix(goKind, "int"), strings.HasPrefix(goKind, "float"):
		return "a number"
	case goKind == "slice":
		return "an array"
	case goKind == "struct", goKind == "map":
		return "an object"
	}
	return "a " + goKind
}

// Bash runs one call of Anthropic's bash tool in the persistent shell and
// returns the text for the model: the command's output (stdout and stderr
// as they arrive) cut to Tools.MaxOutput bytes with a note saying so,
// followed by "[exit code N]" when N is not 0. Restart starts a fresh
// shell first. A missing command, a timeout (the shell and its state are
// kept) and sandbox failures are a *ToolError whose message, with any
// output so far, is the text for the model.
func (t *Tools) Bash(ctx context.Context, in BashInput) (string, error) {
	prefix := ""
	if in.Restart {
		if err := t.Sandbox.Restart(ctx); err != nil {
			return "", t.sandboxError(ctx, "the shell could not be restarted", err)
		}
		if strings.TrimSpace(in.Command) == "" {
			return "tool has been restarted.", nil
		}
		prefix = "tool has been restarted.\n"
	}
	if strings.TrimSpace(in.Command) == "" {
		return "", toolErrorf(`missing command: send {"command": "..."} to run a bash command, or {"restart": true} to start a fresh shell`)
	}
	if strings.IndexByte(in.Command, 0) >= 0 {
		return "", toolErrorf("invalid command: it contains a NUL byte, which bash cannot read; remove it")
	}
	if in.TimeoutMS < 0 {
		return "", toolErrorf("invalid timeout_ms %d: give a positive number of milliseconds, or leave it out for %s", in.TimeoutMS, t.timeout(0))
	}
	limit := t.maxOutput()
	out := newCapture(limit)
	d := t.timeout(in.TimeoutMS)
	res, err := t.Sandbox.Exec(ctx, ExecRequest{Script: in.Command, Timeout: d, Stdout: out, Stderr: out})
	text := prefix + bashText(out, limit)
	if err != nil {
		what := "the command did not finish normally"
		if errors.Is(err, ErrShellExited) {
			what = "the shell exited"
			if res.ExitCode >= 0 {
				what = fmt.Sprintf("the shell exited with status %d", res.ExitCode)
			}
		}
		te := t.sandboxError(ctx, what, err)
		if out.total > 0 {
			te.Message = text + "\n\n" + te.Message
		}
		return "", te
	}
	if res.TimedOut {
		return "", &ToolError{Message: fmt.Sprintf("%s\n\nThe command timed out after %s and was stopped; the shell and its state are kept. Run long commands in the background (cmd > /mnt/data/cmd.log 2>&1 &) and read the log later, or ask for a longer timeout.", text, d)}
	}
	if res.ExitCode != 0 {
		text += fmt.Sprintf("\n[exit code %d]", res.ExitCode)
	}
	return text, nil
}

// bashText is the output as the bash tool shows it: all of it, or its head
// and a note on what was cut.
func bashText(out *capture, limit int) string {
	if out.total == 0 {
		return "(no output)"
	}
	if out.whole() {
		return string(out.bytes())
	}
	head := out.headN(limit)
	return fmt.Sprintf("%s\n\n[output cut: showing the first %d of %d bytes. Write long output to a file (cmd > /mnt/data/out.txt 2>&1) and read it in parts with head, tail or grep.]", head, len(head), out.total)
}
