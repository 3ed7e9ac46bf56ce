package examples_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readmeBlock returns the first ```sh block after heading in README.md.
func readmeBlock(t *testing.T, heading string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "README.md"))
	require.NoError(t, err)
	readme := string(data)
	i := strings.Index(readme, heading+"\n")
	require.GreaterOrEqual(t, i, 0, "README.md has the section %q", heading)
	block := readme[i:]
	start := strings.Index(block, "```sh\n")
	require.GreaterOrEqual(t, start, 0)
	block = block[start+len("```sh\n"):]
	return block[:strings.Index(block, "\n```")+1]
}

// The README's MCP section runs as written against the emulator program:
// its first four lines start the emulator and source its env file (the
// test does that with the built program), its last stops it, and
// everything between runs in bash.
func TestREADMEMCPSteps(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed; the README's MCP steps need bash, curl and jq", tool)
		}
	}
	block := readmeBlock(t, "### The MCP tutorial's steps with curl")
	lines := strings.Split(strings.TrimSuffix(block, "\n"), "\n")
	require.Greater(t, len(lines), 5)
	walkthrough := readmeLocalBlock(t)
	code := func(lines ...string) (out []string) { // without trailing comments
		for _, l := range lines {
			out = append(out, strings.TrimSpace(strings.SplitN(l, " # ", 2)[0]))
		}
		return out
	}
	assert.Equal(t, code(walkthrough[:4]...), code(lines[:4]...), "the block starts the emulator as the walkthrough does")
	assert.Equal(t, code(walkthrough[len(walkthrough)-1]), code(lines[len(lines)-1]), "and stops it as the walkthrough does")
	script := "set -euo pipefail\n" + strings.Join(lines[4:len(lines)-1], "\n") + "\n"

	e := startSharedEmulator(t)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), hangLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script)
	cmd.Dir = dir
	cmd.Env = e.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "stderr: %s", stderr.String())
	assert.Empty(t, stderr.String())

	// The deploy.json the block writes is the MCP tutorial's.
	written, err := os.ReadFile(filepath.Join(dir, "deploy.json"))
	require.NoError(t, err)
	tutorial, err := os.ReadFile(filepath.Join("..", "pool", "testdata", "tutorial_mcp_deploy.json"))
	require.NoError(t, err)
	assert.JSONEq(t, string(tutorial), string(written))

	// curl printed three JSON-RPC answers, one after the other.
	type answer struct {
		ID     string `json:"id"`
		Result struct {
			ProtocolVersion string `json:"protocolVersion"`
			ServerInfo      struct {
				Name string `json:"name"`
			} `json:"serverInfo"`
			Capabilities struct {
				Tools map[string]bool `json:"tools"`
			} `json:"capabilities"`
			StructuredContent struct {
				Stdout   string `json:"stdout"`
				ExitCode int    `json:"exitCode"`
			} `json:"structuredContent"`
		} `json:"result"`
		Error any `json:"error"`
	}
	var answers []answer
	dec := json.NewDecoder(bytes.NewReader(stdout.Bytes()))
	for {
		var a answer
		err := dec.Decode(&a)
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "stdout: %s", stdout.String())
		assert.Nil(t, a.Error)
		answers = append(answers, a)
	}
	require.Len(t, answers, 3, "stdout: %s", stdout.String())
	assert.Equal(t, "1", answers[0].ID)
	assert.Equal(t, "2025-03-26", answers[0].Result.ProtocolVersion)
	assert.Equal(t, "Microsoft Container Apps MCP Server", answers[0].Result.ServerInfo.Name)
	assert.Equal(t, map[string]bool{"call": true, "list": true}, answers[0].Result.Capabilities.Tools)
	assert.Equal(t, "3", answers[1].ID)
	assert.Equal(t, "Hello from Azure Container Apps Shell Session!\n", answers[1].Result.StructuredContent.Stdout)
	assert.Equal(t, "4", answers[2].ID)
	if runtime.GOOS == "linux" {
		assert.Equal(t, 0, answers[2].Result.StructuredContent.ExitCode)
		assert.Contains(t, answers[2].Result.StructuredContent.Stdout, "Linux")
	}

	// examples/pool-mcp joins the same emulator, uses the pool the block
	// deployed, and never prints its key.
	r := runProgram(t, dir, e.env, "pool-mcp")
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.Regexp(t, sharedBanner, r.stdout)
	assert.Contains(t, r.stdout, "Hello from Azure Container Apps Shell Session!\n")
	keyCmd := exec.CommandContext(ctx, "bash", "-c", `curl -sS --cacert "$SHELLPOOL_CA_CERT" -X POST \
		"$SHELLPOOL_ENDPOINT/subscriptions/$SUBSCRIPTION/resourceGroups/$RG/providers/Microsoft.App/sessionPools/$POOL/fetchMcpServerCredentials?api-version=2025-10-02-preview" \
		-H "Authorization: Bearer $SHELLPOOL_ARM_TOKEN" | jq -r .apiKey`)
	keyCmd.Env = e.env
	key, err := keyCmd.Output()
	require.NoError(t, err)
	require.Greater(t, len(bytes.TrimSpace(key)), 20, "the pool has a key")
	assert.False(t, bytes.Contains([]byte(r.stdout+r.stderr), bytes.TrimSpace(key)), "pool-mcp printed its key")
	assert.Contains(t, r.stdout, "API key: REDACTED\n")
}
