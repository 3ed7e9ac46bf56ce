//go:build unix

package sessionstest

import (
	"os"
	"syscall"
)

func signalZero(p *os.Process) bool { return p.Signal(syscall.Signal(0)) == nil }

// allocatedBytes is the disk space a file uses (sparse files use less than
// their size).
func allocatedBytes(fi os.FileInfo) int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int64(st.Blocks) * 512
	}
	return fi.Size()
}
