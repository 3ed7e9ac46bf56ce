package sessions

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestCommandConstructors(t *testing.T) {
	t.Parallel()
	assert.Equal(t, Command{Shell: "ls | wc -l"}, ShellCommand("ls | wc -l"))
	assert.Equal(t, Command{Args: []string{"ls", "-a", "dir with space"}}, ExecCommand("ls", "-a", "dir with space"))
	assert.Equal(t, Command{Args: []string{"pwd"}}, ExecCommand("pwd"))

	args := []string{"-a"}
	cmd := ExecCommand("ls", args...)
	args[0] = "-l"
	assert.Equal(t, []string{"ls", "-a"}, cmd.Args, "the argv does not alias the caller's slice")
}

func TestCommandTimeoutRoundsUp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		timeout time.Duration
		want    int64
	}{
		{timeout: 0, want: 180}, // DefaultTimeout: timeoutInSeconds is always sent
		{timeout: time.Nanosecond, want: 1},
		{timeout: time.Second, want: 1},
		{timeout: 1500 * time.Millisecond, want: 2},
		{timeout: 10 * time.Minute, want: 600},
	}
	for _, tc := range tests {
		t.Run(tc.timeout.String(), func(t *testing.T) {
			t.Parallel()
			cmd := Command{Shell: "true", Timeout: tc.timeout}
			assert.NoError(t, cmd.validate())
			assert.Equal(t, tc.want, cmd.requestBody(DialectSpec, false).TimeoutInSeconds)
		})
	}
}
