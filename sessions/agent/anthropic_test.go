package agent_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/sessions/agent"
)

const primes = `def is_prime(n):
    if n < 2:
        return False
    for i in range(2, n):
        if n % i == 0:
            return False
    return True
`

func load(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

func keys(m map[string]any) []string {
	var k []string
	for key := range m {
		k = append(k, key)
	}
	slices.Sort(k)
	return k
}

// anthropicResult answers the tool_use block in testdata/anthropic/name and
// checks the result's shape field by field against the documented
// tool_result block: type, tool_use_id, content (one text block) and
// is_error only when true. It returns the result's text and is_error.
func anthropicResult(t *testing.T, tools *agent.Tools, name string) (string, bool) {
	t.Helper()
	in := load(t, "anthropic/"+name)
	var use map[string]any
	require.NoError(t, json.Unmarshal(in, &use))
	out, err := tools.Anthropic(context.Background(), in)
	require.NoError(t, err)

	var m map[string]any
	require.NoError(t, json.Unmarshal(out, &m))
	isErr, hasErr := m["is_error"]
	if hasErr {
		assert.Equal(t, []string{"content", "is_error", "tool_use_id", "type"}, keys(m))
		assert.Equal(t, true, isErr, "is_error is sent only when true")
	} else {
		assert.Equal(t, []string{"content", "tool_use_id", "type"}, keys(m))
	}
	assert.Equal(t, "tool_result", m["type"])
	assert.Equal(t, use["id"], m["tool_use_id"])
	content, ok := m["content"].([]any)
	require.True(t, ok, "content is an array of blocks")
	require.Len(t, content, 1)
	block, ok := content[0].(map[string]any)
	require.True(t, ok)
	assert.Equal(t, []string{"text", "type"}, keys(block))
	assert.Equal(t, "text", block["type"])
	text, _ := block["text"].(string)
	assert.NotEmpty(t, text, "the API refuses empty text blocks")

	// The typed form decodes the same.
	var res agent.ToolResult
	require.NoError(t, json.Unmarshal(out, &res))
	assert.Equal(t, text, res.Content[0].Text)
	assert.Equal(t, hasErr, res.IsError)
	return text, hasErr
}

func newTools(f *fakeSandbox) *agent.Tools { return &agent.Tools{Sandbox: f} }

func TestBashRunsCommand(t *testing.T) {
	f := newFake()
	f.runs["ls /mnt/data"] = fakeRun{stdout: "primes.py\nsrc\n"}
	text, isErr := anthropicResult(t, newTools(f), "bash_command.json")
	assert.False(t, isErr)
	assert.Equal(t, "primes.py\nsrc\n", text)
	require.Len(t, f.execs, 1)
	assert.Equal(t, "ls /mnt/data", f.execs[0].Script)
	assert.Equal(t, agent.DefaultTimeout, f.execs[0].Timeout)
}

func TestBashNonZeroExitIsAResultNotAnError(t *testing.T) {
	f := newFake()
	f.runs["grep -r TODO src"] = fakeRun{stderr: "grep: src: No such file or directory\n", res: agent.ExecResult{ExitCode: 2}}
	text, isErr := anthropicResult(t, newTools(f), "bash_failing.json")
	assert.False(t, isErr)
	assert.Equal(t, "grep: src: No such file or directory\n\n[exit code 2]", text)
}

func TestBashNoOutput(t *testing.T) {
	f := newFake()
	f.runs["ls /mnt/data"] = fakeRun{}
	text, isErr := anthropicResult(t, newTools(f), "bash_command.json")
	assert.False(t, isErr)
	assert.Equal(t, "(no output)", text)
}

func TestBashRestart(t *testing.T) {
	f := newFake()
	text, isErr := anthropicResult(t, newTools(f), "bash_restart.json")
	assert.False(t, isErr)
	assert.Equal(t, "tool has been restarted.", text)
	assert.Equal(t, 1, f.restarts)
	assert.Empty(t, f.execs)
}

func TestBashRestartThenCommand(t *testing.T) {
	f := newFake()
	f.runs["pwd"] = fakeRun{stdout: "/mnt/data\n"}
	text, err := newTools(f).Bash(context.Background(), agent.BashInput{Restart: true, Command: "pwd"})
	require.NoError(t, err)
	assert.Equal(t, "tool has been restarted.\n/mnt/data\n", text)
	assert.Equal(t, 1, f.restarts)
}

func TestBashOutputCut(t *testing.T) {
	f := newFake()
	long := strings.Repeat("0123456789", 100) // 1,000 bytes
	f.runs["ls /mnt/data"] = fakeRun{stdout: long}
	tools := &agent.Tools{Sandbox: f, MaxOutput: 100}
	text, isErr := anthropicResult(t, tools, "bash_command.json")
	assert.False(t, isErr)
	assert.True(t, strings.HasPrefix(text, long[:100]+"\n\n[output cut: showing the first 100 of 1000 bytes."), text)
	assert.NotContains(t, text, long[:101])
}

func TestBashOutputCutKeepsUTF8Whole(t *testing.T) {
	f := newFake()
	f.runs["x"] = fakeRun{stdout: strings.Repeat("é", 100)} // 2 bytes each
	text, err := (&agent.Tools{Sandbox: f, MaxOutput: 11}).Bash(context.Background(), agent.BashInput{Command: "x"})
	require.NoError(t, err)
	head, _, _ := strings.Cut(text, "\n\n[output cut")
	assert.Equal(t, strings.Repeat("é", 5), head)
	assert.Contains(t, text, "showing the first 10 of 200 bytes")
}

func TestBashTimeoutIsAnErrorWithPartialOutput(t *testing.T) {
	f := newFake()
	f.runs["sleep 100"] = fakeRun{stdout: "started\n", res: agent.ExecResult{ExitCode: 124, TimedOut: true}}
	text, err := newTools(f).Bash(context.Background(), agent.BashInput{Command: "sleep 100", TimeoutMS: 1500})
	assert.Empty(t, text)
	var te *agent.ToolError
	require.ErrorAs(t, err, &te)
	assert.True(t, strings.HasPrefix(te.Message, "started\n"), te.Message)
	assert.Contains(t, te.Message, "timed out after 1.5s")
	assert.Contains(t, te.Message, "state are kept")
	assert.Equal(t, 1500*time.Millisecond, f.execs[0].Timeout)
}

func TestBashTimeoutIsCapped(t *testing.T) {
	f := newFake()
	f.runs["x"] = fakeRun{}
	_, err := (&agent.Tools{Sandbox: f, MaxTimeout: time.Minute}).Bash(context.Background(), agent.BashInput{Command: "x", TimeoutMS: int64(time.Hour / time.Millisecond)})
	require.NoError(t, err)
	assert.Equal(t, time.Minute, f.execs[0].Timeout)
}

func TestBashShellExited(t *testing.T) {
	f := newFake()
	f.runs["exit 3"] = fakeRun{res: agent.ExecResult{ExitCode: 3}, err: agent.ErrShellExited}
	_, err := newTools(f).Bash(context.Background(), agent.BashInput{Command: "exit 3"})
	var te *agent.ToolError
	require.ErrorAs(t, err, &te)
	assert.ErrorIs(t, err, agent.ErrShellExited)
	assert.Contains(t, te.Message, "ended the shell")
	assert.Contains(t, te.Message, "Restart the shell")
}

func TestBashSandboxFailureHidesRawError(t *testing.T) {
	f := newFake()
	raw := errors.New("POST https://eastus.dynamicsessions.io/...identifier=secret-session-id: dial tcp: connection refused")
	f.runs["ls /mnt/data"] = fakeRun{err: raw}
	var logged []error
	tools := &agent.Tools{Sandbox: f, OnError: func(err error) { logged = append(logged, err) }}
	text, isErr := anthropicResult(t, tools, "bash_command.json")
	assert.True(t, isErr)
	assert.NotContains(t, text, "secret-session-id")
	assert.NotContains(t, text, "dynamicsessions.io")
	assert.Contains(t, text, "Try again")
	require.Len(t, logged, 1)
	assert.Equal(t, raw, logged[0])
}

// Bad input: a tool error that tells the model what to send, and nothing
// sent to the sandbox.
func TestAnthropicBadInputSendsNothing(t *testing.T) {
	cases := []struct {
		file string
		want []string
	}{
		{"bash_missing_command.json", []string{"missing command", `{"restart": true}`}},
		{"bash_wrong_type.json", []string{"field command must be a string", "not a JSON number"}},
		{"bash_input_not_object.json", []string{"must be a JSON object", `{"command": "ls -la"}`}},
		{"unknown_tool.json", []string{`unknown tool "computer"`, "bash", "str_replace_based_edit_tool"}},
		{"editor_path_escape.json", []string{"outside /mnt/data", "use a path under /mnt/data"}},
		{"editor_undo_edit.json", []string{"undo_edit is not part of text_editor_20250728", "str_replace"}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			f := newFake()
			text, isErr := anthropicResult(t, newTools(f), c.file)
			assert.True(t, isErr)
			for _, w := range c.want {
				assert.Contains(t, text, w)
			}
			assert.Zero(t, f.count(), "requests to the sandbox")
		})
	}
}

func TestBashNULIsRefused(t *testing.T) {
	f := newFake()
	_, err := newTools(f).Bash(context.Background(), agent.BashInput{Command: "echo a\x00b"})
	assert.ErrorContains(t, err, "NUL byte")
	_, err = newTools(f).Bash(context.Background(), agent.BashInput{Command: "ls", TimeoutMS: -1})
	assert.ErrorContains(t, err, "invalid timeout_ms -1")
	assert.Zero(t, f.count())
}

func TestAnthropicNotAToolUse(t *testing.T) {
	f := newFake()
	for _, in := range []string{`{"type":"text","text":"hi"}`, `{"type":"tool_use","name":"bash","input":{}}`, `[1,2]`, `not json`} {
		out, err := newTools(f).Anthropic(context.Background(), []byte(in))
		assert.Error(t, err, in)
		assert.Nil(t, out)
	}
	assert.Zero(t, f.count())
}

func TestEditorView(t *testing.T) {
	f := newFake()
	f.files["/mnt/data/primes.py"] = []byte(primes)
	text, isErr := anthropicResult(t, newTools(f), "editor_view.json")
	assert.False(t, isErr)
	assert.Equal(t, "Here's the result of running `cat -n` on /mnt/data/primes.py:\n"+
		"     1\tdef is_prime(n):\n"+
		"     2\t    if n < 2:\n"+
		"     3\t        return False\n"+
		"     4\t    for i in range(2, n):\n"+
		"     5\t        if n % i == 0:\n"+
		"     6\t            return False\n"+
		"     7\t    return True\n", text)
}

func TestEditorViewRange(t *testing.T) {
	f := newFake()
	f.files["/mnt/data/primes.py"] = []byte(primes)
	text, isErr := anthropicResult(t, newTools(f), "editor_view_range.json")
	assert.False(t, isErr)
	assert.Contains(t, text, "     2\t    if n < 2:\n")
	assert.Contains(t, text, "     7\t    return True\n")
	assert.NotContains(t, text, "def is_prime")
}

func TestEditorViewRangeOutOfBounds(t *testing.T) {
	f := newFake()
	f.files["/mnt/data/primes.py"] = []byte(primes)
	text, isErr := anthropicResult(t, newTools(f), "editor_view_range_out_of_bounds.json")
	assert.True(t, isErr)
	assert.Contains(t, text, "invalid view_range [5 40]")
	assert.Contains(t, text, "has 7 lines")
}

func TestEditorViewRangeChecks(t *testing.T) {
	f := newFake()
	f.files["/mnt/data/a.txt"] = []byte("1\n2\n3\n")
	tools := newTools(f)
	for _, r := range [][]int64{{0, 2}, {4, 4}, {3, 2}, {1, 4}, {1}, {1, 2, 3}, {2, -2}} {
		_, err := tools.Edit(context.Background(), agent.EditInput{Command: "view", Path: "/mnt/data/a.txt", ViewRange: r})
		var te *agent.ToolError
		assert.ErrorAs(t, err, &te, "%v", r)
	}
	for r, want := range map[[2]int64]string{{1, 1}: "     1\t1\n", {3, 3}: "     3\t3\n", {2, -1}: "     2\t2\n     3\t3\n"} {
		text, err := tools.Edit(context.Background(), agent.EditInput{Command: "view", Path: "/mnt/data/a.txt", ViewRange: r[:]})
		require.NoError(t, err)
		_, body, _ := strings.Cut(text, ":\n")
		assert.Equal(t, want, body, "%v", r)
	}
}

func TestEditorViewCut(t *testing.T) {
	f := newFake()
	var b strings.Builder
	for range 100 {
		b.WriteString("a line of text\n")
	}
	f.files["/mnt/data/big.txt"] = []byte(b.String())
	text, err := (&agent.Tools{Sandbox: f, MaxOutput: 300}).Edit(context.Background(), agent.EditInput{Command: "view", Path: "big.txt"})
	require.NoError(t, err)
	assert.LessOrEqual(t, len(text), 300+100)
	assert.Regexp(t, `\[output cut at line (\d+) of 100: view the rest with view_range \[\d+, 100\]\]`, text)
}

func TestEditorViewDir(t *testing.T) {
	f := newFake()
	f.files["/mnt/data/primes.py"] = []byte(primes)
	f.files["/mnt/data/src/main.go"] = []byte("package main\n")
	f.files["/mnt/data/src/deep/er/x.go"] = []byte("package x\n")
	f.files["/mnt/data/.git/config"] = []byte("[core]\n")
	text, isErr := anthropicResult(t, newTools(f), "editor_view_dir.json")
	assert.False(t, isErr)
	assert.Equal(t, "Here are the files and directories up to 2 levels deep in /mnt/data, excluding hidden items:\n/mnt/data\n"+
		"/mnt/data/primes.py\n/mnt/data/src/\n/mnt/data/src/deep/\n/mnt/data/src/main.go\n", text)
}

func TestEditorCreate(t *testing.T) {
	f := newFake()
	text, isErr := anthropicResult(t, newTools(f), "editor_create.json")
	assert.False(t, isErr)
	assert.Equal(t, "File written: /mnt/data/src/hello.py (1 lines, 15 bytes).", text)
	assert.Equal(t, "print(\"hello\")\n", f.file("/mnt/data/src/hello.py"))
}

func TestEditorStrReplace(t *testing.T) {
	f := newFake()
	f.files["/mnt/data/primes.py"] = []byte(primes)
	text, isErr := anthropicResult(t, newTools(f), "editor_str_replace.json")
	assert.False(t, isErr)
	assert.Equal(t, strings.Replace(primes, "n < 2", "n <= 1", 1), f.file("/mnt/data/primes.py"))
	assert.Contains(t, text, "The file /mnt/data/primes.py has been edited.")
	assert.Contains(t, text, "     2\t    if n <= 1:\n")
}

func TestEditorStrReplaceMustMatchOnce(t *testing.T) {
	for file, want := range map[string]string{
		"editor_str_replace_no_match.json":    "does not occur verbatim",
		"editor_str_replace_two_matches.json": "occurs 2 times in /mnt/data/primes.py (starting on lines 3, 6)",
	} {
		t.Run(file, func(t *testing.T) {
			f := newFake()
			f.files["/mnt/data/primes.py"] = []byte(primes)
			text, isErr := anthropicResult(t, newTools(f), file)
			assert.True(t, isErr)
			assert.Contains(t, text, want)
			assert.Equal(t, primes, f.file("/mnt/data/primes.py"), "the file is unchanged")
			assert.Equal(t, 1, f.count(), "one read, no write")
		})
	}
}

func TestEditorInsert(t *testing.T) {
	f := newFake()
	f.files["/mnt/data/primes.py"] = []byte(primes)
	text, isErr := anthropicResult(t, newTools(f), "editor_insert.json")
	assert.False(t, isErr)
	assert.Equal(t, "import math\n"+primes, f.file("/mnt/data/primes.py"))
	assert.Contains(t, text, "     1\timport math\n     2\tdef is_prime(n):\n")
}

func TestEditorInsertPositions(t *testing.T) {
	cases := []struct {
		file string
		line int64
		text string
		want string
	}{
		{"a\nb\n", 1, "x", "a\nx\nb\n"},
		{"a\nb\n", 2, "x\n", "a\nb\nx\n"},
		{"a\nb", 2, "x", "a\nb\nx"},
		{"a\nb", 0, "x", "x\na\nb"},
		{"", 0, "x\n", "x\n"},
		{"a\n", 1, "x\ny", "a\nx\ny\n"},
	}
	for _, c := range cases {
		f := newFake()
		f.files["/mnt/data/f"] = []byte(c.file)
		text := c.text
		_, err := newTools(f).Edit(context.Background(), agent.EditInput{Command: "insert", Path: "f", InsertLine: &c.line, InsertText: &text})
		require.NoError(t, err)
		assert.Equal(t, c.want, f.file("/mnt/data/f"), "%q after line %d of %q", c.text, c.line, c.file)
	}
	// The older versions' new_str is accepted in place of insert_text.
	f := newFake()
	f.files["/mnt/data/f"] = []byte("a\n")
	line, text := int64(1), "b\n"
	_, err := newTools(f).Edit(context.Background(), agent.EditInput{Command: "insert", Path: "f", InsertLine: &line, NewStr: &text})
	require.NoError(t, err)
	assert.Equal(t, "a\nb\n", f.file("/mnt/data/f"))
}

func TestEditorBadInput(t *testing.T) {
	ptr := func(s string) *string { return &s }
	line := func(n int64) *int64 { return &n }
	cases := []struct {
		in    agent.EditInput
		want  string
		calls int // requests the sandbox may see (reading the file to check)
	}{
		{agent.EditInput{}, "missing command", 0},
		{agent.EditInput{Command: "delete", Path: "a"}, `unknown command "delete"`, 0},
		{agent.EditInput{Command: "view"}, "missing path", 0},
		{agent.EditInput{Command: "view", Path: "/etc/passwd"}, "outside /mnt/data", 0},
		{agent.EditInput{Command: "view", Path: "../x"}, "outside /mnt/data", 0},
		{agent.EditInput{Command: "view", Path: "/mnt/datax/y"}, "outside /mnt/data", 0},
		{agent.EditInput{Command: "view", Path: "a\x00b"}, "NUL", 0},
		{agent.EditInput{Command: "create", Path: "a"}, "create needs file_text", 0},
		{agent.EditInput{Command: "create", Path: "/mnt/data", FileText: ptr("x")}, "root directory", 0},
		{agent.EditInput{Command: "str_replace", Path: "a"}, "needs old_str", 0},
		{agent.EditInput{Command: "str_replace", Path: "a", OldStr: ptr("")}, "needs old_str", 0},
		{agent.EditInput{Command: "insert", Path: "a", InsertText: ptr("x")}, "needs insert_line", 0},
		{agent.EditInput{Command: "insert", Path: "a", InsertLine: line(1)}, "needs insert_text", 0},
		{agent.EditInput{Command: "insert", Path: "a", InsertLine: line(-1), InsertText: ptr("x")}, "invalid insert_line -1", 0},
		{agent.EditInput{Command: "insert", Path: "a", InsertLine: line(9), InsertText: ptr("x")}, "invalid insert_line 9: /mnt/data/a has 2 lines", 1},
		{agent.EditInput{Command: "view", Path: "missing"}, "/mnt/data/missing does not exist", 1},
		{agent.EditInput{Command: "str_replace", Path: "bin", OldStr: ptr("x")}, "binary file", 1},
		{agent.EditInput{Command: "str_replace", Path: "dir", OldStr: ptr("x")}, "is a directory", 1},
	}
	for _, c := range cases {
		f := newFake()
		f.files["/mnt/data/a"] = []byte("1\n2\n")
		f.files["/mnt/data/bin"] = []byte("x\x00y")
		f.files["/mnt/data/dir/f"] = []byte("f")
		_, err := newTools(f).Edit(context.Background(), c.in)
		var te *agent.ToolError
		if assert.ErrorAs(t, err, &te, "%+v", c.in) {
			assert.Contains(t, te.Message, c.want)
		}
		assert.Equal(t, c.calls, f.count(), "%+v", c.in)
		assert.Equal(t, "1\n2\n", f.file("/mnt/data/a"))
	}
}

func TestEditorFileTooLarge(t *testing.T) {
	f := newFake()
	f.files["/mnt/data/big"] = make([]byte, 2000)
	_, err := (&agent.Tools{Sandbox: f, MaxFileSize: 1000}).Edit(context.Background(), agent.EditInput{Command: "view", Path: "big"})
	var te *agent.ToolError
	require.ErrorAs(t, err, &te)
	assert.Contains(t, te.Message, "larger than 1000 bytes")
	assert.Contains(t, te.Message, "sed -n")
}

func TestEditorRelativePathsAndCustomRoot(t *testing.T) {
	f := newFake()
	f.files["/work/x.txt"] = []byte("hi\n")
	tools := &agent.Tools{Sandbox: f, Root: "/work/"}
	text, err := tools.Edit(context.Background(), agent.EditInput{Command: "view", Path: "x.txt"})
	require.NoError(t, err)
	assert.Contains(t, text, "     1\thi\n")
	_, err = tools.Edit(context.Background(), agent.EditInput{Command: "view", Path: "/mnt/data/x.txt"})
	assert.ErrorContains(t, err, "outside /work")
}
