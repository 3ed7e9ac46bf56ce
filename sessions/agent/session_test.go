package agent_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/sessions"
	"github.com/shellpool/shellpool/sessions/agent"
	"github.com/shellpool/shellpool/sessions/sessionstest"
)

// emuClientSession is a session of a fresh emulator, closed when the test ends.
func emuClientSession(t *testing.T) (*sessionstest.Server, *sessions.Client, *sessions.SessionClient) {
	t.Helper()
	srv := sessionstest.NewServer(&sessionstest.Options{TB: t})
	t.Cleanup(srv.Close)
	c, err := sessions.NewClient(srv.PoolEndpoint(), srv.Credential(), &sessions.ClientOptions{ClientOptions: srv.ClientOptions()})
	require.NoError(t, err)
	s := c.NewSessionClient(sessions.NewSessionID())
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return srv, c, s
}

func TestSessionSandboxAgainstEmulator(t *testing.T) {
	if testing.Short() {
		t.Skip("runs commands in the emulator")
	}
	srv, client, s := emuClientSession(t)
	sb := agent.NewSessionSandbox(s)
	tools := &agent.Tools{Sandbox: sb}
	ctx := context.Background()
	require.Empty(t, srv.Requests(), "creating the sandbox sends nothing")

	// State carries over between calls.
	_, err := tools.Bash(ctx, agent.BashInput{Command: "cd /tmp; export X=1"})
	require.NoError(t, err)
	text, err := tools.Bash(ctx, agent.BashInput{Command: `pwd; echo "$X"`})
	require.NoError(t, err)
	assert.Equal(t, "/tmp\n1\n", text)

	// Restart forgets it.
	_, err = tools.Bash(ctx, agent.BashInput{Restart: true})
	require.NoError(t, err)
	text, err = tools.Bash(ctx, agent.BashInput{Command: `echo "[$X]"`})
	require.NoError(t, err)
	assert.Equal(t, "[]\n", text)

	// A timeout stops the command.
	_, err = tools.Bash(ctx, agent.BashInput{Command: "echo started; sleep 30", TimeoutMS: 1000})
	var te *agent.ToolError
	require.ErrorAs(t, err, &te)
	assert.Contains(t, te.Message, "started\n")
	assert.Contains(t, te.Message, "timed out after 1s")

	// Files: create, view, edit, nested paths, directories.
	_, err = tools.Edit(ctx, agent.EditInput{Command: "create", Path: "/mnt/data/src/app/main.py", FileText: ptr("print('hi')\nprint('bye')\n")})
	require.NoError(t, err)
	text, err = tools.Edit(ctx, agent.EditInput{Command: "str_replace", Path: "/mnt/data/src/app/main.py", OldStr: ptr("'bye'"), NewStr: ptr("'so long'")})
	require.NoError(t, err)
	assert.Contains(t, text, "     2\tprint('so long')\n")
	text, err = tools.Bash(ctx, agent.BashInput{Command: `cd "${SHELLPOOL_FILES_ROOT:-/mnt/data}"; cat src/app/main.py`})
	require.NoError(t, err)
	assert.Equal(t, "print('hi')\nprint('so long')\n", text, "the shell sees the editor's file")
	text, err = tools.Edit(ctx, agent.EditInput{Command: "view", Path: "/mnt/data"})
	require.NoError(t, err)
	assert.Contains(t, text, "/mnt/data/src/\n/mnt/data/src/app/\n")
	assert.NotContains(t, text, "main.py", "two levels deep only")
	assert.NotContains(t, text, ".shellpool", "hidden files are not shown")
	_, err = tools.Edit(ctx, agent.EditInput{Command: "view", Path: "/mnt/data/nope.txt"})
	require.ErrorAs(t, err, &te)
	assert.Contains(t, te.Message, "/mnt/data/nope.txt does not exist")
	_, err = tools.Edit(ctx, agent.EditInput{Command: "str_replace", Path: "/mnt/data/src", OldStr: ptr("x")})
	require.ErrorAs(t, err, &te)
	assert.Contains(t, te.Message, "is a directory")

	// What the editor's calls cost: view one request, an edit two.
	srv.ResetRequests()
	_, err = tools.Edit(ctx, agent.EditInput{Command: "view", Path: "/mnt/data/src/app/main.py"})
	require.NoError(t, err)
	assert.Len(t, srv.Requests(), 1, "view")
	srv.ResetRequests()
	_, err = tools.Edit(ctx, agent.EditInput{Command: "str_replace", Path: "/mnt/data/src/app/main.py", OldStr: ptr("'hi'"), NewStr: ptr("'hello'")})
	require.NoError(t, err)
	assert.Len(t, srv.Requests(), 2, "str_replace: read and write")
	srv.ResetRequests()
	_, err = tools.Bash(ctx, agent.BashInput{Command: "true"})
	require.NoError(t, err)
	assert.Len(t, srv.Requests(), 1, "bash")

	// A file where a directory must be: the sandbox's own words.
	_, err = tools.Edit(ctx, agent.EditInput{Command: "create", Path: "/mnt/data/src/app/main.py/x", FileText: ptr("x")})
	require.ErrorAs(t, err, &te)
	assert.Contains(t, te.Message, "the file could not be written: it failed in the sandbox (")
	assert.Contains(t, te.Message, "(mkdir: ", "the failing command speaks")

	// Exact bytes, any size, an empty file.
	big := strings.Repeat("line of text é\n", 20000)
	require.NoError(t, sb.WriteFile(ctx, "/mnt/data/big.txt", []byte(big)))
	got, err := sb.ReadFile(ctx, "/mnt/data/big.txt", 1<<20)
	require.NoError(t, err)
	assert.Equal(t, big, string(got))
	_, err = sb.ReadFile(ctx, "/mnt/data/big.txt", 1000)
	assert.ErrorIs(t, err, agent.ErrFileTooLarge)
	require.NoError(t, sb.WriteFile(ctx, "/mnt/data/empty", nil))
	got, err = sb.ReadFile(ctx, "/mnt/data/empty", 10)
	require.NoError(t, err)
	assert.Empty(t, got)
	_, err = sb.ListDir(ctx, "/mnt/data/big.txt", 1)
	assert.ErrorIs(t, err, agent.ErrNotExist)

	// OpenAI's shell tool in the same shell.
	ms := int64(1000)
	outs := tools.Shell(ctx, agent.ShellAction{Commands: []string{"cd /tmp", "pwd", "sleep 20"}, TimeoutMS: &ms})
	require.Len(t, outs, 3)
	assert.Equal(t, "/tmp\n", outs[1].Stdout)
	assert.Equal(t, "timeout", outs[2].Outcome.Type)

	// A command that ends the shell: an error that says so, then a restart.
	_, err = tools.Bash(ctx, agent.BashInput{Command: "cd /tmp; exit 3"})
	require.ErrorAs(t, err, &te)
	assert.ErrorIs(t, err, agent.ErrShellExited)
	assert.Contains(t, te.Message, "Restart the shell")
	text, err = tools.Bash(ctx, agent.BashInput{Restart: true, Command: "echo again"})
	require.NoError(t, err)
	assert.Equal(t, "tool has been restarted.\nagain\n", text)
	// OpenAI's tool restarts by itself.
	outs = tools.Shell(ctx, agent.ShellAction{Commands: []string{"export Y=2; exit 4", `echo "[$Y]"`}})
	assert.Equal(t, 4, *outs[0].Outcome.ExitCode)
	assert.Contains(t, outs[0].Stderr, "a fresh shell was started")
	assert.Equal(t, "[]\n", outs[1].Stdout)

	// A shell whose session went away: the model is told its state is lost,
	// and the next command runs in a fresh shell.
	_, err = tools.Bash(ctx, agent.BashInput{Command: "cd /tmp"})
	require.NoError(t, err)
	_, err = client.DeleteSession(ctx, s.ID(), nil) // as when the session expires
	require.NoError(t, err)
	_, err = tools.Bash(ctx, agent.BashInput{Command: "pwd"})
	require.ErrorAs(t, err, &te)
	assert.ErrorIs(t, err, agent.ErrShellLost)
	assert.Contains(t, te.Message, "the shell was lost")
	text, err = tools.Bash(ctx, agent.BashInput{Command: "pwd"})
	require.NoError(t, err)
	assert.NotEqual(t, "/tmp\n", text)

	require.NoError(t, sb.Close(ctx))
	_, ok := srv.SessionDir(sessionstest.DefaultPoolName, s.ID())
	assert.True(t, ok, "closing the sandbox leaves the session")
}

func ptr(s string) *string { return &s }
