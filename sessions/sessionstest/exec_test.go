package sessionstest

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExecuteDialects(t *testing.T) {
	t.Parallel()
	s := setup(t, roomy())
	c := newRaw(t, s)
	cases := []struct {
		name     string
		body     map[string]any
		stdout   string
		execType string
	}{
		{"shellCommand", map[string]any{"shellCommand": "echo hi; echo there", "timeoutInSeconds": 10}, "hi\nthere\n", "Synchronous"},
		{"shellCommand with stdin (spec example)", map[string]any{
			"codeInputType": "Inline", "executionType": "Synchronous", "stdin": "testinputlineline",
			"shellCommand":           "read LINE;first_input=\"$LINE\";echo first_input:$first_input",
			"outputStreamsMaxLength": 4096, "timeoutInSeconds": 600,
		}, "first_input:testinputlineline\n", "Synchronous"},
		{"execCommandAndArgs", map[string]any{"execCommandAndArgs": []string{"printf", "%s-%s", "a b", "c"}, "timeoutInSeconds": 10}, "a b-c", "Synchronous"},
		{"tutorial command array", map[string]any{
			"codeInputType": "inline", "executionType": "synchronous",
			"command": []string{"/bin/bash", "-c", "echo 'hello world'; echo 'hi'"}, "timeoutInSeconds": 600,
		}, "hello world\nhi\n", "Synchronous"},
		{"command as a string", map[string]any{"command": "echo str"}, "str\n", "Synchronous"},
		{"argv with stdin", map[string]any{"execCommandAndArgs": []string{"cat"}, "stdin": "piped"}, "piped", "Synchronous"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sid := newSID()
			r := c.exec(sid, tc.body, map[string]string{"operation-id": "op-" + strconv.Itoa(len(tc.name))})
			require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
			m := r.json(t)
			assert.Equal(t, tc.stdout, stdout(m))
			assert.Equal(t, "0", m["status"])
			assert.Equal(t, sid, m["identifier"])
			assert.Equal(t, tc.execType, m["executionType"])
			assert.Equal(t, m["id"], r.header.Get("operation-id"))
			loc := r.header.Get("Operation-Location")
			assert.True(t, strings.HasPrefix(loc, s.PoolEndpoint()+"/executions/"), "Operation-Location %q", loc)
			assert.Contains(t, loc, "api-version="+apiVersion)
			res := m["result"].(map[string]any)
			assert.Contains(t, res, "executionTimeInMilliseconds")
			assert.Contains(t, res, "stderr")
		})
	}
}

func TestExecuteExitCodeAndStderr(t *testing.T) {
	t.Parallel()
	s := setup(t, nil)
	m := newRaw(t, s).sh(newSID(), "echo hello; echo oops >&2; exit 3")
	assert.Equal(t, "3", m["status"])
	assert.Equal(t, "hello\n", stdout(m))
	assert.Equal(t, "oops\n", stderr(m))
	assert.NotContains(t, m, "error")
}

func TestExecuteRejectsBadBodies(t *testing.T) {
	t.Parallel()
	s := setup(t, roomy())
	c := newRaw(t, s)
	cases := []struct {
		name string
		body string
		want string // part of the message
	}{
		{"empty", "", "empty"},
		{"not JSON", "{", "not valid JSON"},
		{"no command", `{"timeoutInSeconds":5}`, "no command"},
		{"two commands", `{"shellCommand":"ls","execCommandAndArgs":["ls"]}`, "exactly one"},
		{"empty argv", `{"execCommandAndArgs":[]}`, "empty"},
		{"blank script", `{"shellCommand":"  "}`, "empty"},
		{"negative timeout", `{"shellCommand":"ls","timeoutInSeconds":-1}`, "timeoutInSeconds"},
		{"bad executionType", `{"shellCommand":"ls","executionType":"later"}`, "executionType"},
		{"bad codeInputType", `{"shellCommand":"ls","codeInputType":"InlineBase64"}`, "codeInputType"},
		{"command of numbers", `{"command":[1,2]}`, "command must be"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := c.do(http.MethodPost, "/executions", newSID(), nil, strings.NewReader(tc.body), map[string]string{"Content-Type": "application/json"})
			require.Equal(t, http.StatusBadRequest, r.status, "body: %s", r.body)
			assert.Equal(t, "InvalidRequest", r.errorCode(t))
			assert.Equal(t, "InvalidRequest", r.header.Get("x-ms-error-code"))
			assert.Contains(t, r.errorMessage(t), tc.want)
		})
	}
	assert.Equal(t, 0, s.SessionCount(DefaultPoolName), "a refused request must not allocate a session")
}

func TestRejectTutorialDialectRefusesCodeInputTypeOnShellPools(t *testing.T) {
	t.Parallel()
	strict := newRaw(t, setup(t, &Options{Behavior: Behavior{RejectTutorialDialect: true}}))
	lenient := newRaw(t, setup(t, nil))
	tutorial := map[string]any{"codeInputType": "inline", "executionType": "synchronous", "shellCommand": "echo x"}
	minimal := map[string]any{"shellCommand": "echo x", "timeoutInSeconds": 5}

	r := strict.exec(newSID(), tutorial, nil)
	require.Equal(t, http.StatusBadRequest, r.status)
	assert.Equal(t, "InvalidRequest", r.errorCode(t))
	assert.Contains(t, r.errorMessage(t), "codeInputType")

	assert.Equal(t, http.StatusOK, strict.exec(newSID(), minimal, nil).status)
	assert.Equal(t, http.StatusOK, lenient.exec(newSID(), tutorial, nil).status)
}

func TestEnvironmentIsMinimalAndRootedInSessionDir(t *testing.T) {
	needUnix(t)
	// Not parallel: it sets a host environment variable.
	t.Setenv("SESSIONSTEST_HOST_SECRET", "do-not-leak")
	s := setup(t, nil)
	c := newRaw(t, s)
	sid := newSID()
	m := c.sh(sid, "env | sort; echo cwd=$(pwd)")
	dir, ok := s.SessionDir(DefaultPoolName, sid)
	require.True(t, ok)
	if !s.iso.Sandboxed {
		var err error
		dir, err = filepath.EvalSymlinks(dir)
		require.NoError(t, err)
	}
	out := stdout(m)
	assert.NotContains(t, out, "SESSIONSTEST_HOST_SECRET")
	assert.NotContains(t, out, "do-not-leak")
	assert.Contains(t, out, "PATH="+sessionPATH+"\n")
	assert.Contains(t, out, "LANG=C.UTF-8\n")
	assert.Contains(t, out, "TERM=dumb\n")
	if s.iso.Sandboxed {
		// /mnt/data is real: nothing needs to name it.
		assert.Contains(t, out, "HOME=/root\n")
		assert.NotContains(t, out, "SESSIONSTEST_MARK=")
		assert.NotContains(t, out, "SHELLPOOL_FILES_ROOT=")
		assert.Contains(t, out, "cwd=/mnt/data\n")
	} else {
		assert.Contains(t, out, "HOME=")
		assert.Contains(t, out, "SESSIONSTEST_MARK=")
		assert.Regexp(t, `(?m)^SHELLPOOL_FILES_ROOT=.+$`, out, "the files root is named for the Run layer")
		assert.Contains(t, out, "cwd="+dir+"\n")
	}

	// Files a command writes are in the session's directory.
	c.sh(sid, "echo data > made.txt")
	b, err := os.ReadFile(filepath.Join(dir, "made.txt"))
	require.NoError(t, err)
	assert.Equal(t, "data\n", string(b))
}

func TestTimeoutKillsTheWholeProcessGroup(t *testing.T) {
	needUnix(t)
	t.Parallel()
	s := setup(t, nil)
	c := newRaw(t, s)
	sid := newSID()
	start := time.Now()
	r := c.exec(sid, map[string]any{
		"shellCommand":     "sleep 30 & echo $! > child.pid; echo started; sleep 30",
		"timeoutInSeconds": 1,
	}, nil)
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	assert.GreaterOrEqual(t, time.Since(start), time.Second, "it ran until its 1 s timeout (status -1 below says it was killed then, not after the 30 s sleep)")
	m := r.json(t)
	assert.Equal(t, "-1", m["status"])
	assert.Equal(t, "started\n", stdout(m), "output so far is kept")
	e := m["error"].(map[string]any)
	assert.Equal(t, "ExecutionTimeout", e["code"])
	assert.NotEmpty(t, e["message"])

	dir, ok := s.SessionDir(DefaultPoolName, sid)
	require.True(t, ok)
	b, err := os.ReadFile(filepath.Join(dir, "child.pid"))
	require.NoError(t, err)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	require.NoError(t, err)
	if s.iso.Sandboxed {
		// Its host pid, if it still runs.
		pid = s.HostPID(DefaultPoolName, sid, pid)
		m := c.sh(sid, "kill -0 $(cat child.pid) 2>/dev/null && echo alive || echo dead")
		assert.Equal(t, "dead\n", stdout(m), "the background child survived the timeout")
	}
	assert.True(t, pid == 0 || eventually(2*time.Minute, func() bool { return !processAlive(pid) }), "background child %d survived the timeout", pid)
}

func TestTimeoutDefaultsAndCap(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []time.Duration
	s := setup(t, &Options{MaxTimeout: 30 * time.Second, Scripted: func(_ context.Context, r ExecRequest) ExecResult {
		mu.Lock()
		got = append(got, r.Timeout)
		mu.Unlock()
		return ExecResult{}
	}})
	c := newRaw(t, s)
	c.exec(newSID(), map[string]any{"shellCommand": "x", "timeoutInSeconds": 600}, nil)
	c.exec(newSID(), map[string]any{"shellCommand": "x", "timeoutInSeconds": 7}, nil)
	c.exec(newSID(), map[string]any{"shellCommand": "x"}, nil)
	s2 := setup(t, &Options{Scripted: func(_ context.Context, r ExecRequest) ExecResult {
		mu.Lock()
		got = append(got, r.Timeout)
		mu.Unlock()
		return ExecResult{}
	}})
	newRaw(t, s2).exec(newSID(), map[string]any{"shellCommand": "x"}, nil)
	assert.Equal(t, []time.Duration{30 * time.Second, 7 * time.Second, 30 * time.Second, DefaultExecutionTimeout}, got)
}

func TestOutputIsCappedPerStreamInBytes(t *testing.T) {
	needUnix(t)
	t.Parallel()
	s := setup(t, roomy())
	c := newRaw(t, s)
	cases := []struct {
		name    string
		body    map[string]any
		wantOut string // the expected stdout, or "" to check lengths only
		outLen  int
		errLen  int
	}{
		{"default 4096 bytes", map[string]any{"shellCommand": "head -c 100000 /dev/zero | tr '\\0' a; head -c 5000 /dev/zero | tr '\\0' b >&2"}, "", 4096, 4096},
		{"requested 100", map[string]any{"shellCommand": "yes | head -c 1000000", "outputStreamsMaxLength": 100}, "", 100, 0},
		{"short output untouched", map[string]any{"shellCommand": "printf abc", "outputStreamsMaxLength": 100}, "abc", 3, 0},
		// 5,000 × é is 10,000 bytes: the live cut is at 4,096 bytes, 2,048 characters.
		{"bytes, not characters", map[string]any{"shellCommand": "for i in $(seq 5000); do printf 'é'; done"}, strings.Repeat("é", 2048), 4096, 0},
		// A character split by the cut arrives as U+FFFD.
		{"split character becomes U+FFFD", map[string]any{"shellCommand": "printf 'aéé'", "outputStreamsMaxLength": 4}, "aé\uFFFD", len("aé\uFFFD"), 0},
		{"split 4-byte character", map[string]any{"shellCommand": "printf 'ab😀'", "outputStreamsMaxLength": 5}, "ab\uFFFD", len("ab\uFFFD"), 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := c.exec(newSID(), tc.body, nil)
			require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
			m := r.json(t)
			assert.Equal(t, "0", m["status"], "the cut is silent: status stays the exit code")
			assert.NotContains(t, string(r.body), "truncat", "nothing in the answer marks the cut")
			if tc.wantOut != "" {
				assert.Equal(t, tc.wantOut, stdout(m))
			}
			assert.Len(t, stdout(m), tc.outLen)
			assert.Len(t, stderr(m), tc.errLen)
		})
	}
}

func TestUncappedOutputIsIdealised(t *testing.T) {
	needUnix(t)
	t.Parallel()
	s := setup(t, &Options{Behavior: Behavior{UncappedOutput: true}})
	c := newRaw(t, s)
	m := c.sh(newSID(), "head -c 100000 /dev/zero | tr '\\0' a")
	assert.Len(t, stdout(m), 100000, "no 4,096-byte cap")
	m = c.exec(newSID(), map[string]any{"shellCommand": "head -c 100000 /dev/zero | tr '\\0' a", "outputStreamsMaxLength": 10}, nil).json(t)
	assert.Len(t, stdout(m), 10, "a requested cap still applies")
}

func TestCutBytes(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "abc", cutBytes("abc", 5))
	assert.Equal(t, "ab", cutBytes("abc", 2))
	assert.Equal(t, "a\uFFFD", cutBytes("aé", 2))
	assert.Equal(t, "\uFFFD", cutBytes("€", 2))
	assert.Equal(t, "\uFFFD", cutBytes("😀", 3))
	assert.Equal(t, "😀", cutBytes("😀x", 4))
}

func TestCommandStartError(t *testing.T) {
	t.Parallel()
	s := setup(t, nil)
	m := newRaw(t, s).exec(newSID(), map[string]any{"execCommandAndArgs": []string{"no-such-command-sessionstest"}}, nil).json(t)
	assert.Equal(t, "-1", m["status"])
	assert.Equal(t, "CommandStartError", m["error"].(map[string]any)["code"])
	assert.Contains(t, m["error"].(map[string]any)["message"], "no-such-command-sessionstest")
}

func TestSameOperationIDRunsOnce(t *testing.T) {
	t.Parallel()
	s := setup(t, nil)
	c := newRaw(t, s)
	sid := newSID()
	body := map[string]any{"shellCommand": "sleep 0.2; echo run >> runs.txt; wc -l < runs.txt"}
	hdr := func() map[string]string {
		return map[string]string{"operation-id": "11111111-2222-3333-4444-555555555555"}
	}

	var wg sync.WaitGroup
	replies := make([]reply, 4)
	first := c.exec(sid, body, hdr()) // creates the session
	for i := range replies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			replies[i] = c.exec(sid, body, hdr())
		}()
	}
	wg.Wait()
	require.Equal(t, http.StatusOK, first.status)
	for _, r := range replies {
		require.Equal(t, http.StatusOK, r.status)
		assert.Equal(t, string(first.body), string(r.body), "a repeat returns the first result")
	}
	assert.Equal(t, "1\n", stdout(first.json(t)))
	m := c.sh(sid, "cat runs.txt")
	assert.Equal(t, "run\n", stdout(m), "the command ran exactly once")

	// Another operation-id runs again.
	r := c.exec(sid, body, map[string]string{"operation-id": "other"})
	assert.Equal(t, "2\n", stdout(r.json(t)))
}

func TestAsynchronousExecution(t *testing.T) {
	t.Parallel()
	s := setup(t, nil)
	c := newRaw(t, s)
	sid := newSID()
	r := c.exec(sid, map[string]any{"executionType": "Asynchronous", "codeInputType": "Inline", "shellCommand": "sleep 0.3; echo done; exit 4"}, nil)
	require.Equal(t, http.StatusAccepted, r.status, "body: %s", r.body)
	m := r.json(t)
	assert.Equal(t, "Running", m["status"])
	assert.Equal(t, "Asynchronous", m["executionType"])
	id := m["id"].(string)
	require.NotEmpty(t, id)

	var last map[string]any
	ok := eventually(2*time.Minute, func() bool {
		g := c.do(http.MethodGet, "/executions/"+id, sid, nil, nil, nil)
		if g.status != http.StatusOK {
			return false
		}
		last = g.json(t)
		return last["status"] != "Running"
	})
	require.True(t, ok, "execution never finished")
	assert.Equal(t, "4", last["status"])
	assert.Equal(t, "done\n", stdout(last))

	g := c.do(http.MethodGet, "/executions/nope", sid, nil, nil, nil)
	assert.Equal(t, http.StatusNotFound, g.status)
	assert.Equal(t, "ExecutionNotFound", g.errorCode(t))
	g = c.do(http.MethodGet, "/executions/"+id, newSID(), nil, nil, nil)
	assert.Equal(t, "ExecutionNotFound", g.errorCode(t))
}

func TestScriptedMode(t *testing.T) {
	t.Parallel()
	var got ExecRequest
	var mu sync.Mutex
	s := setup(t, &Options{Scripted: func(ctx context.Context, r ExecRequest) ExecResult {
		mu.Lock()
		got = r
		mu.Unlock()
		return ExecResult{ExitCode: 7, Stdout: "scripted " + strings.Join(r.Args, ","), Stderr: strings.Repeat("e", 50)}
	}})
	sid := newSID()
	r := newRaw(t, s).exec(sid, map[string]any{"execCommandAndArgs": []string{"ls", "-a"}, "stdin": "in", "timeoutInSeconds": 9, "outputStreamsMaxLength": 20}, nil)
	require.Equal(t, http.StatusOK, r.status)
	m := r.json(t)
	assert.Equal(t, "7", m["status"])
	assert.Equal(t, "scripted ls,-a", stdout(m))
	assert.Equal(t, strings.Repeat("e", 20), stderr(m), "scripted output is capped too")
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, sid, got.SessionID)
	assert.Equal(t, DefaultPoolName, got.Pool)
	assert.Equal(t, "in", got.Stdin)
	assert.Equal(t, 9*time.Second, got.Timeout)
	assert.Equal(t, 20, got.OutputStreamsMaxLength)
	assert.Equal(t, m["id"], got.ExecutionID)
	assert.DirExists(t, got.Dir)
	assert.Equal(t, 0, s.ProcessCount())
}

func TestScriptedTimeout(t *testing.T) {
	t.Parallel()
	s := setup(t, &Options{Scripted: func(ctx context.Context, r ExecRequest) ExecResult {
		<-ctx.Done()
		return ExecResult{Stdout: "partial"}
	}})
	m := newRaw(t, s).exec(newSID(), map[string]any{"shellCommand": "x", "timeoutInSeconds": 1}, nil).json(t)
	assert.Equal(t, "-1", m["status"])
	assert.Equal(t, "partial", stdout(m))
	assert.Equal(t, "ExecutionTimeout", m["error"].(map[string]any)["code"])
}

func TestNonShellPoolsDoNotExecute(t *testing.T) {
	t.Parallel()
	s := setup(t, &Options{Pools: []Pool{{Name: "pypool", ContainerType: "PythonLTS"}}})
	r := newRaw(t, s).exec(newSID(), map[string]any{"shellCommand": "echo"}, nil)
	assert.Equal(t, http.StatusNotImplemented, r.status)
	assert.Contains(t, r.errorMessage(t), "PythonLTS")
}

func TestSpecExamples(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"CodeExecution_Execute_ShellCommand.json", "CodeExecution_Execute_ShellExecCommandAndArgs.json"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile(filepath.Join("testdata", name))
			require.NoError(t, err)
			var ex struct {
				Parameters struct {
					Request map[string]any `json:"codeExecutionRequest"`
				}
				Responses map[string]struct {
					Body map[string]any
				}
			}
			require.NoError(t, json.Unmarshal(b, &ex))
			s := setup(t, nil)
			c := newRaw(t, s)
			sid := newSID()
			// The argv example lists a file uploaded earlier.
			require.Equal(t, http.StatusOK, c.upload(sid, "", "previouslyuploadedfile.txt", []byte("x")).status)
			r := c.exec(sid, ex.Parameters.Request, nil)
			require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
			want := ex.Responses["200"].Body
			got := r.json(t)
			assert.Equal(t, want["status"], got["status"])
			assert.Equal(t, want["result"].(map[string]any)["stdout"], stdout(got))
			assert.Equal(t, want["result"].(map[string]any)["stderr"], stderr(got))
			for k := range want {
				assert.Contains(t, got, k)
			}
		})
	}
}

// TestSessionForgetsOldestFinishedExecutions bounds a session's memory: past
// MaxRememberedExecutions, the oldest finished executions are forgotten and
// running ones are kept.
func TestSessionForgetsOldestFinishedExecutions(t *testing.T) {
	t.Parallel()
	ss := &session{execs: map[string]*execution{}}
	running := &execution{id: "running", done: make(chan struct{})}
	ss.rememberLocked(running)
	for i := range MaxRememberedExecutions + 10 {
		e := &execution{id: strconv.Itoa(i), done: make(chan struct{})}
		close(e.done)
		ss.rememberLocked(e)
	}
	assert.Len(t, ss.execs, MaxRememberedExecutions)
	assert.Len(t, ss.order, MaxRememberedExecutions)
	assert.Contains(t, ss.execs, "running", "a running execution is never forgotten")
	assert.NotContains(t, ss.execs, "10", "the oldest finished ones go first")
	assert.Contains(t, ss.execs, "11")
	assert.Contains(t, ss.execs, strconv.Itoa(MaxRememberedExecutions+9), "the newest are kept")
}

// TestRunawayOutputDoesNotFillTheDisk: a command that prints without end
// until its timeout leaves an output file bounded near the cap, and the
// answer holds the first bytes.
func TestRunawayOutputDoesNotFillTheDisk(t *testing.T) {
	t.Parallel()
	needUnix(t)
	dir := t.TempDir()
	s := setup(t, &Options{Dir: dir})
	c := newRaw(t, s)
	sid := newSID()
	r := c.exec(sid, map[string]any{"shellCommand": "yes", "timeoutInSeconds": 3, "executionType": "Asynchronous"}, nil)
	require.Equal(t, http.StatusAccepted, r.status)
	var most int64
	for {
		for _, fi := range streamFiles(s) {
			most = max(most, allocatedBytes(fi))
		}
		g := c.do(http.MethodGet, "/executions/"+r.header.Get("operation-id"), sid, nil, nil, nil)
		if m := g.json(t); m["status"] != "Running" {
			assert.Equal(t, "-1", m["status"])
			assert.Equal(t, strings.Repeat("y\n", 2048), stdout(m))
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	// yes writes hundreds of MB/s; the files stay within the slack (plus
	// what 50 ms of writing adds).
	assert.Less(t, most, int64(streamSlack+256<<20), "an output file used %d bytes of disk", most)
	t.Logf("largest output file: %d bytes on disk", most)
	assert.Empty(t, streamFiles(s), "the stream files are removed")
	if s.iso.Sandboxed {
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		assert.Empty(t, entries, "a sandboxing server keeps nothing on disk")
	}
}

// streamFiles returns the output files of the server's commands: those in
// its streams directory, and (sandboxed) the unlinked ones this process
// holds open.
func streamFiles(s *Server) []os.FileInfo {
	var out []os.FileInfo
	if !s.iso.Sandboxed {
		entries, _ := os.ReadDir(s.streams)
		for _, e := range entries {
			if fi, err := e.Info(); err == nil {
				out = append(out, fi)
			}
		}
		return out
	}
	fds, _ := os.ReadDir("/proc/self/fd")
	for _, e := range fds {
		p := "/proc/self/fd/" + e.Name()
		if target, err := os.Readlink(p); err == nil && strings.HasPrefix(target, filepath.Join(s.streams, "sessionstest-")) {
			if fi, err := os.Stat(p); err == nil {
				out = append(out, fi)
			}
		}
	}
	return out
}
