// Command vulngate reads `govulncheck -format json` output on standard input,
// prints every vulnerability the module's code can reach, and exits 1 when
// one of them is in a dependency. Findings in the standard library are
// printed but do not fail: they depend on the toolchain that builds the
// user's program, not on this module. CI runs it as
//
//	govulncheck -db file://DIR -format json ./... | go run .ci/vulngate.go
//
// It uses only the standard library, so CI needs nothing else to run it.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// message is one JSON object of govulncheck's output stream; only the fields
// read here are declared.
type message struct {
	Config *struct {
		ScannerVersion string `json:"scanner_version"`
		GoVersion      string `json:"go_version"`
		DB             string `json:"db"`
	} `json:"config"`
	OSV *struct {
		ID      string `json:"id"`
		Summary string `json:"summary"`
	} `json:"osv"`
	Finding *finding `json:"finding"`
}

type finding struct {
	OSV          string  `json:"osv"`
	FixedVersion string  `json:"fixed_version"`
	Trace        []frame `json:"trace"`
}

// frame is one step of a finding's trace; the first frame is the vulnerable
// symbol, the last the module's own code that reaches it.
type frame struct {
	Module   string `json:"module"`
	Version  string `json:"version"`
	Package  string `json:"package"`
	Function string `json:"function"`
	Receiver string `json:"receiver"`
	Position *struct {
		Filename string `json:"filename"`
		Line     int    `json:"line"`
	} `json:"position"`
}

// key names one vulnerability in one module.
type key struct{ osv, module string }

type result struct {
	version, fixed string
	example        string
}

func main() {
	fatal, err := run(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "vulngate:", err)
		os.Exit(2)
	}
	if fatal {
		os.Exit(1)
	}
}

func run(in io.Reader, out io.Writer) (fatal bool, err error) {
	dec := json.NewDecoder(in)
	summaries := map[string]string{}
	reachable := map[key]*result{}
	unreached := map[key]bool{}
	sawConfig := false
	for {
		var m message
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return false, fmt.Errorf("read govulncheck JSON: %w", err)
		}
		switch {
		case m.Config != nil:
			sawConfig = true
			fmt.Fprintf(out, "govulncheck %s, %s, database %s\n", m.Config.ScannerVersion, m.Config.GoVersion, m.Config.DB)
		case m.OSV != nil:
			summaries[m.OSV.ID] = m.OSV.Summary
		case m.Finding != nil && len(m.Finding.Trace) > 0:
			f := m.Finding
			k := key{f.OSV, f.Trace[0].Module}
			if f.Trace[0].Function == "" {
				// Module or package level: required or imported, not called.
				unreached[k] = true
				continue
			}
			if reachable[k] == nil {
				reachable[k] = &result{version: f.Trace[0].Version, fixed: f.FixedVersion, example: describe(f.Trace)}
			}
		}
	}
	if !sawConfig {
		return false, errors.New("no govulncheck config message on input; did govulncheck run with -format json?")
	}
	keys := make([]key, 0, len(reachable))
	for k := range reachable {
		keys = append(keys, k)
		delete(unreached, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].module != keys[j].module {
			return keys[i].module < keys[j].module
		}
		return keys[i].osv < keys[j].osv
	})
	deps, std := 0, 0
	for _, k := range keys {
		r := reachable[k]
		kind := "dependency (fails CI)"
		if k.module == "stdlib" {
			kind = "standard library (fix: build with a newer Go)"
			std++
		} else {
			deps++
		}
		fixed := r.fixed
		if fixed == "" {
			fixed = "no fixed version"
		}
		fmt.Fprintf(out, "%s in %s@%s, fixed in %s: %s\n    %s\n    reached: %s\n", k.osv, k.module, r.version, fixed, kind, summaries[k.osv], r.example)
	}
	fmt.Fprintf(out, "reachable: %d in dependencies, %d in the standard library; %d more required or imported but not called\n", deps, std, len(unreached))
	if deps > 0 {
		fmt.Fprintln(out, "upgrade the dependencies above (go get MODULE@FIXED && go mod tidy) until none is reachable")
	}
	return deps > 0, nil
}

// describe renders a trace from the module's own code to the vulnerable symbol.
func describe(trace []frame) string {
	parts := make([]string, 0, len(trace))
	for i := len(trace) - 1; i >= 0; i-- {
		fr := trace[i]
		name := fr.Function
		if fr.Receiver != "" {
			name = strings.TrimPrefix(fr.Receiver, "*") + "." + name
		}
		name = fr.Package + "." + name
		if i == len(trace)-1 && fr.Position != nil {
			name = fmt.Sprintf("%s (%s:%d)", name, fr.Position.Filename, fr.Position.Line)
		}
		parts = append(parts, name)
	}
	return strings.Join(parts, " -> ")
}
