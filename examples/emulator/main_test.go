package main

import (
	"bytes"
	"context"
	"encoding/pem"
	"fmt"
	"os"
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
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-env-file", envFile, "-pid-file", pidFile, "-pool", "tutorialpool", "-resource-group", "tutorial-rg"}, &stdout)
	}()

	deadline := time.Now().Add(10 * time.Second)
	var data []byte
	for {
		var err error
		if data, err = os.ReadFile(envFile); err == nil {
			break
		}
		require.True(t, time.Now().Before(deadline), "run did not write %s", envFile)
		time.Sleep(10 * time.Millisecond)
	}

	vars := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^export ([A-Z_]+)='([^']*)'$`).FindAllStringSubmatch(string(data), -1) {
		vars[m[1]] = m[2]
	}
	for _, name := range []string{
		"SHELLPOOL_ENDPOINT", "SHELLPOOL_CA_CERT", "SHELLPOOL_ARM_TOKEN", "SHELLPOOL_SESSIONS_TOKEN",
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
	assert.Regexp(t, `^shellpool emulator listening on `+regexp.QuoteMeta(vars["SHELLPOOL_ENDPOINT"])+` .*\n`+
		`sessions (are sandboxes|are NOT isolated) \(isolation (auto|required|off)\): .+\n$`, stdout.String(), "it says whether sessions are sandboxes")

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
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
	err := run(t.Context(), []string{"-addr", "127.0.0.1:0", "-grant"}, &stdout)
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
