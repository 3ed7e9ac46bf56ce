//go:build unix && !linux

package sessionstest

import "syscall"

// setDeathSignal does nothing where the kernel has no parent-death signal.
func setDeathSignal(a *syscall.SysProcAttr) {}
