package main

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The streams in testdata are real `go test -json` output of a small
// package: skips.json passes with two skips (one in a subtest),
// fail.json has a failing test, build.json a package that does not build.

func runGate(t *testing.T, file string, list []allowed, enforce bool) (string, int) {
	t.Helper()
	f, err := os.Open(file)
	require.NoError(t, err)
	defer f.Close()
	var out strings.Builder
	code := gate(f, &out, list, enforce)
	return out.String(), code
}

func TestUndocumentedSkipFailsOnLinux(t *testing.T) {
	out, code := runGate(t, "testdata/skips.json", nil, true)
	assert.Equal(t, 1, code)
	assert.True(t, strings.HasPrefix(out, "ok  \tsg\t"), "go test's closing line still prints: %s", out)
	assert.NotContains(t, out, "=== RUN")
	assert.Contains(t, out, "go test: 2 passed, 0 failed, 2 skipped (0 documented in .ci/skips.txt)\n")
	assert.Contains(t, out, "  skipped: sg TestSkip: a_test.go:4: bash is not installed\n")
	assert.Contains(t, out, "  skipped: sg TestSub/inner: a_test.go:5: no curl\n")

	_, code = runGate(t, "testdata/skips.json", nil, false)
	assert.Equal(t, 0, code, "elsewhere skips are counted, not fatal")
}

func TestDocumentedSkipsPass(t *testing.T) {
	list := []allowed{
		{pkg: regexp.MustCompile(`^(?:sg)$`), test: regexp.MustCompile(`^(?:TestSkip|TestSub/.*)$`), why: "test"},
	}
	out, code := runGate(t, "testdata/skips.json", list, true)
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "2 skipped (2 documented in .ci/skips.txt)")
}

func TestFailuresFail(t *testing.T) {
	out, code := runGate(t, "testdata/fail.json", nil, true)
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "broken on purpose")
	assert.Contains(t, out, "--- FAIL: TestFail")
	assert.Contains(t, out, "FAIL\tsg\t")

	out, code = runGate(t, "testdata/build.json", nil, true)
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "./c.go:2:12: undefined: y")
	assert.Contains(t, out, "FAIL\tsg [build failed]")
}

func TestEmptyInputFails(t *testing.T) {
	var out strings.Builder
	assert.Equal(t, 1, gate(strings.NewReader(""), &out, nil, true), "no events means go test did not run")
}

func TestSkipsFileParses(t *testing.T) {
	list, err := readAllowed("skips.txt")
	require.NoError(t, err)
	for _, a := range list {
		assert.NotEmpty(t, a.why)
	}
}
