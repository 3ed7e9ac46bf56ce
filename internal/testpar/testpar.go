// Package testpar lets a package's tests run more of their parallel tests
// at a time than the machine has cores.
//
// go test runs at most -test.parallel (default GOMAXPROCS) parallel tests of
// a package at once. The tests of the emulator-backed packages mostly wait:
// for bash processes in the emulator's sessions, for Retry-After and
// timeouts, for the network. On a 2-core machine, two at a time leaves the
// CPU idle while the run takes minutes. A package's TestMain calls Main to
// allow more, unless the user chose with -parallel:
//
//	func TestMain(m *testing.M) { os.Exit(testpar.Main(m, 8)) }
//
// No test may depend on how many run at once: every timing assertion is a
// lower bound or a ratio measured under the same load.
package testpar

import (
	"flag"
	"runtime"
	"strconv"
	"testing"
)

// Main raises the number of parallel tests run at once to n (when
// GOMAXPROCS is lower and -test.parallel was not given), then runs the
// tests and returns m.Run's exit code.
func Main(m *testing.M, n int) int {
	flag.Parse()
	given := false
	flag.Visit(func(f *flag.Flag) {
		if f.Name == "test.parallel" {
			given = true
		}
	})
	if !given && runtime.GOMAXPROCS(0) < n {
		if err := flag.Set("test.parallel", strconv.Itoa(n)); err != nil {
			panic("testpar: " + err.Error())
		}
	}
	return m.Run()
}
