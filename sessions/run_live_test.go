//go:build !shellpool_emulatorlive

package sessions_test

import "github.com/shellpool/shellpool/sessions/sessionstest"

// procOptions are the emulator options of the process layer's tests. Once
// the emulator has Behavior (live by default), run_emulatorlive_test.go
// replaces this file: it turns the flat file store on for every test of
// the layer.
func procOptions() *sessionstest.Options { return &sessionstest.Options{} }
