package agent_test

import (
	"context"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/shellpool/shellpool/sessions/agent"
)

// fakeRun is what the fake shell does for one script.
type fakeRun struct {
	stdout, stderr string
	res            agent.ExecResult
	err            error
}

// fakeSandbox is an in-memory agent.Sandbox: files in a map, and scripts
// answered from a table. It counts every call, so tests can assert that bad
// input sent nothing.
type fakeSandbox struct {
	mu       sync.Mutex
	files    map[string][]byte
	runs     map[string]fakeRun
	calls    int
	execs    []agent.ExecRequest
	restarts int
	readErr  error // when set, ReadFile fails with it
	writeErr error // when set, WriteFile fails with it
}

func newFake() *fakeSandbox {
	return &fakeSandbox{files: map[string][]byte{}, runs: map[string]fakeRun{}}
}

func (f *fakeSandbox) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func (f *fakeSandbox) Exec(ctx context.Context, req agent.ExecRequest) (agent.ExecResult, error) {
	f.mu.Lock()
	f.calls++
	f.execs = append(f.execs, req)
	r, ok := f.runs[req.Script]
	f.mu.Unlock()
	if !ok {
		_, _ = fmt.Fprintf(req.Stderr, "bash: %s: command not found\n", req.Script)
		return agent.ExecResult{ExitCode: 127}, nil
	}
	_, _ = io.WriteString(req.Stdout, r.stdout)
	_, _ = io.WriteString(req.Stderr, r.stderr)
	return r.res, r.err
}

func (f *fakeSandbox) Restart(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.restarts++
	return nil
}

func (f *fakeSandbox) isDir(p string) bool {
	for name := range f.files {
		if strings.HasPrefix(name, p+"/") {
			return true
		}
	}
	return p == "/mnt/data"
}

func (f *fakeSandbox) ReadFile(ctx context.Context, p string, limit int64) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.readErr != nil {
		return nil, f.readErr
	}
	data, ok := f.files[p]
	switch {
	case ok && int64(len(data)) > limit:
		return nil, fmt.Errorf("%s: %w", p, agent.ErrFileTooLarge)
	case ok:
		return append([]byte(nil), data...), nil
	case f.isDir(p):
		return nil, fmt.Errorf("%s: %w", p, agent.ErrIsDir)
	}
	return nil, fmt.Errorf("%s: %w", p, agent.ErrNotExist)
}

func (f *fakeSandbox) WriteFile(ctx context.Context, p string, data []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.writeErr != nil {
		return f.writeErr
	}
	if f.isDir(p) {
		return fmt.Errorf("%s: %w", p, agent.ErrIsDir)
	}
	f.files[p] = append([]byte(nil), data...)
	return nil
}

func (f *fakeSandbox) ListDir(ctx context.Context, p string, depth int) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if !f.isDir(p) {
		return nil, fmt.Errorf("%s: %w", p, agent.ErrNotExist)
	}
	seen := map[string]bool{}
	for name := range f.files {
		rel, ok := strings.CutPrefix(name, p+"/")
		if !ok {
			continue
		}
		parts := strings.Split(rel, "/")
		for i := 1; i <= len(parts) && i <= depth; i++ {
			e := path.Join(parts[:i]...)
			if i < len(parts) {
				e += "/"
			}
			seen[e] = true
		}
	}
	var out []string
	for e := range seen {
		out = append(out, e)
	}
	sort.Strings(out)
	return out, nil
}

func (f *fakeSandbox) file(p string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return string(f.files[p])
}
