package armemu

// Helpers for decoded JSON values. Property names are matched
// case-insensitively, as ARM does.

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"time"
)

func sortedKeys[M ~map[string]V, V any](m M) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func lookup(m map[string]any, k string) (any, bool) {
	if m == nil {
		return nil, false
	}
	if v, ok := m[k]; ok {
		return v, true
	}
	for mk, v := range m {
		if strings.EqualFold(mk, k) {
			return v, true
		}
	}
	return nil, false
}

func hasKey(m map[string]any, k string) bool { _, ok := lookup(m, k); return ok }

func deleteKey(m map[string]any, k string) {
	for mk := range m {
		if strings.EqualFold(mk, k) {
			delete(m, mk)
		}
	}
}

func lookupString(m map[string]any, k string) (string, bool) {
	v, ok := lookup(m, k)
	s, isStr := v.(string)
	return s, ok && isStr
}

func lookupMap(m map[string]any, k string) (map[string]any, bool) {
	v, _ := lookup(m, k)
	mm, ok := v.(map[string]any)
	return mm, ok
}

func asInt(v any) (int, bool) {
	switch n := v.(type) {
	case json.Number:
		i, err := n.Int64()
		return int(i), err == nil
	case float64:
		return int(n), n == float64(int(n))
	case int:
		return n, true
	case int64:
		return int(n), true
	}
	return 0, false
}

func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[k] = deepCopy(x)
		}
		return m
	case []any:
		s := make([]any, len(t))
		for i, x := range t {
			s[i] = deepCopy(x)
		}
		return s
	}
	return v
}

// mergePatch applies an RFC 7396 JSON merge patch (keys matched
// case-insensitively).
func mergePatch(target, patch any) any {
	pm, ok := patch.(map[string]any)
	if !ok {
		return deepCopy(patch)
	}
	tm, ok := target.(map[string]any)
	if !ok {
		tm = map[string]any{}
	}
	for k, v := range pm {
		existing := k
		for tk := range tm {
			if strings.EqualFold(tk, k) {
				existing = tk
			}
		}
		if v == nil {
			delete(tm, existing)
			continue
		}
		tm[existing] = mergePatch(tm[existing], v)
	}
	return tm
}

// looseEqual compares JSON values, strings case-insensitively.
func looseEqual(a, b any) bool {
	if sa, ok := a.(string); ok {
		sb, ok := b.(string)
		return ok && strings.EqualFold(sa, sb)
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return reflect.DeepEqual(ja, jb)
}
