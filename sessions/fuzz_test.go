package sessions

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzDecodeExecution feeds the response decoder arbitrary bodies, seeded
// with every documented response shape. The decoder must never panic, and
// must never report exit code 0 unless the body says so: a status (top level
// or in result) that is a numeric zero, or an exitCode of 0. An operation
// state such as "Succeeded" is not an exit code and must give none.
//
//	go test -run '^$' -fuzz FuzzDecodeExecution ./sessions
func FuzzDecodeExecution(f *testing.F) {
	for _, ex := range loadExecExamples(f) {
		for _, r := range ex.Responses {
			f.Add(string(r.Body), 0)
		}
	}
	for _, seed := range []string{
		execOKBody,
		`{"id":"e","status":"1","result":{"stdout":"","stderr":"boom"}}`,
		`{"id":"e","status":"-1","error":{"code":"ExecutionTimeout","message":"m"},"result":{"stdout":"x"}}`,
		`{"status":"Failed","exitCode":-1,"errorName":"CommandStartError","errorMessage":"m"}`,
		`{"status":"Failed","error":{"error":{"code":"c","message":"m"}}}`,
		`{"status":"Running"}`, `{"status":"NotStarted"}`, `{"status":"Canceled"}`,
		`{"status":0}`, `{"status":"00"}`, `{"status":"-0"}`, `{"status":"0.0"}`, `{"status":"Success"}`,
		`{"executionId":"x","status":"Succeeded","stdout":"a","result":"","executionTimeInMilliseconds":4}`,
		`{"error":"text"}`, `{"result":null}`, `{}`, `null`, `[]`, `"unhealthy"`, ``, `{"status":{"a":1}}`,
	} {
		f.Add(seed, 0)
		f.Add(seed, 3)
	}
	f.Fuzz(func(t *testing.T, body string, limit int) {
		e, err := decodeExecution([]byte(body), limit)
		if err != nil {
			return
		}
		if e.ExitCode != nil && *e.ExitCode == 0 && !execBodySaysZero(body) {
			t.Fatalf("exit code 0 reported for a body that does not say so: %s", body)
		}
		if e.ExitCode != nil && !execStatusIsNumber(e.Status) && !execBodyHasExitCodeField(body) {
			t.Fatalf("exit code without a numeric status or exitCode field: %s", body)
		}
	})
}

// execBodySaysZero is the fuzz oracle: an independent reading of body.
// Like encoding/json, it matches member names case-insensitively; a body
// with several spellings of a name says zero if any of them does.
func execBodySaysZero(body string) bool {
	var m map[string]any
	if json.Unmarshal([]byte(body), &m) != nil {
		return false
	}
	statuses := execMembers(m, "status")
	for _, r := range execMembers(m, "result") {
		if rm, ok := r.(map[string]any); ok {
			statuses = append(statuses, execMembers(rm, "status")...)
		}
	}
	for _, s := range statuses {
		switch v := s.(type) {
		case string:
			if execIsDecimalZero(v) {
				return true
			}
		case float64:
			if v == 0 {
				return true
			}
		}
	}
	for _, v := range execMembers(m, "exitCode") {
		switch n := v.(type) {
		case float64:
			if n == 0 {
				return true
			}
		case string:
			if strings.Trim(strings.TrimSpace(n), "+-0.eE") == "" {
				return true
			}
		}
	}
	return false
}

// execMembers returns the values of every member of m whose name matches
// name case-insensitively.
func execMembers(m map[string]any, name string) []any {
	var out []any
	for k, v := range m {
		if strings.EqualFold(k, name) {
			out = append(out, v)
		}
	}
	return out
}

func execIsDecimalZero(s string) bool {
	s = strings.TrimLeft(s, "+-")
	return s != "" && strings.Trim(s, "0") == ""
}

// execStatusIsNumber reports whether status is a decimal integer, read
// independently of ExecutionStatus.ExitCode.
func execStatusIsNumber(status ExecutionStatus) bool {
	s := strings.TrimLeft(string(status), "+-")
	return s != "" && strings.Trim(s, "0123456789") == ""
}

func execBodyHasExitCodeField(body string) bool {
	var m map[string]any
	return json.Unmarshal([]byte(body), &m) == nil && len(execMembers(m, "exitCode")) > 0
}

// FuzzJSONString checks that jsonString, whose fast path skips
// encoding/json for plain literals, reads every JSON string literal exactly
// as encoding/json does.
//
//	go test -run '^$' -fuzz FuzzJSONString ./sessions
func FuzzJSONString(f *testing.F) {
	for _, seed := range []string{`""`, `"a"`, `"hi\n"`, `"é 日本"`, `"\u00e9"`, "\"\xff\"", `"a"b"`, "\"\x01\"", `"\"`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, lit string) {
		var want string
		if json.Unmarshal([]byte(lit), &want) != nil {
			return // not a JSON string literal
		}
		if got := jsonString(json.RawMessage(lit)); got != want {
			t.Fatalf("jsonString(%q) = %q, encoding/json gives %q", lit, got, want)
		}
	})
}
