package sessionstest

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/internal/jwt"
)

// azSetup is the set-up of the README's "Run the tutorial's az commands
// locally" section, after the emulator wrote its env file. The test runs it
// as written (with its own AZURE_CONFIG_DIR) and checks that the README
// still says it.
// azServicePrincipalSetup is the README's alternative sign-in, as the
// emulator's service principal.
var azServicePrincipalSetup = []string{
	`az cloud register --name ShellpoolEmulatorSP --cloud-config "{\"endpoints\": {\"resourceManager\": \"$SHELLPOOL_ENDPOINT\", \"activeDirectory\": \"$SHELLPOOL_ENDPOINT/adfs\", \"microsoftGraphResourceId\": \"$SHELLPOOL_ENDPOINT/\"}}"`,
	`az cloud set --name ShellpoolEmulatorSP`,
	`az login --service-principal --username "$SHELLPOOL_CLIENT_ID" --password "$SHELLPOOL_CLIENT_SECRET" --tenant "$SHELLPOOL_TENANT_ID"`,
}

var azSetup = []string{
	`export REQUESTS_CA_BUNDLE="$SHELLPOOL_CA_CERT"`,
	`export MSI_ENDPOINT="$IDENTITY_ENDPOINT"`,
	`az cloud register --name ShellpoolEmulator --cloud-config "{\"endpoints\": {\"resourceManager\": \"$SHELLPOOL_ENDPOINT\", \"microsoftGraphResourceId\": \"$SHELLPOOL_ENDPOINT/\"}}"`,
	`az cloud set --name ShellpoolEmulator`,
	`az login --identity`,
}

// The tutorial's variables (its PowerShell $UAMI_NAME and $POOL_ID), in bash.
const azVars = `UAMI_NAME="$POOL-uami"
POOL_ID="/subscriptions/$SUBSCRIPTION/resourceGroups/$RG/providers/Microsoft.App/sessionpools/$POOL"
`

// azStep is one tutorial command. secret steps print a token: their output
// never appears in test messages.
type azStep struct {
	cmd    string
	secret bool
	tty    bool // stdin is a terminal that answers "y" (az group delete asks)
}

// TestTutorialAzCommands runs the tutorial's az commands, unchanged and in
// order, with Debian's Azure CLI against the standalone emulator program,
// set up as the README says. It is skipped when az is not on PATH (.ci/run
// installs it).
func TestTutorialAzCommands(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("-short: the az end-to-end test takes a minute or more (each az command starts Python)")
	}
	if runtime.GOOS != "linux" {
		t.Skip("the az end-to-end test runs on Linux (it gives az group delete a terminal)")
	}
	if _, err := exec.LookPath("az"); err != nil {
		t.Skip("az is not on PATH; install the Azure CLI (Debian: apt-get install azure-cli) to run the tutorial's az commands against the emulator")
	}
	for _, tool := range []string{"bash", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skip(tool + " is not installed; the tutorial's steps need it")
		}
	}
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	for _, line := range append(append([]string{}, azSetup...), azServicePrincipalSetup...) {
		assert.Contains(t, string(readme), line, "the README's set-up must say what this test runs")
	}
	workaround, err := filepath.Abs("testdata/azcli")
	require.NoError(t, err)

	dir := t.TempDir()
	// Build the emulator program before any deadline starts.
	bin := filepath.Join(dir, "emulator")
	build := exec.Command("go", "build", "-o", bin, "github.com/shellpool/shellpool/examples/emulator")
	build.Env = os.Environ()
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build examples/emulator: %s", out)
	tmpl, err := os.ReadFile("testdata/azcli/deploy.json")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "deploy.json"), tmpl, 0o644))

	envFile := filepath.Join(dir, "shellpool.env")
	emu := exec.Command(bin, "-addr", "127.0.0.1:0", "-env-file", envFile)
	logFile, err := os.Create(filepath.Join(dir, "emulator.log"))
	require.NoError(t, err)
	defer logFile.Close()
	emu.Stdout, emu.Stderr = logFile, logFile // a file: the emulator writes while the test reads
	emuLog := func() string { b, _ := os.ReadFile(logFile.Name()); return string(b) }
	require.NoError(t, emu.Start())
	t.Cleanup(func() {
		_ = emu.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = emu.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = emu.Process.Kill()
			<-done
		}
	})
	for i := 0; ; i++ {
		if st, err := os.Stat(envFile); err == nil && st.Size() > 0 {
			break
		}
		if i >= 600 {
			t.Fatalf("the emulator did not write its env file within a minute: %s", emuLog())
		}
		time.Sleep(100 * time.Millisecond)
	}
	vars := readEnvFile(t, envFile)

	home := filepath.Join(dir, "home")
	require.NoError(t, os.MkdirAll(home, 0o755))
	// azRunner runs steps with their own throwaway az profile.
	azRunner := func(t *testing.T, profile string) func(step azStep, extra ...string) string {
		baseEnv := []string{
			"PATH=" + os.Getenv("PATH"), "HOME=" + home, "LANG=C.UTF-8",
			"ENV_FILE=" + envFile,
			"AZURE_CONFIG_DIR=" + filepath.Join(dir, profile), // a throwaway az profile
			"AZURE_CORE_COLLECT_TELEMETRY=false", "AZURE_CORE_NO_COLOR=true", "AZURE_CORE_ONLY_SHOW_ERRORS=true",
			"PYTHONPATH=" + workaround, // Debian's CLI 2.45 role bug, see testdata/azcli/README.md
		}
		prelude := "set -eu\n. \"$ENV_FILE\"\n" + strings.Join(azSetup[:2], "\n") + "\n" + azVars
		return func(step azStep, extra ...string) string {
			t.Helper()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, "bash", "-c", prelude+step.cmd)
			cmd.Dir = dir
			cmd.Env = append(append([]string{}, baseEnv...), extra...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			began := time.Now()
			if step.tty {
				master, slave := openPTY(t)
				cmd.Stdin = slave
				require.NoError(t, cmd.Start())
				_ = slave.Close()
				go func() { _, _ = io.Copy(io.Discard, master) }() // the terminal's echo
				_, err := master.Write([]byte("y\n"))
				require.NoError(t, err)
				err = cmd.Wait()
				_ = master.Close()
				require.NoError(t, err, "%s: %s", step.cmd, stderr.String())
			} else {
				err := cmd.Run()
				shown := stdout.String()
				if step.secret {
					shown = "(output withheld: it holds a token)"
				}
				require.NoError(t, err, "%s:\nstdout: %s\nstderr: %s", step.cmd, shown, stderr.String())
			}
			t.Logf("%5.1fs  %s", time.Since(began).Seconds(), step.cmd)
			return strings.TrimSpace(stdout.String())
		}
	}

	// Signing in as the emulator's service principal (az login
	// --service-principal), with the cloud's Entra ID endpoint in ADFS form
	// (MSAL asks login.microsoftonline.com about any other unknown
	// authority). It shares the emulator but not the az profile.
	t.Run("service principal", func(t *testing.T) {
		t.Parallel()
		run := azRunner(t, "azure-sp")
		for _, line := range azServicePrincipalSetup {
			run(azStep{cmd: line, secret: strings.Contains(line, "SECRET")})
		}
		tok := run(azStep{cmd: `az account get-access-token --resource https://dynamicsessions.io --query accessToken -o tsv`, secret: true})
		c, err := jwt.Parse(tok)
		require.NoError(t, err)
		assert.Equal(t, "https://dynamicsessions.io", c.Audience)
		assert.Equal(t, vars["SHELLPOOL_PRINCIPAL_ID"], c.ObjectID, "the service principal is the emulator's principal")
		assert.Equal(t, vars["SHELLPOOL_CLIENT_ID"], c.AppID)
		assert.Equal(t, vars["SHELLPOOL_CLIENT_ID"], run(azStep{cmd: `az account show --query user.name -o tsv`}))
	})

	t.Run("tutorial", func(t *testing.T) {
		t.Parallel()
		tutorial(t, azRunner(t, "azure"), vars, emuLog)
	})
}

// tutorial runs the README's set-up and the tutorial's commands.
func tutorial(t *testing.T, run func(step azStep, extra ...string) string, vars map[string]string, emuLog func() string) {
	start := time.Now()
	// Set-up, as the README says.
	for _, line := range azSetup[2:] {
		run(azStep{cmd: line})
	}
	// The tutorial, in order.
	run(azStep{cmd: `az account set --subscription $SUBSCRIPTION`})
	run(azStep{cmd: `az provider register --namespace Microsoft.App`})
	group := run(azStep{cmd: `az group create --name $RG --location $LOCATION`})
	assert.Contains(t, group, `"provisioningState": "Succeeded"`)
	deployment := run(azStep{cmd: `az deployment group create --resource-group $RG --template-file deploy.json`})
	assert.Contains(t, deployment, `"provisioningState": "Succeeded"`)
	run(azStep{cmd: `az identity create --resource-group $RG --name $UAMI_NAME --location $LOCATION`})
	principal := run(azStep{cmd: `az identity show --resource-group $RG --name $UAMI_NAME --query principalId -o tsv`})
	require.Regexp(t, `^[0-9a-f-]{36}$`, principal)
	assign := azStep{cmd: `az role assignment create --assignee $UAMI_PRINCIPAL --role "0fb8eba5-a2bb-4abe-b1c1-49dfad359bb0" --scope $POOL_ID`}
	var first, second struct {
		Name, PrincipalID, RoleDefinitionID, Scope string
	}
	require.NoError(t, json.Unmarshal([]byte(run(assign, "UAMI_PRINCIPAL="+principal)), &first))
	require.NoError(t, json.Unmarshal([]byte(run(assign, "UAMI_PRINCIPAL="+principal)), &second), "the second create answers the existing assignment")
	assert.Equal(t, first, second)
	assert.Equal(t, principal, first.PrincipalID)
	assert.Equal(t, "/subscriptions/"+vars["SUBSCRIPTION"]+"/providers/Microsoft.Authorization/roleDefinitions/0fb8eba5-a2bb-4abe-b1c1-49dfad359bb0", first.RoleDefinitionID)

	armToken := run(azStep{cmd: `az account get-access-token --query accessToken -o tsv`, secret: true})
	sessionsToken := run(azStep{cmd: `az account get-access-token --resource https://dynamicsessions.io --query accessToken -o tsv`, secret: true})
	for tok, aud := range map[string]string{armToken: "https://management.core.windows.net/", sessionsToken: "https://dynamicsessions.io"} {
		c, err := jwt.Parse(tok)
		require.NoError(t, err)
		assert.Equal(t, aud, c.Audience)
		assert.Equal(t, vars["SHELLPOOL_PRINCIPAL_ID"], c.ObjectID, "az login --identity acts as the emulator's system identity")
	}

	// The tutorial's curl step, with the emulator's endpoint in place of
	// https://$LOCATION.dynamicsessions.io and its CA certificate.
	curl := run(azStep{cmd: `URL="$SHELLPOOL_ENDPOINT/subscriptions/$SUBSCRIPTION/resourceGroups/$RG/sessionPools/$POOL/executions?api-version=$API_VERSION&identifier=$EXEC_ID"
curl --silent --show-error --cacert "$SHELLPOOL_CA_CERT" --request POST --url $URL --header "authorization: Bearer $TOKEN" --header "content-type: application/json" --data "$Body"`},
		"TOKEN="+sessionsToken, "Body="+tutorialBody)
	var execution struct {
		Status string `json:"status"`
		Result struct {
			Stdout string `json:"stdout"`
		} `json:"result"`
	}
	require.NoError(t, json.Unmarshal([]byte(curl), &execution), "curl: %s", curl)
	assert.Equal(t, "0", execution.Status)
	assert.Equal(t, "hello world\nhi\n", execution.Result.Stdout)

	var shown map[string]string
	require.NoError(t, json.Unmarshal([]byte(run(azStep{cmd: `az resource show --ids "/subscriptions/$SUBSCRIPTION/resourceGroups/$RG/providers/Microsoft.App/sessionpools/$POOL" --query '{name:name, location:location, provisioningState:properties.provisioningState}'`})), &shown))
	assert.Equal(t, map[string]string{"name": vars["POOL"], "location": "North Central US", "provisioningState": "Succeeded"}, shown)

	table := run(azStep{cmd: `az role assignment list --scope "/subscriptions/$SUBSCRIPTION/resourceGroups/$RG/providers/Microsoft.App/sessionpools/$POOL" --output table`})
	lines := strings.Split(table, "\n")
	require.Len(t, lines, 3, "a header, a rule and one assignment: %s", table)
	assert.Regexp(t, `^Principal\s+Role\s+Scope$`, lines[0])
	assert.Contains(t, lines[2], "Azure ContainerApps Session Executor")
	assert.Contains(t, lines[2], first.Scope)

	run(azStep{cmd: `az group delete --resource-group $RG`, tty: true})
	req, err := http.NewRequest(http.MethodGet, vars["SHELLPOOL_ENDPOINT"]+"/subscriptions/"+vars["SUBSCRIPTION"]+"/resourceGroups/"+vars["RG"]+"?api-version=2021-04-01", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+armToken)
	resp, err := trustingClient(t, vars["SHELLPOOL_CA_CERT"]).Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "az group delete removed the group")
	for _, tok := range []string{armToken, sessionsToken} {
		assert.NotContains(t, emuLog(), tok, "the emulator must not print tokens")
	}
	t.Logf("the tutorial's az commands took %s against the emulator", time.Since(start).Round(100*time.Millisecond))
}

// tutorialBody is the tutorial's request body, as its PowerShell
// ConvertTo-Json prints it.
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

// trustingClient is an HTTP client that trusts the CA certificate in the
// PEM file.
func trustingClient(t *testing.T, caFile string) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(caFile)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(pem))
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: time.Minute}
}

// readEnvFile parses the emulator's export lines.
func readEnvFile(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	vars := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		if ok {
			vars[k] = strings.Trim(v, "'")
		}
	}
	return vars
}

// openPTY opens a pseudo-terminal pair (Linux ioctls).
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	require.NoError(t, err)
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		t.Fatalf("unlocking the pseudo-terminal: %v", e)
	}
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		t.Fatalf("naming the pseudo-terminal: %v", e)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|syscall.O_NOCTTY, 0)
	require.NoError(t, err)
	return m, s
}
