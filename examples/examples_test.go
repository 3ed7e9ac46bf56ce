package examples_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/internal/testpar"
	"github.com/shellpool/shellpool/pool"
)

var programs = []string{
	"setup", "deploy-pool", "create-identity", "assign-role", "get-token", "execute",
	"verify", "cleanup", "quickstart", "files", "async-execute", "emulator", "multiuser",
	"run", "background", "workspace", "pool-mcp", "mcp-server",
}

// binDir holds every example, built by TestMain before any test starts, so
// that no test's time limit includes the toolchain.
var binDir string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := binCache()
	if err != nil {
		fmt.Fprintln(os.Stderr, "examples test:", err)
		return 1
	}
	// -s -w: no symbol table or DWARF, which makes linking much cheaper; go
	// build leaves a binary alone when the one in dir is up to date, so a
	// warm run links nothing.
	args := []string{"build", "-ldflags=-s -w", "-o", dir + string(filepath.Separator)}
	for _, p := range programs {
		args = append(args, "./"+p)
	}
	if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "examples test: go build of the examples: %v\n%s", err, out)
		return 1
	}
	// execute's main.go alone, as a user copies it.
	alone := filepath.Join(dir, "execute-alone"+exeSuffix())
	if out, err := exec.Command("go", "build", "-ldflags=-s -w", "-o", alone, filepath.Join("execute", "main.go")).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "examples test: go build of execute/main.go alone: %v\n%s", err, out)
		return 1
	}
	binDir = dir
	return testpar.Main(m, 8) // the tests mostly wait for the programs they run
}

// binCache returns the directory the examples are built into: one per
// checkout, in the user's cache directory (like go's build cache), kept
// between runs so that go build relinks only what changed.
func binCache() (string, error) {
	root, err := os.UserCacheDir()
	if err != nil {
		root = os.TempDir()
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(wd))
	dir := filepath.Join(root, "shellpool-examples-test", hex.EncodeToString(sum[:8]))
	return dir, os.MkdirAll(dir, 0o755)
}

// binary returns the path of a built example.
func binary(t *testing.T, name string) string {
	t.Helper()
	return filepath.Join(binDir, name+exeSuffix())
}

func exeSuffix() string {
	if runtime.GOOS == "windows" {
		return ".exe"
	}
	return ""
}

// hangLimit stops a program that hangs. It is far above what any program
// needs on a loaded machine: the tests measure behaviour, never speed.
const hangLimit = 3 * time.Minute

// result is what a program did.
type result struct {
	stdout, stderr string
	code           int
}

// runProgram runs a built example in dir with env and returns its output and
// exit code.
func runProgram(t *testing.T, dir string, env []string, program string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), hangLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(t, program), args...)
	cmd.Dir = dir
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr) && ctx.Err() == nil:
		r.code = exitErr.ExitCode()
	default:
		require.NoError(t, err, "%s %v; stderr: %s", program, args, r.stderr)
	}
	assert.NotContains(t, r.stdout+r.stderr, "eyJ", "no token may be printed")
	return r
}

// cleanEnv is the test process's environment without anything that would
// point the examples at Azure or at another managed identity endpoint.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case name == "SHELLPOOL_EMULATOR_ISOLATION":
			// The run's isolation mode reaches the programs' emulators.
		case strings.HasPrefix(name, "AZURE_"), strings.HasPrefix(name, "SHELLPOOL_"),
			strings.HasPrefix(name, "IDENTITY_"), strings.HasPrefix(name, "MSI_"):
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

var uuidRE = `[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`

// stepPrograms are the programs that fail closed: they use the emulator only
// when asked.
var stepPrograms = []string{
	"setup", "deploy-pool", "create-identity", "assign-role", "get-token", "execute",
	"verify", "cleanup", "files", "async-execute", "pool-mcp",
}

// A step program without Azure settings and without -emulator must not run
// anything, anywhere: one line on stderr says what to set.
func TestExamplesFailClosed(t *testing.T) {
	t.Parallel()
	for _, program := range stepPrograms {
		t.Run(program, func(t *testing.T) {
			t.Parallel()
			r := runProgram(t, t.TempDir(), cleanEnv(), program)
			assert.Equal(t, 1, r.code, "stdout: %s", r.stdout)
			assert.Empty(t, r.stdout, "nothing may run")
			assert.Equal(t, program+": set AZURE_SUBSCRIPTION_ID (or -subscription) to use Azure, or pass -emulator (or set SHELLPOOL_EMULATOR=1) to use the local emulator\n", r.stderr)
		})
	}
	t.Run("SHELLPOOL_EMULATOR other than 1", func(t *testing.T) {
		t.Parallel()
		r := runProgram(t, t.TempDir(), cleanEnv("SHELLPOOL_EMULATOR=0"), "execute")
		assert.Equal(t, 1, r.code)
		assert.Empty(t, r.stdout)
	})
}

var (
	inProcessBanner = `^Using an emulator started by this program at https://127\.0\.0\.1:\d+\n`
	sharedBanner    = `^Using the standalone emulator at https://127\.0\.0\.1:\d+\n`
)

// Each program run alone with -emulator (or SHELLPOOL_EMULATOR=1) starts an
// emulator with the tutorial's earlier steps done.
func TestExamplesInEmulatorMode(t *testing.T) {
	t.Parallel()
	outDir := t.TempDir()
	deployJSON := filepath.Join(outDir, "deploy.json")
	tests := []struct {
		name    string
		program string
		args    []string
		env     []string
		banner  string   // default inProcessBanner
		want    []string // regular expressions the output must match
		suffix  string
		check   func(t *testing.T)
	}{
		{name: "setup", program: "setup", args: []string{"-emulator"},
			want: []string{`(?m)^Provider Microsoft\.App: Registered$`, `(?m)^Resource group my-shell-session-rg in northcentralus: Succeeded$`}},
		{name: "setup with SHELLPOOL_EMULATOR=1 and settings from env and flags", program: "setup", args: []string{"-location", "westeurope"},
			env:  []string{"SHELLPOOL_EMULATOR=1", "SHELLPOOL_RESOURCE_GROUP=rg-from-env"},
			want: []string{`(?m)^Resource group rg-from-env in westeurope: Succeeded$`}},
		{name: "emulator flag wins over AZURE_SUBSCRIPTION_ID", program: "setup", args: []string{"-emulator"},
			env:  []string{"AZURE_SUBSCRIPTION_ID=11111111-2222-3333-4444-555555555555"},
			want: []string{`(?m)^Resource group my-shell-session-rg in northcentralus: Succeeded$`}},
		{name: "deploy-pool", program: "deploy-pool", args: []string{"-emulator", "-out", deployJSON},
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
		{name: "create-identity", program: "create-identity", args: []string{"-emulator"},
			want: []string{`(?m)^Identity: .*/userAssignedIdentities/myshellpool-uami$`, `(?m)^Principal ID: ` + uuidRE + `$`}},
		{name: "assign-role to the identity", program: "assign-role", args: []string{"-emulator"},
			want: []string{`(?m)^Assigned Session Executor on myshellpool to ServicePrincipal ` + uuidRE}},
		{name: "assign-role to me", program: "assign-role", args: []string{"-emulator", "-assignee", "me"},
			want: []string{`(?m)^Assigned Session Executor on myshellpool to User ` + uuidRE}},
		{name: "get-token", program: "get-token", args: []string{"-emulator"},
			want: []string{`(?m)^Audience: https://dynamicsessions\.io$`, `(?m)^Object ID: ` + uuidRE + `$`, `(?m)^Expires: \d{4}-\d\d-\d\dT`}},
		{name: "execute", program: "execute", args: []string{"-emulator"},
			want: []string{`(?m)^hello world\nhi\nExit code: 0$`}},
		{name: "execute with an api-version per plane", program: "execute",
			args: []string{"-emulator", "-arm-api-version", "2025-07-01", "-sessions-api-version", "2025-02-02-preview"},
			want: []string{`(?m)^hello world\nhi\nExit code: 0$`}},
		{name: "execute ignores other azidentity settings", program: "execute", args: []string{"-emulator"},
			env: []string{"AZURE_SUBSCRIPTION_ID=11111111-2222-3333-4444-555555555555", "AZURE_CLIENT_ID=" + uuid.NewString(),
				"AZURE_TENANT_ID=" + uuid.NewString(), "AZURE_CLIENT_SECRET=not-a-secret", "AZURE_TOKEN_CREDENTIALS=dev"},
			want: []string{`(?m)^hello world\nhi\nExit code: 0$`}},
		{name: "execute with another pool name", program: "execute", args: []string{"-emulator"}, env: []string{"SHELLPOOL_POOL=otherpool"},
			want: []string{`(?m)^hello world\nhi\nExit code: 0$`}},
		{name: "verify", program: "verify", args: []string{"-emulator"},
			want: []string{`(?m)^Name: myshellpool$`, `(?m)^Location: northcentralus$`, `(?m)^ProvisioningState: Succeeded$`,
				`(?m)^Principal\s+PrincipalType\s+Role\s+Scope$`,
				`(?m)^` + uuidRE + `\s+ServicePrincipal\s+Azure ContainerApps Session Executor\s+/subscriptions/.*/sessionPools/myshellpool$`}},
		{name: "cleanup", program: "cleanup", args: []string{"-emulator"},
			want: []string{`(?m)^Resource group my-shell-session-rg deleted$`}},
		{name: "quickstart runs locally without settings", program: "quickstart",
			banner: `^Running locally against an emulator started by this program at https://127\.0\.0\.1:\d+ \(set AZURE_SUBSCRIPTION_ID to use Azure\)\n1\. `,
			want:   []string{`(?m)^4\. Assign Session Executor on the pool to ServicePrincipal`},
			suffix: "\n7. Execute: echo 'hello world'; echo 'hi'\nhello world\nhi\nExit code: 0\n8. Clean up: delete resource group my-shell-session-rg\n"},
		{name: "quickstart as me", program: "quickstart", args: []string{"-assignee", "me", "-keep"},
			banner: `^Running locally against an emulator started by this program at `,
			want:   []string{`(?m)^4\. Assign Session Executor on the pool to User`},
			suffix: "\nhello world\nhi\nExit code: 0\n8. Keep resource group my-shell-session-rg (-keep); delete it with examples/cleanup\n"},
		{name: "files", program: "files", args: []string{"-emulator"},
			want: []string{`(?m)^Uploaded hello\.txt \(21 bytes\)$`, `(?m)^\s+hello\.txt\s+File\s+21 bytes$`, `(?m)^Downloaded hello\.txt: hello from shellpool$`}},
		{name: "run", program: "run", args: []string{"-emulator"},
			want: []string{`(?m)^greeting: it's "\$\(not run\)"\nin: work\nExit code: 3$`,
				`(?m)^Large output: exit code 0, sha256 e5b844cc57f57094ea4585e235f36c78c1cd222262bb89d53c94dcb4d6b3e55d$`}},
		{name: "background", program: "background", args: []string{"-emulator"},
			want: []string{`(?m)^Started process [0-9a-f]{24}$`, `(?m)^live: tick 1\nlive: tick 2$`,
				`(?m)^re-attached, whole output:\ntick 1\ntick 2\ntick 3\ntick 4\ntick 5\nExit code: 4$`}},
		{name: "workspace", program: "workspace", args: []string{"-emulator"},
			want: []string{`(?m)^Uploaded 4 files in 1 directories \(370 bytes\) in 1 upload\(s\)$`,
				`(?m)^\[release\] building\n\[release\] built: greet\nPASS greet world\nPASS greet Azure\nTests exit code: 0\nDownloaded out/greet -rwxr-xr-x 63 bytes$`}},
		{name: "pool-mcp", program: "pool-mcp", args: []string{"-emulator"},
			want: []string{`(?m)^MCP endpoint: https://127\.0\.0\.1:\d+/subscriptions/.*/sessionPools/myshellpool/mcp$`,
				`(?m)^API key: REDACTED$`, `(?m)^Server: Microsoft Container Apps MCP Server \(MCP 2025-03-26\)$`,
				`(?m)^Tools: launchShell, runShellCommandInRemoteEnvironment$`},
			suffix: "Launched a shell environment\nHello from Azure Container Apps Shell Session!\nan argument with spaces and $(no expansion)\n"},
		{name: "async-execute", program: "async-execute", args: []string{"-emulator"},
			want: []string{`(?m)^step 1\nstep 2\nstep 3\nExit code: 0$`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runProgram(t, t.TempDir(), cleanEnv(tt.env...), tt.program, tt.args...)
			require.Equal(t, 0, r.code, "%s failed; stderr: %s", tt.program, r.stderr)
			banner := tt.banner
			if banner == "" {
				banner = inProcessBanner
			}
			assert.Regexp(t, banner, r.stdout)
			assert.Equal(t, 1, strings.Count(r.stdout, "emulator"), "the emulator is announced in one line")
			for _, re := range tt.want {
				assert.Regexp(t, re, r.stdout)
			}
			if tt.suffix != "" {
				assert.True(t, strings.HasSuffix(r.stdout, tt.suffix), "output must end with %q:\n%s", tt.suffix, r.stdout)
			}
			assert.Empty(t, r.stderr)
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
			r := runProgram(t, t.TempDir(), cleanEnv(), program, "-emulator", "-assignee", "someone")
			assert.Equal(t, 1, r.code, "an invalid -assignee must fail")
			assert.Empty(t, r.stdout, "nothing may start")
			assert.Equal(t, program+`: -assignee must be identity or me, not "someone"`+"\n", r.stderr)
		})
	}
}

// emulator is a running examples/emulator with its env file read.
type emulator struct {
	vars    map[string]string
	env     []string // cleanEnv plus the env file, as `. env-file` gives it
	stdout  *fileOutput
	pidFile string
}

// startSharedEmulator starts examples/emulator with -env-file and -pid-file
// and reads the env file as `. FILE` would.
func startSharedEmulator(t *testing.T, flags ...string) *emulator {
	t.Helper()
	dir := t.TempDir()
	envFile, pidFile := filepath.Join(dir, "shellpool.env"), filepath.Join(dir, "shellpool.pid")
	e := &emulator{pidFile: pidFile, vars: map[string]string{}}
	var exited <-chan struct{}
	e.stdout, exited = startEmulator(t, append([]string{"-env-file", envFile, "-pid-file", pidFile}, flags...)...)
	ctx, cancel := context.WithTimeout(t.Context(), hangLimit)
	defer cancel()
	waitForFile(ctx, t, envFile, exited)
	data, err := os.ReadFile(envFile)
	require.NoError(t, err)
	for _, m := range regexp.MustCompile(`(?m)^export ([A-Z_]+)='((?:[^']|'\\'')*)'$`).FindAllStringSubmatch(string(data), -1) {
		e.vars[m[1]] = strings.ReplaceAll(m[2], `'\''`, `'`)
		e.env = append(e.env, m[1]+"="+e.vars[m[1]])
	}
	require.Equal(t, "1", e.vars["SHELLPOOL_EMULATOR"], "the env file asks the programs for the emulator")
	e.env = cleanEnv(e.env...)
	return e
}

// The README's walkthrough: one standalone emulator, then every step program
// in the tutorial's order, each seeing what the earlier ones made.
func TestTutorialWalkthroughSharesOneEmulator(t *testing.T) {
	t.Parallel()
	emu := startSharedEmulator(t)
	dir := t.TempDir()
	run := func(program string, args ...string) result {
		t.Helper()
		r := runProgram(t, dir, emu.env, program, args...)
		require.Equal(t, 0, r.code, "%s failed; stderr: %s", program, r.stderr)
		require.Regexp(t, sharedBanner, r.stdout)
		assert.Contains(t, r.stdout, emu.vars["SHELLPOOL_ENDPOINT"]+"\n", "%s uses the emulator of the env file", program)
		assert.Empty(t, r.stderr)
		return r
	}

	// The emulator starts empty: a step needs the steps before it, as in Azure.
	r := runProgram(t, dir, emu.env, "execute")
	assert.Equal(t, 1, r.code, "execute before setup and deploy-pool; stdout: %s", r.stdout)
	assert.Contains(t, r.stderr, `execute: pool: session pool "myshellpool" was not found in resource group "my-shell-session-rg" (ResourceNotFound): deploy it first`)

	assert.Regexp(t, `(?m)^Resource group my-shell-session-rg in northcentralus: Succeeded$`, run("setup").stdout)
	assert.Regexp(t, `(?m)^Session pool myshellpool: Succeeded$`, run("deploy-pool").stdout)
	m := regexp.MustCompile(`(?m)^Principal ID: (` + uuidRE + `)$`).FindStringSubmatch(run("create-identity").stdout)
	require.NotNil(t, m, "create-identity prints the principal ID")
	uamiPrincipal := m[1]
	assert.Regexp(t, `(?m)^Assigned Session Executor on myshellpool to ServicePrincipal `+uamiPrincipal+` `, run("assign-role").stdout,
		"assign-role finds the identity create-identity made")
	assert.Regexp(t, `(?m)^Object ID: `+emu.vars["SHELLPOOL_PRINCIPAL_ID"]+`$`, run("get-token").stdout,
		"azidentity signs in as the env file's principal")
	assert.Regexp(t, `(?m)^hello world\nhi\nExit code: 0$`, run("execute").stdout)
	assert.Regexp(t, `(?m)^`+uamiPrincipal+`\s+ServicePrincipal\s+Azure ContainerApps Session Executor\s+/subscriptions/.*/sessionPools/myshellpool$`, run("verify").stdout,
		"verify lists the assignment assign-role made")
	assert.Regexp(t, `(?m)^Resource group my-shell-session-rg deleted$`, run("cleanup").stdout)

	r = runProgram(t, dir, emu.env, "execute")
	assert.Equal(t, 1, r.code, "after cleanup the pool is gone; stdout: %s", r.stdout)
	assert.Contains(t, r.stderr, `execute: pool: session pool "myshellpool" was not found in resource group "my-shell-session-rg" (ResourceNotFound): deploy it first`, "the error says what to do")
	assert.NotContains(t, r.stdout, "hello world")

	// The emulator stops cleanly on SIGTERM to the process in -pid-file (the
	// test's cleanup checks the exit status) and removes its files.
	if runtime.GOOS != "windows" {
		data, err := os.ReadFile(emu.pidFile)
		require.NoError(t, err)
		pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
		require.NoError(t, err)
		proc, err := os.FindProcess(pid)
		require.NoError(t, err)
		require.NoError(t, proc.Signal(syscall.SIGTERM))
		ctx, cancel := context.WithTimeout(t.Context(), hangLimit)
		defer cancel()
		waitForGone(ctx, t, emu.pidFile)
		waitForGone(ctx, t, emu.vars["SHELLPOOL_CA_CERT"])
	}
}

// With -rbac the role matters, as in Azure, and the emulator says how to get it.
func TestWalkthroughWithRBAC(t *testing.T) {
	t.Parallel()
	t.Run("assign-role -assignee me", func(t *testing.T) {
		t.Parallel()
		emu := startSharedEmulator(t, "-rbac", "-tutorial-pool")
		assert.Contains(t, emu.stdout.String(), "go run ./examples/assign-role -assignee me", "the emulator shows how to get the role")
		dir := t.TempDir()
		r := runProgram(t, dir, emu.env, "execute")
		assert.Equal(t, 1, r.code, "without the role: %s", r.stdout)
		assert.Contains(t, r.stderr, "403")
		r = runProgram(t, dir, emu.env, "assign-role", "-assignee", "me")
		require.Equal(t, 0, r.code, r.stderr)
		assert.Contains(t, r.stdout, "to User "+emu.vars["SHELLPOOL_PRINCIPAL_ID"]+" ")
		r = runProgram(t, dir, emu.env, "execute")
		require.Equal(t, 0, r.code, r.stderr)
		assert.Regexp(t, `(?m)^hello world\nhi\nExit code: 0$`, r.stdout)
	})
	t.Run("-grant", func(t *testing.T) {
		t.Parallel()
		emu := startSharedEmulator(t, "-rbac", "-grant", "-tutorial-pool")
		// Where it listens and whether sessions are sandboxes.
		assert.Equal(t, 2, strings.Count(emu.stdout.String(), "\n"), "no hint is needed: %s", emu.stdout.String())
		dir := t.TempDir()
		r := runProgram(t, dir, emu.env, "execute")
		require.Equal(t, 0, r.code, r.stderr)
		assert.Regexp(t, `(?m)^hello world\nhi\nExit code: 0$`, r.stdout)
		// The grant is on the subscription: it outlives the resource group.
		for _, program := range []string{"cleanup", "setup", "deploy-pool", "execute"} {
			r = runProgram(t, dir, emu.env, program)
			require.Equal(t, 0, r.code, "%s: %s", program, r.stderr)
		}
		assert.Regexp(t, `(?m)^hello world\nhi\nExit code: 0$`, r.stdout)
	})
}

// A quickstart that fails after it created the resource group deletes it.
func TestQuickstartCleansUpAfterAFailure(t *testing.T) {
	t.Parallel()
	emu := startSharedEmulator(t)
	dir := t.TempDir()
	r := runProgram(t, dir, emu.env, "quickstart", "-sessions-api-version", "1999-01-01")
	assert.Equal(t, 1, r.code, "the data plane refuses the api-version; stdout: %s", r.stdout)
	assert.Contains(t, r.stderr, "InvalidApiVersionParameter")
	assert.True(t, strings.HasSuffix(r.stdout, "\n7. Execute: echo 'hello world'; echo 'hi'\n8. Clean up: delete resource group my-shell-session-rg\n"), r.stdout)
	r = runProgram(t, dir, emu.env, "verify")
	assert.Equal(t, 1, r.code, "the pool is gone with its resource group: %s", r.stdout)
	assert.Contains(t, r.stderr, "ResourceNotFound")

	r = runProgram(t, dir, emu.env, "quickstart", "-sessions-api-version", "1999-01-01", "-keep")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stdout, "8. Keep resource group my-shell-session-rg (-keep)")
	r = runProgram(t, dir, emu.env, "verify")
	assert.Equal(t, 0, r.code, "-keep keeps the pool: %s", r.stderr)
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
		{name: "rbac with -grant", flags: []string{"-rbac", "-grant"}, wantStatus: "200"},
		{name: "strict refuses the tutorial's body", flags: []string{"-strict"}, wantStatus: "400"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			envFile := filepath.Join(t.TempDir(), "shellpool.env")
			stdout, exited := startEmulator(t, append([]string{"-tutorial-pool", "-env-file", envFile}, tt.flags...)...)

			ctx, cancel := context.WithTimeout(t.Context(), hangLimit)
			defer cancel()
			waitForFile(ctx, t, envFile, exited)
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
			lines := 2 // where it listens, whether sessions are sandboxes
			if slices.Equal(tt.flags, []string{"-rbac"}) {
				lines = 3 // and how to get the role
			}
			assert.Equal(t, lines, strings.Count(stdout.String(), "\n"), "the emulator prints where it listens: %s", stdout.String())
		})
	}
}

// startEmulator starts examples/emulator and stops it (SIGINT, then kill) when
// the test ends, checking that an interrupt stops it cleanly.
func startEmulator(t *testing.T, args ...string) (stdout *fileOutput, exited <-chan struct{}) {
	t.Helper()
	cmd := exec.Command(binary(t, "emulator"), args...)
	cmd.Env = cleanEnv()
	// The emulator writes straight into a file (not a pipe copied by a
	// goroutine), so what it printed before it wrote its env file is there
	// to read as soon as the env file exists.
	f, err := os.Create(filepath.Join(t.TempDir(), "emulator.stdout"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = f.Close() })
	stdout = &fileOutput{path: f.Name()}
	var stderr syncBuffer
	cmd.Stdout, cmd.Stderr = f, &stderr
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	gone := make(chan struct{})
	go func() {
		err := cmd.Wait()
		close(gone)
		done <- err
	}()
	t.Cleanup(func() {
		if runtime.GOOS != "windows" {
			_ = cmd.Process.Signal(os.Interrupt)
		}
		select {
		case err := <-done:
			assert.NoError(t, err, "the emulator must exit cleanly on SIGINT; stderr: %s", stderr.String())
		case <-time.After(hangLimit):
			_ = cmd.Process.Kill()
			<-done
			t.Error("the emulator did not stop after SIGINT")
		}
	})
	return stdout, gone
}

func waitForGone(ctx context.Context, t *testing.T, path string) {
	t.Helper()
	for {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return
		}
		select {
		case <-ctx.Done():
			require.FailNow(t, "the emulator did not remove its file", path)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func waitForFile(ctx context.Context, t *testing.T, path string, exited <-chan struct{}) {
	t.Helper()
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		select {
		case <-exited:
			require.FailNow(t, "the emulator exited before it wrote its env file", path)
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

// fileOutput is a program's stdout, written by the program straight into a
// file.
type fileOutput struct{ path string }

// String returns what the program has written so far.
func (o *fileOutput) String() string {
	b, err := os.ReadFile(o.path)
	if err != nil {
		return "reading the program's output: " + err.Error()
	}
	return string(b)
}
