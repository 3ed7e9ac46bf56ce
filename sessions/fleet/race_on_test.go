//go:build race

package fleet_test

// raceEnabled is true when the tests run under the race detector, which
// makes the load drills' thousands of goroutine hand-offs many times slower.
const raceEnabled = true
