//go:build !unix

package sessionstest

import "os"

func signalZero(p *os.Process) bool { return true }

// allocatedBytes is the disk space a file uses.
func allocatedBytes(fi os.FileInfo) int64 { return fi.Size() }
