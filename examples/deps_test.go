package examples_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The MCP Go SDK is for example programs only: the library packages must
// not depend on it, so importing them never pulls it into an application.
func TestLibraryPackagesDoNotDependOnTheMCPSDK(t *testing.T) {
	t.Parallel()
	cmd := exec.CommandContext(t.Context(), "go", "list", "-deps", "../sessions", "../sessions/fleet", "../sessions/proc", "../sessions/shell", "../sessions/agent", "../pool", "../identity")
	out, err := cmd.Output()
	require.NoError(t, err, "go list -deps")
	deps := strings.Fields(string(out))
	require.Contains(t, deps, "github.com/shellpool/shellpool/pool", "go list listed the packages themselves")
	for _, d := range deps {
		assert.False(t, strings.Contains(d, "modelcontextprotocol"), "%s is a dependency of a library package", d)
	}

	for _, program := range []string{"./pool-mcp", "./mcp-server"} {
		cmd = exec.CommandContext(t.Context(), "go", "list", "-deps", program)
		out, err = cmd.Output()
		require.NoError(t, err)
		assert.Contains(t, string(out), "github.com/modelcontextprotocol/go-sdk/mcp", "the check would see the SDK if a package imported it")
	}
}
