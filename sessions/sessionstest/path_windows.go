//go:build windows

package sessionstest

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// sessionPATH is the PATH of every command the emulator runs: the
// directories of Git for Windows or MSYS2 that hold bash and its tools,
// then the Windows system directory.
var sessionPATH = windowsSessionPATH()

// bashHint says how to get bash where it is missing.
const bashHint = "install Git for Windows (https://gitforwindows.org) or MSYS2, or put a bash.exe that is not WSL's on PATH"

// bashCandidates lists where bash.exe is installed by Git for Windows and
// MSYS2, most likely first.
func bashCandidates() []string {
	var out []string
	for _, env := range []string{"ProgramFiles", "ProgramW6432", "ProgramFiles(x86)"} {
		if d := os.Getenv(env); d != "" {
			out = append(out, filepath.Join(d, "Git", "bin", "bash.exe"), filepath.Join(d, "Git", "usr", "bin", "bash.exe"))
		}
	}
	if d := os.Getenv("LOCALAPPDATA"); d != "" {
		out = append(out, filepath.Join(d, "Programs", "Git", "bin", "bash.exe"))
	}
	out = append(out, `C:\msys64\usr\bin\bash.exe`, `C:\tools\msys64\usr\bin\bash.exe`)
	// A bash on the host PATH, unless it is WSL's launcher (it runs Linux
	// in a VM, not the session's commands).
	if p, err := exec.LookPath("bash"); err == nil {
		lp := strings.ToLower(p)
		if !strings.Contains(lp, `\windows\system32\`) && !strings.Contains(lp, `\windowsapps\`) {
			out = append(out, p)
		}
	}
	return out
}

func windowsSessionPATH() string {
	var dirs []string
	for _, c := range bashCandidates() {
		if fi, err := os.Stat(c); err == nil && fi.Mode().IsRegular() {
			d := filepath.Dir(c)
			dirs = append(dirs, d)
			// Git for Windows keeps the tools (ls, cat, ...) in usr\bin.
			if strings.EqualFold(filepath.Base(d), "bin") {
				if u := filepath.Join(filepath.Dir(d), "usr", "bin"); u != d {
					if fi, err := os.Stat(u); err == nil && fi.IsDir() {
						dirs = append(dirs, u)
					}
				}
			}
			break
		}
	}
	if root := os.Getenv("SystemRoot"); root != "" {
		dirs = append(dirs, filepath.Join(root, "System32"))
	}
	return strings.Join(dirs, string(os.PathListSeparator))
}

// lookPath finds an executable in the session PATH (not the host's),
// trying the extensions Windows runs (.exe, .com, .bat, .cmd); Windows has
// no exec bits.
func lookPath(name string) (string, error) {
	if strings.ContainsAny(name, `/\:`) {
		return name, nil // a path, absolute or relative to the session directory
	}
	exts := []string{""}
	if filepath.Ext(name) == "" {
		exts = []string{".exe", ".com", ".bat", ".cmd"}
	}
	for _, dir := range filepath.SplitList(sessionPATH) {
		for _, ext := range exts {
			p := filepath.Join(dir, name+ext)
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
				return p, nil
			}
		}
	}
	return "", fs.ErrNotExist
}
