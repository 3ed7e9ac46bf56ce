//go:build linux

package sessionstest

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
)

// setDeathSignal makes the kernel kill the command when the emulator dies.
func setDeathSignal(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }

// sweepSupported reports whether sweepMarked can find marked processes.
const sweepSupported = true

// sweepMarked kills every process whose environment holds markEnv with a
// value that starts with prefix (or, when prefix is "", whose emulator
// process is dead), and repeats until none is left (a process may fork
// while it is being swept). It returns how many it killed.
func sweepMarked(prefix string) int {
	killed := 0
	for round := 0; round < 50; round++ {
		n := 0
		for _, pid := range markedPIDs(prefix) {
			if syscall.Kill(pid, syscall.SIGKILL) == nil {
				n++
			}
		}
		killed += n
		if n == 0 {
			return killed
		}
	}
	return killed
}

// markedPIDs lists the processes marked with prefix (see sweepMarked).
func markedPIDs(prefix string) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	self := os.Getpid()
	needle := []byte(markEnv + "=")
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		env, err := os.ReadFile("/proc/" + e.Name() + "/environ")
		if err != nil || len(env) == 0 {
			continue
		}
		for _, kv := range bytes.Split(env, []byte{0}) {
			v, ok := bytes.CutPrefix(kv, needle)
			if !ok {
				continue
			}
			if prefix != "" {
				if bytes.HasPrefix(v, []byte(prefix)) {
					out = append(out, pid)
				}
			} else if owner, _, ok := bytes.Cut(v, []byte(".")); ok {
				if opid, err := strconv.Atoi(string(owner)); err == nil && opid != self && !pidAlive(opid) {
					out = append(out, pid)
				}
			}
			break
		}
	}
	return out
}
