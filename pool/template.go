package pool

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Template is an ARM deployment template that creates session pools and,
// through Resources, anything else a deployment needs (the identity package
// adds a user-assigned identity and a Session Executor role assignment this
// way). Build one with NewTemplate, then Render it or pass it to
// Client.BeginDeploy.
//
// Rendering is deterministic: object keys come out in a fixed order (struct
// field order, map keys sorted), so the output can be compared with golden
// files and diffed in reviews.
type Template struct {
	// Pools are rendered, in order, as Microsoft.App/sessionPools resources.
	// Each is validated (SessionPool.Validate) when the template is rendered,
	// except that its Name and Location may be ARM expressions such as
	// "[resourceGroup().location]"; read-only fields are left out.
	Pools []*SessionPool

	// APIVersion is the apiVersion of the pool resources; empty means
	// DefaultARMAPIVersion.
	APIVersion string

	// Parameterize renders the single pool's name and location as
	// [parameters('name')] and [parameters('location')] and declares both
	// parameters as strings, so one template serves many deployments: pass
	// their values to Client.BeginDeploy. It needs exactly one pool; the
	// pool's Name and Location are then ignored.
	Parameterize bool

	// Parameters declares more template parameters. With Parameterize, the
	// names "name" and "location" are taken.
	Parameters map[string]TemplateParameter

	// Variables are the template's variables.
	Variables map[string]any

	// Resources are appended after the pools. This is the extension point for
	// other packages: add TemplateResources, such as the identity package's
	// ManagedIdentityResource and SessionExecutorAssignmentResource, with
	// AddResources. Their fields may use template expressions, for example a
	// DependsOn entry built with PoolIDExpression. Each needs Type,
	// APIVersion and Name.
	// Any ARM template expression may be used ("[resourceGroup().location]",
	// "[uniqueString(resourceGroup().id)]"); Render refuses only the mistakes
	// it can know (see Render). The module's emulator evaluates a subset of
	// the functions; a deployment to it that calls another fails with
	// InvalidTemplate naming the function.
	Resources []TemplateResource

	// Outputs are the template's outputs, readable from the deployment
	// (Deployment.Properties.Outputs) when it succeeds.
	Outputs map[string]TemplateOutput
}

// TemplateParameter declares a template parameter.
type TemplateParameter struct {
	// Type is the parameter's type: "String", "Int", "Bool", "Object", "Array"
	// or "SecureString".
	Type string `json:"type"`
	// DefaultValue is used when a deployment does not pass the parameter.
	DefaultValue any `json:"defaultValue,omitempty"`
	// AllowedValues restricts the values a deployment may pass.
	AllowedValues []any `json:"allowedValues,omitempty"`
}

// TemplateOutput declares a template output.
type TemplateOutput struct {
	// Type is the output's type, e.g. "String".
	Type string `json:"type"`
	// Value is the output's value, usually an expression.
	Value any `json:"value"`
}

// TemplateResource is one resource of a deployment template, such as the
// identity package's ManagedIdentityResource. Fields may hold template
// expressions ("[parameters('name')]"). Properties and Identity are rendered
// as given: use structs (field order) or maps (sorted keys) to keep the
// output deterministic.
type TemplateResource struct {
	// APIVersion is the resource provider's api-version for this resource.
	APIVersion string `json:"apiVersion"`
	// Name is the resource's name.
	Name string `json:"name"`
	// Type is the resource type, e.g. "Microsoft.ManagedIdentity/userAssignedIdentities".
	Type string `json:"type"`
	// Scope makes this an extension resource of another resource, e.g. a role
	// assignment scoped to a pool: "[resourceId('Microsoft.App/sessionPools', 'mypool')]".
	Scope string `json:"scope,omitempty"`
	// Location is the region; leave it empty for resources without one.
	Location string `json:"location,omitempty"`
	// Tags are resource tags.
	Tags map[string]string `json:"tags,omitempty"`
	// Identity is the resource's managed identity block.
	Identity any `json:"identity,omitempty"`
	// DependsOn lists resource IDs (usually resourceId expressions) to deploy first.
	DependsOn []string `json:"dependsOn,omitempty"`
	// Properties are the resource's properties.
	Properties any `json:"properties,omitempty"`
	// Extra holds the other top-level keys ARM accepts, such as "sku",
	// "kind", "condition" or "copy". They are rendered after the fields
	// above, sorted by key; a key those fields already render is refused.
	Extra map[string]any `json:"-"`
}

// MarshalJSON renders the resource: its fields in order, then Extra's keys
// sorted.
func (r TemplateResource) MarshalJSON() ([]byte, error) {
	type plain TemplateResource
	b, err := marshalNoEscape(plain(r))
	if err != nil || len(r.Extra) == 0 {
		return b, err
	}
	var buf bytes.Buffer
	buf.Write(b[:len(b)-1]) // without the closing brace
	for _, k := range slices.Sorted(maps.Keys(r.Extra)) {
		kb, _ := marshalNoEscape(k)
		vb, err := marshalNoEscape(r.Extra[k])
		if err != nil {
			return nil, err
		}
		buf.WriteByte(',')
		buf.Write(kb)
		buf.WriteByte(':')
		buf.Write(vb)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// marshalNoEscape is json.Marshal without HTML escaping (the caller's
// encoder decides that) and without the trailing newline.
func marshalNoEscape(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// templateDoc is the rendered document; field order is the output order.
type templateDoc struct {
	Schema         string                       `json:"$schema"`
	ContentVersion string                       `json:"contentVersion"`
	Parameters     map[string]TemplateParameter `json:"parameters,omitempty"`
	Variables      map[string]any               `json:"variables,omitempty"`
	Resources      []TemplateResource           `json:"resources"`
	Outputs        map[string]TemplateOutput    `json:"outputs,omitempty"`
}

// NewTemplate returns a template that creates pools.
func NewTemplate(pools ...*SessionPool) *Template {
	return &Template{Pools: pools}
}

// Render returns the template as indented JSON (four spaces, a trailing
// newline, HTML characters not escaped), ready to save as deploy.json. It
// fails with an error matching ErrInvalidArgument when a pool is invalid, when
// Parameterize is set without exactly one pool, or when an expression has a
// mistake that can be known offline: unbalanced parentheses or brackets, an
// unclosed string literal, a function ARM does not have, or
// parameters('x') / variables('x') naming something the template does not
// declare. Expressions it cannot evaluate, such as
// "[resourceGroup().location]" or "[uniqueString(resourceGroup().id)]", are
// left for ARM; a pool's name and location may be such expressions.
func (t *Template) Render() ([]byte, error) {
	return t.encode("    ")
}

// MarshalJSON renders the template as compact JSON, with the same content and
// checks as Render, so a Template can be embedded in other JSON documents.
func (t Template) MarshalJSON() ([]byte, error) {
	b, err := t.encode("")
	if err != nil {
		return nil, err
	}
	return bytes.TrimRight(b, "\n"), nil
}

func (t *Template) encode(indent string) ([]byte, error) {
	doc, err := t.document()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if indent != "" {
		enc.SetIndent("", indent)
	}
	if err := enc.Encode(doc); err != nil {
		return nil, &ValidationError{Subject: "template", Problems: []Problem{{Field: "(document)",
			Rule: fmt.Sprintf("cannot be encoded as JSON: %v; use values encoding/json can encode", err), Err: err}}}
	}
	if err := checkExpressions(buf.Bytes()); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (t *Template) apiVersion() string {
	if t.APIVersion != "" {
		return t.APIVersion
	}
	return DefaultARMAPIVersion
}

func (t *Template) document() (*templateDoc, error) {
	if len(t.Pools) == 0 && len(t.Resources) == 0 {
		return nil, &ValidationError{Subject: "template", Problems: []Problem{{Field: "resources", Rule: "must contain at least one pool or resource; add pools with NewTemplate(pools...)"}}}
	}
	if t.Parameterize && len(t.Pools) != 1 {
		return nil, &ValidationError{Subject: "template", Problems: []Problem{{Field: "parameters", Rule: fmt.Sprintf("Parameterize needs exactly one pool, got %d; render the pools one template each, or declare your own Parameters", len(t.Pools))}}}
	}
	doc := &templateDoc{
		Schema:         TemplateSchema,
		ContentVersion: TemplateContentVersion,
		Variables:      t.Variables,
		Outputs:        t.Outputs,
	}
	if len(t.Parameters) > 0 || t.Parameterize {
		doc.Parameters = make(map[string]TemplateParameter, len(t.Parameters)+2)
		for k, v := range t.Parameters {
			doc.Parameters[k] = v
		}
	}
	if t.Parameterize {
		for _, k := range []string{"name", "location"} {
			if _, taken := t.Parameters[k]; taken {
				return nil, &ValidationError{Subject: "template", Problems: []Problem{{Field: "parameters." + k, Rule: "is declared by Parameterize; rename your parameter"}}}
			}
			doc.Parameters[k] = TemplateParameter{Type: "String"}
		}
	}
	for i, p := range t.Pools {
		mode := checkInTemplate
		if t.Parameterize {
			mode = checkParameterized
		}
		if err := p.validate(mode, t.apiVersion()); err != nil {
			return nil, fmt.Errorf("template pool %d: %w", i, err)
		}
		r := TemplateResource{
			APIVersion: t.apiVersion(),
			Name:       p.Name,
			Type:       ResourceType,
			Location:   p.Location,
			Tags:       p.Tags,
			Properties: p.Properties.writable(),
		}
		if id := p.Identity.writable(); id != nil {
			r.Identity = id
		}
		if t.Parameterize {
			r.Name, r.Location = "[parameters('name')]", "[parameters('location')]"
		}
		doc.Resources = append(doc.Resources, r)
	}
	var c checker
	for i, r := range t.Resources {
		checkResource(&c, fmt.Sprintf("resources[%d]", len(t.Pools)+i), r)
	}
	if err := c.err("template"); err != nil {
		return nil, err
	}
	doc.Resources = append(doc.Resources, t.Resources...)
	return doc, nil
}

// checkResource records the fields ARM requires of every template resource
// and Extra keys that would repeat a field.
func checkResource(c *checker, f string, r TemplateResource) {
	for _, req := range []struct{ name, v string }{{"type", r.Type}, {"apiVersion", r.APIVersion}, {"name", r.Name}} {
		if strings.TrimSpace(req.v) == "" {
			c.add(f+"."+req.name, "is required in every template resource")
		}
	}
	for _, k := range slices.Sorted(maps.Keys(r.Extra)) {
		if k == "" || slices.Contains(resourceKeys, k) {
			c.add(f+".Extra["+strconv.Quote(k)+"]", "is a key TemplateResource renders from its own field (%s); set the field instead", strings.Join(resourceKeys, ", "))
		}
	}
}

// resourceKeys are the JSON names of TemplateResource's fields.
var resourceKeys = []string{"apiVersion", "dependsOn", "identity", "location", "name", "properties", "scope", "tags", "type"}

// AddResources appends resources to t.Resources, such as those
// identity.ManagedIdentityResource and identity.SessionExecutorAssignmentResource
// return. Each needs Type, APIVersion and Name, and must encode as JSON; a
// resource that breaks this fails with a *ValidationError naming each
// problem, and then nothing is appended.
//
//	t := pool.NewTemplate(pool.NewShellPool("myshellpool", "northcentralus"))
//	err := t.AddResources(
//		identity.ManagedIdentityResource("myshellpool-uami", "northcentralus"),
//		identity.SessionExecutorAssignmentResource("myshellpool", "myshellpool-uami"))
func (t *Template) AddResources(resources ...TemplateResource) error {
	var c checker
	for i, r := range resources {
		f := fmt.Sprintf("resources[%d]", len(t.Pools)+len(t.Resources)+i)
		checkResource(&c, f, r)
		if _, err := json.Marshal(r); err != nil {
			c.addErr(f, err, "cannot be encoded as JSON: %v", err)
		}
	}
	if err := c.err("template"); err != nil {
		return err
	}
	t.Resources = append(t.Resources, resources...)
	return nil
}

// PoolNameExpression returns an expression fragment (without brackets) that
// evaluates to the name of pool i: "parameters('name')" when Parameterize is
// set, otherwise the quoted literal, e.g. "'myshellpool'". It returns "" when
// i is out of range.
func (t *Template) PoolNameExpression(i int) string {
	if i < 0 || i >= len(t.Pools) || t.Pools[i] == nil {
		return ""
	}
	if t.Parameterize {
		return "parameters('name')"
	}
	return quoteExpr(t.Pools[i].Name)
}

// PoolIDExpression returns an expression fragment (without brackets) that
// evaluates to the resource ID of pool i, e.g.
// "resourceId('Microsoft.App/sessionPools', 'myshellpool')". Wrap it in
// brackets for DependsOn or Scope: "[" + t.PoolIDExpression(0) + "]". It
// returns "" when i is out of range.
func (t *Template) PoolIDExpression(i int) string {
	n := t.PoolNameExpression(i)
	if n == "" {
		return ""
	}
	return "resourceId(" + quoteExpr(ResourceType) + ", " + n + ")"
}

// quoteExpr quotes s as a template expression string literal.
func quoteExpr(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// armFunctions are the functions of ARM's template language (Microsoft's
// "ARM template functions" reference), lower-cased. Any function whose name
// starts with "list" (listKeys, listSecrets, list*) and user-defined
// functions ("namespace.name(...)") are accepted as well.
var armFunctions = map[string]bool{}

func init() {
	for _, f := range strings.Fields(`
		array concat contains createArray empty first indexFromEnd indexOf intersection last
		lastIndexOf length max min range skip take tryGet tryIndexFromEnd union
		parseCidr cidrSubnet cidrHost
		coalesce equals greater greaterOrEquals less lessOrEquals
		dateTimeAdd dateTimeFromEpoch dateTimeToEpoch utcNow
		deployer deployment environment parameters variables
		filter groupBy lambda lambdaVariables map mapValues reduce sort toObject
		and bool false if not or true
		add copyIndex div float int mod mul sub
		createObject items json null objectKeys shallowMerge
		extensionResourceId pickZones providers reference references resourceId
		subscriptionResourceId managementGroupResourceId tenantResourceId
		managementGroup resourceGroup subscription tenant
		base64 base64ToJson base64ToString dataUri dataUriToString endsWith format guid join
		newGuid padLeft replace split startsWith string substring toLower toUpper trim
		uniqueString uri uriComponent uriComponentToString`) {
		armFunctions[strings.ToLower(f)] = true
	}
}

// checkExpressions walks a rendered template and refuses the expression
// mistakes that can be known without deploying: unbalanced parentheses or
// brackets, an unterminated string literal, a call of a function ARM does not
// have (a typo such as resourceGroop()), and parameters('x') or
// variables('x') naming something the template does not declare. Everything
// else, such as [resourceGroup().location] or uniqueString(...), is left for
// ARM to evaluate.
func checkExpressions(doc []byte) error {
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		return fmt.Errorf("pool: render template: %w", err)
	}
	root, _ := v.(map[string]any)
	params, _ := root["parameters"].(map[string]any)
	vars, _ := root["variables"].(map[string]any)
	var c checker
	walkStrings(v, "", func(path, s string) {
		expr, ok := expression(s)
		if !ok {
			return
		}
		calls, syntax := scanExpression(expr)
		if syntax != "" {
			c.add(path, "expression %q is malformed: %s", s, syntax)
			return
		}
		for _, call := range calls {
			fn := strings.ToLower(call.name)
			switch {
			case !armFunctions[fn] && !strings.HasPrefix(fn, "list"):
				c.add(path, "expression %q calls %s(), which is not an ARM template function; check the spelling", s, call.name)
			case fn == "parameters" && call.literal:
				if _, ok := params[call.arg]; !ok {
					c.add(path, "expression %q refers to parameter %q, which the template does not declare; add it to Template.Parameters", s, call.arg)
				}
			case fn == "variables" && call.literal:
				if _, ok := vars[call.arg]; !ok {
					c.add(path, "expression %q refers to variable %q, which the template does not declare; add it to Template.Variables", s, call.arg)
				}
			}
		}
	})
	return c.err("template")
}

// exprCall is one function call in an expression; arg is its first argument
// when that is a string literal (literal true).
type exprCall struct {
	name    string
	arg     string
	literal bool
}

// scanExpression lists the calls of an expression's body, skipping member
// calls and user-defined functions (a name after '.'). It returns a
// description of the first syntax error, or "".
func scanExpression(expr string) ([]exprCall, string) {
	var calls []exprCall
	var stack []byte
	for i := 0; i < len(expr); {
		ch := expr[i]
		switch {
		case ch == '\'':
			i++
			closed := false
			for i < len(expr) {
				if expr[i] == '\'' {
					if i+1 < len(expr) && expr[i+1] == '\'' {
						i += 2
						continue
					}
					closed = true
					break
				}
				i++
			}
			if !closed {
				return nil, "a string literal is not closed (write '' for a quote inside one)"
			}
			i++
		case ch == '(' || ch == '[':
			stack = append(stack, ch)
			i++
		case ch == ')' || ch == ']':
			open := byte('(')
			if ch == ']' {
				open = '['
			}
			if len(stack) == 0 || stack[len(stack)-1] != open {
				return nil, fmt.Sprintf("%q at offset %d has no matching %q", ch, i, open)
			}
			stack = stack[:len(stack)-1]
			i++
		case isIdentStart(ch):
			j := i
			for j < len(expr) && isIdentPart(expr[j]) {
				j++
			}
			k := j
			for k < len(expr) && expr[k] == ' ' {
				k++
			}
			member := i > 0 && expr[i-1] == '.'
			namespaced := k < len(expr) && expr[k] == '.'
			if k < len(expr) && expr[k] == '(' && !member && !namespaced {
				call := exprCall{name: expr[i:j]}
				if m := literalArgRE.FindStringSubmatch(expr[k+1:]); m != nil {
					call.arg, call.literal = m[1], true
				}
				calls = append(calls, call)
			}
			i = j
		default:
			i++
		}
	}
	if len(stack) > 0 {
		return nil, fmt.Sprintf("%d %q not closed", len(stack), stack[len(stack)-1])
	}
	return calls, ""
}

// literalArgRE matches a call's argument list that is one string literal
// without escaped quotes: "'x')".
var literalArgRE = regexp.MustCompile(`^\s*'([^']*)'\s*\)`)

// walkStrings calls fn for every string value in v with its JSON path.
func walkStrings(v any, path string, fn func(path, s string)) {
	switch x := v.(type) {
	case string:
		fn(path, x)
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(x)) {
			walkStrings(x[k], joinPath(path, k), fn)
		}
	case []any:
		for i, e := range x {
			walkStrings(e, fmt.Sprintf("%s[%d]", path, i), fn)
		}
	}
}

func joinPath(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

// expression reports whether s is a template expression and returns its body
// without the brackets. "[[..." is an escaped literal, not an expression.
func expression(s string) (string, bool) {
	if len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' || strings.HasPrefix(s, "[[") {
		return "", false
	}
	return strings.TrimSpace(s[1 : len(s)-1]), true
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentPart(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }
