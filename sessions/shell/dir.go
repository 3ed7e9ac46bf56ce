package shell

import (
	"archive/tar"
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/shellpool/shellpool/sessions"
)

// DefaultPartSize is the largest archive part UploadDir sends in one upload
// when UploadDirOptions.PartSize is zero: 64 MiB, half the 128 MiB upload
// limit of live pools, so a tree of any size goes up in a few requests.
const DefaultPartSize = 64 << 20

// cleanupTimeout bounds the best-effort deletes of archive files after a
// failure, whatever the state of the caller's context.
const cleanupTimeout = 30 * time.Second

// UploadDirOptions contains the optional parameters of UploadDir.
type UploadDirOptions struct {
	// Timeout bounds the execution that unpacks the archive in the session.
	// Zero means sessions.DefaultTimeout; a negative value is refused.
	Timeout time.Duration

	// PartSize is the largest piece of the archive sent in one upload; the
	// pieces are joined in the session. Zero means DefaultPartSize; lower
	// it for a pool whose upload limit is smaller.
	PartSize int64
}

// UploadDirResponse describes what UploadDir moved.
type UploadDirResponse struct {
	// Files, Dirs and Symlinks count the entries sent (the root itself is
	// not counted).
	Files, Dirs, Symlinks int
	// Bytes is the total size of the files' contents.
	Bytes int64
	// ArchiveBytes is the size of the tar archive sent, and Parts the
	// number of uploads it took.
	ArchiveBytes int64
	Parts        int
}

// DownloadDirOptions contains the optional parameters of DownloadDir.
type DownloadDirOptions struct {
	// Timeout bounds the execution that packs the directory in the session.
	// Zero means sessions.DefaultTimeout; a negative value is refused.
	Timeout time.Duration

	// TempDir is the local directory where the archive is kept while it is
	// checked and unpacked; empty means os.TempDir().
	TempDir string
}

// DownloadDirResponse describes what DownloadDir wrote.
type DownloadDirResponse struct {
	// Files, Dirs and Symlinks count the entries written (hard links count
	// as files; the root itself is not counted).
	Files, Dirs, Symlinks int
	// Bytes is the total size of the files' contents.
	Bytes int64
	// ArchiveBytes is the size of the tar archive received.
	ArchiveBytes int64
}

// entry is one item of a tree, checked.
type entry struct {
	name   string // clean, relative, slash-separated
	kind   byte   // tar.TypeReg, tar.TypeDir, tar.TypeSymlink
	perm   fs.FileMode
	size   int64
	mtime  time.Time
	target string // symbolic link target
}

// UploadDir copies the directory tree fsys (from its root ".") into the
// directory dir of the session, in one tar archive: the archive is written
// with archive/tar while the tree is read, streamed to the session through
// the files API (in pieces of PartSize, so never held in memory), and
// unpacked by the session's tar in one execution. dir is created if needed;
// a relative dir is relative to the file root, /mnt/data. Files already in
// dir are replaced by the tree's files of the same name; others are kept.
//
// Regular files (with their permission bits and modification times),
// directories (empty ones too) and symbolic links whose targets stay inside
// the tree are copied. Set-user-ID, set-group-ID and sticky bits are not;
// owners are those of the session's user. Links are read with fs.ReadLink:
// an fs.FS that lists a symbolic link must implement fs.ReadLinkFS, as
// os.DirFS and fstest.MapFS do, or UploadDir fails before sending anything.
//
// The whole tree is checked before anything is sent: an entry that is not a
// regular file, directory or symbolic link (a device, named pipe or
// socket), a name with a NUL byte or "..", or a symbolic link leading
// outside the tree (absolute, or through ".." and other links) is an
// *UnsafeEntryError and nothing is sent. A session without tar gives
// ErrNoTar. If anything fails, the archive's pieces are deleted from the
// session and nothing has been unpacked.
//
// The request count depends on the archive's size, not on the number of
// files: one upload per PartSize and one execution.
func UploadDir(ctx context.Context, s *sessions.SessionClient, fsys fs.FS, dir string, options *UploadDirOptions) (UploadDirResponse, error) {
	var opts UploadDirOptions
	if options != nil {
		opts = *options
	}
	var resp UploadDirResponse
	switch {
	case s == nil:
		return resp, argError("s", "is nil; pass the *sessions.SessionClient of the session to upload into")
	case fsys == nil:
		return resp, argError("fsys", "is nil; pass the tree to upload, such as os.DirFS(\"src\")")
	case opts.Timeout < 0:
		return resp, argError("UploadDirOptions.Timeout", "is negative; use zero for the default or a positive duration")
	case opts.PartSize < 0:
		return resp, argError("UploadDirOptions.PartSize", "is negative; use zero for DefaultPartSize or a positive size")
	}
	if err := checkSessionPath("dir", dir); err != nil {
		return resp, err
	}
	if opts.PartSize == 0 {
		opts.PartSize = DefaultPartSize
	}
	entries, err := scanFS(fsys)
	if err != nil {
		return resp, err
	}
	for _, e := range entries {
		switch e.kind {
		case tar.TypeReg:
			resp.Files++
			resp.Bytes += e.size
		case tar.TypeDir:
			resp.Dirs++
		case tar.TypeSymlink:
			resp.Symlinks++
		}
	}

	base := filePrefix + "dir-" + newHex(12)
	pw := &partWriter{ctx: ctx, s: s, base: base, size: opts.PartSize}
	err = writeArchive(pw, fsys, entries)
	if err == nil {
		err = pw.finish()
	} else {
		pw.abort(err)
	}
	resp.ArchiveBytes, resp.Parts = pw.total, len(pw.parts)
	if err != nil {
		deleteParts(ctx, s, pw.parts)
		return resp, fmt.Errorf("shell: upload %s: %w", dir, err)
	}

	var b strings.Builder
	b.WriteString(rootLine)
	b.WriteString("A=\"$F/" + base + "\"\n")
	b.WriteString(dirLine(dir))
	b.WriteString(noTarLine)
	b.WriteString("mkdir -p -- \"$D\" || { rm -f -- \"$A\".*; exit 1; }\nset -o pipefail\n")
	if len(pw.parts) == 1 {
		b.WriteString("tar -x -p -o -f \"$A.0\" -C \"$D\"")
	} else {
		b.WriteString("cat --")
		for i := range pw.parts {
			fmt.Fprintf(&b, " \"$A.%d\"", i)
		}
		b.WriteString(" | tar -x -p -o -f - -C \"$D\"")
	}
	b.WriteString("\nrc=$?\nrm -f -- \"$A\".*\nexit $rc\n")
	if err := runTar(ctx, s, b.String(), opts.Timeout, "unpack the archive into "+dir); err != nil {
		deleteParts(ctx, s, pw.parts)
		return resp, err
	}
	return resp, nil
}

// noTarLine ends the script with a marker when the session has no tar.
const noTarLine = "command -v tar >/dev/null 2>&1 || { rm -f -- \"$A\"*; echo 'shellpool: no tar' >&2; exit 127; }\n"

// runTar runs a tar script and turns its failure into an error.
func runTar(ctx context.Context, s *sessions.SessionClient, script string, timeout time.Duration, what string) error {
	cmd := sessions.ShellCommand(script)
	cmd.Timeout = timeout
	res, err := s.Execute(ctx, cmd, nil)
	if err != nil {
		return fmt.Errorf("shell: %s: %w", what, err)
	}
	if strings.Contains(res.Stderr, "shellpool: no tar") {
		return ErrNoTar
	}
	if strings.Contains(res.Stderr, "shellpool: no dir") {
		return fmt.Errorf("%w: %s", ErrDirNotFound, strings.TrimPrefix(what, "pack "))
	}
	if res.ExitCode == nil || *res.ExitCode != 0 || res.TimedOut {
		detail := strings.TrimSpace(res.Stderr)
		if res.Error != nil {
			detail = strings.TrimSpace(res.Error.Error() + "; " + detail)
		}
		code := "no exit code"
		if res.ExitCode != nil {
			code = fmt.Sprintf("exit code %d", *res.ExitCode)
		}
		if res.TimedOut {
			code = "timed out (raise the Timeout option)"
		}
		return fmt.Errorf("shell: %s: tar failed (%s): %s", what, code, detail)
	}
	return nil
}

// deleteParts deletes uploaded archive pieces, best effort, even once ctx
// has ended.
func deleteParts(ctx context.Context, s *sessions.SessionClient, names []string) {
	if len(names) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	for _, n := range names {
		_, _ = s.DeleteFile(ctx, n, nil)
	}
}

// scanFS lists and checks the tree fsys before anything is sent.
func scanFS(fsys fs.FS) ([]entry, error) {
	var entries []entry
	tree := &linkTree{links: map[string]string{}}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == "." {
			return nil
		}
		name, why := cleanName(p)
		if why == "" && !fs.ValidPath(p) {
			why = "the name is not a valid fs.FS path"
		}
		if why != "" {
			return &UnsafeEntryError{Path: p, Reason: why, upload: true}
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		e := entry{name: name, perm: info.Mode().Perm(), mtime: info.ModTime()}
		switch m := info.Mode(); {
		case m.IsRegular():
			e.kind, e.size = tar.TypeReg, info.Size()
		case m.IsDir():
			e.kind = tar.TypeDir
		case m&fs.ModeSymlink != 0:
			e.kind = tar.TypeSymlink
			if e.target, err = fs.ReadLink(fsys, p); err != nil {
				return err
			}
			tree.links[name] = e.target
		default:
			return &UnsafeEntryError{Path: p, Reason: "it is " + describeMode(m) + ", not a regular file, directory or symbolic link", upload: true}
		}
		entries = append(entries, e)
		return nil
	})
	if err != nil {
		var ue *UnsafeEntryError
		if errors.As(err, &ue) {
			return nil, err
		}
		return nil, fmt.Errorf("shell: read the tree to upload: %w", err)
	}
	for _, e := range entries {
		if e.kind == tar.TypeSymlink {
			if why := tree.checkLink(e.name, e.target); why != "" {
				return nil, &UnsafeEntryError{Path: e.name, Reason: why, upload: true}
			}
		}
	}
	return entries, nil
}

func describeMode(m fs.FileMode) string {
	switch {
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "an irregular file (" + m.String() + ")"
}

// copyBufSize is the buffer for copying file contents.
const copyBufSize = 256 << 10

// writeArchive writes the entries of fsys as a tar archive to w.
func writeArchive(w io.Writer, fsys fs.FS, entries []entry) error {
	tw := tar.NewWriter(w)
	buf := make([]byte, copyBufSize)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.kind, Mode: int64(e.perm), ModTime: e.mtime}
		switch e.kind {
		case tar.TypeDir:
			h.Name += "/"
		case tar.TypeSymlink:
			h.Linkname = e.target
		case tar.TypeReg:
			h.Size = e.size
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if e.kind != tar.TypeReg {
			continue
		}
		f, err := fsys.Open(e.name)
		if err != nil {
			return err
		}
		n, err := io.CopyBuffer(tw, io.LimitReader(f, e.size), buf)
		_ = f.Close()
		if err != nil {
			return err
		}
		if n != e.size {
			return fmt.Errorf("%s shrank from %d to %d bytes while it was read", e.name, e.size, n)
		}
	}
	return tw.Close()
}

// partWriter uploads what is written to it as files base.0, base.1, ... of
// at most size bytes each, streaming through a pipe.
type partWriter struct {
	ctx   context.Context
	s     *sessions.SessionClient
	base  string
	size  int64
	parts []string
	total int64

	pw   *io.PipeWriter
	n    int64 // bytes in the current part
	done chan partResult
}

func (w *partWriter) Write(b []byte) (int, error) {
	written := 0
	for len(b) > 0 {
		if w.pw == nil {
			w.open()
		}
		chunk := b
		if room := w.size - w.n; int64(len(chunk)) > room {
			chunk = chunk[:room]
		}
		k, err := w.pw.Write(chunk)
		written += k
		w.n += int64(k)
		w.total += int64(k)
		if err != nil {
			return written, w.closePart(err)
		}
		b = b[k:]
		if w.n == w.size {
			if err := w.closePart(nil); err != nil {
				return written, err
			}
		}
	}
	return written, nil
}

// open starts the upload of the next part.
func (w *partWriter) open() {
	pr, pw := io.Pipe()
	name := fmt.Sprintf("%s.%d", w.base, len(w.parts))
	w.parts = append(w.parts, name)
	w.pw, w.n, w.done = pw, 0, make(chan partResult, 1)
	go func() {
		resp, err := w.s.UploadFile(w.ctx, name, pr, nil)
		if err != nil {
			pr.CloseWithError(err) // unblocks the writer
		} else {
			pr.CloseWithError(errors.New("the upload ended before the part did"))
		}
		w.done <- partResult{size: resp.SizeInBytes, err: err}
	}()
}

// partResult is the outcome of one part's upload.
type partResult struct {
	size int64 // as the service reported it; 0 when it did not
	err  error
}

// closePart ends the current part and waits for its upload. cause, when
// set, aborts it.
func (w *partWriter) closePart(cause error) error {
	if w.pw == nil {
		return cause
	}
	if cause != nil {
		w.pw.CloseWithError(cause)
	} else {
		w.pw.Close()
	}
	res := <-w.done
	w.pw = nil
	switch {
	case res.err != nil:
		return res.err
	case cause != nil:
		return cause
	case res.size != 0 && res.size != w.n:
		return fmt.Errorf("the session stored %d bytes of %s, %d were sent", res.size, w.parts[len(w.parts)-1], w.n)
	}
	return nil
}

func (w *partWriter) finish() error {
	if w.pw == nil && len(w.parts) == 0 {
		w.open() // an empty tree still has an archive (its end marker)
	}
	return w.closePart(nil)
}

func (w *partWriter) abort(err error) { _ = w.closePart(err) }

// DownloadDir copies the directory dir of the session (relative to the file
// root, /mnt/data, unless absolute) into the local directory dst, which is
// created if needed: the session's tar packs it into one archive in one
// execution, the archive is downloaded to a local temporary file (see
// DownloadDirOptions.TempDir) and deleted from the session, checked
// entirely, and only then unpacked with archive/tar. Files already in dst
// are replaced by the archive's files of the same name; others are kept.
//
// Regular files (with their permission bits and modification times), hard
// links, directories (empty ones too) and symbolic links are written.
// Set-user-ID, set-group-ID and sticky bits are dropped, and owners are the
// caller's.
//
// The archive comes from the session, so it is treated as hostile: an
// entry with an absolute name, a name with "..", a NUL byte, a symbolic or
// hard link leading outside the tree (directly or through other links), a
// device file or a named pipe is an *UnsafeEntryError, and nothing is
// written to dst. Writing goes through an os.Root on dst, so no entry can
// reach outside dst, even through links dst already held. A missing dir
// gives an error matching ErrDirNotFound; a session without tar, ErrNoTar.
//
// It takes three requests whatever the tree's size: an execution, a
// download and a delete.
func DownloadDir(ctx context.Context, s *sessions.SessionClient, dir, dst string, options *DownloadDirOptions) (resp DownloadDirResponse, err error) {
	var opts DownloadDirOptions
	if options != nil {
		opts = *options
	}
	switch {
	case s == nil:
		return resp, argError("s", "is nil; pass the *sessions.SessionClient of the session to download from")
	case dst == "":
		return resp, argError("dst", "is empty; name the local directory to write into")
	case opts.Timeout < 0:
		return resp, argError("DownloadDirOptions.Timeout", "is negative; use zero for the default or a positive duration")
	}
	if err := checkSessionPath("dir", dir); err != nil {
		return resp, err
	}
	name := filePrefix + "dir-" + newHex(12) + ".tar"
	var b strings.Builder
	b.WriteString(rootLine)
	b.WriteString("A=\"$F/" + name + "\"\n")
	b.WriteString(dirLine(dir))
	b.WriteString(noTarLine)
	b.WriteString("[ -d \"$D\" ] || { echo 'shellpool: no dir' >&2; exit 2; }\n")
	b.WriteString("tar -c -f \"$A\" -C \"$D\" . || { rc=$?; rm -f -- \"$A\"; exit $rc; }\n")
	if err := runTar(ctx, s, b.String(), opts.Timeout, "pack "+dir); err != nil {
		return resp, err
	}
	tmp, err := os.CreateTemp(opts.TempDir, "shellpool-dir-*.tar")
	if err != nil {
		deleteParts(ctx, s, []string{name})
		return resp, fmt.Errorf("shell: download %s: %w", dir, err)
	}
	defer func() {
		_ = tmp.Close()
		_ = os.Remove(tmp.Name())
	}()
	got, err := s.DownloadFileTo(ctx, name, tmp, nil)
	deleteParts(ctx, s, []string{name})
	if err != nil {
		return resp, fmt.Errorf("shell: download %s: %w", dir, err)
	}
	resp.ArchiveBytes = got.BytesWritten
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return resp, err
	}
	plan, err := checkArchive(tmp)
	if err != nil {
		return resp, err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return resp, err
	}
	if err := extract(tmp, dst, plan, &resp); err != nil {
		return resp, fmt.Errorf("shell: download %s into %s: %w", dir, dst, err)
	}
	return resp, nil
}

// archivePlan is what checkArchive learned: the clean name of each header,
// in order ("" for the root entry).
type archivePlan struct {
	names []string
}

// checkArchive reads every header of the archive in r and refuses it if
// any entry is unsafe.
func checkArchive(r io.Reader) (*archivePlan, error) {
	tr := tar.NewReader(r)
	plan := &archivePlan{}
	tree := &linkTree{links: map[string]string{}}
	files := map[string]bool{}
	type pending struct{ name, target string }
	var links []pending
	var hardLinks []pending
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, &UnsafeEntryError{Path: "(archive)", Reason: "the archive is malformed: " + err.Error()}
		}
		name, why := cleanName(h.Name)
		if why != "" {
			return nil, &UnsafeEntryError{Path: h.Name, Reason: why}
		}
		if name == "." {
			if h.Typeflag != tar.TypeDir {
				return nil, &UnsafeEntryError{Path: h.Name, Reason: "the tree's root is not a directory"}
			}
			plan.names = append(plan.names, "")
			continue
		}
		switch h.Typeflag {
		case tar.TypeReg: // (the reader reports old archives' TypeRegA as TypeReg)
			files[name] = true
		case tar.TypeDir:
		case tar.TypeSymlink:
			tree.links[name] = h.Linkname
			links = append(links, pending{name, h.Linkname})
		case tar.TypeLink:
			target, why := cleanName(h.Linkname)
			if why != "" {
				return nil, &UnsafeEntryError{Path: h.Name, Reason: "the hard link's target: " + why}
			}
			if !files[target] {
				return nil, &UnsafeEntryError{Path: h.Name, Reason: fmt.Sprintf("the hard link's target %q is not a file earlier in the archive", h.Linkname)}
			}
			hardLinks = append(hardLinks, pending{name, target})
			files[name] = true
		case tar.TypeChar, tar.TypeBlock:
			return nil, &UnsafeEntryError{Path: h.Name, Reason: "it is a device file"}
		case tar.TypeFifo:
			return nil, &UnsafeEntryError{Path: h.Name, Reason: "it is a named pipe"}
		default:
			return nil, &UnsafeEntryError{Path: h.Name, Reason: fmt.Sprintf("it has the unsupported tar type %q", h.Typeflag)}
		}
		plan.names = append(plan.names, name)
	}
	for _, l := range links {
		if why := tree.checkLink(l.name, l.target); why != "" {
			return nil, &UnsafeEntryError{Path: l.name, Reason: why}
		}
	}
	for _, l := range hardLinks {
		if ok, why := tree.inside(l.target); !ok {
			return nil, &UnsafeEntryError{Path: l.name, Reason: "the hard link's target " + why}
		}
	}
	for _, n := range plan.names {
		if n == "" {
			continue
		}
		if ok, why := tree.inside(path.Dir(n)); !ok {
			return nil, &UnsafeEntryError{Path: n, Reason: "its directory: " + why}
		}
	}
	return plan, nil
}

// extract writes the checked archive in r into dst through an os.Root.
// Each directory's own Root is opened once and kept, so that writing a
// file costs a few system calls on one name, not a walk of its path.
func extract(r io.Reader, dst string, plan *archivePlan, resp *DownloadDirResponse) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	root, err := os.OpenRoot(dst)
	if err != nil {
		return err
	}
	defer root.Close()
	roots := map[string]*os.Root{".": root}
	defer func() {
		for name, r := range roots {
			if name != "." {
				_ = r.Close()
			}
		}
	}()
	// dirOf returns the Root of the directory name (clean, slash form),
	// creating it as needed.
	dirOf := func(name string) (*os.Root, error) {
		if r, ok := roots[name]; ok {
			return r, nil
		}
		if err := root.MkdirAll(fromSlash(name), 0o755); err != nil {
			return nil, err
		}
		r, err := root.OpenRoot(fromSlash(name))
		if err != nil {
			return nil, err
		}
		roots[name] = r
		return r, nil
	}
	type dirMode struct {
		name  string
		perm  fs.FileMode
		mtime time.Time
	}
	var dirs []dirMode
	// Buffered: small files' headers and contents come in one read, not
	// one system call each.
	tr := tar.NewReader(bufio.NewReaderSize(r, copyBufSize))
	buf := make([]byte, copyBufSize)
	for i := 0; ; i++ {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if i >= len(plan.names) {
			return errors.New("the archive changed between its check and its unpacking")
		}
		name := plan.names[i]
		if name == "" {
			continue
		}
		perm := fs.FileMode(h.Mode).Perm()
		if h.Typeflag == tar.TypeDir {
			if _, err := dirOf(name); err != nil {
				return err
			}
			dirs = append(dirs, dirMode{fromSlash(name), perm, h.ModTime})
			resp.Dirs++
			continue
		}
		d, err := dirOf(path.Dir(name))
		if err != nil {
			return err
		}
		base := path.Base(name)
		switch h.Typeflag {
		case tar.TypeSymlink:
			err = replace(d, base, func() error { return d.Symlink(h.Linkname, base) })
			resp.Symlinks++
		case tar.TypeLink:
			target, _ := cleanName(h.Linkname)
			err = replace(d, base, func() error { return root.Link(fromSlash(target), fromSlash(name)) })
			resp.Files++
		default:
			var f *os.File
			err = replace(d, base, func() (err error) {
				f, err = d.OpenFile(base, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
				return err
			})
			if err != nil {
				return err
			}
			var n int64
			// Through a plain Writer: *os.File's ReadFrom would take a
			// fresh 32 KiB buffer for every file instead of buf.
			n, err = io.CopyBuffer(struct{ io.Writer }{f}, tr, buf)
			if err == nil {
				err = f.Chmod(perm)
			}
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err == nil {
				err = d.Chtimes(base, h.ModTime, h.ModTime)
			}
			resp.Files++
			resp.Bytes += n
		}
		if err != nil {
			return err
		}
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		d := dirs[i]
		if err := root.Chmod(d.name, d.perm); err != nil {
			return err
		}
		if err := root.Chtimes(d.name, d.mtime, d.mtime); err != nil {
			return err
		}
	}
	return nil
}

// replace runs create, and when the name exists already (and is not a
// directory), removes it and runs create again.
func replace(d *os.Root, base string, create func() error) error {
	err := create()
	if err == nil || !errors.Is(err, fs.ErrExist) {
		return err
	}
	if fi, lerr := d.Lstat(base); lerr != nil || fi.IsDir() {
		return err
	}
	if err := d.Remove(base); err != nil {
		return err
	}
	return create()
}

// fromSlash turns a clean slash-separated name into the local form.
func fromSlash(name string) string { return filepath.FromSlash(name) }
