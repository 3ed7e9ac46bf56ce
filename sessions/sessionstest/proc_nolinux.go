//go:build !linux

package sessionstest

// sweepSupported reports whether sweepMarked can find marked processes:
// only on Linux, where /proc shows every process's environment.
const sweepSupported = false

// sweepMarked does nothing where /proc is not available; process groups
// (Unix) remain the way processes are found.
func sweepMarked(prefix string) int { return 0 }

// markedPIDs finds no process where /proc is not available.
func markedPIDs(prefix string) []int { return nil }
