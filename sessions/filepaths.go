package sessions

import (
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// fileRoot is the directory every session's file API is rooted at.
const fileRoot = "/mnt/data"

// dirQuery is the query carrying a directory: "path" when dir is not the
// root, nothing otherwise.
func dirQuery(dir string) url.Values {
	q := url.Values{}
	if dir != "" {
		q.Set("path", dir)
	}
	return q
}

// splitFileName validates a directory option and a file name and returns
// the directory (relative to /mnt/data, "" for the root) and the base name.
// A directory part in name is appended to dir, as the Azure CLI does.
func splitFileName(dirOpt, name string) (dir, base string, err error) {
	const field = "name"
	if name == "" {
		return "", "", newArgumentError(field, "must not be empty; pass a file name such as \"report.csv\" or \"out/report.csv\"")
	}
	if strings.HasSuffix(name, "/") {
		return "", "", newArgumentError(field, fmt.Sprintf("%q ends with a slash; name a file, and pass directories in the Path option", name))
	}
	segs, err := pathSegments(name, field)
	if err != nil {
		return "", "", err
	}
	if len(segs) == 0 {
		return "", "", newArgumentError(field, fmt.Sprintf("%q names the root directory, not a file", name))
	}
	d, err := cleanDir(dirOpt, "Path")
	if err != nil {
		return "", "", err
	}
	parts := segs[:len(segs)-1]
	if d != "" {
		parts = append(strings.Split(d, "/"), parts...)
	}
	return strings.Join(parts, "/"), segs[len(segs)-1], nil
}

// cleanDir validates a directory option and returns it relative to
// /mnt/data, without leading or trailing slashes; "" is the root.
func cleanDir(dir, field string) (string, error) {
	if dir == "" || dir == "/" {
		// "/" is what the service's own examples send for the root.
		return "", nil
	}
	segs, err := pathSegments(strings.TrimSuffix(dir, "/"), field)
	if err != nil {
		return "", err
	}
	return strings.Join(segs, "/"), nil
}

// pathSegments splits a slash-separated path relative to /mnt/data (or
// absolute under /mnt/data) into its segments, refusing traversal, empty
// segments and characters no file name may hold.
func pathSegments(p, field string) ([]string, error) {
	if !utf8.ValidString(p) {
		return nil, newArgumentError(field, "is not valid UTF-8")
	}
	for i, r := range p {
		if r == 0 || unicode.IsControl(r) {
			return nil, newArgumentError(field, fmt.Sprintf("%q contains a control character at byte %d (NUL, newline, tab, ...); remove it", p, i))
		}
	}
	if strings.Contains(p, "\\") {
		return nil, newArgumentError(field, fmt.Sprintf("%q contains a backslash; separate directories with \"/\"", p))
	}
	if strings.HasPrefix(p, "/") {
		switch {
		case p == fileRoot:
			return nil, nil
		case strings.HasPrefix(p, fileRoot+"/"):
			p = strings.TrimPrefix(p, fileRoot+"/")
		default:
			return nil, newArgumentError(field, fmt.Sprintf("%q is an absolute path outside %s; session files live under %s, so pass a path relative to it", p, fileRoot, fileRoot))
		}
	}
	segs := strings.Split(p, "/")
	for _, s := range segs {
		switch s {
		case "":
			return nil, newArgumentError(field, fmt.Sprintf("%q has an empty segment (\"//\"); remove the extra slash", p))
		case ".", "..":
			return nil, newArgumentError(field, fmt.Sprintf("%q has a %q segment; paths may not traverse directories, pass the path relative to %s without . or ..", p, s, fileRoot))
		}
	}
	return segs, nil
}
