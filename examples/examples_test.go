package examples_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/pool"
)

var programs = []string{
	"setup", "deploy-pool", "create-identity", "assign-role", "get-token", "execute",
	"verify", "cleanup", "quickstart", "files", "async-execute", "emulator",
	"run", "background",
}

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
	buildOut  []byte
)

// binary builds every example once per test run and returns the path of one.
func binary(t *testing.T, name string) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "shellpool-examples-")
		if buildErr != nil {
			return
		}
		args := []string{"build", "-o", binDir + string(filepath.Separator)}
		for _, p := range programs {
			args = append(args, "./"+p)
		}
		cmd := exec.Command("go", args...)
		buildOut, buildErr = cmd.CombinedOutput()
	})
	require.NoError(t, buildErr, "go build of the examples: %s", buildOut)
	exe := filepath.Join(binDir, name)
	if runtime.GOOS == "windows" {
		exe += ".exe"
	}
	return exe
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// cleanEnv is the test process's environment without anything that would
// point the examples at Azure or at another managed identity endpoint.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(name, "AZURE_"), strings.HasPrefix(name, "SHELLPOOL_"),
			strings.HasPrefix(name, "IDENTITY_"), strings.HasPrefix(name, "MSI_"):
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

var uuidRE = `[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`

func TestExamplesInEmulatorMode(t *testing.T) {
	t.Parallel()
	outDir := t.TempDir()
	deployJSON := filepath.Join(outDir, "deploy.json")
	tests := []struct {
		name    string
		program string
		args    []string
		env     []string
		want    []string // regular expressions the output must match
		suffix  string
		check   func(t *testing.T)
	}{
		{name: "setup", program: "setup",
			want: []string{`(?m)^Provider Microsoft\.App: Registered$`, `(?m)^Resource group my-shell-session-rg in northcentralus: Succeeded$`}},
		{name: "setup with settings from env and flags", program: "setup", args: []string{"-location", "westeurope"},
			env:  []string{"SHELLPOOL_RESOURCE_GROUP=rg-from-env"},
			want: []string{`(?m)^Resource group rg-from-env in westeurope: Succeeded$`}},
		{name: "emulator flag wins over AZURE_SUBSCRIPTION_ID", program: "setup", args: []string{"-emulator"},
			env:  []string{"AZURE_SUBSCRIPTION_ID=11111111-2222-3333-4444-555555555555"},
			want: []string{`(?m)^Resource group my-shell-session-rg in northcentralus: Succeeded$`}},
		{name: "deploy-pool", program: "deploy-pool", args: []string{"-out", deployJSON},
			want: []string{`(?m)^Wrote .*deploy\.json$`, `(?m)^Deployment shellpool-\S+: Succeeded$`,
				`(?m)^Session pool myshellpool: Succeeded$`, `(?m)^Endpoint: https://127\.0\.0\.1:\d+/subscriptions/.*/sessionPools/myshellpool$`},
			check: func(t *testing.T) {
				data, err := os.ReadFile(deployJSON)
				require.NoError(t, err, "deploy-pool must write -out")
				pools, err := pool.ParseTemplate(data, nil)
				require.NoError(t, err)
				require.Len(t, pools, 1)
				assert.Equal(t, "myshellpool", pools[0].Name)
				assert.Equal(t, pool.ContainerTypeShell, pools[0].Properties.ContainerType)
				assert.NoError(t, pools[0].Validate())
			}},
		{name: "create-identity", program: "create-identity",
			want: []string{`(?m)^Identity: .*/userAssignedIdentities/myshellpool-uami$`, `(?m)^Principal ID: ` + uuidRE + `$`}},
		{name: "assign-role to the identity", program: "assign-role",
			want: []string{`(?m)^Assigned Session Executor on myshellpool to ServicePrincipal ` + uuidRE}},
		{name: "assign-role to me", program: "assign-role", args: []string{"-assignee", "me"},
			want: []string{`(?m)^Assigned Session Executor on myshellpool to User ` + uuidRE}},
		{name: "get-token", program: "get-token",
			want: []string{`(?m)^Audience: https://dynamicsessions\.io$`, `(?m)^Object ID: ` + uuidRE + `$`, `(?m)^Expires: \d{4}-\d\d-\d\dT`}},
		{name: "execute", program: "execute",
			want: []string{`(?m)^hello world\nhi\nExit code: 0$`}},
		{name: "execute ignores other azidentity settings", program: "execute", args: []string{"-emulator"},
			env: []string{"AZURE_SUBSCRIPTION_ID=11111111-2222-3333-4444-555555555555", "AZURE_CLIENT_ID=" + uuid.NewString(),
				"AZURE_TENANT_ID=" + uuid.NewString(), "AZURE_CLIENT_SECRET=not-a-secret", "AZURE_TOKEN_CREDENTIALS=dev"},
			want: []string{`(?m)^hello world\nhi\nExit code: 0$`}},
		{name: "execute with another pool name", program: "execute", env: []string{"SHELLPOOL_POOL=otherpool"},
			want: []string{`(?m)^hello world\nhi\nExit code: 0$`}},
		{name: "verify", program: "verify",
			want: []string{`(?m)^Name: myshellpool$`, `(?m)^Location: northcentralus$`, `(?m)^ProvisioningState: Succeeded$`,
				`(?m)^Principal\s+PrincipalType\s+Role\s+Scope$`,
				`(?m)^` + uuidRE + `\s+ServicePrincipal\s+Azure ContainerApps Session Executor\s+/subscriptions/.*/sessionPools/myshellpool$`}},
		{name: "cleanup", program: "cleanup",
			want: []string{`(?m)^Resource group my-shell-session-rg deleted$`}},
		{name: "quickstart", program: "quickstart",
			want:   []string{`(?m)^1\. `, `(?m)^4\. Assign Session Executor on the pool to ServicePrincipal`, `(?m)^7\. `, `(?m)^8\. Clean up`},
			suffix: "\nhello world\nhi\n"},
		{name: "quickstart as me", program: "quickstart", args: []string{"-assignee", "me", "-keep"},
			want: []string{`(?m)^4\. Assign Session Executor on the pool to User`}, suffix: "\nhello world\nhi\n"},
		{name: "files", program: "files",
			want: []string{`(?m)^Uploaded hello\.txt \(21 bytes\)$`, `(?m)^\s+hello\.txt\s+File\s+21 bytes$`, `(?m)^Downloaded hello\.txt: hello from shellpool$`}},
		{name: "run", program: "run",
			want: []string{`(?m)^greeting: it's "\$\(not run\)"\nin: work\nExit code: 3$`,
				`(?m)^Large output: exit code 0, sha256 e5b844cc57f57094ea4585e235f36c78c1cd222262bb89d53c94dcb4d6b3e55d$`}},
		{name: "background", program: "background",
			want: []string{`(?m)^Started process [0-9a-f]{24}$`, `(?m)^live: tick 1\nlive: tick 2$`,
				`(?m)^re-attached, whole output:\ntick 1\ntick 2\ntick 3\ntick 4\ntick 5\nExit code: 4$`}},
		{name: "async-execute", program: "async-execute",
			want: []string{`(?m)^step 1\nstep 2\nstep 3\nExit code: 0$`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			exe := binary(t, tt.program) // built before the deadline starts
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, exe, tt.args...)
			cmd.Dir = t.TempDir()
			cmd.Env = cleanEnv(tt.env...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			require.NoError(t, cmd.Run(), "%s failed; stderr: %s", tt.program, stderr.String())
			out := stdout.String()
			assert.Regexp(t, `^Using the built-in emulator at https://127\.0\.0\.1:\d+ \(set AZURE_SUBSCRIPTION_ID to use Azure\)\n`, out)
			assert.Equal(t, 1, strings.Count(out, "built-in emulator"), "the emulator is announced in one line")
			for _, re := range tt.want {
				assert.Regexp(t, re, out)
			}
			if tt.suffix != "" {
				assert.True(t, strings.HasSuffix(out, tt.suffix), "output must end with %q:\n%s", tt.suffix, out)
			}
			assert.NotContains(t, out+stderr.String(), "eyJ", "no token may be printed")
			assert.Empty(t, stderr.String())
			if tt.check != nil {
				tt.check(t)
			}
		})
	}
}

func TestExamplesRefuseBadAssignee(t *testing.T) {
	t.Parallel()
	for _, program := range []string{"assign-role", "quickstart"} {
		t.Run(program, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, binary(t, program), "-assignee", "someone")
			cmd.Env = cleanEnv()
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			var exitErr *exec.ExitError
			require.ErrorAs(t, err, &exitErr, "an invalid -assignee must fail")
			assert.Equal(t, 1, exitErr.ExitCode())
			assert.Contains(t, stderr.String(), `-assignee must be identity or me, not "someone"`)
		})
	}
}

// The tutorial's request body, as its PowerShell ConvertTo-Json prints it.
const tutorialBody = `{
  "codeInputType": "inline",
  "executionType": "synchronous",
  "command": [
    "/bin/bash",
    "-c",
    "echo 'hello world'; echo 'hi'"
  ],
  "timeoutInSeconds": 600
}`

// The tutorial's curl step, with the emulator's endpoint and CA certificate.
const curlScript = `set -eu
. "$ENV_FILE"
URL="$SHELLPOOL_ENDPOINT/subscriptions/$SUBSCRIPTION/resourceGroups/$RG/sessionPools/$POOL/executions?api-version=$API_VERSION&identifier=$EXEC_ID"
curl --silent --show-error --write-out '\n%{http_code}' --cacert "$SHELLPOOL_CA_CERT" --request POST --url "$URL" --header "authorization: Bearer $SHELLPOOL_SESSIONS_TOKEN" --header "content-type: application/json" --data "$Body"
`

func TestEmulatorServesTheTutorialsCurlStep(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed; install curl to run the tutorial's curl step against the emulator")
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed; it sources the emulator's env file")
	}
	tests := []struct {
		name       string
		flags      []string
		wantStatus string
		check      func(t *testing.T, body []byte)
	}{
		{name: "default", wantStatus: "200", check: func(t *testing.T, body []byte) {
			var resp struct {
				Status string `json:"status"`
				Result struct {
					Stdout string `json:"stdout"`
				} `json:"result"`
			}
			require.NoError(t, json.Unmarshal(body, &resp), "response: %s", body)
			assert.Equal(t, "0", resp.Status)
			assert.Equal(t, "hello world\nhi\n", resp.Result.Stdout)
		}},
		{name: "rbac without the role", flags: []string{"-rbac"}, wantStatus: "403"},
		{name: "strict refuses the tutorial's body", flags: []string{"-strict"}, wantStatus: "400"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			envFile := filepath.Join(t.TempDir(), "shellpool.env")
			stdout := startEmulator(t, append([]string{"-addr", "127.0.0.1:0", "-env-file", envFile}, tt.flags...)...)

			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			waitForFile(ctx, t, envFile)
			cmd := exec.CommandContext(ctx, "bash", "-c", curlScript)
			cmd.Env = cleanEnv("ENV_FILE="+envFile, "Body="+tutorialBody) // EXEC_ID comes from the env file
			var out, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &stderr
			require.NoError(t, cmd.Run(), "curl: %s", stderr.String())
			// curl wrote the body, a newline and the HTTP status.
			i := strings.LastIndex(out.String(), "\n")
			require.GreaterOrEqual(t, i, 0, "curl output: %q", out.String())
			body, code := strings.TrimSpace(out.String()[:i]), out.String()[i+1:]
			assert.Equal(t, tt.wantStatus, code, "body: %s", body)
			if tt.check != nil {
				tt.check(t, []byte(body))
			}

			env, err := os.ReadFile(envFile)
			require.NoError(t, err)
			for _, m := range regexp.MustCompile(`TOKEN='([^']+)'`).FindAllStringSubmatch(string(env), -1) {
				assert.NotContains(t, stdout.String(), m[1], "the emulator must not print tokens")
			}
			assert.Regexp(t, `^shellpool emulator listening on https://127\.0\.0\.1:\d+ `, stdout.String())
			assert.Equal(t, 1, strings.Count(stdout.String(), "\n"), "the emulator prints one line")
		})
	}
}

// startEmulator starts examples/emulator and stops it (SIGINT, then kill) when
// the test ends, checking that an interrupt stops it cleanly.
func startEmulator(t *testing.T, args ...string) *syncBuffer {
	t.Helper()
	cmd := exec.Command(binary(t, "emulator"), args...)
	cmd.Env = cleanEnv()
	stdout := &syncBuffer{}
	var stderr syncBuffer
	cmd.Stdout, cmd.Stderr = stdout, &stderr
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		if runtime.GOOS != "windows" {
			_ = cmd.Process.Signal(os.Interrupt)
		}
		select {
		case err := <-done:
			assert.NoError(t, err, "the emulator must exit cleanly on SIGINT; stderr: %s", stderr.String())
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			t.Error("the emulator did not stop within 10 s of SIGINT")
		}
	})
	return stdout
}

func waitForFile(ctx context.Context, t *testing.T, path string) {
	t.Helper()
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		select {
		case <-ctx.Done():
			require.FailNow(t, "the emulator did not write its env file", path)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// syncBuffer is a bytes.Buffer safe for a process writer and a test reader.
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
