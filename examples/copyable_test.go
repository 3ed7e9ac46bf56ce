package examples_test

import (
	"context"
	"encoding/json"
	"go/parser"
	"go/token"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every example is a program a user copies into an app: it must import only
// public packages (never this module's internal ones) and its main.go must
// start with a doc comment saying what it does. The emulator set-up lives in
// emulator.go, so main.go (the part a user copies) never imports the
// emulator, except in examples/emulator, which is the emulator. Reading the sources here also ties the go test
// cache to them, so an edited example is tested again rather than reported
// from the cache.
func TestExamplesAreCopyable(t *testing.T) {
	t.Parallel()
	for _, name := range programs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			files, err := filepath.Glob(filepath.Join(name, "*.go"))
			require.NoError(t, err)
			require.NotEmpty(t, files)
			for _, path := range files {
				if strings.HasSuffix(path, "_test.go") {
					continue
				}
				f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ParseComments|parser.ImportsOnly)
				require.NoError(t, err)
				assert.Equal(t, "main", f.Name.Name, path)
				isMain := filepath.Base(path) == "main.go"
				if isMain {
					require.NotNil(t, f.Doc, "%s needs a package doc comment naming the tutorial step", path)
					assert.True(t, strings.HasPrefix(f.Doc.Text(), "Command "+name+" "), "%s: the doc comment starts with %q", path, "Command "+name)
				}
				for _, imp := range f.Imports {
					p, err := strconv.Unquote(imp.Path.Value)
					require.NoError(t, err)
					if isMain && name != "emulator" {
						assert.NotContains(t, p, "sessionstest", "%s: the emulator set-up belongs in emulator.go, not in the part a user copies", path)
					}
					assert.NotContains(t, p, "/internal", "%s imports %s: examples may import only public packages", path, p)
					if strings.Contains(p, ".") {
						// The MCP Go SDK is allowed in example programs only
						// (TestLibraryPackagesDoNotDependOnTheMCPSDK).
						assert.True(t, strings.HasPrefix(p, "github.com/shellpool/shellpool/") || strings.HasPrefix(p, "github.com/Azure/azure-sdk-for-go/sdk/") ||
							strings.HasPrefix(p, "github.com/modelcontextprotocol/go-sdk/"),
							"%s imports %s: only this module, the Azure SDK and the MCP Go SDK", path, p)
					}
				}
			}
		})
	}
}

// Every main.go builds on its own (with the program's other files, if it
// has any), as a user copies it (without emulator.go), and a copied program
// uses Azure only: it has no -emulator and refuses to run without a
// subscription.
func TestMainGoBuildsAlone(t *testing.T) {
	t.Parallel()
	// One go vet of every program, with an overlay that removes their
	// emulator.go and test files: what a user who copies a program has.
	removed := map[string]string{}
	args := []string{"vet", "-overlay", filepath.Join(t.TempDir(), "overlay.json")}
	for _, name := range programs {
		files, err := filepath.Glob(filepath.Join(name, "*.go"))
		require.NoError(t, err)
		for _, f := range files {
			if base := filepath.Base(f); base == "emulator.go" || strings.HasSuffix(base, "_test.go") {
				abs, err := filepath.Abs(f)
				require.NoError(t, err)
				removed[abs] = "" // an empty replacement deletes the file
			}
		}
		args = append(args, "./"+name)
	}
	overlay, err := json.Marshal(map[string]any{"Replace": removed})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(args[2], overlay, 0o600))
	out, err := exec.Command("go", args...).CombinedOutput()
	for _, name := range programs {
		t.Run(name, func(t *testing.T) {
			pkg := "examples/" + name + "\n"
			assert.NotContains(t, string(out), pkg, "%s without emulator.go: %s", name, out)
		})
	}
	require.NoError(t, err, "go vet of the programs without emulator.go: %s", out)
	t.Run("execute alone uses Azure only", func(t *testing.T) {
		t.Parallel()
		r := runProgram(t, t.TempDir(), cleanEnv("SHELLPOOL_EMULATOR=1"), "execute-alone")
		assert.Equal(t, 1, r.code)
		assert.Empty(t, r.stdout)
		assert.Equal(t, "execute: set AZURE_SUBSCRIPTION_ID (or -subscription) to use Azure\n", r.stderr)
		r = runProgram(t, t.TempDir(), cleanEnv(), "execute-alone", "-emulator")
		assert.Equal(t, 2, r.code, "no -emulator flag without emulator.go")
		assert.Contains(t, r.stderr, "flag provided but not defined: -emulator")
	})
}

// readmeLocalBlock returns the lines of the README's local walkthrough.
func readmeLocalBlock(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "README.md"))
	require.NoError(t, err)
	readme := string(data)
	i := strings.Index(readme, "### Locally\n")
	require.GreaterOrEqual(t, i, 0, "README.md has a Locally section")
	block := readme[i:]
	start := strings.Index(block, "```sh\n")
	require.GreaterOrEqual(t, start, 0)
	block = block[start+len("```sh\n"):]
	return strings.Split(strings.TrimSuffix(block[:strings.Index(block, "```")], "\n"), "\n")
}

// goShim stands in for the go command in the README's blocks: `go run
// ./examples/NAME ARGS` runs the example built before the test started
// (with $EXTRA_EMULATOR_ARGS for the emulator).
const goShim = `go() {
  [ "$1" = run ] || { echo "go $1: the test runs only go run" >&2; return 1; }
  prog="$BIN/${2#./examples/}"; shift 2
  if [ "$prog" = "$BIN/emulator" ]; then exec "$prog" "$@" $EXTRA_EMULATOR_ARGS; fi
  "$prog" "$@"
}
`

// The README's local walkthrough, run as written (each go run is the built
// program): the steps see what the earlier ones made, execute after cleanup
// fails, and kill through the pid file stops the emulator, which removes
// its files.
func TestREADMEWalkthroughAsWritten(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed; it runs the README's walkthrough")
	}
	lines := readmeLocalBlock(t)
	var order []string
	for _, line := range lines {
		if rest, ok := strings.CutPrefix(line, "go run ./examples/"); ok {
			order = append(order, strings.Fields(rest)[0])
		}
	}
	assert.Equal(t, []string{"emulator", "setup", "deploy-pool", "create-identity", "assign-role", "get-token",
		"execute", "verify", "cleanup", "execute"}, order)

	tmp := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), 3*hangLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", goShim+strings.Join(lines, "\n")+"\nwait\n")
	cmd.Dir = t.TempDir()
	cmd.Env = cleanEnv("BIN="+binDir, "TMPDIR="+tmp)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Regexp(t, `(?m)^Session pool myshellpool: Succeeded$`, string(out))
	assert.Regexp(t, `(?m)^hello world\nhi\nExit code: 0$`, string(out))
	assert.Regexp(t, `(?m)^Resource group my-shell-session-rg deleted\nUsing the standalone emulator at \S+\nexecute: pool: session pool "myshellpool" was not found`, string(out),
		"execute after cleanup fails and says why")
	left, err := os.ReadDir(tmp)
	require.NoError(t, err)
	assert.Empty(t, left, "the emulator removed its env file and pid file (mktemp made them in TMPDIR)")
}

// The README's start loop ends when the emulator cannot start (here: its
// address is taken) instead of waiting forever.
func TestREADMEStartLoopStopsWhenTheEmulatorDies(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed; it runs the README's walkthrough")
	}
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer taken.Close()
	lines := readmeLocalBlock(t)
	require.True(t, strings.HasPrefix(lines[2], "until "), "the third line is the start loop: %s", lines[2])
	ctx, cancel := context.WithTimeout(t.Context(), hangLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", goShim+strings.Join(lines[:3], "\n")+"\n")
	cmd.Dir = t.TempDir()
	cmd.Env = cleanEnv("BIN="+binDir, "TMPDIR="+t.TempDir(), "EXTRA_EMULATOR_ARGS=-addr "+taken.Addr().String())
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), "address already in use")
	assert.Contains(t, string(out), "the emulator stopped: see its error above")
}
