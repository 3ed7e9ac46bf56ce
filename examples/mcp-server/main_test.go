package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bin is the program, and binAlone the program as a user copies it (without
// emulator.go), built once by TestMain so that no test's time limit
// includes the toolchain.
var bin, binAlone string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "shellpool-mcp-server-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "mcp-server")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	binAlone = filepath.Join(dir, "mcp-server-alone")
	for _, args := range [][]string{{"-o", bin, "."}, {"-o", binAlone, "main.go", "server.go"}} {
		if out, err := exec.Command("go", append([]string{"build"}, args...)...).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// command returns the built program with args, in an environment without
// the settings of a shared emulator or of Azure.
func command(t *testing.T, env []string, args ...string) *exec.Cmd {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the program against the emulator")
	}
	cmd := exec.Command(bin, args...)
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "SHELLPOOL_") && !strings.HasPrefix(name, "AZURE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	return cmd
}

// syncBuffer collects a program's stderr.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestStdioAgainstEmulator(t *testing.T) {
	cmd := command(t, []string{"SHELLPOOL_MCP_KEY=" + strings.Repeat("5a", 32)}, "-emulator", "-v")
	var stderr syncBuffer
	cmd.Stderr = &stderr
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test-client", Version: "1"}, nil).Connect(t.Context(), &mcp.CommandTransport{Command: cmd}, nil)
	require.NoError(t, err, "stderr: %s", stderr.String())
	defer func() {
		require.NoError(t, cs.Close())
		assert.Contains(t, stderr.String(), "mcp-server: using the emulator at")
		assert.Contains(t, stderr.String(), "left-over sandboxes deleted", "a stable key: left-overs looked for")
		assert.Contains(t, stderr.String(), "sandbox session deleted", "the sandbox goes with the MCP session")
		assert.NotContains(t, stderr.String(), "mcp-0-", "no session identifier is logged")
	}()

	checkToolsList(t, cs)
	mustCall(t, cs, "run_command", map[string]any{"command": "cd /tmp; export X=1"})
	assert.Equal(t, "/tmp\n1\n", mustCall(t, cs, "run_command", map[string]any{"command": "pwd; echo $X"}))
	mustCall(t, cs, "upload_file", map[string]any{"path": "/mnt/data/notes.txt", "content": "uploaded\n"})
	assert.Equal(t, "uploaded\n", mustCall(t, cs, "run_command", map[string]any{"command": `cat "${SHELLPOOL_FILES_ROOT:-/mnt/data}/notes.txt"`}))
	checkBackgroundProcess(t, cs)
}

// httpServer starts the program serving HTTP with secret and returns its
// endpoint.
func httpServer(t *testing.T, secret string) string {
	t.Helper()
	cmd := command(t, []string{"SHELLPOOL_MCP_SECRET=" + secret}, "-emulator", "-http", "127.0.0.1:0")
	pipe, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	var stderr syncBuffer
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		re := regexp.MustCompile(`serving MCP at (http://\S+/mcp)`)
		for sc.Scan() {
			_, _ = stderr.Write(append(sc.Bytes(), '\n'))
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
		close(found)
	}()
	t.Cleanup(func() {
		if runtime.GOOS == "windows" || cmd.Process.Signal(os.Interrupt) != nil {
			_ = cmd.Process.Kill()
		}
		_ = cmd.Wait()
		assert.NotContains(t, stderr.String(), secret, "the secret is never logged")
	})
	endpoint, ok := <-found
	require.True(t, ok, "the program did not start: %s", stderr.String())
	return endpoint
}

type bearer struct{ token string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

func TestHTTPRequiresTheSecret(t *testing.T) {
	secret := strings.Repeat("5ec7e7", 8)
	endpoint := httpServer(t, secret)
	initialize := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}`
	for name, auth := range map[string]string{"missing": "", "wrong": "Bearer " + strings.Repeat("0", len(secret)), "not bearer": secret, "prefix": "Bearer " + secret[:10], "basic": "Basic " + secret, "longer": "Bearer " + secret + "x"} {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, endpoint, strings.NewReader(initialize))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, name)
		assert.Equal(t, `Bearer realm="shellpool-mcp"`, resp.Header.Get("WWW-Authenticate"), name)
		assert.Contains(t, string(body), "SHELLPOOL_MCP_SECRET", name)
	}

	// With the secret: two clients, each with its own sandbox.
	connect := func() *mcp.ClientSession {
		tr := &mcp.StreamableClientTransport{Endpoint: endpoint, HTTPClient: &http.Client{Transport: bearer{secret}}}
		cs, err := mcp.NewClient(&mcp.Implementation{Name: "test-client", Version: "1"}, nil).Connect(t.Context(), tr, nil)
		require.NoError(t, err)
		t.Cleanup(func() { _ = cs.Close() })
		return cs
	}
	// The scheme is case-insensitive (RFC 9110); the secret is not.
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, endpoint, strings.NewReader(initialize))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "bearer "+secret)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	a, b := connect(), connect()
	checkToolsList(t, a)
	mustCall(t, a, "upload_file", map[string]any{"path": "a.txt", "content": "a\n"})
	mustCall(t, a, "run_command", map[string]any{"command": "export WHO=a"})
	mustCall(t, b, "run_command", map[string]any{"command": "export WHO=b"})
	assert.Equal(t, "a\n", mustCall(t, a, "run_command", map[string]any{"command": "echo $WHO"}))
	assert.Equal(t, "b\n", mustCall(t, b, "run_command", map[string]any{"command": "echo $WHO"}))
	text, isErr := call(t, b, "download_file", map[string]any{"path": "a.txt"})
	assert.True(t, isErr, "b cannot see a's files: %s", text)
	assert.Equal(t, "a\n", mustCall(t, a, "download_file", map[string]any{"path": "a.txt"}))
}

func TestSettingsFailClosed(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	_, err := loadSettings(nil, getenv)
	require.Error(t, err)
	for _, want := range []string{"SHELLPOOL_POOL_ENDPOINT", "AZURE_SUBSCRIPTION_ID", "-emulator"} {
		assert.Contains(t, err.Error(), want)
	}

	env["SHELLPOOL_POOL_ENDPOINT"] = "https://eastus.dynamicsessions.io/subscriptions/s/resourceGroups/rg/sessionPools/p"
	s, err := loadSettings(nil, getenv)
	require.NoError(t, err)
	assert.Empty(t, s.httpAddr, "stdio by default")
	assert.Len(t, s.key, 32, "a random key when none is set")
	assert.False(t, s.stableKey)

	_, err = loadSettings([]string{"-http", "127.0.0.1:8765"}, getenv)
	assert.ErrorContains(t, err, "needs a bearer secret, even on 127.0.0.1:8765")
	_, err = loadSettings([]string{"-http", "0.0.0.0:8765"}, getenv)
	assert.ErrorContains(t, err, "refusing to serve on 0.0.0.0:8765, which is not a loopback address, without a bearer secret")
	_, err = loadSettings([]string{"-http", ":8765"}, getenv)
	assert.ErrorContains(t, err, "needs a bearer secret, even on 127.0.0.1:8765", "no host: loopback")
	_, err = loadSettings([]string{"-http", "8765"}, getenv)
	assert.ErrorContains(t, err, "give host:port")
	env["SHELLPOOL_MCP_SECRET"] = "short"
	_, err = loadSettings([]string{"-http", "127.0.0.1:8765"}, getenv)
	assert.ErrorContains(t, err, "use at least 32 random ones")
	env["SHELLPOOL_MCP_SECRET"] = strings.Repeat("x", 32)
	s, err = loadSettings([]string{"-http", "[::]:8765"}, getenv)
	require.NoError(t, err)
	assert.Equal(t, "[::]:8765", s.httpAddr)
	s, err = loadSettings([]string{"-http", ":8765"}, getenv)
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:8765", s.httpAddr)
	assert.Equal(t, 15*time.Minute, s.idle, "the default idle time the README states")

	env["SHELLPOOL_MCP_KEY"] = "00ff"
	_, err = loadSettings(nil, getenv)
	assert.ErrorContains(t, err, "openssl rand -hex 32")
	env["SHELLPOOL_MCP_KEY"] = strings.Repeat("ab", 32)
	s, err = loadSettings(nil, getenv)
	require.NoError(t, err)
	assert.Equal(t, bytes.Repeat([]byte{0xab}, 32), s.key)
	assert.True(t, s.stableKey, "earlier runs' sandboxes are looked for")
}

// The program as a user copies it uses Azure only: it has no -emulator and
// refuses to start without a pool, running nothing.
func TestCopiedProgramUsesAzureOnly(t *testing.T) {
	cmd := command(t, []string{"SHELLPOOL_EMULATOR=1"})
	cmd.Path = binAlone
	out, err := cmd.CombinedOutput()
	require.Error(t, err)
	assert.Equal(t, "mcp-server: no session pool: set SHELLPOOL_POOL_ENDPOINT (-pool-endpoint), or AZURE_SUBSCRIPTION_ID, SHELLPOOL_RESOURCE_GROUP and SHELLPOOL_POOL to look it up, to use Azure\n", string(out))
	cmd = command(t, nil, "-emulator")
	cmd.Path = binAlone
	out, err = cmd.CombinedOutput()
	require.Error(t, err)
	assert.Contains(t, string(out), "flag provided but not defined: -emulator")
}

func TestRefusesToStartWithoutSecret(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:0", "0.0.0.0:0"} {
		cmd := command(t, nil, "-emulator", "-http", addr)
		out, err := cmd.CombinedOutput()
		require.Error(t, err, addr)
		assert.Contains(t, string(out), "SHELLPOOL_MCP_SECRET", addr)
		assert.NotContains(t, string(out), "serving MCP", addr)
	}
}

// The README's section holds host configurations that parse and name the
// program's real settings.
func TestREADMEGiveAnAgentASandbox(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	require.NoError(t, err)
	readme := string(data)
	i := strings.Index(readme, "## Give an agent a sandbox\n")
	require.GreaterOrEqual(t, i, 0)
	section := readme[i+3:]
	section = section[:strings.Index(section, "\n## ")]
	blocks := regexp.MustCompile("(?s)```json\n(.*?)```").FindAllStringSubmatch(section, -1)
	require.Len(t, blocks, 2, "Claude Desktop and VS Code")
	for i, b := range blocks {
		var cfg map[string]map[string]struct {
			Type    string            `json:"type"`
			Command string            `json:"command"`
			Env     map[string]string `json:"env"`
		}
		require.NoError(t, json.Unmarshal([]byte(b[1]), &cfg), b[1])
		servers := cfg[[]string{"mcpServers", "servers"}[i]]
		require.Contains(t, servers, "sandbox")
		assert.NotEmpty(t, servers["sandbox"].Command)
		for name := range servers["sandbox"].Env {
			assert.Equal(t, "SHELLPOOL_POOL_ENDPOINT", name)
		}
	}
	env := map[string]string{"SHELLPOOL_POOL_ENDPOINT": "https://eastus.dynamicsessions.io/subscriptions/s/resourceGroups/rg/sessionPools/p"}
	_, err = loadSettings(nil, func(k string) string { return env[k] })
	assert.NoError(t, err, "the configuration's one setting is enough")
	for _, want := range []string{"-http :8765", "SHELLPOOL_MCP_SECRET", "SHELLPOOL_MCP_KEY", "-emulator", "claude mcp add", "go list -deps"} {
		assert.Contains(t, section, want)
	}
}
