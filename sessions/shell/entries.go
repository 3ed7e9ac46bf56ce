package shell

import (
	"errors"
	"fmt"
	"path"
	"strings"
)

// ErrUnsafeEntry matches an *UnsafeEntryError: a directory tree holds an
// entry that UploadDir or DownloadDir will not move.
var ErrUnsafeEntry = errors.New("shell: unsafe directory entry")

// UnsafeEntryError reports an entry of a directory tree that would write
// outside the tree or is not a plain file, directory or symbolic link: a name
// with "..", an absolute name, a name with a NUL byte, a symbolic or hard link
// that leads outside the tree, a device file, a named pipe or a socket.
// Nothing was sent (UploadDir) or written to the destination (DownloadDir).
// errors.Is(err, ErrUnsafeEntry) matches it; from UploadDir it also matches
// sessions.ErrInvalidArgument.
type UnsafeEntryError struct {
	// Path is the entry's name as the tree or archive gave it.
	Path string
	// Reason says which rule it breaks.
	Reason string

	upload bool
}

// Error implements error.
func (e *UnsafeEntryError) Error() string {
	what := "the session's directory has"
	fix := "remove or replace it in the session, or download the files you need with SessionClient.DownloadFile"
	if e.upload {
		what = "the local tree has"
		fix = "remove it from the tree, or pass an fs.FS that leaves it out"
	}
	return fmt.Sprintf("shell: %s an unsafe entry %q: %s; nothing was transferred: %s", what, e.Path, e.Reason, fix)
}

// Is makes errors.Is match ErrUnsafeEntry, and sessions.ErrInvalidArgument
// for UploadDir's input.
func (e *UnsafeEntryError) Is(target error) bool {
	return target == ErrUnsafeEntry || (e.upload && target == errInvalidArgument)
}

// maxLinkHops bounds how many symbolic links one name may pass through, as
// Linux does (ELOOP after 40).
const maxLinkHops = 40

// cleanName turns an archive or fs.FS name into a clean relative
// slash-separated path ("." for the tree's root), or says why it is unsafe.
func cleanName(name string) (string, string) {
	switch {
	case name == "":
		return "", "the name is empty"
	case strings.IndexByte(name, 0) >= 0:
		return "", "the name holds a NUL byte"
	case strings.HasPrefix(name, "/"):
		return "", "the name is absolute"
	}
	for _, c := range strings.Split(name, "/") {
		if c == ".." {
			return "", "the name has a \"..\" component"
		}
	}
	return path.Clean(name), ""
}

// linkTree resolves names inside a tree the way the kernel would, following
// the tree's own symbolic links, to decide whether a name stays inside.
type linkTree struct {
	links map[string]string // clean path -> link target, as stored
}

// inside reports whether the name p (clean, relative), resolved through the
// tree's links, stays within the tree; why says otherwise.
func (t *linkTree) inside(p string) (ok bool, why string) {
	queue := splitPath(p)
	var stack []string
	hops := 0
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(stack) == 0 {
				return false, "it leads outside the tree"
			}
			stack = stack[:len(stack)-1]
			continue
		}
		cur := path.Join(append(append([]string(nil), stack...), c)...)
		target, isLink := t.links[cur]
		if !isLink {
			stack = append(stack, c)
			continue
		}
		if hops++; hops > maxLinkHops {
			return false, "it passes through too many symbolic links (a loop?)"
		}
		if strings.HasPrefix(target, "/") {
			return false, fmt.Sprintf("it passes through %q, a symbolic link to the absolute path %q", cur, target)
		}
		queue = append(splitPath(target), queue...)
	}
	return true, ""
}

// checkLink checks the symbolic link at p (clean) with target.
func (t *linkTree) checkLink(p, target string) string {
	switch {
	case target == "":
		return "the symbolic link has an empty target"
	case strings.IndexByte(target, 0) >= 0:
		return "the symbolic link's target holds a NUL byte"
	case strings.HasPrefix(target, "/"):
		return fmt.Sprintf("the symbolic link points to the absolute path %q, outside the tree", target)
	}
	// Not path.Join: ".." after a link must be resolved through the link.
	if ok, why := t.inside(path.Dir(p) + "/" + target); !ok {
		return fmt.Sprintf("the symbolic link's target %q: %s", target, why)
	}
	return ""
}

func splitPath(p string) []string {
	if p == "" || p == "." {
		return nil
	}
	return strings.Split(p, "/")
}
