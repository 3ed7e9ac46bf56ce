//go:build !linux

package sessionstest

import (
	"io"
	"os"
	"path/filepath"
)

// replaceIn replaces dir/to with the content of dir/from inside root and
// removes dir/from (os.Root has no Rename before Go 1.25). It is not
// atomic: a reader may see a partly written file.
func replaceIn(root *os.Root, dir, from, to string) error {
	src, err := root.Open(filepath.Join(dir, from))
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := root.OpenFile(filepath.Join(dir, to), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = io.Copy(dst, src)
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	_ = src.Close()
	return root.Remove(filepath.Join(dir, from))
}
