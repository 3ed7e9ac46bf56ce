package armemu

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/shellpool/shellpool/internal/azname"
)

// This file is the ARM template expression language, limited to what the
// emulator supports: parameters, variables, resourceId,
// subscriptionResourceId, guid, reference (followed by .property paths),
// concat, format, toLower, resourceGroup and subscription, with string and
// integer literals, nested calls, .property and [index] access, and the
// "[[" escape. Anything else fails with InvalidTemplate naming the
// expression.

// armGUID is ARM's guid() function.
func armGUID(args ...string) string { return azname.GUID(args...) }

// tmplError is an expression failure; code defaults to InvalidTemplate.
type tmplError struct {
	code string
	msg  string
	// notYet is set when reference() names a template resource that is not
	// deployed yet (the deployment retries it after the others).
	notYet bool
}

func (e *tmplError) Error() string { return e.msg }

func invalidTemplate(format string, args ...any) *tmplError {
	return &tmplError{code: "InvalidTemplate", msg: fmt.Sprintf(format, args...)}
}

// --- parsing ---

type node interface{}

type (
	litNode  struct{ v any }
	callNode struct {
		name string
		args []node
	}
	propNode struct {
		target node
		name   string
	}
	indexNode struct{ target, index node }
)

var knownFunctions = map[string]bool{
	"parameters": true, "variables": true, "resourceid": true, "subscriptionresourceid": true,
	"guid": true, "reference": true, "concat": true, "format": true, "tolower": true,
	"resourcegroup": true, "subscription": true,
}

type parser struct {
	src string
	pos int
}

// isExpression reports whether a template string is an expression and
// returns its text; "[[...]" is the escape for a literal "[...]".
func isExpression(s string) (expr string, literal string, ok bool) {
	if len(s) >= 2 && s[0] == '[' && s[len(s)-1] == ']' {
		if strings.HasPrefix(s, "[[") {
			return "", s[1:], false
		}
		return s[1 : len(s)-1], "", true
	}
	return "", s, false
}

func parseExpression(src string) (node, error) {
	p := &parser{src: src}
	n, err := p.expr()
	if err != nil {
		return nil, err
	}
	p.skip()
	if p.pos != len(p.src) {
		return nil, fmt.Errorf("unexpected %q at position %d", p.src[p.pos:], p.pos)
	}
	return n, nil
}

func (p *parser) skip() {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t' || p.src[p.pos] == '\n' || p.src[p.pos] == '\r') {
		p.pos++
	}
}

func (p *parser) expr() (node, error) {
	n, err := p.primary()
	if err != nil {
		return nil, err
	}
	for {
		p.skip()
		if p.pos >= len(p.src) {
			return n, nil
		}
		switch p.src[p.pos] {
		case '.':
			p.pos++
			p.skip()
			id := p.ident()
			if id == "" {
				return nil, fmt.Errorf("expected a property name after '.' at position %d", p.pos)
			}
			n = propNode{target: n, name: id}
		case '[':
			p.pos++
			idx, err := p.expr()
			if err != nil {
				return nil, err
			}
			p.skip()
			if p.pos >= len(p.src) || p.src[p.pos] != ']' {
				return nil, fmt.Errorf("expected ']' at position %d", p.pos)
			}
			p.pos++
			n = indexNode{target: n, index: idx}
		default:
			return n, nil
		}
	}
}

func (p *parser) ident() string {
	start := p.pos
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || p.pos > start && c >= '0' && c <= '9' {
			p.pos++
			continue
		}
		break
	}
	return p.src[start:p.pos]
}

func (p *parser) primary() (node, error) {
	p.skip()
	if p.pos >= len(p.src) {
		return nil, fmt.Errorf("unexpected end of expression")
	}
	c := p.src[p.pos]
	switch {
	case c == '\'':
		p.pos++
		var b strings.Builder
		for {
			if p.pos >= len(p.src) {
				return nil, fmt.Errorf("unterminated string literal")
			}
			if p.src[p.pos] == '\'' {
				if p.pos+1 < len(p.src) && p.src[p.pos+1] == '\'' {
					b.WriteByte('\'')
					p.pos += 2
					continue
				}
				p.pos++
				return litNode{b.String()}, nil
			}
			b.WriteByte(p.src[p.pos])
			p.pos++
		}
	case c == '-' || c >= '0' && c <= '9':
		start := p.pos
		p.pos++
		for p.pos < len(p.src) && p.src[p.pos] >= '0' && p.src[p.pos] <= '9' {
			p.pos++
		}
		n, err := strconv.ParseInt(p.src[start:p.pos], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("invalid number %q", p.src[start:p.pos])
		}
		return litNode{json.Number(strconv.FormatInt(n, 10))}, nil
	}
	name := p.ident()
	if name == "" {
		return nil, fmt.Errorf("unexpected %q at position %d", string(c), p.pos)
	}
	p.skip()
	if p.pos >= len(p.src) || p.src[p.pos] != '(' {
		return nil, fmt.Errorf("'%s' is not a function call", name)
	}
	p.pos++
	if !knownFunctions[strings.ToLower(name)] {
		return nil, fmt.Errorf("the template function '%s' is not supported by the emulator", name)
	}
	call := callNode{name: strings.ToLower(name)}
	p.skip()
	if p.pos < len(p.src) && p.src[p.pos] == ')' {
		p.pos++
		return call, nil
	}
	for {
		a, err := p.expr()
		if err != nil {
			return nil, err
		}
		call.args = append(call.args, a)
		p.skip()
		if p.pos >= len(p.src) {
			return nil, fmt.Errorf("expected ')' to close '%s('", name)
		}
		if p.src[p.pos] == ',' {
			p.pos++
			continue
		}
		if p.src[p.pos] == ')' {
			p.pos++
			return call, nil
		}
		return nil, fmt.Errorf("unexpected %q in the arguments of '%s'", string(p.src[p.pos]), name)
	}
}

// --- evaluation ---

// refObj is what reference() returns: the resource's properties (or, with
// 'Full', the whole resource). ".properties.x" is accepted on the short form
// too.
type refObj struct {
	v    map[string]any
	full bool
}

type evalCtx struct {
	e            *Engine
	sub, rg      string
	params       map[string]any // resolved parameter values, lower-case names
	paramDecl    map[string]bool
	paramDefault map[string]any // raw defaultValues not resolved yet, lower-case names
	vars         map[string]any // raw variables, lower-case names
	varCache     map[string]any
	varBusy      map[string]bool
	allowRef     bool
	resources    []*tmplResource
	deployedByID map[string]bool // template resource IDs processed so far
}

// evalValue evaluates every expression string inside v.
func (c *evalCtx) evalValue(v any) (any, *tmplError) {
	switch t := v.(type) {
	case string:
		expr, lit, ok := isExpression(t)
		if !ok {
			return lit, nil
		}
		n, err := parseExpression(expr)
		if err != nil {
			return nil, invalidTemplate("The template language expression '%s' is not valid: %v.", t, err)
		}
		out, terr := c.eval(n)
		if terr != nil {
			if terr.notYet {
				return nil, terr
			}
			return nil, &tmplError{code: terr.code, msg: fmt.Sprintf("Unable to evaluate the template language expression '%s': %s", t, terr.msg)}
		}
		return unwrap(out), nil
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			y, err := c.evalValue(x)
			if err != nil {
				return nil, err
			}
			m[k] = y
		}
		return m, nil
	case []any:
		s := make([]any, len(t))
		for i, x := range t {
			y, err := c.evalValue(x)
			if err != nil {
				return nil, err
			}
			s[i] = y
		}
		return s, nil
	}
	return v, nil
}

func unwrap(v any) any {
	if r, ok := v.(refObj); ok {
		return r.v
	}
	return v
}

func (c *evalCtx) eval(n node) (any, *tmplError) {
	switch t := n.(type) {
	case litNode:
		return t.v, nil
	case propNode:
		target, err := c.eval(t.target)
		if err != nil {
			return nil, err
		}
		if r, ok := target.(refObj); ok {
			if !r.full && strings.EqualFold(t.name, "properties") && !hasKey(r.v, "properties") {
				return refObj{v: r.v, full: true}, nil
			}
			target = r.v
		}
		m, ok := target.(map[string]any)
		if !ok {
			return nil, invalidTemplate("the property '%s' cannot be read from a value of type %s.", t.name, typeName(target))
		}
		v, ok := lookup(m, t.name)
		if !ok {
			return nil, invalidTemplate("the language expression property '%s' doesn't exist, available properties are '%s'.", t.name, strings.Join(sortedKeys(m), ", "))
		}
		return v, nil
	case indexNode:
		target, err := c.eval(t.target)
		if err != nil {
			return nil, err
		}
		target = unwrap(target)
		idx, err := c.eval(t.index)
		if err != nil {
			return nil, err
		}
		switch tv := target.(type) {
		case []any:
			i, ok := asInt(idx)
			if !ok || i < 0 || i >= len(tv) {
				return nil, invalidTemplate("the index %v is out of range for an array of length %d.", idx, len(tv))
			}
			return tv[i], nil
		case map[string]any:
			s, ok := idx.(string)
			if !ok {
				return nil, invalidTemplate("an object can only be indexed by a string.")
			}
			v, found := lookup(tv, s)
			if !found {
				return nil, invalidTemplate("the language expression property '%s' doesn't exist.", s)
			}
			return v, nil
		}
		return nil, invalidTemplate("a value of type %s cannot be indexed.", typeName(target))
	case callNode:
		args := make([]any, len(t.args))
		for i, a := range t.args {
			v, err := c.eval(a)
			if err != nil {
				return nil, err
			}
			args[i] = unwrap(v)
		}
		return c.call(t.name, args)
	}
	return nil, invalidTemplate("unsupported expression.")
}

func typeName(v any) string {
	switch v.(type) {
	case string:
		return "String"
	case json.Number, float64, int:
		return "Integer"
	case bool:
		return "Bool"
	case []any:
		return "Array"
	case map[string]any, refObj:
		return "Object"
	case nil:
		return "Null"
	}
	return fmt.Sprintf("%T", v)
}

func stringArgs(fn string, args []any, min int) ([]string, *tmplError) {
	if len(args) < min {
		return nil, invalidTemplate("the template function '%s' expects at least %d argument(s); got %d.", fn, min, len(args))
	}
	out := make([]string, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case string:
			out[i] = v
		case json.Number:
			out[i] = v.String()
		default:
			return nil, invalidTemplate("argument %d of '%s' must be a string; got %s.", i+1, fn, typeName(a))
		}
	}
	return out, nil
}

func (c *evalCtx) call(fn string, args []any) (any, *tmplError) {
	switch fn {
	case "parameters":
		s, err := stringArgs(fn, args, 1)
		if err != nil {
			return nil, err
		}
		k := strings.ToLower(s[0])
		if !c.paramDecl[k] {
			return nil, invalidTemplate("the template parameter '%s' is not found; declare it in the template's parameters.", s[0])
		}
		if v, ok := c.params[k]; ok {
			return v, nil
		}
		raw, ok := c.paramDefault[k]
		if !ok {
			return nil, invalidTemplate("the value of the template parameter '%s' refers to itself.", s[0])
		}
		delete(c.paramDefault, k) // a nested parameters('x') now reports the cycle
		v, terr := c.evalValue(raw)
		if terr != nil {
			return nil, terr
		}
		c.params[k] = v
		return v, nil
	case "variables":
		s, err := stringArgs(fn, args, 1)
		if err != nil {
			return nil, err
		}
		k := strings.ToLower(s[0])
		if v, ok := c.varCache[k]; ok {
			return v, nil
		}
		raw, ok := c.vars[k]
		if !ok {
			return nil, invalidTemplate("the template variable '%s' is not found; declare it in the template's variables.", s[0])
		}
		if c.varBusy[k] {
			return nil, invalidTemplate("the template variable '%s' refers to itself.", s[0])
		}
		c.varBusy[k] = true
		v, terr := c.evalValue(raw)
		delete(c.varBusy, k)
		if terr != nil {
			return nil, terr
		}
		c.varCache[k] = v
		return v, nil
	case "resourceid", "subscriptionresourceid":
		s, err := stringArgs(fn, args, 2)
		if err != nil {
			return nil, err
		}
		return c.resourceID(fn, s)
	case "guid":
		s, err := stringArgs(fn, args, 1)
		if err != nil {
			return nil, err
		}
		return armGUID(s...), nil
	case "tolower":
		s, err := stringArgs(fn, args, 1)
		if err != nil {
			return nil, err
		}
		if len(s) != 1 {
			return nil, invalidTemplate("the template function 'toLower' expects one argument.")
		}
		return strings.ToLower(s[0]), nil
	case "concat":
		if len(args) > 0 {
			if _, ok := args[0].([]any); ok {
				var out []any
				for i, a := range args {
					arr, ok := a.([]any)
					if !ok {
						return nil, invalidTemplate("argument %d of 'concat' must be an array like the first; got %s.", i+1, typeName(a))
					}
					out = append(out, arr...)
				}
				return out, nil
			}
		}
		var b strings.Builder
		for i, a := range args {
			switch v := a.(type) {
			case string:
				b.WriteString(v)
			case json.Number:
				b.WriteString(v.String())
			case bool:
				b.WriteString(strconv.FormatBool(v))
			default:
				return nil, invalidTemplate("argument %d of 'concat' must be a string; got %s.", i+1, typeName(a))
			}
		}
		return b.String(), nil
	case "format":
		if len(args) < 1 {
			return nil, invalidTemplate("the template function 'format' expects a format string.")
		}
		f, ok := args[0].(string)
		if !ok {
			return nil, invalidTemplate("the first argument of 'format' must be a string.")
		}
		return format(f, args[1:])
	case "resourcegroup":
		g := c.e.rgs[key(c.sub, c.rg)]
		if g == nil {
			return nil, invalidTemplate("the resource group '%s' does not exist.", c.rg)
		}
		return g.body(), nil
	case "subscription":
		return map[string]any{"id": "/subscriptions/" + c.sub, "subscriptionId": c.sub, "tenantId": c.e.cfg.TenantID, "displayName": "shellpool emulator"}, nil
	case "reference":
		return c.reference(args)
	}
	return nil, invalidTemplate("the template function '%s' is not supported by the emulator.", fn)
}

func format(f string, args []any) (any, *tmplError) {
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		ch := f[i]
		switch {
		case ch == '{' && i+1 < len(f) && f[i+1] == '{':
			b.WriteByte('{')
			i++
		case ch == '}' && i+1 < len(f) && f[i+1] == '}':
			b.WriteByte('}')
			i++
		case ch == '{':
			end := strings.IndexByte(f[i:], '}')
			if end < 0 {
				return nil, invalidTemplate("the format string '%s' has an unclosed '{'.", f)
			}
			n, err := strconv.Atoi(f[i+1 : i+end])
			if err != nil || n < 0 || n >= len(args) {
				return nil, invalidTemplate("the format item '%s' in '%s' does not name an argument (only {0}, {1}, ... are supported).", f[i:i+end+1], f)
			}
			switch v := args[n].(type) {
			case string:
				b.WriteString(v)
			case json.Number:
				b.WriteString(v.String())
			case bool:
				b.WriteString(strconv.FormatBool(v))
			default:
				j, _ := json.Marshal(v)
				b.Write(j)
			}
			i += end
		default:
			b.WriteByte(ch)
		}
	}
	return b.String(), nil
}

// resourceID implements resourceId([sub], [rg], type, names...) and
// subscriptionResourceId([sub], type, names...).
func (c *evalCtx) resourceID(fn string, s []string) (any, *tmplError) {
	ti := -1
	for i, a := range s {
		if strings.Contains(a, "/") {
			ti = i
			break
		}
	}
	if ti < 0 {
		return nil, invalidTemplate("the template function '%s' needs a resource type such as 'Microsoft.App/sessionPools'.", fn)
	}
	sub, rg := c.sub, c.rg
	switch {
	case fn == "subscriptionresourceid" && ti == 1:
		sub = s[0]
	case fn == "resourceid" && ti == 1:
		rg = s[0]
	case fn == "resourceid" && ti == 2:
		sub, rg = s[0], s[1]
	case ti != 0:
		return nil, invalidTemplate("the template function '%s' has too many arguments before the resource type '%s'.", fn, s[ti])
	}
	parts := strings.Split(strings.Trim(s[ti], "/"), "/")
	names := s[ti+1:]
	if len(parts) < 2 || len(names) != len(parts)-1 {
		return nil, invalidTemplate("the resource type '%s' needs %d resource name(s); got %d.", s[ti], max(len(parts)-1, 1), len(names))
	}
	var b strings.Builder
	b.WriteString("/subscriptions/" + sub)
	if fn == "resourceid" {
		b.WriteString("/resourceGroups/" + rg)
	}
	b.WriteString("/providers/" + parts[0])
	for i, t := range parts[1:] {
		b.WriteString("/" + t + "/" + names[i])
	}
	return b.String(), nil
}

func (c *evalCtx) reference(args []any) (any, *tmplError) {
	if !c.allowRef {
		return nil, invalidTemplate("the template function 'reference' is not expected at this location; it can be used in resource properties and outputs only.")
	}
	s, err := stringArgs("reference", args, 1)
	if err != nil {
		return nil, err
	}
	full := len(s) >= 3 && strings.EqualFold(s[2], "Full")
	target := s[0]
	id := target
	if !strings.HasPrefix(target, "/") {
		id = ""
		for _, r := range c.resources {
			if strings.EqualFold(r.name, target) {
				id = r.id
				break
			}
		}
		if id == "" {
			return nil, invalidTemplate("the resource '%s' referenced by reference() is not defined in the template; pass a resource ID.", target)
		}
	}
	for _, r := range c.resources {
		if strings.EqualFold(r.id, id) && !c.deployedByID[strings.ToLower(r.id)] {
			return nil, &tmplError{code: "InvalidTemplate", msg: "the resource '" + id + "' is not deployed yet", notYet: true}
		}
	}
	body := c.e.resourceBody(id)
	if body == nil {
		return nil, &tmplError{code: "ResourceNotFound", msg: fmt.Sprintf("the resource '%s' was not found.", id)}
	}
	if full {
		return refObj{v: body, full: true}, nil
	}
	props, _ := lookupMap(body, "properties")
	if props == nil {
		props = map[string]any{}
	}
	return refObj{v: props}, nil
}

// resourceBody returns the current ARM body of a pool, identity or role
// assignment, or nil. The caller holds e.mu.
func (e *Engine) resourceBody(id string) map[string]any {
	segs := strings.Split(strings.Trim(id, "/"), "/")
	if i := roleAssignmentsIndex(lowerAll(segs)); i >= 0 && len(segs) == i+4 {
		if ra := e.roles[strings.ToLower(roleAssignmentID("/"+strings.Join(segs[:i], "/"), segs[i+3]))]; ra != nil {
			return ra.body()
		}
		return nil
	}
	if len(segs) != 8 || !strings.EqualFold(segs[0], "subscriptions") || !strings.EqualFold(segs[2], "resourceGroups") || !strings.EqualFold(segs[4], "providers") {
		return nil
	}
	switch strings.ToLower(segs[5] + "/" + segs[6]) {
	case "microsoft.app/sessionpools":
		if p := e.pools[key(segs[1], segs[3], segs[7])]; p != nil {
			return e.poolBody(p, false, mcpAPIVersions[0]) // reference(): the newest preview's view
		}
	case "microsoft.managedidentity/userassignedidentities":
		if id := e.idents[key(segs[1], segs[3], segs[7])]; id != nil {
			return e.identityBody(id, "")
		}
	}
	return nil
}

func lowerAll(s []string) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = strings.ToLower(x)
	}
	return out
}

// checkExpressions parses every expression string inside v so syntax errors
// and unsupported functions fail before anything is deployed.
func checkExpressions(v any) *tmplError {
	switch t := v.(type) {
	case string:
		if expr, _, ok := isExpression(t); ok {
			if _, err := parseExpression(expr); err != nil {
				return invalidTemplate("The template language expression '%s' is not valid: %v.", t, err)
			}
		}
	case map[string]any:
		for _, k := range sortedKeys(t) {
			if err := checkExpressions(t[k]); err != nil {
				return err
			}
		}
	case []any:
		for _, x := range t {
			if err := checkExpressions(x); err != nil {
				return err
			}
		}
	}
	return nil
}

// sortStable returns the indexes of items in dependency order (Kahn's
// algorithm, ties in template order); ok is false on a cycle.
func topoOrder(n int, deps [][]int) ([]int, bool) {
	indeg := make([]int, n)
	users := make([][]int, n)
	for i, ds := range deps {
		for _, d := range ds {
			indeg[i]++
			users[d] = append(users[d], i)
		}
	}
	var ready, out []int
	for i := range n {
		if indeg[i] == 0 {
			ready = append(ready, i)
		}
	}
	for len(ready) > 0 {
		sort.Ints(ready)
		i := ready[0]
		ready = ready[1:]
		out = append(out, i)
		for _, u := range users[i] {
			indeg[u]--
			if indeg[u] == 0 {
				ready = append(ready, u)
			}
		}
	}
	return out, len(out) == n
}
