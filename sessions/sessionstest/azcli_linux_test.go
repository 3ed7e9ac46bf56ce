package sessionstest

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// azSection returns the sh blocks of the README's "Run the tutorial's az
// commands locally" section: the set-up, the service principal sign-in and
// the tutorial's commands.
func azSection(t *testing.T) (setup, servicePrincipal, tutorial []string) {
	t.Helper()
	data, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	readme := string(data)
	i := strings.Index(readme, "## Run the tutorial's az commands locally\n")
	require.GreaterOrEqual(t, i, 0, "README.md has the az section")
	section := readme[i+1:]
	section = section[:strings.Index(section, "\n## ")]
	var blocks [][]string
	for {
		start := strings.Index(section, "```sh\n")
		if start < 0 {
			break
		}
		section = section[start+len("```sh\n"):]
		end := strings.Index(section, "```")
		blocks = append(blocks, strings.Split(strings.TrimSuffix(section[:end], "\n"), "\n"))
		section = section[end+3:]
	}
	require.Len(t, blocks, 3, "the az section has three sh blocks: set-up, service principal sign-in, the tutorial")
	return blocks[0], blocks[1], blocks[2]
}

// goShim stands in for the go command in the README's blocks: `go run
// ./examples/emulator ARGS` runs the emulator program built before the test
// started its clock, and notes its process ID so that the test can stop it
// whatever happens to the script.
const goShim = `set -e
go() {
  if [ "$1" = run ] && [ "$2" = ./examples/emulator ]; then
    shift 2
    echo $BASHPID >>"$SHELLPOOL_TEST_PIDS"
    exec "$SHELLPOOL_TEST_EMULATOR" "$@"
  fi
  echo "go $*: the test runs only go run ./examples/emulator" >&2
  return 1
}
`

// TestTutorialAzCommands runs the README's az section as written, with
// Debian's Azure CLI, from the repository's root: once with the managed
// identity sign-in and the tutorial's commands (which stop the emulator),
// and once with the service principal sign-in in place of the last three
// set-up lines. It is skipped when az is not on PATH (.ci/run installs it).
func TestTutorialAzCommands(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("-short: the az end-to-end test takes a minute or more (each az command starts Python)")
	}
	if _, err := exec.LookPath("az"); err != nil {
		t.Skip("az is not on PATH; install the Azure CLI (Debian: apt-get install azure-cli) to run the tutorial's az commands against the emulator")
	}
	for _, tool := range []string{"bash", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skip(tool + " is not installed; the README's az section needs it")
		}
	}
	setup, servicePrincipal, tutorial := azSection(t)
	require.Greater(t, len(setup), 3)
	require.Len(t, servicePrincipal, 3)
	assert.True(t, strings.HasPrefix(setup[len(setup)-1], "az login --identity"), "the set-up ends with the managed identity sign-in the service principal lines replace")

	dir := t.TempDir()
	// Build the emulator program before any clock starts.
	bin := filepath.Join(dir, "emulator")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/shellpool/shellpool/examples/emulator").CombinedOutput()
	require.NoError(t, err, "go build examples/emulator: %s", out)

	t.Run("managed identity and the tutorial", func(t *testing.T) {
		t.Parallel()
		stdout := runAzScript(t, bin, append(append([]string{}, setup...), tutorial...))
		assert.Regexp(t, `(?s)"provisioningState": "Succeeded".*"provisioningState": "Succeeded"`, stdout, "the group and the deployment")
		assert.Regexp(t, `"stdout":\s*"hello world\\nhi\\n"`, stdout, "the tutorial's curl step ran the command")
		assert.Regexp(t, `(?s)\{\s*"location": "North Central US",\s*"name": "myshellpool",\s*"provisioningState": "Succeeded"\s*\}`, stdout, "az resource show")
		assert.Regexp(t, `(?m)^Principal\s+Role\s+Scope\n-+.*\n\S+\s+Azure ContainerApps Session Executor\s+/subscriptions/\S+/sessionpools/myshellpool$`, stdout, "az role assignment list")
		assert.True(t, strings.HasSuffix(stdout, "\nfalse\n"), "az group exists answers false after az group delete --yes: %s", stdout)
	})
	t.Run("service principal", func(t *testing.T) {
		t.Parallel()
		script := append(append([]string{}, setup[:len(setup)-3]...), servicePrincipal...)
		script = append(script,
			`echo "user=$(az account show --query user.name -o tsv) client=$SHELLPOOL_CLIENT_ID"`,
			`az account get-access-token --resource https://dynamicsessions.io --query tokenType -o tsv`,
			`kill $(cat "$pid_file")`)
		stdout := runAzScript(t, bin, script)
		m := regexp.MustCompile(`(?m)^user=(\S+) client=(\S+)$`).FindStringSubmatch(stdout)
		require.NotNil(t, m, stdout)
		assert.Equal(t, m[2], m[1], "signed in as the emulator's service principal")
		assert.True(t, strings.HasSuffix(stdout, "\nBearer\n"), "a data-plane token: %s", stdout)
	})
}

// runAzScript runs lines with bash from the repository's root, after
// goShim, with a throwaway HOME and temporary directory, and returns its
// standard output. The emulator it starts is stopped when the test ends.
func runAzScript(t *testing.T, emulator string, lines []string) string {
	t.Helper()
	dir := t.TempDir()
	pids := filepath.Join(dir, "pids")
	home, tmp := filepath.Join(dir, "home"), filepath.Join(dir, "tmp")
	require.NoError(t, os.Mkdir(home, 0o700))
	require.NoError(t, os.Mkdir(tmp, 0o700))
	t.Cleanup(func() { stopPIDs(t, pids) })

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute) // a hang, not a speed limit
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", goShim+strings.Join(lines, "\n")+"\n")
	cmd.Dir = "../.."
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home, "TMPDIR=" + tmp, "LANG=C.UTF-8",
		"AZURE_CORE_COLLECT_TELEMETRY=false", "AZURE_CORE_NO_COLOR=true", "AZURE_CORE_ONLY_SHOW_ERRORS=true",
		"SHELLPOOL_TEST_EMULATOR=" + emulator, "SHELLPOOL_TEST_PIDS=" + pids,
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 10 * time.Second // a failed script leaves the emulator holding the pipes
	began := time.Now()
	err := cmd.Run()
	assert.NotContains(t, stdout.String()+stderr.String(), "eyJ", "no token may be printed")
	require.NoError(t, err, "the README's az section failed:\nstdout: %s\nstderr: %s", stdout.String(), stderr.String())
	t.Logf("the README's az commands took %s against the emulator", time.Since(began).Round(100*time.Millisecond))
	return stdout.String()
}

// stopPIDs interrupts the emulators a script started and waits for them to
// exit (they remove their files and processes), killing them after a minute.
func stopPIDs(t *testing.T, file string) {
	data, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	require.NoError(t, err)
	for _, f := range strings.Fields(string(data)) {
		pid, err := strconv.Atoi(f)
		require.NoError(t, err)
		_ = syscall.Kill(pid, syscall.SIGINT)
		for deadline := time.Now().Add(time.Minute); running(pid); time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
				t.Errorf("the emulator (pid %d) did not stop on SIGINT", pid)
				break
			}
		}
	}
}

// running reports whether the process runs (a zombie whose parent is gone
// does not).
func running(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(stat, ')')
	return i >= 0 && i+2 < len(stat) && stat[i+2] != 'Z'
}
