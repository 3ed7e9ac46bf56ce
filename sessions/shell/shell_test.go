package shell_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/sessions/shell"
)

// State carries over between commands: directory, variables, functions,
// aliases, options.
func TestShellState(t *testing.T) {
	e := newEmu(t, nil)
	s := e.session(t)
	ctx := context.Background()
	sh, err := shell.Open(ctx, s, nil)
	require.NoError(t, err)
	defer sh.Close(ctx)
	res, err := sh.Exec(ctx, `cd /tmp; export X=1; Y=2; f() { echo f; }; alias hi='echo hi'; set -o pipefail; declare -A m=([k]=v)`, nil)
	require.NoError(t, err)
	assert.Equal(t, 0, res.ExitCode)
	res, err = sh.Exec(ctx, "pwd; echo \"$X\"; f; echo $Y; hi; [[ -o pipefail ]] && echo pipefail-on; echo ${m[k]}; false", nil)
	require.NoError(t, err)
	assert.Equal(t, "/tmp\n1\nf\n2\nhi\npipefail-on\nv\n", string(res.Stdout))
	assert.Equal(t, 1, res.ExitCode)
	res, err = sh.Exec(ctx, "echo $?; echo err >&2; exit_code=7; (exit 7)", nil)
	require.NoError(t, err)
	assert.Equal(t, "1\n", string(res.Stdout))
	assert.Equal(t, "err\n", string(res.Stderr))
	assert.Equal(t, 7, res.ExitCode)
}
