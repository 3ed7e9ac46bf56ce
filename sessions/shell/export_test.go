package shell

// Busy reports whether a call of sh holds the shell (tests only).
func Busy(sh *Shell) bool {
	sh.q.mu.Lock()
	defer sh.q.mu.Unlock()
	return sh.q.busy
}

// Queued is how many calls of sh wait for the shell (tests only).
func Queued(sh *Shell) int {
	sh.q.mu.Lock()
	defer sh.q.mu.Unlock()
	return len(sh.q.waiters)
}
