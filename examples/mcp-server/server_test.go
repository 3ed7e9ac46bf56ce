package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/sessions"
	"github.com/shellpool/shellpool/sessions/fleet"
	"github.com/shellpool/shellpool/sessions/sessionstest"
)

// waitLimit bounds waits for something the server does in the background
// (deleting a sandbox); it is far above what it needs on a loaded machine.
const waitLimit = 2 * time.Minute

// harness is an MCP server of sandboxes on an in-process emulator, reached
// over in-memory transports with the SDK's own client.
type harness struct {
	emu    *sessionstest.Server
	boxes  *sandboxServer
	server *mcp.Server
	ids    *fleet.IDs
}

func newHarness(t *testing.T, idle time.Duration) *harness {
	t.Helper()
	if testing.Short() {
		t.Skip("runs commands in the emulator")
	}
	emu := sessionstest.NewServer(&sessionstest.Options{TB: t})
	t.Cleanup(emu.Close)
	client, err := sessions.NewClient(emu.PoolEndpoint(), emu.Credential(), &sessions.ClientOptions{ClientOptions: emu.ClientOptions()})
	require.NoError(t, err)
	ids := &fleet.IDs{Key: []byte(strings.Repeat("k", 32)), Prefix: "mcp"}
	boxes := newSandboxServer(config{client: client, ids: ids, idle: idle, progressEvery: 50 * time.Millisecond})
	t.Cleanup(boxes.Close)
	return &harness{emu: emu, boxes: boxes, server: boxes.newMCPServer("test"), ids: ids}
}

// connect opens an MCP client session to the server.
func (h *harness) connect(t *testing.T, opts *mcp.ClientOptions) *mcp.ClientSession {
	t.Helper()
	ct, st := mcp.NewInMemoryTransports()
	_, err := h.server.Connect(t.Context(), st, nil)
	require.NoError(t, err)
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test-client", Version: "1"}, opts).Connect(t.Context(), ct, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

func (h *harness) sessionCount() int { return h.emu.SessionCount(sessionstest.DefaultPoolName) }

// call calls a tool and returns the text of its result and whether it is a
// tool error.
func call(t *testing.T, cs *mcp.ClientSession, name string, args any) (string, bool) {
	t.Helper()
	res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: name, Arguments: args})
	require.NoError(t, err, name)
	var text strings.Builder
	for _, c := range res.Content {
		tc, ok := c.(*mcp.TextContent)
		require.True(t, ok, "text content")
		text.WriteString(tc.Text)
	}
	return text.String(), res.IsError
}

func mustCall(t *testing.T, cs *mcp.ClientSession, name string, args any) string {
	t.Helper()
	text, isErr := call(t, cs, name, args)
	require.False(t, isErr, "%s: %s", name, text)
	return text
}

var toolNames = []string{"download_file", "edit_file", "kill_process", "list_files", "read_process_output", "run_command", "start_process", "upload_file"}

func TestToolsListAndAnnotations(t *testing.T) {
	t.Parallel()
	h := newHarness(t, time.Hour)
	cs := h.connect(t, nil)
	checkToolsList(t, cs)
	assert.Equal(t, "2025-11-25", cs.InitializeResult().ProtocolVersion, "a protocol version with sessions")
	assert.Zero(t, len(h.emu.Requests()), "listing tools sends nothing to the pool")
}

func checkToolsList(t *testing.T, cs *mcp.ClientSession) {
	t.Helper()
	res, err := cs.ListTools(t.Context(), nil)
	require.NoError(t, err)
	byName := map[string]*mcp.Tool{}
	var names []string
	for _, tool := range res.Tools {
		byName[tool.Name] = tool
		names = append(names, tool.Name)
	}
	slices.Sort(names)
	require.Equal(t, toolNames, names)
	for name, want := range map[string]struct{ readOnly, destructive, openWorld bool }{
		"run_command":         {false, true, true},
		"start_process":       {false, true, true},
		"edit_file":           {false, true, false},
		"upload_file":         {false, true, false},
		"kill_process":        {false, true, false},
		"read_process_output": {true, false, false},
		"download_file":       {true, false, false},
		"list_files":          {true, false, false},
	} {
		a := byName[name].Annotations
		require.NotNil(t, a, name)
		assert.Equal(t, want.readOnly, a.ReadOnlyHint, name)
		if !want.readOnly {
			require.NotNil(t, a.DestructiveHint, name)
			assert.Equal(t, want.destructive, *a.DestructiveHint, name)
		}
		require.NotNil(t, a.OpenWorldHint, name)
		assert.Equal(t, want.openWorld, *a.OpenWorldHint, name)
		assert.NotEmpty(t, byName[name].Description, name)
	}
	schema, err := json.Marshal(byName["edit_file"].InputSchema)
	require.NoError(t, err)
	assert.Contains(t, string(schema), `"required":["command","path"]`)
}

func TestShellStatePersists(t *testing.T) {
	t.Parallel()
	h := newHarness(t, time.Hour)
	cs := h.connect(t, nil)
	mustCall(t, cs, "run_command", map[string]any{"command": "cd /tmp; export X=1"})
	assert.Equal(t, "/tmp\n1\n", mustCall(t, cs, "run_command", map[string]any{"command": "pwd; echo $X"}))
	text, isErr := call(t, cs, "run_command", map[string]any{"command": "echo out; echo err >&2; (exit 3)"})
	assert.False(t, isErr, "a failing command is a result")
	assert.Contains(t, text, "[exit code 3]")
	text, isErr = call(t, cs, "run_command", map[string]any{"command": "exit 5"})
	assert.True(t, isErr, "a command that ends the shell is an error")
	assert.Contains(t, text, "the shell exited with status 5")
	assert.Contains(t, text, "restart: true")
	assert.Equal(t, "tool has been restarted.\n[]\n", mustCall(t, cs, "run_command", map[string]any{"restart": true, "command": `echo "[$X]"`}))
}

func TestUploadThenCat(t *testing.T) {
	t.Parallel()
	h := newHarness(t, time.Hour)
	cs := h.connect(t, nil)
	assert.Equal(t, "wrote 9 bytes to /mnt/data/hello.txt", mustCall(t, cs, "upload_file", map[string]any{"path": "/mnt/data/hello.txt", "content": "hi there\n"}))
	assert.Equal(t, "hi there\n", mustCall(t, cs, "run_command", map[string]any{"command": "cat hello.txt"}))
	bin := []byte{0, 1, 2, 255, 'x'}
	mustCall(t, cs, "upload_file", map[string]any{"path": "/mnt/data/bin/blob", "content_base64": base64.StdEncoding.EncodeToString(bin)})
	assert.Equal(t, "00 01 02 ff 78\n", mustCall(t, cs, "run_command", map[string]any{"command": "od -An -tx1 bin/blob | sed 's/^ //'"}))
	assert.Contains(t, mustCall(t, cs, "download_file", map[string]any{"path": "/mnt/data/bin/blob"}), base64.StdEncoding.EncodeToString(bin))
	assert.Equal(t, "hi there\n", mustCall(t, cs, "download_file", map[string]any{"path": "hello.txt"}))
	assert.Equal(t, "bin/\nhello.txt\n", mustCall(t, cs, "list_files", map[string]any{}))
	text := mustCall(t, cs, "edit_file", map[string]any{"command": "str_replace", "path": "/mnt/data/hello.txt", "old_str": "there", "new_str": "world"})
	assert.Contains(t, text, "     1\thi world\n")
	assert.Equal(t, "hi world\n", mustCall(t, cs, "run_command", map[string]any{"command": "cat hello.txt"}))
}

func TestBackgroundProcess(t *testing.T) {
	t.Parallel()
	h := newHarness(t, time.Hour)
	checkBackgroundProcess(t, h.connect(t, nil))
}

// TestReadReturnsOnNewOutput checks that a read with a long wait returns
// as soon as new output arrives, not at the end of the wait: the process
// prints "first" after a second and "second" 20 s later, so a read that held
// its whole wait (30 s) would return both.
func TestReadReturnsOnNewOutput(t *testing.T) {
	t.Parallel()
	h := newHarness(t, time.Hour)
	cs := h.connect(t, nil)
	text := mustCall(t, cs, "start_process", map[string]any{"command": "sleep 1; echo first; sleep 20; echo second; exec sleep 600"})
	id := strings.TrimSuffix(strings.Fields(strings.TrimPrefix(text, "started process_id "))[0], ".")

	var stdout string
	var out readOutput
	for deadline := time.Now().Add(waitLimit); stdout == ""; {
		require.True(t, time.Now().Before(deadline))
		res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "read_process_output", Arguments: map[string]any{
			"process_id": id, "stdout_offset": 0, "wait_seconds": 60}})
		require.NoError(t, err)
		require.False(t, res.IsError, "%v", res.Content)
		b, err := json.Marshal(res.StructuredContent)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(b, &out))
		stdout = out.Stdout
	}
	assert.Equal(t, "first\n", stdout, "the read returned when the first output arrived")
	assert.True(t, out.Running)
	assert.Equal(t, int64(len("first\n")), out.NextStdoutOffset)
	assert.Contains(t, mustCall(t, cs, "kill_process", map[string]any{"process_id": id}), "killed")
}

// checkBackgroundProcess starts a process, reads its output, kills it and
// reads its exit code.
func checkBackgroundProcess(t *testing.T, cs *mcp.ClientSession) {
	t.Helper()
	text := mustCall(t, cs, "start_process", map[string]any{"command": "for i in 1 2 3; do echo tick $i; done; echo oops >&2; exec sleep 600"})
	id := strings.Fields(strings.TrimPrefix(text, "started process_id "))[0]
	id = strings.TrimSuffix(id, ".")

	read := func(outOff, errOff int64) readOutput {
		res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "read_process_output", Arguments: map[string]any{
			"process_id": id, "stdout_offset": outOff, "stderr_offset": errOff, "wait_seconds": 1}})
		require.NoError(t, err)
		require.False(t, res.IsError, "%v", res.Content)
		var out readOutput
		b, err := json.Marshal(res.StructuredContent)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(b, &out))
		return out
	}
	var stdout, stderr string
	var out readOutput
	for deadline := time.Now().Add(waitLimit); !strings.Contains(stdout, "tick 3\n") || stderr != "oops\n"; {
		require.True(t, time.Now().Before(deadline), "output so far: %q %q", stdout, stderr)
		out = read(int64(len(stdout)), int64(len(stderr)))
		stdout += out.Stdout
		stderr += out.Stderr
	}
	assert.Equal(t, "tick 1\ntick 2\ntick 3\n", stdout)
	assert.True(t, out.Running)
	assert.Nil(t, out.ExitCode)

	assert.Contains(t, mustCall(t, cs, "kill_process", map[string]any{"process_id": id}), "killed")
	for deadline := time.Now().Add(waitLimit); out.Running; {
		require.True(t, time.Now().Before(deadline))
		out = read(int64(len(stdout)), int64(len(stderr)))
		assert.Empty(t, out.Stdout+out.Stderr, "nothing new after the kill")
	}
	require.NotNil(t, out.ExitCode)
	assert.Equal(t, 137, *out.ExitCode)
	again := read(int64(len(stdout)), int64(len(stderr)))
	assert.False(t, again.Running)
	assert.Equal(t, 137, *again.ExitCode)
}

func TestClientsAreIsolatedAndTheirSandboxesDeleted(t *testing.T) {
	t.Parallel()
	h := newHarness(t, time.Hour)
	a := h.connect(t, nil)
	b := h.connect(t, nil)
	mustCall(t, a, "upload_file", map[string]any{"path": "secret.txt", "content": "a's\n"})
	mustCall(t, a, "run_command", map[string]any{"command": "export V=a; cd /tmp"})
	text := mustCall(t, b, "run_command", map[string]any{"command": `ls; echo "[$V]"; pwd`})
	assert.NotContains(t, text, "secret.txt")
	assert.Contains(t, text, "[]\n")
	assert.NotContains(t, text, "\n/tmp\n")
	assert.Equal(t, "/mnt/data is empty.", mustCall(t, b, "list_files", map[string]any{}))
	_, isErr := call(t, b, "download_file", map[string]any{"path": "secret.txt"})
	assert.True(t, isErr)
	assert.Equal(t, 2, h.sessionCount(), "one sandbox session per MCP session")

	// The identifiers are derived with fleet.IDs from the server's key.
	pager := h.boxes.cfg.client.NewListSessionsPager(nil)
	var owned int
	for pager.More() {
		page, err := pager.NextPage(t.Context())
		require.NoError(t, err)
		for _, s := range page.Value {
			if h.ids.Owns(s.Identifier) {
				owned++
			}
		}
	}
	assert.Equal(t, 2, owned)

	// Ending an MCP session deletes its sandbox, and only its.
	require.NoError(t, a.Close())
	require.Eventually(t, func() bool { return h.sessionCount() == 1 }, waitLimit, 20*time.Millisecond)
	assert.Equal(t, "[]\n", mustCall(t, b, "run_command", map[string]any{"command": `echo "[$V]"`}))
	require.NoError(t, b.Close())
	require.Eventually(t, func() bool { return h.sessionCount() == 0 }, waitLimit, 20*time.Millisecond)
}

func TestIdleSandboxIsDeleted(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 300*time.Millisecond)
	cs := h.connect(t, nil)
	mustCall(t, cs, "run_command", map[string]any{"command": "echo hi > f.txt"})
	require.Eventually(t, func() bool { return h.sessionCount() == 0 }, waitLimit, 20*time.Millisecond)
	text := mustCall(t, cs, "run_command", map[string]any{"command": "ls"})
	assert.True(t, strings.HasPrefix(text, "[note: the previous sandbox of this MCP session was deleted after 300ms without use"), text)
	assert.NotContains(t, text, "f.txt")
}

// Bad input gives tool errors that say what to send, and sends nothing to
// the pool: not even a delete when the MCP session ends.
func TestBadInputSendsNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, time.Hour)
	cs := h.connect(t, nil)
	h.emu.ResetRequests()
	cases := []struct {
		tool string
		args any
		want string
	}{
		{"run_command", map[string]any{}, "missing command"},
		{"run_command", map[string]any{"command": 5}, "command"},
		{"run_command", map[string]any{"command": "ls", "timeout_seconds": -1}, "invalid timeout_seconds"},
		{"edit_file", map[string]any{"command": "view", "path": "/etc/passwd"}, "outside /mnt/data"},
		{"edit_file", map[string]any{"command": "view", "path": "/mnt/data/../../etc"}, "outside /mnt/data"},
		{"edit_file", map[string]any{"command": "undo_edit", "path": "/mnt/data/x"}, "undo_edit is not part"},
		{"edit_file", map[string]any{"command": "str_replace", "path": "/mnt/data/x"}, "needs old_str"},
		{"edit_file", map[string]any{"path": "/mnt/data/x"}, "command"},
		{"start_process", map[string]any{"command": " "}, "missing command"},
		{"read_process_output", map[string]any{"process_id": "nope"}, `unknown process_id "nope"`},
		{"kill_process", map[string]any{"process_id": "nope"}, `unknown process_id "nope"`},
		{"upload_file", map[string]any{"path": "/etc/cron.d/x", "content": "x"}, "outside /mnt/data"},
		{"upload_file", map[string]any{"path": "a", "content_base64": "%%%"}, "not valid base64"},
		{"upload_file", map[string]any{"path": "a", "content": "x", "content_base64": "eA=="}, "not both"},
		{"download_file", map[string]any{"path": "../x"}, "outside /mnt/data"},
		{"list_files", map[string]any{"path": "/"}, "outside /mnt/data"},
	}
	for _, c := range cases {
		text, isErr := call(t, cs, c.tool, c.args)
		assert.True(t, isErr, "%s %v: %s", c.tool, c.args, text)
		assert.Contains(t, text, c.want, "%s %v", c.tool, c.args)
	}
	_, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "no_such_tool", Arguments: map[string]any{}})
	assert.ErrorContains(t, err, "no_such_tool")
	require.NoError(t, cs.Close())
	h.boxes.wg.Wait() // the MCP session's end was handled
	assert.Empty(t, h.emu.Requests(), "requests to the pool")
}

func TestProgressNotifications(t *testing.T) {
	t.Parallel()
	h := newHarness(t, time.Hour)
	var mu sync.Mutex
	var got []*mcp.ProgressNotificationParams
	cs := h.connect(t, &mcp.ClientOptions{ProgressNotificationHandler: func(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, req.Params)
	}})
	params := &mcp.CallToolParams{Name: "run_command", Arguments: map[string]any{"command": "sleep 1; echo done"}}
	params.SetProgressToken("tok-1")
	res, err := cs.CallTool(t.Context(), params)
	require.NoError(t, err)
	require.False(t, res.IsError)
	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, got, "at least the notification sent when the command starts")
	for i, p := range got {
		assert.Equal(t, "tok-1", p.ProgressToken)
		assert.Equal(t, float64(i+1), p.Progress, "progress increases")
		assert.Contains(t, p.Message, "running for")
	}
	// Without a token, nothing is sent.
	n := len(got)
	mu.Unlock()
	mustCall(t, cs, "run_command", map[string]any{"command": "sleep 0.3"})
	mu.Lock()
	assert.Len(t, got, n)

}

// With a stable key, a new run deletes the sandboxes an earlier run left
// behind once idle, and never a foreign session or a recently used one.
func TestReapLeftovers(t *testing.T) {
	t.Parallel()
	h := newHarness(t, time.Hour)
	cs := h.connect(t, nil)
	mustCall(t, cs, "run_command", map[string]any{"command": "true"}) // a sandbox, "left" by a crashed run
	client, err := sessions.NewClient(h.emu.PoolEndpoint(), h.emu.Credential(), &sessions.ClientOptions{ClientOptions: h.emu.ClientOptions()})
	require.NoError(t, err)
	_, err = client.Execute(t.Context(), sessions.NewSessionID(), sessions.ShellCommand("true"), nil) // another service's session
	require.NoError(t, err)
	require.Equal(t, 2, h.sessionCount())

	reap := func(idle time.Duration) {
		reapLeftovers(t.Context(), h.ids, h.emu.PoolEndpoint(), h.emu.Credential(), h.emu.ClientOptions(), idle, slog.New(slog.DiscardHandler))
	}
	reap(time.Hour)
	assert.Equal(t, 2, h.sessionCount(), "a sandbox used within -idle stays")
	require.Eventually(t, func() bool { reap(time.Millisecond); return h.sessionCount() == 1 }, waitLimit, 50*time.Millisecond)
	reap(time.Millisecond)
	assert.Equal(t, 1, h.sessionCount(), "the foreign session stays")
	page, err := client.NewListSessionsPager(nil).NextPage(t.Context())
	require.NoError(t, err)
	require.Len(t, page.Value, 1)
	assert.False(t, h.ids.Owns(page.Value[0].Identifier), "the one left is the foreign one")

	other := &fleet.IDs{Key: []byte(strings.Repeat("o", 32)), Prefix: "mcp"}
	reapLeftovers(t.Context(), other, h.emu.PoolEndpoint(), h.emu.Credential(), h.emu.ClientOptions(), time.Millisecond, slog.New(slog.DiscardHandler))
	assert.Equal(t, 1, h.sessionCount())
}
