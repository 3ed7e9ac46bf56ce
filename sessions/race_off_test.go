//go:build !race

package sessions_test

// raceEnabled is true when the tests run under the race detector, which
// slows byte-by-byte work about tenfold.
const raceEnabled = false
