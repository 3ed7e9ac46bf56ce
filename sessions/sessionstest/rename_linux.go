//go:build linux

package sessionstest

import (
	"os"
	"syscall"
)

// replaceIn atomically renames dir/from to dir/to inside root. Both names
// are single components resolved against the directory's descriptor, so no
// symbolic link (even one swapped in meanwhile) can redirect it.
func replaceIn(root *os.Root, dir, from, to string) error {
	d, err := root.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	fd := int(d.Fd())
	if err := syscall.Renameat(fd, from, fd, to); err != nil {
		return &os.LinkError{Op: "renameat", Old: from, New: to, Err: err}
	}
	return nil
}
