//go:build !unix

package sessionstest

import (
	"os"
	"os/exec"
)

// setProcessGroup is a no-op where process groups do not exist: cancellation
// kills the command's own process only (its children may survive).
func setProcessGroup(cmd *exec.Cmd) {}

// killGroup does nothing where process groups do not exist.
func killGroup(pgid int) {}

// groupAlive reports false where process groups do not exist.
func groupAlive(pgid int) bool { return false }

// pidAlive reports whether a process with this pid exists.
func pidAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	_ = p.Release()
	return true
}

// exitCode returns the command's exit status.
func exitCode(ps *os.ProcessState) int {
	if ps == nil {
		return -1
	}
	return ps.ExitCode()
}
