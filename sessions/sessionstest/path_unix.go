//go:build !windows

package sessionstest

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// sessionPATH is the PATH of every command the emulator runs.
const sessionPATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// lookPath finds an executable in the session PATH (not the host's).
func lookPath(name string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil // absolute, or relative to the session directory
	}
	for _, dir := range filepath.SplitList(sessionPATH) {
		p := filepath.Join(dir, name)
		fi, err := os.Stat(p)
		if err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fs.ErrNotExist
}

// bashHint says how to get bash where it is missing.
const bashHint = "install bash (it must be in " + sessionPATH + ")"
