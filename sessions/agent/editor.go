package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
)

// snippetLines is how many lines around an edit its result shows.
const snippetLines = 4

// Edit runs one command of Anthropic's text editor tool
// (text_editor_20250728) on a file under Tools.Root and returns the text for
// the model:
//
//   - view: the file's lines numbered as cat -n numbers them ("%6d\t"),
//     all of them or ViewRange's, cut to Tools.MaxOutput bytes with a note
//     on which range to view next; a directory's non-hidden entries two
//     levels deep.
//   - create: writes FileText, replacing any file at the path.
//   - str_replace: replaces OldStr with NewStr (empty when absent) only
//     when OldStr occurs exactly once, and shows the edited lines.
//   - insert: inserts InsertText after line InsertLine (0: at the start)
//     and shows the edited lines.
//
// Bad input (a missing field, a path outside Tools.Root, a range outside
// the file, OldStr found 0 or 2+ times, an unknown command) is a *ToolError
// whose message tells the model what to send instead; no file is changed,
// and invalid input is refused before anything is sent to the sandbox.
func (t *Tools) Edit(ctx context.Context, in EditInput) (string, error) {
	switch in.Command {
	case "view", "create", "str_replace", "insert":
	case "undo_edit":
		return "", toolErrorf("undo_edit is not part of %s: restore the previous text with str_replace instead", TextEditorToolType)
	case "":
		return "", toolErrorf("missing command: use one of view, create, str_replace or insert")
	default:
		return "", toolErrorf("unknown command %s: use one of view, create, str_replace or insert", quote(in.Command))
	}
	p, terr := t.resolve(in.Path)
	if terr != nil {
		return "", terr
	}
	switch in.Command {
	case "view":
		return t.view(ctx, p, in.ViewRange)
	case "create":
		return t.create(ctx, p, in.FileText)
	case "str_replace":
		return t.strReplace(ctx, p, in.OldStr, in.NewStr)
	default:
		text := in.InsertText
		if text == nil {
			text = in.NewStr
		}
		return t.insert(ctx, p, in.InsertLine, text)
	}
}

// readText reads a text file for the editor, or says why it cannot.
func (t *Tools) readText(ctx context.Context, p string) ([]byte, error) {
	data, err := t.Sandbox.ReadFile(ctx, p, t.maxFileSize())
	return t.textOrError(ctx, p, data, err)
}

// textOrError turns the result of ReadFile into the file's text or a
// *ToolError that tells the model what to do instead.
func (t *Tools) textOrError(ctx context.Context, p string, data []byte, err error) ([]byte, error) {
	switch {
	case err == nil:
	case errors.Is(err, ErrNotExist):
		return nil, toolErrorf("%s does not exist. Check the name with view on its directory (%s), or make the file with create", p, path.Dir(p))
	case errors.Is(err, ErrIsDir):
		return nil, toolErrorf("%s is a directory, not a file: view it to list its files, then edit one of them", p)
	case errors.Is(err, ErrFileTooLarge):
		return nil, toolErrorf("%s is larger than %d bytes, too large for the editor: read parts of it with the bash tool (sed -n '1,100p' %s) and change it with sed or a script", p, t.maxFileSize(), p)
	default:
		return nil, t.sandboxError(ctx, "the file could not be read", err)
	}
	if bytes.IndexByte(data[:min(len(data), 8000)], 0) >= 0 {
		return nil, toolErrorf("%s looks like a binary file (it contains NUL bytes); the editor works on text only. Inspect it with the bash tool (file %s; xxd %s | head)", p, p, p)
	}
	return data, nil
}

// splitLines returns the lines of data without their newlines.
func splitLines(data []byte) []string {
	if len(data) == 0 {
		return nil
	}
	s := strings.TrimSuffix(string(data), "\n")
	return strings.Split(s, "\n")
}

func (t *Tools) view(ctx context.Context, p string, viewRange []int64) (string, error) {
	if viewRange != nil && len(viewRange) != 2 {
		return "", toolErrorf("invalid view_range: give two line numbers [start, end], such as [1, 50], or [start, -1] for the rest of the file")
	}
	data, err := t.Sandbox.ReadFile(ctx, p, t.maxFileSize())
	if errors.Is(err, ErrIsDir) {
		if viewRange != nil {
			return "", toolErrorf("%s is a directory: view_range applies to files only; view the directory without it", p)
		}
		return t.viewDir(ctx, p)
	}
	data, err = t.textOrError(ctx, p, data, err)
	if err != nil {
		return "", err
	}
	lines := splitLines(data)
	n := len(lines)
	first, last := 1, n
	if viewRange != nil {
		first, last = int(viewRange[0]), int(viewRange[1])
		if n == 0 {
			return "", toolErrorf("invalid view_range %v: %s is empty; view it without view_range", viewRange, p)
		}
		if first < 1 || first > n {
			return "", toolErrorf("invalid view_range %v: the start must be a line from 1 to %d (%s has %d lines)", viewRange, n, p, n)
		}
		if last == -1 {
			last = n
		}
		if last < first || last > n {
			return "", toolErrorf("invalid view_range %v: the end must be from %d to %d, or -1 for the last line (%s has %d lines)", viewRange, first, n, p, n)
		}
	}
	if n == 0 {
		return fmt.Sprintf("%s is empty.", p), nil
	}
	limit := t.maxOutput()
	var b strings.Builder
	fmt.Fprintf(&b, "Here's the result of running `cat -n` on %s:\n", p)
	for i := first; i <= last; i++ {
		line := fmt.Sprintf("%6d\t%s\n", i, lines[i-1])
		if b.Len()+len(line) > limit && i > first {
			fmt.Fprintf(&b, "[output cut at line %d of %d: view the rest with view_range [%d, %d]]\n", i-1, n, i, last)
			break
		}
		if b.Len()+len(line) > limit {
			line = string(trimBrokenEnd([]byte(line[:limit-b.Len()]))) + "\n"
			fmt.Fprintf(&b, "%s[line %d is longer than %d bytes and was cut: read it with the bash tool (sed -n '%dp' %s | cut -c1-2000)]\n", line, i, limit, i, p)
			break
		}
		b.WriteString(line)
	}
	return b.String(), nil
}

func (t *Tools) viewDir(ctx context.Context, p string) (string, error) {
	entries, err := t.Sandbox.ListDir(ctx, p, 2)
	if err != nil {
		if errors.Is(err, ErrNotExist) {
			return "", toolErrorf("%s does not exist. View %s to see what is there", p, path.Dir(p))
		}
		return "", t.sandboxError(ctx, "the directory could not be listed", err)
	}
	var shown []string
	for _, e := range entries {
		if e == "" || strings.HasPrefix(e, ".") || strings.Contains(e, "/.") {
			continue
		}
		full := path.Join(p, e)
		if strings.HasSuffix(e, "/") {
			full += "/"
		}
		shown = append(shown, full)
	}
	slices.Sort(shown)
	var b strings.Builder
	fmt.Fprintf(&b, "Here are the files and directories up to 2 levels deep in %s, excluding hidden items:\n%s\n", p, p)
	limit := t.maxOutput()
	for i, e := range shown {
		if b.Len()+len(e)+1 > limit {
			fmt.Fprintf(&b, "[listing cut after %d of %d entries: view a subdirectory to see the rest]\n", i, len(shown))
			break
		}
		b.WriteString(e + "\n")
	}
	return b.String(), nil
}

func (t *Tools) create(ctx context.Context, p string, fileText *string) (string, error) {
	if fileText == nil {
		return "", toolErrorf("create needs file_text, the whole content of the new file (an empty string for an empty file)")
	}
	if p == t.root() {
		return "", toolErrorf("%s is the root directory: create a file inside it, such as %s/notes.txt", p, p)
	}
	if err := t.Sandbox.WriteFile(ctx, p, []byte(*fileText)); err != nil {
		if errors.Is(err, ErrIsDir) {
			return "", toolErrorf("%s is a directory: create a file inside it, such as %s/notes.txt", p, p)
		}
		return "", t.sandboxError(ctx, "the file could not be written", err)
	}
	return fmt.Sprintf("File written: %s (%d lines, %d bytes).", p, countLines([]byte(*fileText)), len(*fileText)), nil
}

func (t *Tools) strReplace(ctx context.Context, p string, oldStr, newStr *string) (string, error) {
	if oldStr == nil || *oldStr == "" {
		return "", toolErrorf("str_replace needs old_str, the exact text to replace (it must occur exactly once in the file), and new_str, its replacement")
	}
	data, err := t.readText(ctx, p)
	if err != nil {
		return "", err
	}
	content := string(data)
	switch count := strings.Count(content, *oldStr); count {
	case 1:
	case 0:
		return "", toolErrorf("no replacement was made: old_str does not occur verbatim in %s. View the file and copy the text exactly, including whitespace and indentation", p)
	default:
		var lines []string
		for i, off := 0, 0; i < count && i < 10; i++ {
			at := strings.Index(content[off:], *oldStr) + off
			lines = append(lines, fmt.Sprint(strings.Count(content[:at], "\n")+1))
			off = at + 1
		}
		return "", toolErrorf("no replacement was made: old_str occurs %d times in %s (starting on lines %s). Include more of the surrounding lines in old_str so that it occurs exactly once", count, p, strings.Join(lines, ", "))
	}
	repl := ""
	if newStr != nil {
		repl = *newStr
	}
	at := strings.Index(content, *oldStr)
	edited := content[:at] + repl + content[at+len(*oldStr):]
	if err := t.Sandbox.WriteFile(ctx, p, []byte(edited)); err != nil {
		return "", t.sandboxError(ctx, "the file could not be written; it is unchanged unless the write was cut off", err)
	}
	startLine := strings.Count(content[:at], "\n") + 1
	endLine := startLine + strings.Count(repl, "\n")
	return t.snippet(p, edited, startLine, endLine), nil
}

func (t *Tools) insert(ctx context.Context, p string, insertLine *int64, text *string) (string, error) {
	if insertLine == nil {
		return "", toolErrorf("insert needs insert_line, the line after which to insert (0 for the start of the file), and insert_text")
	}
	if text == nil {
		return "", toolErrorf("insert needs insert_text, the text to insert after line insert_line")
	}
	if *insertLine < 0 {
		return "", toolErrorf("invalid insert_line %d: use 0 to insert at the start of the file, or the number of the line to insert after", *insertLine)
	}
	data, err := t.readText(ctx, p)
	if err != nil {
		return "", err
	}
	n := countLines(data)
	at := int(*insertLine)
	if at > n {
		return "", toolErrorf("invalid insert_line %d: %s has %d lines; use a number from 0 (the start) to %d (after the last line)", at, p, n, n)
	}
	// Byte offset just after line at.
	off := 0
	for i := 0; i < at; i++ {
		j := bytes.IndexByte(data[off:], '\n')
		if j < 0 {
			off = len(data)
			break
		}
		off += j + 1
	}
	ins := *text
	var b bytes.Buffer
	b.Write(data[:off])
	if off > 0 && data[off-1] != '\n' {
		b.WriteByte('\n') // appending after a last line with no newline
	}
	b.WriteString(ins)
	if !strings.HasSuffix(ins, "\n") && (off < len(data) || (len(data) > 0 && data[len(data)-1] == '\n')) {
		b.WriteByte('\n')
	}
	b.Write(data[off:])
	if err := t.Sandbox.WriteFile(ctx, p, b.Bytes()); err != nil {
		return "", t.sandboxError(ctx, "the file could not be written; it is unchanged unless the write was cut off", err)
	}
	first := at + 1
	last := at + max(1, countLines([]byte(ins)))
	return t.snippet(p, b.String(), first, last), nil
}

// snippet shows the edited lines first..last of content with a few lines
// of context, numbered as view numbers them.
func (t *Tools) snippet(p, content string, first, last int) string {
	lines := splitLines([]byte(content))
	from := max(1, first-snippetLines)
	to := min(len(lines), last+snippetLines)
	var b strings.Builder
	fmt.Fprintf(&b, "The file %s has been edited. Here's the result of running `cat -n` on a snippet of %s:\n", p, p)
	limit := t.maxOutput()
	for i := from; i <= to; i++ {
		line := fmt.Sprintf("%6d\t%s\n", i, lines[i-1])
		if b.Len()+len(line) > limit {
			fmt.Fprintf(&b, "[snippet cut: view the file with view_range [%d, %d] to see the rest]\n", i, to)
			break
		}
		b.WriteString(line)
	}
	b.WriteString("Review the changes and make sure they are as expected. Edit the file again if necessary.")
	return b.String()
}
