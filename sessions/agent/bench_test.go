package agent_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/sessions"
	"github.com/shellpool/shellpool/sessions/agent"
	"github.com/shellpool/shellpool/sessions/sessionstest"
	"github.com/shellpool/shellpool/sessions/shell"
)

// benchSession is a session of a fresh emulator for a benchmark.
func benchSession(b *testing.B) (*sessionstest.Server, *sessions.SessionClient) {
	srv := sessionstest.NewServer(&sessionstest.Options{TB: b})
	b.Cleanup(srv.Close)
	c, err := sessions.NewClient(srv.PoolEndpoint(), srv.Credential(), &sessions.ClientOptions{ClientOptions: srv.ClientOptions()})
	require.NoError(b, err)
	s := c.NewSessionClient(sessions.NewSessionID())
	b.Cleanup(func() { _ = s.Close(context.Background()) })
	return srv, s
}

// A bash tool call through Tools.Anthropic (JSON in, JSON out) against the
// baseline of the same command through shell.Exec: the agent layer adds no
// request, and its time is the shell's.
func BenchmarkAnthropicBash(b *testing.B) {
	srv, s := benchSession(b)
	tools := &agent.Tools{Sandbox: agent.NewSessionSandbox(s)}
	block := []byte(`{"type":"tool_use","id":"toolu_1","name":"bash","input":{"command":"echo hi"}}`)
	ctx := context.Background()
	_, err := tools.Anthropic(ctx, block) // opens the shell
	require.NoError(b, err)
	srv.ResetRequests()
	b.ResetTimer()
	for b.Loop() {
		if _, err := tools.Anthropic(ctx, block); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(srv.Requests()))/float64(b.N), "requests/op")
}

// benchShellExec measures sh.Exec("echo hi") in an open shell, with the
// options opts returns for each call (nil: none).
func benchShellExec(b *testing.B, opts func() *shell.ExecOptions) {
	srv, s := benchSession(b)
	ctx := context.Background()
	sh, err := shell.Open(ctx, s, nil)
	require.NoError(b, err)
	srv.ResetRequests()
	b.ResetTimer()
	for b.Loop() {
		if _, err := sh.Exec(ctx, "echo hi", opts()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(srv.Requests()))/float64(b.N), "requests/op")
}

func BenchmarkShellExecBaseline(b *testing.B) {
	benchShellExec(b, func() *shell.ExecOptions { return nil })
}

// The baseline with the output streamed to writers and a timeout, as the
// tools run every command.
func BenchmarkShellExecStreamedTimeoutBaseline(b *testing.B) {
	benchShellExec(b, func() *shell.ExecOptions {
		var out strings.Builder
		return &shell.ExecOptions{Stdout: &out, Stderr: &out, Timeout: agent.DefaultTimeout}
	})
}

// The baseline with the output streamed to writers, as the tools do.
func BenchmarkShellExecStreamedBaseline(b *testing.B) {
	benchShellExec(b, func() *shell.ExecOptions {
		var out, errb strings.Builder
		return &shell.ExecOptions{Stdout: &out, Stderr: &errb}
	})
}
