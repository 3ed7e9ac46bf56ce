package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/identity"
	"github.com/shellpool/shellpool/sessions"
)

// lockedBuffer is a bytes.Buffer safe for run's writer and the test's reader.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestEnvFileHasEveryVariable(t *testing.T) {
	t.Parallel()
	envFile := filepath.Join(t.TempDir(), "shellpool.env")
	pidFile := filepath.Join(t.TempDir(), "shellpool.pid")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var stdout lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-env-file", envFile, "-pid-file", pidFile, "-pool", "tutorialpool", "-resource-group", "tutorial-rg", "-tutorial-pool"}, &stdout)
	}()

	var data []byte
	for {
		var err error
		if data, err = os.ReadFile(envFile); err == nil {
			break
		}
		select {
		case err := <-done:
			require.FailNow(t, "run returned before it wrote its env file", "%v", err)
		case <-time.After(10 * time.Millisecond):
		}
	}

	vars := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^export ([A-Z_]+)='([^']*)'$`).FindAllStringSubmatch(string(data), -1) {
		vars[m[1]] = m[2]
	}
	for _, name := range []string{
		"SHELLPOOL_ENDPOINT", "SHELLPOOL_CA_CERT", "SSL_CERT_FILE", "SHELLPOOL_ARM_TOKEN", "SHELLPOOL_SESSIONS_TOKEN",
		"AZURE_SUBSCRIPTION_ID", "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "SHELLPOOL_PRINCIPAL_ID",
		"SHELLPOOL_EMULATOR", "SHELLPOOL_RESOURCE_GROUP", "SHELLPOOL_POOL", "SHELLPOOL_LOCATION",
		"SUBSCRIPTION", "RG", "POOL", "LOCATION", "API_VERSION", "EXEC_ID",
	} {
		assert.NotEmpty(t, vars[name], "the env file must export %s", name)
	}
	assert.Equal(t, strings.Count(string(data), "\n"), len(vars), "every line is an export line:\n%s", data)
	assert.Regexp(t, `^https://127\.0\.0\.1:\d+$`, vars["SHELLPOOL_ENDPOINT"])
	assert.Equal(t, "tutorialpool", vars["POOL"])
	assert.Equal(t, "tutorial-rg", vars["RG"])
	assert.Equal(t, "1", vars["SHELLPOOL_EMULATOR"], "sourcing the env file asks the step programs for the emulator")
	assert.Equal(t, "tutorialpool", vars["SHELLPOOL_POOL"], "the step programs use the pool the emulator serves")
	assert.Equal(t, "tutorial-rg", vars["SHELLPOOL_RESOURCE_GROUP"])
	pid, err := os.ReadFile(pidFile)
	require.NoError(t, err, "-pid-file is written before the env file")
	assert.Equal(t, fmt.Sprintln(os.Getpid()), string(pid))
	assert.Equal(t, vars["AZURE_SUBSCRIPTION_ID"], vars["SUBSCRIPTION"])
	assert.Regexp(t, `^http://127\.0\.0\.1:\d+/`, vars["IDENTITY_ENDPOINT"])
	assert.NoError(t, sessions.ValidateSessionID(vars["EXEC_ID"]), "EXEC_ID is a usable session identifier")

	ca, err := os.ReadFile(vars["SHELLPOOL_CA_CERT"])
	require.NoError(t, err, "SHELLPOOL_CA_CERT must name a file")
	block, _ := pem.Decode(ca)
	require.NotNil(t, block, "SHELLPOOL_CA_CERT must be PEM")
	assert.Equal(t, "CERTIFICATE", block.Type)

	for name, audience := range map[string]string{
		"SHELLPOOL_SESSIONS_TOKEN": sessions.Audience,
		"SHELLPOOL_ARM_TOKEN":      identity.ARMAudience,
	} {
		claims, err := identity.InspectToken(vars[name])
		require.NoError(t, err, name)
		assert.NoError(t, claims.Check(audience), name)
		assert.Equal(t, vars["SHELLPOOL_PRINCIPAL_ID"], claims.ObjectID, name)
		assert.NotContains(t, stdout.String(), vars[name], "tokens are never printed")
	}
	if runtime.GOOS != "windows" {
		info, err := os.Stat(envFile)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "the env file holds tokens: only its owner may read it")
	}
	assert.Regexp(t, `^`+regexp.QuoteMeta("shellpool emulator listening on "+vars["SHELLPOOL_ENDPOINT"]+" with pool tutorialpool in resource group tutorial-rg; press Ctrl+C to stop\n")+
		`sessions (are sandboxes|are NOT isolated) \(isolation (auto|required|off)\): .+\n$`, stdout.String(), "it says where it listens and whether sessions are sandboxes")
	bundle, err := os.ReadFile(vars["SSL_CERT_FILE"])
	require.NoError(t, err, "SSL_CERT_FILE must name a file")
	assert.True(t, bytes.HasSuffix(bundle, ca), "SSL_CERT_FILE holds the emulator's certificate")

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(2 * time.Minute): // a hang, not a speed limit
		require.FailNow(t, "run did not return after its context ended")
	}
	_, err = os.Stat(vars["SHELLPOOL_CA_CERT"])
	assert.ErrorIs(t, err, os.ErrNotExist, "the CA file is removed on exit")
	_, err = os.Stat(envFile)
	assert.ErrorIs(t, err, os.ErrNotExist, "the env file is removed on exit, so no stale file names a dead CA file")
	_, err = os.Stat(pidFile)
	assert.ErrorIs(t, err, os.ErrNotExist, "the pid file is removed on exit")
}

func TestGrantNeedsRBAC(t *testing.T) {
	t.Parallel()
	var stdout bytes.Buffer
	err := run(t.Context(), []string{"-grant"}, &stdout)
	assert.EqualError(t, err, "-grant needs -rbac: without -rbac every principal may run commands")
	assert.Empty(t, stdout.String())
}

func TestRunRefusesBadFlags(t *testing.T) {
	t.Parallel()
	var stdout bytes.Buffer
	err := run(t.Context(), []string{"-no-such-flag"}, &stdout)
	assert.ErrorContains(t, err, "no-such-flag")
	assert.Empty(t, stdout.String())
}

// TestMain doubles as a Go program that trusts only what the system trusts:
// with SHELLPOOL_TEST_GET set it GETs that URL with Go's default TLS
// settings and exits 0 on any HTTP answer, 1 on a TLS or network error.
func TestMain(m *testing.M) {
	if u := os.Getenv("SHELLPOOL_TEST_GET"); u != "" {
		resp, err := http.Get(u)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		resp.Body.Close()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// started is a run of the emulator in this process with its env file read.
type started struct {
	vars   map[string]string
	stdout *lockedBuffer
}

// startRun runs the emulator with args and an env file until the test ends.
func startRun(t *testing.T, args ...string) started {
	t.Helper()
	envFile := filepath.Join(t.TempDir(), "shellpool.env")
	ctx, cancel := context.WithCancel(context.Background())
	st := started{vars: map[string]string{}, stdout: &lockedBuffer{}}
	done := make(chan error, 1)
	go func() { done <- run(ctx, append([]string{"-env-file", envFile}, args...), st.stdout) }()
	t.Cleanup(func() {
		cancel()
		assert.NoError(t, <-done)
	})
	for {
		data, err := os.ReadFile(envFile)
		if err == nil {
			for _, m := range regexp.MustCompile(`(?m)^export ([A-Z_]+)='([^']*)'$`).FindAllStringSubmatch(string(data), -1) {
				st.vars[m[1]] = m[2]
			}
			return st
		}
		select {
		case err := <-done:
			require.FailNow(t, "the emulator stopped before it wrote its env file", "%v", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// get sends an authenticated GET to the emulator, trusting its certificate.
func (st started) get(t *testing.T, path, token string) int {
	t.Helper()
	ca, err := os.ReadFile(st.vars["SHELLPOOL_CA_CERT"])
	require.NoError(t, err)
	roots := x509.NewCertPool()
	require.True(t, roots.AppendCertsFromPEM(ca))
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, st.vars["SHELLPOOL_ENDPOINT"]+path, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

func poolPath(st started) string {
	return "/subscriptions/" + st.vars["SUBSCRIPTION"] + "/resourceGroups/" + st.vars["RG"] +
		"/providers/Microsoft.App/sessionPools/" + st.vars["POOL"] + "?api-version=2025-02-02-preview"
}

// By default the emulator listens on a free port (two run side by side) and
// starts with nothing deployed, so that a step needs the steps before it,
// as in Azure; -tutorial-pool starts with the tutorial's pool.
func TestFreePortAndEmptyStart(t *testing.T) {
	t.Parallel()
	a, b := startRun(t), startRun(t)
	assert.NotEqual(t, a.vars["SHELLPOOL_ENDPOINT"], b.vars["SHELLPOOL_ENDPOINT"])
	assert.Regexp(t, `^`+regexp.QuoteMeta("shellpool emulator listening on "+a.vars["SHELLPOOL_ENDPOINT"]+" with nothing deployed (run the tutorial's steps, or start it with -tutorial-pool); press Ctrl+C to stop\n")+
		`sessions (are sandboxes|are NOT isolated) \(isolation (auto|required|off)\): .+\n$`, a.stdout.String())
	assert.Equal(t, http.StatusNotFound, a.get(t, poolPath(a), a.vars["SHELLPOOL_ARM_TOKEN"]), "no pool before deploy-pool")

	c := startRun(t, "-tutorial-pool")
	assert.Equal(t, http.StatusOK, c.get(t, poolPath(c), c.vars["SHELLPOOL_ARM_TOKEN"]), "-tutorial-pool deploys the tutorial's pool")
}

// -v prints one line per request, without identifiers.
func TestVerboseRequestLog(t *testing.T) {
	t.Parallel()
	st := startRun(t, "-v", "-tutorial-pool")
	head := st.stdout.String()
	require.Equal(t, http.StatusOK, st.get(t, poolPath(st), st.vars["SHELLPOOL_ARM_TOKEN"]))
	require.Equal(t, http.StatusNotFound, st.get(t, "/executions", st.vars["SHELLPOOL_SESSIONS_TOKEN"]))
	var lines string
	for deadline := time.Now().Add(2 * time.Minute); ; { // a hang limit, not a speed limit
		lines = strings.TrimPrefix(st.stdout.String(), head)
		if strings.Count(lines, "\n") >= 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	assert.Regexp(t, `^GET /subscriptions/\{id\}/resourceGroups/my-shell-session-rg/providers/Microsoft.App/sessionPools/myshellpool 200 \d[0-9.]*[µm]?s\n`+
		`GET /executions 404 \d[0-9.]*[µm]?s\n$`, lines)
	assert.NotContains(t, lines, st.vars["SUBSCRIPTION"])
	assert.NotContains(t, lines, "api-version", "no query string")
}

// The env file's SSL_CERT_FILE lets a Go program that uses the system's
// roots reach the emulator (Go reads SSL_CERT_FILE on Linux and the other
// Unix systems but macOS), and keeps the public roots.
func TestSSLCertFileLetsGoProgramsIn(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("Go reads SSL_CERT_FILE on Linux; this test checks it there")
	}
	st := startRun(t)
	get := func(env ...string) error {
		cmd := exec.CommandContext(t.Context(), os.Args[0])
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%w: %s", err, out)
		}
		return nil
	}
	url := "SHELLPOOL_TEST_GET=" + st.vars["SHELLPOOL_ENDPOINT"] + "/metadata/endpoints?api-version=2022-09-01"
	assert.Error(t, get(url, "SSL_CERT_FILE=/nonexistent"), "without the emulator's certificate the TLS handshake fails")
	assert.NoError(t, get(url, "SSL_CERT_FILE="+st.vars["SSL_CERT_FILE"]))
	bundle, err := os.ReadFile(st.vars["SSL_CERT_FILE"])
	require.NoError(t, err)
	assert.Greater(t, strings.Count(string(bundle), "BEGIN CERTIFICATE"), 1, "the system's roots are kept")
}

func TestRunRefusesBadPoolName(t *testing.T) {
	t.Parallel()
	var stdout bytes.Buffer
	err := run(t.Context(), []string{"-pool", "My_Pool!"}, &stdout)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `-pool: `)
	assert.Contains(t, err.Error(), `contains upper-case letters and '_', '!'`)
	assert.Empty(t, stdout.String())
}
