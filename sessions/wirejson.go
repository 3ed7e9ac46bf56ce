package sessions

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// decodeList decodes one page of a list: a bare JSON array of items, or an
// object holding the items under the first of keys that is present (names
// compared case-insensitively, as encoding/json does) and an optional
// nextLink. An empty body is an empty last page.
func decodeList[T any](payload []byte, what string, keys ...string) (items []T, nextLink string, err error) {
	fail := func(err error) ([]T, string, error) {
		return nil, "", fmt.Errorf("sessions: %s: decode response: %w; check that the endpoint is a session pool's management endpoint", what, err)
	}
	payload = bytes.TrimSpace(payload)
	switch {
	case len(payload) == 0 || bytes.Equal(payload, []byte("null")):
		return nil, "", nil
	case payload[0] == '[':
		if err := json.Unmarshal(payload, &items); err != nil {
			return fail(err)
		}
		return items, "", nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(payload, &obj); err != nil {
		return fail(err)
	}
	member := func(name string) (json.RawMessage, bool) {
		for k, v := range obj {
			if strings.EqualFold(k, name) {
				return v, true
			}
		}
		return nil, false
	}
	for _, k := range keys {
		if raw, ok := member(k); ok {
			if err := json.Unmarshal(raw, &items); err != nil {
				return fail(err)
			}
			if items != nil {
				break
			}
		}
	}
	if raw, ok := member("nextLink"); ok {
		if err := json.Unmarshal(raw, &nextLink); err != nil {
			return fail(err)
		}
	}
	return items, nextLink, nil
}

// lenientTime decodes RFC 3339 timestamps, and also timestamps without a
// zone (taken as UTC), as some service versions send them.
type lenientTime time.Time

func (t *lenientTime) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
			return nil
		}
		return err
	}
	if s == "" {
		return nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999"} {
		if v, err := time.Parse(layout, s); err == nil {
			*t = lenientTime(v)
			return nil
		}
	}
	return fmt.Errorf("unrecognised timestamp %q", s)
}

func isJSONObject(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{'
}

// jsonString returns raw as a string when it is a JSON string, else "".
func jsonString(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '"' {
		return ""
	}
	if plainJSONString(raw) {
		return string(raw[1 : len(raw)-1])
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// plainJSONString reports whether raw is a JSON string literal whose value
// is exactly the bytes between its quotes: no escapes, no control
// characters, no inner quote, valid UTF-8. Most stdout and identifiers are,
// and reading them this way saves encoding/json's allocations.
func plainJSONString(raw []byte) bool {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return false
	}
	inner := raw[1 : len(raw)-1]
	for _, c := range inner {
		if c == '\\' || c == '"' || c < ' ' {
			return false
		}
	}
	return utf8.Valid(inner)
}

// jsonScalar returns a JSON string's value, or a JSON number's literal text
// (a status sent as 0 rather than "0"), else "".
func jsonScalar(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	if raw[0] == '"' {
		return jsonString(raw)
	}
	if _, ok := jsonNumber(raw); ok {
		return string(raw)
	}
	return ""
}

// jsonNumber returns raw as a float when it is a JSON number or a string
// holding one.
func jsonNumber(raw json.RawMessage) (float64, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return 0, false
	}
	s := string(raw)
	if raw[0] == '"' {
		s = jsonString(raw)
	} else if raw[0] != '-' && (raw[0] < '0' || raw[0] > '9') {
		return 0, false
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
		return 0, false
	}
	return n, true
}

func nonNullRaw(raw json.RawMessage) json.RawMessage {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	return append(json.RawMessage(nil), raw...)
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), sub)
}
