// Command skipgate reads `go test -json` output on standard input, prints
// what `go test` prints without -json (each package's closing ok/FAIL line,
// the output of failed tests, build errors), counts the tests that passed,
// failed and were skipped, and exits 1 when go test failed or, on Linux,
// when a test was skipped that .ci/skips.txt does not list. A skip for lack
// of bash, curl or az on Linux CI is a test that did not run, so it must
// fail the run rather than pass it quietly. CI runs it as
//
//	go test -race ./... -json | go run .ci/skipgate.go
//
// It uses only the standard library.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime"
	"sort"
	"strings"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

// allowed is one documented skip: a test of a package, by regular
// expression, with the reason it may be skipped on Linux CI.
type allowed struct {
	pkg, test *regexp.Regexp
	why       string
}

func main() {
	list, err := readAllowed(".ci/skips.txt")
	if err != nil {
		fmt.Fprintln(os.Stderr, "skipgate:", err)
		os.Exit(2)
	}
	os.Exit(gate(os.Stdin, os.Stdout, list, runtime.GOOS == "linux"))
}

// readAllowed reads the documented skips: lines "PACKAGE-REGEXP TEST-REGEXP
// reason", with # comments and blank lines ignored. A missing file lists
// none.
func readAllowed(name string) ([]allowed, error) {
	data, err := os.ReadFile(name)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var list []allowed
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 3 {
			return nil, fmt.Errorf("%s:%d: want PACKAGE-REGEXP TEST-REGEXP reason, got %q", name, i+1, line)
		}
		pkg, err := regexp.Compile("^(?:" + f[0] + ")$")
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, i+1, err)
		}
		test, err := regexp.Compile("^(?:" + f[1] + ")$")
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, i+1, err)
		}
		list = append(list, allowed{pkg: pkg, test: test, why: strings.Join(f[2:], " ")})
	}
	return list, nil
}

// gate copies the stream as go test would print it and returns the exit
// code: 1 when a test or package failed, or (enforce) a skip is not
// documented.
func gate(in io.Reader, out io.Writer, list []allowed, enforce bool) int {
	type key struct{ pkg, test string }
	var (
		outputs                   = map[key]*strings.Builder{}
		passed, failed            int
		failedPkgs                []string
		documented, undocumented  []string
		sawEvent, sawFailedAction bool
	)
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			fmt.Fprintf(out, "%s\n", line) // not an event: go's own messages
			continue
		}
		sawEvent = true
		k := key{e.Package, e.Test}
		switch e.Action {
		case "build-output":
			fmt.Fprint(out, e.Output)
		case "build-fail":
			sawFailedAction = true
		case "output":
			if e.Test == "" {
				if e.Output != "PASS\n" && !strings.HasPrefix(e.Output, "=== ") {
					fmt.Fprint(out, e.Output) // the package's closing lines
				}
				continue
			}
			if strings.HasPrefix(e.Output, "=== ") {
				continue // -v's progress lines
			}
			if outputs[k] == nil {
				outputs[k] = &strings.Builder{}
			}
			outputs[k].WriteString(e.Output)
		case "pass":
			if e.Test != "" {
				passed++
			}
			delete(outputs, k)
		case "fail":
			sawFailedAction = true
			if e.Test == "" {
				failedPkgs = append(failedPkgs, e.Package)
				continue
			}
			failed++
			if b := outputs[k]; b != nil {
				fmt.Fprint(out, b.String())
			}
			delete(outputs, k)
		case "skip":
			if e.Test == "" {
				continue // a package without tests
			}
			reason := skipReason(outputs[k])
			delete(outputs, k)
			entry := fmt.Sprintf("%s %s: %s", e.Package, e.Test, reason)
			if documentedSkip(list, e.Package, e.Test) {
				documented = append(documented, entry)
			} else {
				undocumented = append(undocumented, entry)
			}
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(out, "skipgate: reading go test output:", err)
		return 1
	}
	skipped := len(documented) + len(undocumented)
	fmt.Fprintf(out, "go test: %d passed, %d failed, %d skipped (%d documented in .ci/skips.txt)\n", passed, failed, skipped, len(documented))
	sort.Strings(undocumented)
	for _, s := range undocumented {
		fmt.Fprintln(out, "  skipped:", s)
	}
	code := 0
	if !sawEvent || sawFailedAction || len(failedPkgs) > 0 {
		code = 1
	}
	if enforce && len(undocumented) > 0 {
		fmt.Fprintf(out, "go test skipped %d test(s) that .ci/skips.txt does not list: on Linux CI every test must run. Install what the reason names, or document the skip there.\n", len(undocumented))
		code = 1
	}
	return code
}

// skipReason is what the test logged before it skipped, without the
// "--- SKIP" line.
func skipReason(b *strings.Builder) string {
	if b == nil {
		return "(no reason given)"
	}
	var parts []string
	for _, l := range strings.Split(b.String(), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "--- SKIP") {
			continue
		}
		parts = append(parts, l)
	}
	if len(parts) == 0 {
		return "(no reason given)"
	}
	return strings.Join(parts, " ")
}

func documentedSkip(list []allowed, pkg, test string) bool {
	for _, a := range list {
		if a.pkg.MatchString(pkg) && a.test.MatchString(test) {
			return true
		}
	}
	return false
}
