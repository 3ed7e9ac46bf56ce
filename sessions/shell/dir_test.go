package shell_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/sessions"
	"github.com/shellpool/shellpool/sessions/sessionstest"
	"github.com/shellpool/shellpool/sessions/shell"
)

// treeDigest describes a local tree: one line per entry (path, type,
// permission bits, and the content's SHA-256 or the link's target), sorted.
// Two trees with the same digest have the same paths, modes and contents.
func treeDigest(t testing.TB, root string) (digest string, lines []string) {
	t.Helper()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil || rel == "." {
			return err
		}
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		switch m := info.Mode(); {
		case m&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			lines = append(lines, fmt.Sprintf("%q link -> %q", rel, target))
		case m.IsDir():
			lines = append(lines, fmt.Sprintf("%q dir %v", rel, m.Perm()))
		default:
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			h := sha256.New()
			_, err = io.Copy(h, f)
			f.Close()
			if err != nil {
				return err
			}
			lines = append(lines, fmt.Sprintf("%q file %v %x", rel, m.Perm(), h.Sum(nil)))
		}
		return nil
	})
	require.NoError(t, err)
	sort.Strings(lines)
	sum := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return hex.EncodeToString(sum[:]), lines
}

// makeTree writes a tree with every kind of entry UploadDir moves.
func makeTree(t testing.TB) string {
	t.Helper()
	root := t.TempDir()
	w := func(name string, perm fs.FileMode, content string) {
		p := filepath.Join(root, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), perm))
		require.NoError(t, os.Chmod(p, perm))
	}
	w("README.md", 0o644, "# demo\n")
	w("bin/build.sh", 0o755, "#!/bin/sh\necho built\n")
	w("secret/key", 0o600, "k\x00\xff binary")
	w("ro.txt", 0o444, "read only\n")
	w("deep/a/b/c/d/e/f.txt", 0o640, strings.Repeat("deep ", 1000))
	w("name with spaces & 'quotes' $x.txt", 0o644, "odd name\n")
	w("ünïcødé/日本.txt", 0o644, "utf-8 name\n")
	w("line\nbreak.txt", 0o644, "newline in name\n")
	w(strings.Repeat("long-", 40)+"/"+strings.Repeat("name-", 40), 0o644, "beyond ustar's 100 bytes\n")
	w("empty.txt", 0o644, "")
	require.NoError(t, os.MkdirAll(filepath.Join(root, "empty/dir"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "closed"), 0o755))
	w("closed/inside.txt", 0o644, "in a 0555 directory\n")
	require.NoError(t, os.Chmod(filepath.Join(root, "closed"), 0o555))
	require.NoError(t, os.Symlink("README.md", filepath.Join(root, "link-to-readme")))
	require.NoError(t, os.Symlink("../../README.md", filepath.Join(root, "deep/a/up-link")))
	require.NoError(t, os.Symlink("deep/a", filepath.Join(root, "dir-link")))
	require.NoError(t, os.Symlink("missing-but-inside", filepath.Join(root, "dangling")))
	t.Cleanup(func() { _ = os.Chmod(filepath.Join(root, "closed"), 0o755) })
	return root
}

func skipWindows(t testing.TB) {
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links and permission bits need a Unix file system")
	}
}

// The tree goes up and comes back with the same paths, modes, contents and
// links, empty directories included, on a pool whose file store is flat
// (as measured live) and on one with directories.
func TestDirRoundTrip(t *testing.T) {
	skipWindows(t)
	for _, flat := range []bool{true, false} {
		t.Run(fmt.Sprintf("flat=%v", flat), func(t *testing.T) {
			e := newEmu(t, &sessionstest.Options{Behavior: sessionstest.Behavior{FlatFileStore: flat}})
			s := e.session(t)
			ctx := context.Background()
			src := makeTree(t)
			want, lines := treeDigest(t, src)

			up, err := shell.UploadDir(ctx, s, os.DirFS(src), "work/tree", nil)
			require.NoError(t, err)
			assert.Equal(t, 11, up.Files)
			assert.Equal(t, 4, up.Symlinks)
			assert.Equal(t, 1, up.Parts)

			// The session sees the tree: modes, links and the empty directory.
			out := run(t, s, `cd work/tree && stat -c '%a %F %n' ro.txt bin/build.sh closed empty/dir && readlink deep/a/up-link && cat dir-link/up-link`)
			assert.Equal(t, "444 regular file ro.txt\n755 regular file bin/build.sh\n555 directory closed\n755 directory empty/dir\n../../README.md\n# demo\n", out)
			// Nothing is left behind in the file root.
			assert.NotContains(t, run(t, s, `ls -a "${SHELLPOOL_FILES_ROOT:-/mnt/data}"`), "shellpool-")

			dst := filepath.Join(t.TempDir(), "back")
			down, err := shell.DownloadDir(ctx, s, "work/tree", dst, nil)
			require.NoError(t, err)
			got, gotLines := treeDigest(t, dst)
			require.Equal(t, lines, gotLines)
			assert.Equal(t, want, got)
			assert.Equal(t, 11, down.Files)
			assert.Equal(t, 4, down.Symlinks)
			assert.Equal(t, up.Bytes, down.Bytes)
			assert.NotContains(t, run(t, s, `ls -a "${SHELLPOOL_FILES_ROOT:-/mnt/data}"`), "shellpool-")
			_ = os.Chmod(filepath.Join(dst, "closed"), 0o755)
		})
	}
}

// A tree larger than PartSize goes up in several parts, joined in the
// session; an absolute session path works too.
func TestUploadDirParts(t *testing.T) {
	skipWindows(t)
	e := newEmu(t, nil)
	s := e.session(t)
	src := makeTree(t)
	big := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB
	require.NoError(t, os.WriteFile(filepath.Join(src, "big.bin"), big, 0o644))
	want, _ := treeDigest(t, src)
	dir := strings.TrimSpace(run(t, s, `mktemp -d`))
	e.srv.ResetRequests()
	up, err := shell.UploadDir(context.Background(), s, os.DirFS(src), dir, &shell.UploadDirOptions{PartSize: 100_000})
	require.NoError(t, err)
	assert.Greater(t, up.Parts, 10)
	assert.Equal(t, up.Parts+1, e.dataRequests(), "one upload per part and one execution")
	dst := filepath.Join(t.TempDir(), "back")
	_, err = shell.DownloadDir(context.Background(), s, dir, dst, nil)
	require.NoError(t, err)
	got, _ := treeDigest(t, dst)
	assert.Equal(t, want, got)
	_ = os.Chmod(filepath.Join(dst, "closed"), 0o755)
}

// An fs.FS that is not on disk uploads too, and an empty tree makes an
// empty directory.
func TestUploadDirMapFS(t *testing.T) {
	e := newEmu(t, nil)
	s := e.session(t)
	fsys := fstest.MapFS{
		"a.txt":      {Data: []byte("A"), Mode: 0o640},
		"sub/b.sh":   {Data: []byte("echo b"), Mode: 0o755},
		"sub/link":   {Data: []byte("b.sh"), Mode: fs.ModeSymlink | 0o777},
		"emptydir":   {Mode: fs.ModeDir | 0o700},
		"sub/deeper": {Mode: fs.ModeDir | 0o755},
	}
	_, err := shell.UploadDir(context.Background(), s, fsys, "m", nil)
	require.NoError(t, err)
	assert.Equal(t, "640 a.txt\n700 emptydir\n755 sub/b.sh\nb.sh\nA", run(t, s, `cd m && stat -c '%a %n' a.txt emptydir sub/b.sh && readlink sub/link && cat a.txt`))

	_, err = shell.UploadDir(context.Background(), s, fstest.MapFS{}, "nothing/here", nil)
	require.NoError(t, err)
	assert.Equal(t, "0\n", run(t, s, `ls -A nothing/here | wc -l`))
}

// dotDotFS lists an entry named ".." in its root, as a broken or hostile
// fs.FS could.
type dotDotFS struct{ fstest.MapFS }

func (f dotDotFS) ReadDir(name string) ([]fs.DirEntry, error) {
	ents, err := f.MapFS.ReadDir(name)
	if name == "." {
		info, _ := fs.Stat(f.MapFS, "x")
		ents = append(ents, fs.FileInfoToDirEntry(renamed{info, ".."}))
	}
	return ents, err
}

type renamed struct {
	fs.FileInfo
	name string
}

func (r renamed) Name() string { return r.name }

// Every unsafe entry of a local tree is refused before any request is sent.
func TestUploadDirRefusesUnsafeEntries(t *testing.T) {
	e := newEmu(t, nil)
	s := e.session(t)
	file := &fstest.MapFile{Data: []byte("x"), Mode: 0o644}
	link := func(target string) *fstest.MapFile {
		return &fstest.MapFile{Data: []byte(target), Mode: fs.ModeSymlink | 0o777}
	}
	// Links are made on disk: fstest.MapFS cannot walk links to directories.
	links := func(pairs ...string) fs.FS {
		dir := t.TempDir()
		for i := 0; i < len(pairs); i += 2 {
			p := filepath.Join(dir, pairs[i])
			require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
			require.NoError(t, os.Symlink(pairs[i+1], p))
		}
		return os.DirFS(dir)
	}
	cases := map[string]fs.FS{
		"absolute link":     links("l", "/etc/passwd"),
		"escaping link":     links("sub/l", "../../outside"),
		"escape via links":  links("a/up", "..", "b", "a/up", "c/x", "../b/.."),
		"link loop":         links("l1", "l2/x", "l2", "l1/y"),
		"NUL in name":       fstest.MapFS{"a\x00b": file},
		"device":            fstest.MapFS{"dev": {Mode: fs.ModeDevice | fs.ModeCharDevice | 0o600}},
		"named pipe":        fstest.MapFS{"fifo": {Mode: fs.ModeNamedPipe | 0o600}},
		"socket":            fstest.MapFS{"sock": {Mode: fs.ModeSocket | 0o600}},
		"dot-dot entry":     dotDotFS{fstest.MapFS{"x": file}},
		"NUL in link":       fstest.MapFS{"l": link("a\x00b")},
		"empty link target": fstest.MapFS{"l": link("")},
	}
	for name, fsys := range cases {
		t.Run(name, func(t *testing.T) {
			e.srv.ResetRequests()
			_, err := shell.UploadDir(context.Background(), s, fsys, "dst", nil)
			require.Error(t, err)
			assert.ErrorIs(t, err, shell.ErrUnsafeEntry)
			assert.ErrorIs(t, err, sessions.ErrInvalidArgument)
			var ue *shell.UnsafeEntryError
			require.ErrorAs(t, err, &ue)
			assert.NotEmpty(t, ue.Reason)
			assert.Contains(t, err.Error(), "nothing was transferred")
			assert.Zero(t, e.dataRequests(), "nothing may be sent")
		})
	}
	// The same checks pass a safe link that goes up and comes back in.
	_, err := shell.UploadDir(context.Background(), s, links("a/up", "..", "b", "a/up/a", "c/x", "../b/c"), "dst", nil)
	require.NoError(t, err)

	e.srv.ResetRequests()
	for _, bad := range []string{"", "a\x00b"} {
		_, err := shell.UploadDir(context.Background(), s, fstest.MapFS{}, bad, nil)
		assert.ErrorIs(t, err, sessions.ErrInvalidArgument)
	}
	_, err = shell.UploadDir(context.Background(), s, nil, "d", nil)
	assert.ErrorIs(t, err, sessions.ErrInvalidArgument)
	_, err = shell.UploadDir(context.Background(), nil, fstest.MapFS{}, "d", nil)
	assert.ErrorIs(t, err, sessions.ErrInvalidArgument)
	_, err = shell.UploadDir(context.Background(), s, fstest.MapFS{}, "d", &shell.UploadDirOptions{Timeout: -1})
	assert.ErrorIs(t, err, sessions.ErrInvalidArgument)
	assert.Zero(t, e.dataRequests())
}

// hostileTar serves, as the session's tar, an archive prepared in advance:
// `tar -c -f NAME ...` copies $HOSTILE_ARCHIVE (a file in the session) to
// NAME; anything else runs the real tar.
const hostileTar = `#!/bin/bash
for ((i = 1; i <= $#; i++)); do
  if [ "${!i}" = -c ]; then c=1; fi
  if [ "${!i}" = -f ]; then j=$((i + 1)); out=${!j}; fi
done
if [ -n "$c" ] && [ -e "$SHELLPOOL_FILES_ROOT/hostile.tar" ]; then exec cat "$SHELLPOOL_FILES_ROOT/hostile.tar" > "$out"; fi
exec REALTAR "$@"
`

// goTar builds an archive from headers (content: the header's Size bytes of
// "x").
func goTar(t testing.TB, hs ...*tar.Header) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range hs {
		require.NoError(t, tw.WriteHeader(h))
		if h.Size > 0 {
			_, err := tw.Write(bytes.Repeat([]byte("x"), int(h.Size)))
			require.NoError(t, err)
		}
	}
	require.NoError(t, tw.Close())
	return buf.Bytes()
}

// Archives made in the session that would write outside dst, or make
// devices or pipes, are refused before anything is written locally: some
// come from the session's real tar (absolute names, "..", links out of
// the tree, a named pipe), some are crafted with archive/tar (device files,
// NUL bytes, hard links out) and served by a hostile tar in the session.
func TestDownloadDirRefusesHostileArchives(t *testing.T) {
	skipWindows(t)
	realTar, err := execLookPath("tar")
	require.NoError(t, err)
	bin := binDir(t, nil, map[string]string{"tar": strings.Replace(hostileTar, "REALTAR", realTar, 1)})
	e := newEmu(t, &sessionstest.Options{Scripted: scriptedBash(bin + ":" + os.Getenv("PATH"))})
	s := e.session(t)
	ctx := context.Background()
	run(t, s, `mkdir -p tree && echo ok > tree/ok`)

	// pax record with a NUL in the path: archive/tar cannot write one, so
	// patch a valid archive.
	nulPax := goTar(t, &tar.Header{Name: "a" + strings.Repeat("Q", 120), Size: 1, Mode: 0o644, Format: tar.FormatPAX})
	nulPax = bytes.Replace(nulPax, []byte("aQQQ"), []byte("a\x00QQ"), 1)

	madeInSession := map[string]string{
		"absolute names": `tar -c -P -f hostile.tar "$PWD/tree/ok"`,
		"dot-dot names":  `cd tree && tar -c -P -f ../hostile.tar ../tree/ok`,
		"absolute link":  `mkdir -p h && ln -sfn /etc/passwd h/pw && tar -c -f hostile.tar -C h .`,
		"escaping link":  `mkdir -p h/sub && ln -sfn ../../.. h/sub/up && tar -c -f hostile.tar -C h .`,
		"escape via links": `mkdir -p h/a h/c && ln -sfn .. h/a/up && ln -sfn a/up h/b && ln -sfn ../b/.. h/c/x && ` +
			`tar -c -f hostile.tar -C h .`,
		"named pipe": `mkdir -p h && mkfifo h/fifo && tar -c -f hostile.tar -C h .`,
	}
	crafted := map[string][]byte{
		"char device":        goTar(t, &tar.Header{Name: "./dev", Typeflag: tar.TypeChar, Devmajor: 1, Devminor: 3, Mode: 0o666}),
		"block device":       goTar(t, &tar.Header{Name: "./blk", Typeflag: tar.TypeBlock, Devmajor: 8, Mode: 0o666}),
		"NUL in name":        nulPax,
		"hard link out":      goTar(t, &tar.Header{Name: "./a", Typeflag: tar.TypeLink, Linkname: "../../../etc/passwd"}),
		"hard link absolute": goTar(t, &tar.Header{Name: "./a", Typeflag: tar.TypeLink, Linkname: "/etc/passwd"}),
		"hard link to later": goTar(t, &tar.Header{Name: "./a", Typeflag: tar.TypeLink, Linkname: "b"}, &tar.Header{Name: "./b", Size: 1, Mode: 0o644}),
		"write through link": goTar(t, &tar.Header{Name: "./l", Typeflag: tar.TypeSymlink, Linkname: ".."}, &tar.Header{Name: "./l/escaped", Size: 1, Mode: 0o644}),
		"link loop":          goTar(t, &tar.Header{Name: "./l1", Typeflag: tar.TypeSymlink, Linkname: "l2/x"}, &tar.Header{Name: "./l2", Typeflag: tar.TypeSymlink, Linkname: "l1/y"}),
		"dot-dot after file": goTar(t, &tar.Header{Name: "./ok", Size: 1, Mode: 0o644}, &tar.Header{Name: "./x/../../escaped", Size: 1, Mode: 0o644}),
	}
	check := func(t *testing.T) {
		parent := t.TempDir()
		dst := filepath.Join(parent, "dst")
		_, err := shell.DownloadDir(ctx, s, "tree", dst, nil)
		require.Error(t, err)
		assert.ErrorIs(t, err, shell.ErrUnsafeEntry)
		assert.NotErrorIs(t, err, sessions.ErrInvalidArgument, "the caller's input was fine")
		ents, err := os.ReadDir(parent)
		require.NoError(t, err)
		assert.Empty(t, ents, "nothing may be written, not even dst")
		_, err = os.Lstat(filepath.Join(filepath.Dir(parent), "escaped"))
		assert.True(t, os.IsNotExist(err))
	}
	for name, script := range madeInSession {
		t.Run(name, func(t *testing.T) {
			run(t, s, `rm -rf h hostile.tar && `+script)
			check(t)
		})
	}
	for name, archive := range crafted {
		t.Run(name, func(t *testing.T) {
			run(t, s, `rm -rf h hostile.tar`)
			_, err := s.UploadFile(ctx, "hostile.tar", bytes.NewReader(archive), nil)
			require.NoError(t, err)
			check(t)
		})
	}
	// The real tar is back once the hostile archive is gone.
	run(t, s, `rm -f hostile.tar`)
	_, err = shell.DownloadDir(ctx, s, "tree", filepath.Join(t.TempDir(), "d"), nil)
	require.NoError(t, err)
}

// Even a dst that already holds a link out of it is not written through.
func TestDownloadDirStaysInDst(t *testing.T) {
	skipWindows(t)
	e := newEmu(t, nil)
	s := e.session(t)
	run(t, s, `mkdir -p t/out && echo inside > t/out/f`)
	parent := t.TempDir()
	dst := filepath.Join(parent, "dst")
	outside := filepath.Join(parent, "outside")
	require.NoError(t, os.MkdirAll(outside, 0o755))
	require.NoError(t, os.MkdirAll(dst, 0o755))
	require.NoError(t, os.Symlink(outside, filepath.Join(dst, "out")))
	_, err := shell.DownloadDir(context.Background(), s, "t", dst, nil)
	require.Error(t, err)
	_, err = os.Stat(filepath.Join(outside, "f"))
	assert.True(t, os.IsNotExist(err), "a file was written through a link out of dst")
}

// A session without tar gives ErrNoTar and keeps no archive pieces; a
// missing directory gives ErrDirNotFound.
func TestDirNoTar(t *testing.T) {
	skipWindows(t)
	bin := binDir(t, []string{"cat", "rm", "mkdir", "ls"}, nil)
	e := newEmu(t, &sessionstest.Options{Scripted: scriptedBash(bin)})
	s := e.session(t)
	ctx := context.Background()
	_, err := shell.UploadDir(ctx, s, fstest.MapFS{"a": {Data: []byte("a")}}, "d", nil)
	require.ErrorIs(t, err, shell.ErrNoTar)
	assert.Contains(t, err.Error(), "UploadFile")
	assert.Equal(t, "", run(t, s, `ls`), "the archive's pieces are deleted")
	_, err = shell.DownloadDir(ctx, s, ".", t.TempDir(), nil)
	require.ErrorIs(t, err, shell.ErrNoTar)

	e2 := newEmu(t, nil)
	s2 := e2.session(t)
	dst := filepath.Join(t.TempDir(), "d")
	_, err = shell.DownloadDir(ctx, s2, "no/such/dir", dst, nil)
	require.ErrorIs(t, err, shell.ErrDirNotFound)
	_, err = os.Stat(dst)
	assert.True(t, os.IsNotExist(err))
}

// noLinkFS lists a symbolic link but cannot read it.
type noLinkFS struct{ fs.FS }

// An fs.FS that lists a link it cannot read fails before anything is sent.
func TestUploadDirUnreadableLink(t *testing.T) {
	skipWindows(t)
	e := newEmu(t, nil)
	s := e.session(t)
	dir := t.TempDir()
	require.NoError(t, os.Symlink("x", filepath.Join(dir, "l")))
	e.srv.ResetRequests()
	_, err := shell.UploadDir(context.Background(), s, noLinkFS{os.DirFS(dir)}, "d", nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "read the tree")
	assert.Zero(t, e.dataRequests())
}
