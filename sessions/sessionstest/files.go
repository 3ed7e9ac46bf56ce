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

// rootErr maps an error of an os.Root operation to an answer: a path that
// leaves the session directory (through a symbolic link, even one a command
// swaps while the request runs) is refused, anything else is not found.
func rootErr(w http.ResponseWriter, rel, what string, err error) {
	if isEscape(err) {
		writeError(w, http.StatusBadRequest, "InvalidPath", fmt.Sprintf(
			"the path %q goes through a symbolic link that leads outside %s; use a path inside it", rel, mountRoot))
		return
	}
	writeError(w, http.StatusNotFound, "FileNotFound", fmt.Sprintf("%s %q not found in %s", what, rel, mountRoot))
}

// isEscape reports whether err is os.Root refusing a path that leaves it.
func isEscape(err error) bool {
	return err != nil && strings.Contains(err.Error(), "path escapes from parent")
}

// rootPath is the os.Root form of a clean relative slash path.
func rootPath(rel string) string {
	if rel == "" {
		return "."
	}
	return filepath.FromSlash(rel)
}

// flatMsg is the answer of a flat file store (Behavior.FlatFileStore) to a
// path or a name with a directory in it.
const flatMsg = "this file store is flat, as live shell pools answer on api-version 2025-02-02-preview: " +
	"use a bare file name (no '/') directly under " + mountRoot + ", without the path query parameter"

// flatOK reports whether a path query and a name pass a flat file store.
func (s *Server) flatOK(pathQuery, name string) bool {
	if !s.opts.Behavior.FlatFileStore {
		return true
	}
	p := strings.TrimRight(pathQuery, "/")
	return (p == "" || p == mountRoot) && !strings.ContainsAny(name, `/\`)
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
	if !s.flatOK(r.URL.Query().Get("path"), strings.Join(rest, "/")) {
		writeError(w, http.StatusBadRequest, "InvalidPath", flatMsg)
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
	name := rootPath(rel)
	switch {
	case r.Method == http.MethodDelete:
		fi, err := ss.root.Lstat(name)
		if err != nil {
			rootErr(w, rel, "file", err)
			return
		}
		if fi.IsDir() {
			err = removeAllIn(ss.root, name)
		} else {
			err = ss.root.Remove(name)
		}
		if err != nil {
			if isEscape(err) {
				rootErr(w, rel, "file", err)
				return
			}
			writeError(w, http.StatusInternalServerError, "InternalServerError", fmt.Sprintf("deleting %q failed: %v", rel, err))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case content:
		f, err := ss.root.Open(name)
		if err != nil {
			rootErr(w, rel, "file", err)
			return
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			rootErr(w, rel, "file", err)
			return
		}
		if fi.IsDir() {
			writeError(w, http.StatusBadRequest, "InvalidPath", fmt.Sprintf("%q is a directory; list it with GET /files?path=%s", rel, rel))
			return
		}
		w.Header().Set("Content-Type", contentTypeOf(fi.Name()))
		http.ServeContent(w, r, fi.Name(), fi.ModTime(), f)
	default:
		fi, err := ss.root.Stat(name)
		if err != nil {
			rootErr(w, rel, "file", err)
			return
		}
		writeJSON(w, http.StatusOK, fileView(path.Base(rel), parentOf(rel), fi))
	}
}

// removeAllIn removes a directory tree inside root without leaving it
// (os.Root has no RemoveAll before Go 1.25). Symbolic links are removed,
// never followed.
func removeAllIn(root *os.Root, name string) error {
	d, err := root.Open(name)
	if err != nil {
		return err
	}
	entries, err := d.ReadDir(-1)
	_ = d.Close()
	if err != nil {
		return err
	}
	for _, e := range entries {
		child := filepath.Join(name, e.Name())
		if e.IsDir() { // DirEntry types come from lstat: a link is not a dir
			err = removeAllIn(root, child)
		} else {
			err = root.Remove(child)
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return root.Remove(name)
}

func parentOf(rel string) string {
	d := path.Dir(rel)
	if d == "." {
		return ""
	}
	return d
}

func (s *Server) handleUpload(w http.ResponseWriter, r *http.Request, p *pool, sid string) {
	if !s.flatOK(r.URL.Query().Get("path"), "") {
		writeError(w, http.StatusBadRequest, "InvalidPath", flatMsg)
		return
	}
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
	ss, err := s.lockSession(p, sid)
	if err == nil {
		ss.running++ // keep the session from expiring mid-upload
		s.mu.Unlock()
	}
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
		if !s.flatOK("", name) {
			writeError(w, http.StatusBadRequest, "InvalidPath", flatMsg)
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
	dirRel := parentOf(rel)
	if err := mkdirAllIn(ss.root, dirRel); err != nil {
		if isEscape(err) {
			rootErr(w, rel, "directory", err)
			return
		}
		writeError(w, http.StatusBadRequest, "InvalidPath", fmt.Sprintf("cannot create the directory of %q: a file is in the way", rel))
		return
	}
	name := rootPath(rel)
	if fi, err := ss.root.Stat(name); err == nil && fi.IsDir() {
		writeError(w, http.StatusConflict, "InvalidPath", fmt.Sprintf("%q is a directory; upload under another name or delete it first", rel))
		return
	}
	tmpBase := ".upload-" + randomHex(8)
	tmpName := rootPath(path.Join(dirRel, tmpBase))
	tmp, err := ss.root.OpenFile(tmpName, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		if isEscape(err) {
			rootErr(w, rel, "directory", err)
			return
		}
		writeError(w, http.StatusInternalServerError, "InternalServerError", "creating the file failed: "+err.Error())
		return
	}
	n, err := io.Copy(tmp, io.LimitReader(src, s.opts.MaxUploadBytes+1))
	cerr := tmp.Close()
	if err == nil {
		err = cerr
	}
	if err == nil && n > s.opts.MaxUploadBytes {
		_ = ss.root.Remove(tmpName)
		s.writeTooLarge(w)
		return
	}
	if err != nil {
		_ = ss.root.Remove(tmpName)
		s.writeBodyError(w, err)
		return
	}
	if err := replaceIn(ss.root, rootPath(dirRel), tmpBase, path.Base(rel)); err != nil {
		_ = ss.root.Remove(tmpName)
		if isEscape(err) {
			rootErr(w, rel, "directory", err)
			return
		}
		writeError(w, http.StatusInternalServerError, "InternalServerError", "saving the file failed: "+err.Error())
		return
	}
	fi, err := ss.root.Stat(name)
	if err != nil {
		if isEscape(err) {
			rootErr(w, rel, "file", err)
			return
		}
		writeError(w, http.StatusInternalServerError, "InternalServerError", "the uploaded file vanished: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, fileView(path.Base(rel), parentOf(rel), fi))
}

// mkdirAllIn makes the directory rel (a clean slash path) and its parents
// inside root (os.Root has no MkdirAll before Go 1.25).
func mkdirAllIn(root *os.Root, rel string) error {
	if rel == "" {
		return nil
	}
	cur := ""
	for _, seg := range strings.Split(rel, "/") {
		cur = path.Join(cur, seg)
		err := root.Mkdir(rootPath(cur), 0o755)
		if err == nil || !errors.Is(err, fs.ErrExist) {
			if err != nil {
				return err
			}
			continue
		}
		fi, err := root.Stat(rootPath(cur))
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			return fmt.Errorf("%s: %w", cur, fs.ErrExist)
		}
	}
	return nil
}

func (s *Server) handleListFiles(w http.ResponseWriter, r *http.Request, p *pool, sid string) {
	q := r.URL.Query()
	if !s.flatOK(q.Get("path"), "") {
		writeError(w, http.StatusBadRequest, "InvalidPath", flatMsg)
		return
	}
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
	var token string
	skip := 0
	if v := q.Get("$skipToken"); v != "" {
		id, off, ok := strings.Cut(v, "-")
		n, err := strconv.Atoi(off)
		if !ok || err != nil || n < 0 || id == "" {
			writeError(w, http.StatusBadRequest, "InvalidRequest", "the $skipToken query parameter is not one this server issued; restart the listing without it")
			return
		}
		token, skip = id, n
	}
	s.mu.Lock()
	ss := s.sessionLocked(p, sid)
	var items []fileJSON
	if ss != nil && token != "" {
		items = ss.listings.get(token)
	}
	s.mu.Unlock()
	if ss != nil && items == nil {
		// A new listing (or one whose snapshot was forgotten): walk the
		// directory once; the next pages are served from this snapshot.
		fi, err := ss.root.Stat(rootPath(dirRel))
		switch {
		case err != nil && isEscape(err):
			rootErr(w, dirRel, "directory", err)
			return
		case err != nil && dirRel == "":
		case err != nil:
			writeError(w, http.StatusNotFound, "FileNotFound", fmt.Sprintf("directory %q not found in %s", dirRel, mountRoot))
			return
		case !fi.IsDir():
			writeError(w, http.StatusBadRequest, "InvalidPath", fmt.Sprintf("%q is a file, not a directory; get it with GET /files/{name}", dirRel))
			return
		default:
			items = listDir(ss.root, dirRel, recursive && !s.opts.Behavior.FlatFileStore, s.opts.Behavior.FlatFileStore)
		}
		if token == "" {
			token = randomHex(8)
		}
		if len(items) > s.opts.PageSize {
			s.mu.Lock()
			ss.listings.put(token, items)
			s.mu.Unlock()
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
		q.Set("$skipToken", token+"-"+strconv.Itoa(end))
		rt := s.route(r)
		link := s.absURL(r, rt, "/files", q)
		out.NextLink = &link
	}
	writeJSON(w, http.StatusOK, out)
}

// listDir lists a directory of root (recursively when asked), sorted by
// path, without following symbolic links and skipping in-progress uploads
// (and directories, in a flat store).
func listDir(root *os.Root, dirRel string, recursive, filesOnly bool) []fileJSON {
	type keyed struct {
		key string
		v   fileJSON
	}
	var all []keyed
	start := rootPath(dirRel)
	if start != "." {
		start = dirRel
	}
	_ = fs.WalkDir(root.FS(), start, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == start {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".upload-") {
			return nil
		}
		fi, ierr := d.Info()
		if ierr == nil && !(filesOnly && d.IsDir()) {
			rel := p
			if start != "." {
				rel = strings.TrimPrefix(p, start+"/")
			}
			all = append(all, keyed{rel, fileView(d.Name(), parentOf(rel), fi)})
		}
		if d.IsDir() && !recursive {
			return fs.SkipDir
		}
		return nil
	})
	sort.Slice(all, func(i, j int) bool { return all[i].key < all[j].key })
	out := make([]fileJSON, len(all))
	for i := range all {
		out[i] = all[i].v
	}
	return out
}

// snapshots keeps the results of recent listings, so that each page of a
// listing costs its own size, not the whole list's. Guarded by Server.mu.
type snapshots[T any] struct {
	order []string
	byID  map[string][]T
}

// maxSnapshots is how many listing snapshots a session (file listings) or
// a pool (session listings) keeps; a listing whose snapshot was forgotten
// is built again.
const maxSnapshots = 8

func (l *snapshots[T]) get(id string) []T { return l.byID[id] }

func (l *snapshots[T]) put(id string, items []T) {
	if l.byID == nil {
		l.byID = map[string][]T{}
	}
	if _, ok := l.byID[id]; !ok {
		l.order = append(l.order, id)
	}
	l.byID[id] = items
	for len(l.order) > maxSnapshots {
		delete(l.byID, l.order[0])
		l.order = l.order[1:]
	}
}
