//go:build !linux

package sessionstest

import (
	"errors"
	"os"
	"runtime"
)

// sandbox does not exist where Linux namespaces do not: sessions run
// unisolated.
type sandbox struct{}

var errNoNamespaces = &IsolationError{Feature: "Linux namespaces", Err: errors.New("this is " + runtime.GOOS)}

func startSandbox(sandboxConfig) (*sandbox, error) { return nil, errNoNamespaces }

func probeSandbox(string) error { return errNoNamespaces }

func (sb *sandbox) kill() {}

func (sb *sandbox) alive() bool { return false }

func (sb *sandbox) dataDir() string { return "" }

func (sb *sandbox) processCount() int { return 0 }

func (sb *sandbox) run(<-chan struct{}, []string, []string, *os.File, *os.File, *os.File) (int, string, error) {
	return -1, "", errNoNamespaces
}

// sandboxHostPID finds nothing where there are no sandboxes.
func sandboxHostPID(initPID, inner int) int { return 0 }

func (sb *sandbox) hostPID(inner int) int { return 0 }
