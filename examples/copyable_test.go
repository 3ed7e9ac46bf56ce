package examples_test

import (
	"go/parser"
	"go/token"
	"os"
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

// The README's local walkthrough is the one TestTutorialWalkthroughSharesOneEmulator
// runs: the same programs in the same order, the emulator started with an env
// file and a pid file, and the emulator stopped through the pid file.
func TestREADMEWalkthroughIsTheTestedOne(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("..", "README.md"))
	require.NoError(t, err)
	readme := string(data)
	i := strings.Index(readme, "### Locally\n")
	require.GreaterOrEqual(t, i, 0, "README.md has a Locally section")
	block := readme[i:]
	start := strings.Index(block, "```sh\n")
	require.GreaterOrEqual(t, start, 0)
	block = block[start+len("```sh\n"):]
	block = block[:strings.Index(block, "```")]

	var order []string
	for _, line := range strings.Split(block, "\n") {
		if rest, ok := strings.CutPrefix(line, "go run ./examples/"); ok {
			order = append(order, strings.Fields(rest)[0])
		}
	}
	assert.Equal(t, []string{"emulator", "setup", "deploy-pool", "create-identity", "assign-role", "get-token",
		"execute", "verify", "cleanup", "execute"}, order)
	assert.Contains(t, block, "go run ./examples/emulator -env-file /tmp/shellpool.env -pid-file /tmp/shellpool.pid &\n")
	assert.Contains(t, block, "\n. /tmp/shellpool.env")
	assert.Contains(t, block, "\nkill $(cat /tmp/shellpool.pid)")
}
