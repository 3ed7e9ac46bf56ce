package agent_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/sessions/agent"
)

// openAIResult answers the item in testdata/openai/name and checks the
// shell_call_output's shape field by field: type, call_id, output (items
// of stdout, stderr and outcome; outcome is {type: exit, exit_code} or
// {type: timeout}), and max_output_length exactly when the call set it.
func openAIResult(t *testing.T, tools *agent.Tools, name string) agent.ShellCallOutput {
	t.Helper()
	in := load(t, "openai/"+name)
	var call struct {
		CallID string `json:"call_id"`
		Action struct {
			Commands        any    `json:"commands"`
			MaxOutputLength *int64 `json:"max_output_length"`
		} `json:"action"`
	}
	require.NoError(t, json.Unmarshal(in, &call))
	out, err := tools.OpenAI(context.Background(), in)
	require.NoError(t, err)

	var m map[string]any
	require.NoError(t, json.Unmarshal(out, &m))
	if call.Action.MaxOutputLength != nil && m["max_output_length"] != nil {
		assert.Equal(t, []string{"call_id", "max_output_length", "output", "type"}, keys(m))
		assert.EqualValues(t, *call.Action.MaxOutputLength, m["max_output_length"], "passed back as the API asks")
	} else {
		assert.Equal(t, []string{"call_id", "output", "type"}, keys(m))
	}
	assert.Equal(t, "shell_call_output", m["type"])
	assert.Equal(t, call.CallID, m["call_id"])
	items, ok := m["output"].([]any)
	require.True(t, ok)
	if cmds, ok := call.Action.Commands.([]any); ok && len(cmds) > 0 {
		assert.Len(t, items, len(cmds), "one output item per command")
	}
	for _, it := range items {
		item, ok := it.(map[string]any)
		require.True(t, ok)
		assert.Equal(t, []string{"outcome", "stderr", "stdout"}, keys(item))
		assert.IsType(t, "", item["stdout"])
		assert.IsType(t, "", item["stderr"])
		outcome, ok := item["outcome"].(map[string]any)
		require.True(t, ok)
		switch outcome["type"] {
		case "exit":
			assert.Equal(t, []string{"exit_code", "type"}, keys(outcome))
			assert.IsType(t, float64(0), outcome["exit_code"])
		case "timeout":
			assert.Equal(t, []string{"type"}, keys(outcome))
		default:
			t.Errorf("outcome type %v", outcome["type"])
		}
	}
	var res agent.ShellCallOutput
	require.NoError(t, json.Unmarshal(out, &res))
	return res
}

func exitCode(t *testing.T, o agent.ShellOutput) int {
	t.Helper()
	require.Equal(t, "exit", o.Outcome.Type)
	require.NotNil(t, o.Outcome.ExitCode)
	return *o.Outcome.ExitCode
}

func TestShellCall(t *testing.T) {
	f := newFake()
	f.runs["ls /mnt/data"] = fakeRun{stdout: "primes.py\n"}
	f.runs["cat missing.txt"] = fakeRun{stderr: "cat: missing.txt: No such file or directory\n", res: agent.ExecResult{ExitCode: 1}}
	res := openAIResult(t, newTools(f), "shell_call.json")
	require.Len(t, res.Output, 2)
	assert.Equal(t, "primes.py\n", res.Output[0].Stdout)
	assert.Equal(t, "", res.Output[0].Stderr)
	assert.Equal(t, 0, exitCode(t, res.Output[0]))
	assert.Equal(t, "", res.Output[1].Stdout)
	assert.Equal(t, "cat: missing.txt: No such file or directory\n", res.Output[1].Stderr)
	assert.Equal(t, 1, exitCode(t, res.Output[1]))
	require.Len(t, f.execs, 2)
	for _, e := range f.execs {
		assert.Equal(t, 120*time.Second, e.Timeout)
	}
}

func TestShellCallTimeout(t *testing.T) {
	f := newFake()
	f.runs["sleep 600"] = fakeRun{stdout: "partial\n", res: agent.ExecResult{ExitCode: 124, TimedOut: true}}
	res := openAIResult(t, newTools(f), "shell_call_no_limits.json")
	require.Len(t, res.Output, 1)
	assert.Equal(t, agent.ShellOutcome{Type: "timeout"}, res.Output[0].Outcome)
	assert.Equal(t, "partial\n", res.Output[0].Stdout)
	assert.Equal(t, agent.DefaultTimeout, f.execs[0].Timeout, "timeout_ms null: the default")
}

func TestShellCallOutputCut(t *testing.T) {
	f := newFake()
	var b strings.Builder
	for i := 1; i <= 100000; i++ {
		fmt.Fprintln(&b, i)
	}
	f.runs["seq 1 100000"] = fakeRun{stdout: b.String()}
	res := openAIResult(t, newTools(f), "shell_call_long_output.json")
	out := res.Output[0].Stdout
	head, rest, found := strings.Cut(out, "\n[... ")
	require.True(t, found, out)
	note, tail, found := strings.Cut(rest, " ...]\n")
	require.True(t, found, out)
	assert.Equal(t, 100, utf8.RuneCountInString(head)+utf8.RuneCountInString(tail), "max_output_length characters kept")
	assert.True(t, strings.HasPrefix(b.String(), head), "the beginning is kept")
	assert.True(t, strings.HasSuffix(b.String(), tail), "the end is kept")
	assert.Equal(t, "99999\n100000\n", tail[len(tail)-13:])
	assert.Contains(t, note, fmt.Sprintf("%d bytes of stdout cut here", b.Len()-len(head)-len(tail)))
	assert.Contains(t, note, "max_output_length (100 characters)")
	assert.Equal(t, 0, exitCode(t, res.Output[0]))
}

func TestShellCallCutSharesBudget(t *testing.T) {
	f := newFake()
	f.runs["x"] = fakeRun{stdout: strings.Repeat("o", 1000), stderr: "short error\n"}
	f.runs["y"] = fakeRun{stdout: "ok\n", stderr: strings.Repeat("é", 1000)}
	limit := int64(60)
	outs := newTools(f).Shell(context.Background(), agent.ShellAction{Commands: []string{"x", "y"}, MaxOutputLength: &limit})
	require.Len(t, outs, 2)
	assert.Equal(t, "short error\n", outs[0].Stderr, "a short stream is kept whole")
	assert.Contains(t, outs[0].Stdout, strings.Repeat("o", 24)+"\n[... 952 bytes of stdout cut here")
	assert.Equal(t, "ok\n", outs[1].Stdout)
	assert.Contains(t, outs[1].Stderr, "\n[... 1886 bytes of stderr cut here", "57 characters (114 bytes) of 2000 bytes kept")
	assert.True(t, utf8.ValidString(outs[1].Stderr))
}

func TestShellCallWithoutLimitUsesMaxOutput(t *testing.T) {
	f := newFake()
	f.runs["x"] = fakeRun{stdout: strings.Repeat("a", 500)}
	f.runs["y"] = fakeRun{stdout: strings.Repeat("b", 50)}
	outs := (&agent.Tools{Sandbox: f, MaxOutput: 100}).Shell(context.Background(), agent.ShellAction{Commands: []string{"x", "y"}})
	assert.Contains(t, outs[0].Stdout, "bytes of stdout cut here: the output was longer than 100 bytes")
	assert.Equal(t, strings.Repeat("b", 50), outs[1].Stdout)
}

func TestShellCallBadInputSendsNothing(t *testing.T) {
	for file, want := range map[string]string{
		"shell_call_empty_commands.json": "has no commands",
		"shell_call_bad_action.json":     "field commands must be an array",
	} {
		t.Run(file, func(t *testing.T) {
			f := newFake()
			res := openAIResult(t, newTools(f), file)
			require.Len(t, res.Output, 1)
			assert.Contains(t, res.Output[0].Stderr, want)
			assert.Equal(t, agent.ExitInvalidInput, exitCode(t, res.Output[0]))
			assert.Zero(t, f.count())
		})
	}
	f := newFake()
	neg, zero := int64(-5), int64(0)
	for _, a := range []agent.ShellAction{
		{Commands: []string{"ls", "pwd"}, TimeoutMS: &neg},
		{Commands: []string{"ls", "pwd"}, MaxOutputLength: &zero},
	} {
		outs := newTools(f).Shell(context.Background(), a)
		require.Len(t, outs, 2)
		for _, o := range outs {
			assert.Equal(t, agent.ExitInvalidInput, exitCode(t, o))
			assert.Contains(t, o.Stderr, "nothing was run")
		}
	}
	out, err := newTools(f).OpenAI(context.Background(), []byte(`{"type":"shell_call","call_id":"call_1","action":null}`))
	require.NoError(t, err)
	var res agent.ShellCallOutput
	require.NoError(t, json.Unmarshal(out, &res))
	require.Len(t, res.Output, 1)
	assert.Contains(t, res.Output[0].Stderr, "the shell call's action must be a JSON object")
	outs := newTools(f).Shell(context.Background(), agent.ShellAction{Commands: []string{"  ", "a\x00b"}})
	assert.Equal(t, agent.ExitInvalidInput, exitCode(t, outs[0]))
	assert.Equal(t, agent.ExitInvalidInput, exitCode(t, outs[1]))
	assert.Contains(t, outs[1].Stderr, "NUL")
	assert.Zero(t, f.count())
}

func TestShellCallShellExitedRestarts(t *testing.T) {
	f := newFake()
	f.runs["exit 3"] = fakeRun{res: agent.ExecResult{ExitCode: 3}, err: fmt.Errorf("shell: %w", agent.ErrShellExited)}
	f.runs["pwd"] = fakeRun{stdout: "/mnt/data\n"}
	outs := newTools(f).Shell(context.Background(), agent.ShellAction{Commands: []string{"exit 3", "pwd"}})
	require.Len(t, outs, 2)
	assert.Equal(t, 3, exitCode(t, outs[0]))
	assert.Contains(t, outs[0].Stderr, "a fresh shell was started")
	assert.Equal(t, 1, f.restarts)
	assert.Equal(t, "/mnt/data\n", outs[1].Stdout)
}

func TestShellCallSandboxFailureStops(t *testing.T) {
	f := newFake()
	f.runs["a"] = fakeRun{stdout: "a\n"}
	f.runs["b"] = fakeRun{err: errors.New("connection reset by peer (identifier=secret)")}
	outs := newTools(f).Shell(context.Background(), agent.ShellAction{Commands: []string{"a", "b", "c", "d"}})
	require.Len(t, outs, 4)
	assert.Equal(t, 0, exitCode(t, outs[0]))
	assert.Equal(t, agent.ExitSandboxFailure, exitCode(t, outs[1]))
	assert.NotContains(t, outs[1].Stderr, "secret")
	assert.Contains(t, outs[1].Stderr, "Try again")
	for _, o := range outs[2:] {
		assert.Equal(t, agent.ExitSandboxFailure, exitCode(t, o))
		assert.Contains(t, o.Stderr, "not run")
	}
	assert.Len(t, f.execs, 2, "c and d were not sent")
}

func TestOpenAIUnknownFunction(t *testing.T) {
	f := newFake()
	out, err := newTools(f).OpenAI(context.Background(), load(t, "openai/function_call_unknown.json"))
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(out, &m))
	assert.Equal(t, []string{"call_id", "output", "type"}, keys(m))
	assert.Equal(t, "function_call_output", m["type"])
	assert.Equal(t, "call_V1b2N3m4Q5w6E7r8T9y0", m["call_id"])
	assert.Contains(t, m["output"], `unknown function "get_weather"`)
	assert.Zero(t, f.count())
}

func TestOpenAINotACall(t *testing.T) {
	f := newFake()
	for _, in := range []string{`{"type":"message","role":"assistant"}`, `{"type":"shell_call","action":{"commands":["ls"]}}`, `{"type":"reasoning","call_id":"x"}`, `nope`} {
		out, err := newTools(f).OpenAI(context.Background(), []byte(in))
		assert.Error(t, err, in)
		assert.Nil(t, out)
	}
	assert.Zero(t, f.count())
}
