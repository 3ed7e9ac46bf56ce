package sessionstest

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// mountRoot is the directory the service's file API is rooted at; the
// emulator maps it to the session's local directory.
const mountRoot = "/mnt/data"

type fileJSON struct {
	Name           string `json:"name"`
	Type           string `json:"type"`
	ContentType    string `json:"contentType,omitempty"`
	SizeInBytes    int64  `json:"sizeInBytes"`
	LastModifiedAt string `json:"lastModifiedAt"`
	Directory      string `json:"directory,omitempty"`
}

func fileView(name, dir string, fi fs.FileInfo) fileJSON {
	v := fileJSON{Name: name, LastModifiedAt: fi.ModTime().UTC().Format(time.RFC3339Nano), Directory: dir}
	if fi.IsDir() {
		v.Type = "Directory"
		return v
	}
	v.Type = "File"
	v.SizeInBytes = fi.Size()
	v.ContentType = contentTypeOf(name)
	return v
}

func contentTypeOf(name string) string {
	if t := mime.TypeByExtension(filepath.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// cleanRel turns a path from a request (relative to /mnt/data, or absolute
// under /mnt/data) into a clean relative slash path ("" is the root). It
// refuses "..", absolute paths elsewhere and control characters.
func cleanRel(p string) (string, string) {
	for _, c := range p {
		if c == 0 || unicode.IsControl(c) {
			return "", "the path contains a NUL or control character"
		}
	}
	if p == mountRoot || strings.HasPrefix(p, mountRoot+"/") {
		p = strings.TrimPrefix(p, mountRoot)
	} else if strings.HasPrefix(p, "/") || strings.HasPrefix(p, `\`) {
		return "", fmt.Sprintf("the path %q is outside %s; use a path relative to %s", p, mountRoot, mountRoot)
	}
	var out []string
	for _, seg := range strings.Split(strings.ReplaceAll(p, `\`, "/"), "/") {
		switch seg {
		case "", ".":
			continue
		case "..":
			return "", fmt.Sprintf("the path %q contains a '..' segment; paths must stay inside %s", p, mountRoot)
		}
		out = append(out, seg)
	}
	return strings.Join(out, "/"), ""
}

// confine maps a clean relative path to a local path inside root, refusing
// symbolic links that lead outside. It is a development aid, not a security
// boundary: a process in the session can race it.
func confine(root, rel string) (string, string) {
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return "", "the session directory is gone"
	}
	cur := realRoot
	if rel == "" {
		return cur, ""
	}
	parts := strings.Split(rel, "/")
	for i, part := range parts {
		next := filepath.Join(cur, part)
		fi, err := os.Lstat(next)
		if err != nil {
			// Does not exist (yet): the rest is lexical and cannot escape.
			return filepath.Join(append([]string{next}, parts[i+1:]...)...), ""
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			target, err := filepath.EvalSymlinks(next)
			if err != nil || (target != realRoot && !strings.HasPrefix(target, realRoot+string(filepath.Separator))) {
				return "", fmt.Sprintf("the path %q goes through a symbolic link that leads outside %s", rel, mountRoot)
			}
			next = target
		}
		cur = next
	}
	return cur, ""
}

func (s *Server) serveFiles(w http.ResponseWriter, r *http.Request, p *pool, rest []string) {
	content := false
	if r.Method == http.MethodGet && len(rest) >= 2 && rest[len(rest)-1] == "content" {
		content, rest = true, rest[:len(rest)-1]
	}
	switch {
	case len(rest) == 0 && r.Method != http.MethodPost && r.Method != http.MethodGet,
		len(rest) > 0 && r.Method != http.MethodGet && r.Method != http.MethodDelete:
		notFoundRoute(w, r)
		return
	}
	sid, ok := sessionParam(w, r)
	if !ok {
		return
	}
	switch {
	case len(rest) == 0 && r.Method == http.MethodPost:
		s.handleUpload(w, r, p, sid)
		return
	case len(rest) == 0:
		s.handleListFiles(w, r, p, sid)
		return
	}
	s.mu.Lock()
	ss := s.sessionLocked(p, sid)
	s.mu.Unlock()
	if ss == nil {
		writeError(w, http.StatusNotFound, "FileNotFound", fmt.Sprintf(
			"file %q not found: session %s does not exist (upload a file or run a command to create it)", strings.Join(rest, "/"), redactID(sid)))
		return
	}
	dirRel, msg := cleanRel(r.URL.Query().Get("path"))
	var nameRel string
	if msg == "" {
		nameRel, msg = cleanRel(strings.Join(rest, "/"))
	}
	if msg != "" {
		writeError(w, http.StatusBadRequest, "InvalidPath", msg)
		return
	}
	rel := path.Join(dirRel, nameRel)
	if rel == "." || rel == "" {
		writeError(w, http.StatusBadRequest, "InvalidPath", "the file name is empty or names the session root; list the root with GET /files")
		return
	}
	abs, msg := confine(ss.dir, rel)
	if msg != "" {
		writeError(w, http.StatusBadRequest, "InvalidPath", msg)
		return
	}
	fi, err := os.Stat(abs)
	if err != nil {
		writeError(w, http.StatusNotFound, "FileNotFound", fmt.Sprintf("file %q not found in %s", rel, mountRoot))
		return
	}
	switch {
	case r.Method == http.MethodDelete:
		if fi.IsDir() {
			err = os.RemoveAll(abs)
		} else {
			err = os.Remove(abs)
		}
		if err != nil {
			writeError(w, http.StatusInternalServerError, "InternalServerError", fmt.Sprintf("deleting %q failed: %v", rel, err))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case content:
		if fi.IsDir() {
			writeError(w, http.StatusBadRequest, "InvalidPath", fmt.Sprintf("%q is a directory; list it with GET /files?path=%s", rel, rel))
			return
		}
		f, err := os.Open(abs)
		if err != nil {
			writeError(w, http.StatusNotFound, "FileNotFound", fmt.Sprintf("file %q not found in %s", rel, mountRoot))
			return
		}
		defer f.Close()
		w.Header().Set("Content-Type", contentTypeOf(fi.Name()))
		http.ServeContent(w, r, fi.Name(), fi.ModTime(), f)
	default:
		writeJSON(w, http.StatusOK, fileView(path.Base(rel), parentOf(rel), fi))
	}
}

func parentOf(rel string) string {
	d := path.Dir(rel)
	if d == "." {
		return ""
	}
	return d
}

func (s *Server) handleUpload(w http.ResponseWriter, r *http.Request, p *pool, sid string) {
	dirRel, msg := cleanRel(r.URL.Query().Get("path"))
	if msg != "" {
		writeError(w, http.StatusBadRequest, "InvalidPath", msg)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxUploadBytes+(1<<20))
	mr, err := r.MultipartReader()
	if err != nil {
		writeError(w, http.StatusBadRequest, "InvalidRequest",
			"an upload must be multipart/form-data with the file in a part named \"file\" that carries a filename: "+err.Error())
		return
	}
	s.mu.Lock()
	ss, err := s.getOrCreateSessionLocked(p, sid)
	if err == nil {
		ss.running++ // keep the session from expiring mid-upload
	}
	s.mu.Unlock()
	if err != nil {
		s.writeAllocError(w, p, err)
		return
	}
	defer func() {
		s.mu.Lock()
		ss.running--
		ss.lastAccessed = s.opts.Now().UTC()
		s.mu.Unlock()
	}()
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			writeError(w, http.StatusBadRequest, "InvalidRequest", "the multipart body has no part named \"file\"; send the file in a form field named file")
			return
		}
		if err != nil {
			s.writeBodyError(w, err)
			return
		}
		if part.FormName() != "file" {
			_ = part.Close()
			continue
		}
		name := part.FileName()
		if name == "" || name == "." || name == "/" {
			writeError(w, http.StatusBadRequest, "InvalidRequest", "the \"file\" part must carry a filename (Content-Disposition: form-data; name=\"file\"; filename=\"...\")")
			return
		}
		nameRel, msg := cleanRel(name)
		if msg != "" || nameRel == "" {
			if msg == "" {
				msg = "the filename is empty"
			}
			writeError(w, http.StatusBadRequest, "InvalidPath", msg)
			return
		}
		s.saveUpload(w, ss, path.Join(dirRel, nameRel), part)
		return
	}
}

func (s *Server) writeBodyError(w http.ResponseWriter, err error) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		s.writeTooLarge(w)
		return
	}
	writeError(w, http.StatusBadRequest, "InvalidRequest", "reading the multipart body failed: "+err.Error())
}

func (s *Server) writeTooLarge(w http.ResponseWriter) {
	writeError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", fmt.Sprintf(
		"the file is larger than the upload limit of %d bytes; split it or compress it", s.opts.MaxUploadBytes))
}

func (s *Server) saveUpload(w http.ResponseWriter, ss *session, rel string, src io.Reader) {
	dirAbs, msg := confine(ss.dir, parentOf(rel))
	if msg != "" {
		writeError(w, http.StatusBadRequest, "InvalidPath", msg)
		return
	}
	if err := os.MkdirAll(dirAbs, 0o755); err != nil {
		writeError(w, http.StatusBadRequest, "InvalidPath", fmt.Sprintf("cannot create the directory of %q: a file is in the way", rel))
		return
	}
	target, msg := confine(ss.dir, rel)
	if msg != "" {
		writeError(w, http.StatusBadRequest, "InvalidPath", msg)
		return
	}
	if fi, err := os.Stat(target); err == nil && fi.IsDir() {
		writeError(w, http.StatusConflict, "InvalidPath", fmt.Sprintf("%q is a directory; upload under another name or delete it first", rel))
		return
	}
	tmp, err := os.CreateTemp(filepath.Dir(target), ".upload-*")
	if err != nil {
		writeError(w, http.StatusInternalServerError, "InternalServerError", "creating the file failed: "+err.Error())
		return
	}
	n, err := io.Copy(tmp, io.LimitReader(src, s.opts.MaxUploadBytes+1))
	cerr := tmp.Close()
	if err == nil {
		err = cerr
	}
	if err == nil && n > s.opts.MaxUploadBytes {
		_ = os.Remove(tmp.Name())
		s.writeTooLarge(w)
		return
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		s.writeBodyError(w, err)
		return
	}
	_ = os.Chmod(tmp.Name(), 0o644)
	if err := os.Rename(tmp.Name(), target); err != nil {
		_ = os.Remove(tmp.Name())
		writeError(w, http.StatusInternalServerError, "InternalServerError", "saving the file failed: "+err.Error())
		return
	}
	fi, err := os.Stat(target)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "InternalServerError", "the uploaded file vanished: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, fileView(path.Base(rel), parentOf(rel), fi))
}

func (s *Server) handleListFiles(w http.ResponseWriter, r *http.Request, p *pool, sid string) {
	q := r.URL.Query()
	dirRel, msg := cleanRel(q.Get("path"))
	if msg != "" {
		writeError(w, http.StatusBadRequest, "InvalidPath", msg)
		return
	}
	recursive := false
	if v := q.Get("recursive"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, "InvalidRequest", "the recursive query parameter must be true or false")
			return
		}
		recursive = b
	}
	skip := 0
	if v := q.Get("$skipToken"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, "InvalidRequest", "the $skipToken query parameter is not one this server issued; restart the listing without it")
			return
		}
		skip = n
	}
	s.mu.Lock()
	ss := s.sessionLocked(p, sid)
	s.mu.Unlock()
	items := []fileJSON{}
	if ss != nil {
		abs, msg := confine(ss.dir, dirRel)
		if msg != "" {
			writeError(w, http.StatusBadRequest, "InvalidPath", msg)
			return
		}
		fi, err := os.Stat(abs)
		switch {
		case err != nil && dirRel == "":
		case err != nil:
			writeError(w, http.StatusNotFound, "FileNotFound", fmt.Sprintf("directory %q not found in %s", dirRel, mountRoot))
			return
		case !fi.IsDir():
			writeError(w, http.StatusBadRequest, "InvalidPath", fmt.Sprintf("%q is a file, not a directory; get it with GET /files/{name}", dirRel))
			return
		default:
			items = listDir(abs, recursive)
		}
	}
	end := min(len(items), skip+s.opts.PageSize)
	page := []fileJSON{}
	if skip < len(items) {
		page = items[skip:end]
	}
	out := struct {
		Value    []fileJSON `json:"value"`
		NextLink *string    `json:"nextLink"`
	}{Value: page}
	if end < len(items) {
		q.Set("$skipToken", strconv.Itoa(end))
		rt := s.route(r)
		link := s.absURL(r, rt, "/files", q)
		out.NextLink = &link
	}
	writeJSON(w, http.StatusOK, out)
}

// listDir lists a directory (recursively when asked), sorted by path,
// without following symbolic links and skipping in-progress uploads.
func listDir(abs string, recursive bool) []fileJSON {
	var out []fileJSON
	_ = filepath.WalkDir(abs, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == abs {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".upload-") {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(abs, p)
		out = append(out, fileView(d.Name(), parentOf(filepath.ToSlash(rel)), fi))
		if d.IsDir() && !recursive {
			return filepath.SkipDir
		}
		return nil
	})
	sort.SliceStable(out, func(i, j int) bool {
		return path.Join(out[i].Directory, out[i].Name) < path.Join(out[j].Directory, out[j].Name)
	})
	return out
}
