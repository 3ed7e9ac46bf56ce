package sessions_test

import "github.com/shellpool/shellpool/sessions/sessionstest"

// procOptions are the emulator options of the process layer's tests.
func procOptions() *sessionstest.Options { return &sessionstest.Options{} }
