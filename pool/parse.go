package pool

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// ParseTemplate reads the session pools of a deployment template, such as the
// tutorial's deploy.json, so that they can be validated, changed, deployed
// with Client.BeginCreateOrUpdate, or rendered again.
//
// It returns one SessionPool per resource whose type is
// Microsoft.App/sessionPools, compared case-insensitively (the tutorial writes
// Microsoft.App/sessionpools). Other resources, and the pool resources'
// apiVersion, are ignored. The pools are not validated: call Validate.
//
// String values of the form [parameters('x')] are replaced by params["x"] or,
// when params has no "x", by the parameter's defaultValue; [variables('x')]
// is replaced by the template's variable. Values keep their JSON type, so a
// number parameter can fill maxConcurrentSessions. params holds plain values,
// not the {"value": ...} wrappers of parameter files. A string starting with
// "[[" is the literal without its first bracket. Every other expression
// (resourceGroup().location, concat(...), ...) cannot be resolved offline:
// the error, which matches ErrInvalidArgument, names each one and its location.
// Passing a parameter the template does not declare is also an error, as it
// is in ARM.
//
// Comments are tolerated although JSON has none: "//" and "/* */" comments,
// which ARM's tooling accepts, and "#" to the end of a line, which appears in
// one revision of the tutorial's deploy.json (API.md §2.4).
func ParseTemplate(data []byte, params map[string]any) ([]*SessionPool, error) {
	dec := json.NewDecoder(bytes.NewReader(stripComments(data)))
	dec.UseNumber()
	var root map[string]any
	if err := dec.Decode(&root); err != nil {
		return nil, &ValidationError{Subject: "template", Problems: []Problem{{Field: "(document)",
			Rule: fmt.Sprintf("is not a JSON object: %v; check the file is an ARM deployment template", err), Err: err}}}
	}
	r := &resolver{params: params}
	r.declared, _ = root["parameters"].(map[string]any)
	r.variables, _ = root["variables"].(map[string]any)
	for _, k := range slices.Sorted(maps.Keys(params)) {
		if _, ok := r.declared[k]; !ok {
			r.add("parameters."+k, "is passed but the template does not declare it; declared: %s", strings.Join(slices.Sorted(maps.Keys(r.declared)), ", "))
		}
	}
	resources, ok := root["resources"].([]any)
	if !ok {
		r.add("resources", "is missing or not an array")
		return nil, r.err("template")
	}
	var pools []*SessionPool
	for i, raw := range resources {
		res, ok := raw.(map[string]any)
		if !ok {
			continue
		}
		typ, _ := res["type"].(string)
		if !strings.EqualFold(typ, ResourceType) {
			continue
		}
		path := fmt.Sprintf("resources[%d]", i)
		if _, ok := res["copy"]; ok {
			r.add(path+".copy", "copy loops are not supported; list each pool as its own resource")
			continue
		}
		if cond, ok := res["condition"]; ok {
			v := r.resolve(cond, path+".condition", 0)
			if b, ok := v.(bool); ok && !b {
				continue
			}
		}
		fields := map[string]any{}
		for _, k := range []string{"name", "location", "tags", "identity", "properties"} {
			if v, ok := res[k]; ok {
				fields[k] = r.resolve(v, path+"."+k, 0)
			}
		}
		b, err := json.Marshal(fields)
		if err != nil {
			r.addErr(path, err, "cannot be encoded: %v", err)
			continue
		}
		p := new(SessionPool)
		if err := json.Unmarshal(b, p); err != nil {
			r.addErr(path, err, "is not a valid session pool: %v", err)
			continue
		}
		pools = append(pools, p)
	}
	if err := r.err("template"); err != nil {
		return nil, err
	}
	if len(pools) == 0 {
		return nil, &ValidationError{Subject: "template", Problems: []Problem{{Field: "resources",
			Rule: fmt.Sprintf("has no %s resources (or every one has a false condition); check that the file is the pool's template", ResourceType)}}}
	}
	return pools, nil
}

var (
	paramExprRE = regexp.MustCompile(`(?i)^\[\s*parameters\(\s*'([^']*)'\s*\)\s*\]$`)
	varExprRE   = regexp.MustCompile(`(?i)^\[\s*variables\(\s*'([^']*)'\s*\)\s*\]$`)
)

type resolver struct {
	checker
	params    map[string]any
	declared  map[string]any
	variables map[string]any
}

const maxResolveDepth = 16

// resolve returns v with every resolvable expression replaced; it records a
// problem for each expression it cannot resolve.
func (r *resolver) resolve(v any, path string, depth int) any {
	if depth > maxResolveDepth {
		r.add(path, "expressions nest too deeply (a parameter or variable refers to itself?)")
		return nil
	}
	switch x := v.(type) {
	case string:
		return r.resolveString(x, path, depth)
	case map[string]any:
		out := make(map[string]any, len(x))
		for _, k := range slices.Sorted(maps.Keys(x)) {
			out[k] = r.resolve(x[k], joinPath(path, k), depth)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = r.resolve(e, fmt.Sprintf("%s[%d]", path, i), depth)
		}
		return out
	}
	return v
}

func (r *resolver) resolveString(s, path string, depth int) any {
	if strings.HasPrefix(s, "[[") {
		return s[1:]
	}
	if _, ok := expression(s); !ok {
		return s
	}
	if m := paramExprRE.FindStringSubmatch(s); m != nil {
		name := m[1]
		if v, ok := r.params[name]; ok {
			if _, declared := r.declared[name]; declared {
				return v
			}
			return nil // reported as undeclared already
		}
		decl, ok := r.declared[name].(map[string]any)
		if !ok {
			r.add(path, "expression %q refers to parameter %q, which the template does not declare", s, name)
			return nil
		}
		if dv, ok := decl["defaultValue"]; ok {
			return r.resolve(dv, "parameters."+name+".defaultValue", depth+1)
		}
		r.add(path, "expression %q needs a value for parameter %q: pass it in params", s, name)
		return nil
	}
	if m := varExprRE.FindStringSubmatch(s); m != nil {
		v, ok := r.variables[m[1]]
		if !ok {
			r.add(path, "expression %q refers to variable %q, which the template does not declare", s, m[1])
			return nil
		}
		return r.resolve(v, "variables."+m[1], depth+1)
	}
	r.add(path, "expression %q cannot be resolved offline (only [parameters('x')] and [variables('x')] are); replace it with a literal or a parameter", s)
	return nil
}

// stripComments removes //, /* */ and # comments outside JSON strings.
func stripComments(data []byte) []byte {
	out := make([]byte, 0, len(data))
	inString, escaped := false, false
	for i := 0; i < len(data); i++ {
		c := data[i]
		if inString {
			out = append(out, c)
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch {
		case c == '"':
			inString = true
			out = append(out, c)
		case c == '#' || (c == '/' && i+1 < len(data) && data[i+1] == '/'):
			for i < len(data) && data[i] != '\n' {
				i++
			}
			if i < len(data) {
				out = append(out, '\n')
			}
		case c == '/' && i+1 < len(data) && data[i+1] == '*':
			end := bytes.Index(data[i+2:], []byte("*/"))
			if end < 0 {
				return out // unterminated comment: drop the rest, let the decoder complain
			}
			i += 2 + end + 1
			out = append(out, ' ')
		default:
			out = append(out, c)
		}
	}
	return out
}
