package shell_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"testing/fstest"
	"time"

	"github.com/shellpool/shellpool/sessions"
	"github.com/shellpool/shellpool/sessions/sessionstest"
	"github.com/shellpool/shellpool/sessions/shell"
)

// exampleSession starts the emulator and returns a session of its pool.
func exampleSession() (*sessions.SessionClient, func()) {
	srv := sessionstest.NewServer(nil)
	client, err := sessions.NewClient(srv.PoolEndpoint(), srv.Credential(), &sessions.ClientOptions{ClientOptions: srv.ClientOptions()})
	if err != nil {
		log.Fatal(err)
	}
	s := client.NewSessionClient(sessions.NewSessionID())
	return s, func() { _ = s.Close(context.Background()); srv.Close() }
}

// A shell keeps its state between commands; a timeout stops the command,
// not the shell.
func ExampleOpen() {
	s, done := exampleSession()
	defer done()
	ctx := context.Background()
	sh, err := shell.Open(ctx, s, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer sh.Close(ctx)

	if _, err := sh.Exec(ctx, `cd /tmp; export X=1; f() { echo f; }`, nil); err != nil {
		log.Fatal(err)
	}
	res, err := sh.Exec(ctx, `pwd; echo "$X"; f`, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s", res.Stdout)

	res, err = sh.Exec(ctx, `while :; do :; done`, &shell.ExecOptions{Timeout: time.Second})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("exit code:", res.ExitCode, "timed out:", res.TimedOut)
	res, err = sh.Exec(ctx, `echo "still in $PWD"`, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s", res.Stdout)
	// Output:
	// /tmp
	// 1
	// f
	// exit code: 124 timed out: true
	// still in /tmp
}

// A tree goes up in one archive and comes back.
func ExampleUploadDir() {
	s, done := exampleSession()
	defer done()
	ctx := context.Background()
	tree := fstest.MapFS{
		"src/main.sh": {Data: []byte("echo built > out/app.txt\n"), Mode: 0o755},
		"out":         {Mode: 0o755 | os.ModeDir},
	}
	up, err := shell.UploadDir(ctx, s, tree, "project", nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("uploaded", up.Files, "file(s),", up.Dirs, "directories")
	if _, err := s.Execute(ctx, sessions.ShellCommand("cd project && bash src/main.sh"), nil); err != nil {
		log.Fatal(err)
	}
	dst, err := os.MkdirTemp("", "example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dst)
	if _, err := shell.DownloadDir(ctx, s, "project/out", dst, nil); err != nil {
		log.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dst, "app.txt"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(string(b))
	// Output:
	// uploaded 1 file(s), 2 directories
	// built
}
