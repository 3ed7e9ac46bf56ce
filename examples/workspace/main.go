// Command workspace goes beyond the tutorial: it uploads a small repository into
// a session in one archive (shell.UploadDir), builds and tests it in a
// persistent shell whose working directory, variables and functions carry
// over from one command to the next (shell.Open, Shell.Exec), streams the
// test output as it is written, downloads the build output (shell.DownloadDir),
// and deletes the session. The signed-in principal needs the Session
// Executor role on the pool (examples/assign-role -assignee me).
//
// Against Azure, after the tutorial's steps:
//
//	AZURE_SUBSCRIPTION_ID=<id> go run ./examples/workspace
//
// or against the local emulator (see emulator.go, which you leave out when
// copying this program):
//
//	go run ./examples/workspace -emulator
//
// -src names the repository to upload; by default the program writes a
// tiny one (a bash "project" with a build and a test script) to a
// temporary directory.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/shellpool/shellpool/identity"
	"github.com/shellpool/shellpool/pool"
	"github.com/shellpool/shellpool/sessions"
	"github.com/shellpool/shellpool/sessions/shell"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, loadSettings()); err != nil {
		fmt.Fprintln(os.Stderr, "workspace:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, s settings) error {
	opts, stop, err := connect(&s) // Azure, or the emulator with -emulator (emulator.go)
	if err != nil {
		return err
	}
	defer stop()
	cred, err := identity.NewCredential(nil) // az login or a managed identity
	if err != nil {
		return err
	}
	armOpts := arm.ClientOptions{ClientOptions: opts}
	armOpts.APIVersion = s.armAPIVersion // azcore's api-version knob: Microsoft.App's
	pools, err := pool.NewClient(s.subscription, cred, &pool.ClientOptions{ClientOptions: armOpts})
	if err != nil {
		return err
	}
	p, err := pools.Get(ctx, s.group, s.pool, nil)
	if err != nil {
		return err
	}
	dataOpts := opts // the data-plane api-version is azcore's APIVersion option
	dataOpts.APIVersion = s.sessionsAPIVersion
	client, err := sessions.NewClient(p.Endpoint(), cred, &sessions.ClientOptions{ClientOptions: dataOpts})
	if err != nil {
		return err
	}
	session := client.NewSessionClient(sessions.NewSessionID())
	defer session.Close(context.WithoutCancel(ctx)) // frees the session's place in the pool

	src := s.src
	if src == "" {
		if src, err = writeDemoRepo(); err != nil {
			return err
		}
		defer os.RemoveAll(src)
	}
	// The whole tree goes up as one archive: a few requests, not one per file.
	up, err := shell.UploadDir(ctx, session, os.DirFS(src), "repo", nil)
	if err != nil {
		return err
	}
	fmt.Printf("Uploaded %d files in %d directories (%d bytes) in %d upload(s)\n", up.Files, up.Dirs, up.Bytes, up.Parts)

	sh, err := shell.Open(ctx, session, &shell.OpenOptions{Dir: "repo"})
	if err != nil {
		return err
	}
	defer sh.Close(context.WithoutCancel(ctx))

	// State carries over: the variable and the function of the first call
	// are there in the next ones, and so is the working directory.
	steps := []string{
		`export BUILD_MODE=release; log() { echo "[$BUILD_MODE] $*"; }`,
		`log building; ./build.sh`,
		`cd out && log "built: $(ls)"`,
	}
	for _, step := range steps {
		res, err := sh.Exec(ctx, step, &shell.ExecOptions{Timeout: 5 * time.Minute})
		if err != nil {
			return err
		}
		fmt.Print(string(res.Stdout))
		if res.ExitCode != 0 {
			return fmt.Errorf("%q exited with %d: %s", step, res.ExitCode, res.Stderr)
		}
	}
	// The tests' output is streamed to this program's stdout as it comes.
	res, err := sh.Exec(ctx, `cd .. && ./test.sh`, &shell.ExecOptions{Stdout: os.Stdout, Stderr: os.Stderr, Timeout: 5 * time.Minute})
	if err != nil {
		return err
	}
	fmt.Println("Tests exit code:", res.ExitCode)

	dst, err := os.MkdirTemp("", "shellpool-out-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dst)
	if _, err := shell.DownloadDir(ctx, session, "repo/out", dst, nil); err != nil {
		return err
	}
	err = filepath.WalkDir(dst, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dst, path)
		fmt.Printf("Downloaded out/%s %v %d bytes\n", filepath.ToSlash(rel), info.Mode(), info.Size())
		return nil
	})
	if err != nil {
		return err
	}
	if err := sh.Close(ctx); err != nil {
		return err
	}
	return session.Close(ctx)
}

// writeDemoRepo writes a tiny repository: a library, a build script that
// bundles it into an executable, and a test script.
func writeDemoRepo() (string, error) {
	dir, err := os.MkdirTemp("", "shellpool-repo-")
	if err != nil {
		return "", err
	}
	files := []struct {
		name    string
		perm    os.FileMode
		content string
	}{
		{"src/greet.sh", 0o644, "greet() { echo \"hello, ${1:-nobody}\"; }\n"},
		{"src/main.sh", 0o644, "greet \"$@\"\n"},
		{"build.sh", 0o755, "#!/bin/bash\nset -e\nmkdir -p out\n{ echo '#!/bin/bash'; cat src/greet.sh src/main.sh; } > out/greet\nchmod 755 out/greet\n"},
		{"test.sh", 0o755, "#!/bin/bash\nfail=0\nfor name in world Azure; do\n  got=$(out/greet \"$name\")\n  if [ \"$got\" = \"hello, $name\" ]; then echo \"PASS greet $name\"; else echo \"FAIL greet $name: $got\"; fail=1; fi\ndone\nexit $fail\n"},
	}
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(p, []byte(f.content), f.perm); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// connect returns the client options for Azure and a function to call when
// done; without a subscription it refuses to run. The examples' emulator.go,
// which you leave out when you copy this program, replaces it to run against
// the local emulator when asked (-emulator).
var connect = func(s *settings) (opts azcore.ClientOptions, stop func(), err error) {
	if s.subscription == "" {
		return opts, nil, errors.New("set AZURE_SUBSCRIPTION_ID (or -subscription) to use Azure")
	}
	return opts, func() {}, nil
}

// settings are the tutorial's variables, from flags or environment variables.
type settings struct {
	subscription, group, pool, location string
	armAPIVersion, sessionsAPIVersion   string
	src                                 string
}

func loadSettings() settings {
	var s settings
	flag.StringVar(&s.subscription, "subscription", os.Getenv("AZURE_SUBSCRIPTION_ID"), "Azure subscription ID ($AZURE_SUBSCRIPTION_ID)")
	flag.StringVar(&s.group, "resource-group", env("SHELLPOOL_RESOURCE_GROUP", "my-shell-session-rg"), "resource group ($SHELLPOOL_RESOURCE_GROUP)")
	flag.StringVar(&s.pool, "pool", env("SHELLPOOL_POOL", "myshellpool"), "session pool name ($SHELLPOOL_POOL)")
	flag.StringVar(&s.location, "location", env("SHELLPOOL_LOCATION", "northcentralus"), "Azure region ($SHELLPOOL_LOCATION)")
	flag.StringVar(&s.armAPIVersion, "arm-api-version", env("SHELLPOOL_ARM_API_VERSION", pool.DefaultARMAPIVersion), "Microsoft.App (Azure Resource Manager) api-version ($SHELLPOOL_ARM_API_VERSION)")
	flag.StringVar(&s.sessionsAPIVersion, "sessions-api-version", env("SHELLPOOL_SESSIONS_API_VERSION", sessions.DefaultDataPlaneAPIVersion), "sessions data-plane api-version ($SHELLPOOL_SESSIONS_API_VERSION)")
	flag.StringVar(&s.src, "src", "", "local repository to upload (default: a tiny demo repository)")
	flag.Parse()
	return s
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
