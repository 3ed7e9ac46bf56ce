package armemu

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
)

const deploymentType = "Microsoft.Resources/deployments"

type deployment struct {
	sub, rg, name   string
	mode            string
	params          map[string]any
	templateHash    string
	failure         *armError // nil when succeeded
	outputs         map[string]any
	outputResources []string
	op              *operation
	timestamp       time.Time
	correlationID   string
}

func (d *deployment) id() string {
	return "/subscriptions/" + d.sub + "/resourceGroups/" + d.rg + "/providers/" + deploymentType + "/" + d.name
}

// body is the deployment's ARM body with provisioningState state.
func (d *deployment) body(state string) map[string]any {
	props := map[string]any{
		"templateHash":      d.templateHash,
		"parameters":        d.params,
		"mode":              d.mode,
		"provisioningState": state,
		"timestamp":         timestamp(d.timestamp),
		"duration":          "PT0S",
		"correlationId":     d.correlationID,
		"dependencies":      []any{},
	}
	if state == "Succeeded" || state == "Failed" {
		res := make([]any, 0, len(d.outputResources))
		for _, id := range d.outputResources {
			res = append(res, map[string]any{"id": id})
		}
		props["outputResources"] = res
	}
	if state == "Succeeded" && d.outputs != nil {
		props["outputs"] = d.outputs
	}
	if state == "Failed" && d.failure != nil {
		props["error"] = d.failure
	}
	return map[string]any{"id": d.id(), "name": d.name, "type": deploymentType, "properties": props}
}

// state reports Running, then Succeeded or Failed (the PUT answer says
// Accepted); read counts the call as a status poll.
func (d *deployment) state(read bool) string {
	done := d.op.done()
	if read {
		done = d.op.read()
	}
	switch {
	case !done:
		return "Running"
	case d.failure != nil:
		return "Failed"
	}
	return "Succeeded"
}

// tmplResource is one entry of a template's resources array.
type tmplResource struct {
	index int
	raw   map[string]any
	kind  string // sessionpools, userassignedidentities, roleassignments
	name  string
	scope string // role assignments
	id    string
	deps  []int
}

func (e *Engine) serveDeployment(q *req, sub, rg, name string) *armError {
	k := key(sub, rg, name)
	switch q.r.Method {
	case http.MethodGet:
		e.mu.Lock()
		defer e.mu.Unlock()
		d := e.deploys[k]
		if d == nil {
			return errf(http.StatusNotFound, "DeploymentNotFound", "Deployment '%s' could not be found.", name)
		}
		writeJSON(q.w, http.StatusOK, d.body(d.state(true)))
		return nil
	case http.MethodDelete:
		e.mu.Lock()
		defer e.mu.Unlock()
		if e.deploys[k] == nil {
			q.w.WriteHeader(http.StatusNoContent)
			return nil
		}
		delete(e.deploys, k)
		op := e.newOp("InProgress")
		q.w.Header().Set("Location", opURL(q.base, "/subscriptions/"+sub+"/operationresults/"+op.id, q.apiVersion))
		e.setRetryAfter(q.w)
		q.w.WriteHeader(http.StatusAccepted)
		return nil
	case http.MethodPut:
	default:
		return methodNotAllowed(q)
	}
	in, aerr := parseDeploymentBody(q.r)
	if aerr != nil {
		return aerr
	}
	mode, tmpl, params, sum := in.mode, in.tmpl, in.params, in.sum

	e.mu.Lock()
	defer e.mu.Unlock()
	if e.rgs[key(sub, rg)] == nil {
		return e.rgNotFound(rg)
	}
	d := &deployment{sub: sub, rg: rg, name: name, mode: mode, templateHash: hex.EncodeToString(sum[:8]),
		timestamp: e.cfg.Now(), correlationID: uuid.NewString(), params: map[string]any{}}
	if id := q.r.Header.Get("x-ms-correlation-request-id"); id != "" {
		d.correlationID = id
	}
	ctx, resources, terr := e.prepareTemplate(sub, rg, tmpl, params, d)
	if terr != nil {
		d.failure = &armError{Status: http.StatusBadRequest, Code: terr.code, Message: terr.msg}
		e.deploys[k] = d
		return d.failure
	}
	e.runDeployment(ctx, resources, tmpl, d, q.caller)
	d.op = e.newOp("Running")
	if d.failure != nil {
		d.op.failure = d.failure
	}
	e.deploys[k] = d
	q.w.Header().Set("Azure-AsyncOperation", opURL(q.base, d.id()+"/operationStatuses/"+d.op.id, q.apiVersion))
	e.setRetryAfter(q.w)
	writeJSON(q.w, http.StatusCreated, d.body("Accepted"))
	return nil
}

// deploymentInput is a parsed deployment PUT or validate body.
type deploymentInput struct {
	mode   string
	tmpl   map[string]any
	params map[string]any
	sum    [32]byte
}

// parseDeploymentBody reads a deployment body. Like ARM it accepts the
// JSON-with-comments the Azure CLI sends (see jsonc.go).
func parseDeploymentBody(r *http.Request) (*deploymentInput, *armError) {
	raw, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, 4<<20))
	if err != nil {
		return nil, errf(http.StatusBadRequest, "InvalidRequestContent", "The request content could not be read: %v.", err)
	}
	if len(strings.TrimSpace(string(raw))) == 0 {
		return nil, errf(http.StatusBadRequest, "InvalidRequestContent", "The request content was invalid and could not be deserialized: the body is empty.")
	}
	clean, cerr := jsoncToJSON(raw)
	if cerr != nil {
		return nil, errf(http.StatusBadRequest, "InvalidRequestContent", "The request content was invalid and could not be deserialized: %v.", cerr)
	}
	var body struct {
		Properties *struct {
			Mode           string          `json:"mode"`
			Template       json.RawMessage `json:"template"`
			TemplateLink   json.RawMessage `json:"templateLink"`
			Parameters     map[string]any  `json:"parameters"`
			ParametersLink json.RawMessage `json:"parametersLink"`
		} `json:"properties"`
	}
	dec := json.NewDecoder(strings.NewReader(string(clean)))
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil {
		return nil, errf(http.StatusBadRequest, "InvalidRequestContent", "The request content was invalid and could not be deserialized: %v.", err)
	}
	if body.Properties == nil {
		return nil, errf(http.StatusBadRequest, "InvalidRequestContent", "The request content must have properties with mode and template.")
	}
	p := body.Properties
	mode := "Incremental"
	switch strings.ToLower(p.Mode) {
	case "incremental", "":
	case "complete":
		mode = "Complete"
	default:
		return nil, errf(http.StatusBadRequest, "InvalidDeploymentMode", "The deployment mode '%s' is invalid: use Incremental or Complete.", p.Mode)
	}
	if len(p.TemplateLink) > 0 && string(p.TemplateLink) != "null" || len(p.ParametersLink) > 0 && string(p.ParametersLink) != "null" {
		return nil, errf(http.StatusBadRequest, "InvalidTemplate", "templateLink and parametersLink are not supported by the emulator; send the template and parameters inline.")
	}
	if len(p.Template) == 0 || string(p.Template) == "null" {
		return nil, errf(http.StatusBadRequest, "InvalidRequestContent", "properties.template is required.")
	}
	var tmpl map[string]any
	tdec := json.NewDecoder(strings.NewReader(string(p.Template)))
	tdec.UseNumber()
	if err := tdec.Decode(&tmpl); err != nil {
		return nil, errf(http.StatusBadRequest, "InvalidTemplate", "properties.template must be a JSON object: %v.", err)
	}
	params := map[string]any{}
	for k, v := range p.Parameters {
		params[k] = normalizeNumbers(v)
	}
	return &deploymentInput{mode: mode, tmpl: tmpl, params: params, sum: sha256.Sum256(p.Template)}, nil
}

// validateDeployment answers POST .../deployments/{name}/validate: the
// template is checked as a PUT would check it, and nothing is deployed.
func (e *Engine) validateDeployment(q *req, sub, rg, name string) *armError {
	in, aerr := parseDeploymentBody(q.r)
	if aerr != nil {
		return aerr
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.rgs[key(sub, rg)] == nil {
		return e.rgNotFound(rg)
	}
	d := &deployment{sub: sub, rg: rg, name: name, mode: in.mode, templateHash: hex.EncodeToString(in.sum[:8]),
		timestamp: e.cfg.Now(), correlationID: uuid.NewString(), params: map[string]any{}}
	if id := q.r.Header.Get("x-ms-correlation-request-id"); id != "" {
		d.correlationID = id
	}
	_, resources, terr := e.prepareTemplate(sub, rg, in.tmpl, in.params, d)
	if terr != nil {
		return &armError{Status: http.StatusBadRequest, Code: terr.code, Message: terr.msg}
	}
	body := d.body("Succeeded")
	props := body["properties"].(map[string]any)
	validated := []any{}
	for _, r := range resources {
		validated = append(validated, map[string]any{"id": r.id})
	}
	props["validatedResources"] = validated
	writeJSON(q.w, http.StatusOK, body)
	return nil
}

// normalizeNumbers turns float64s from decoding into json.Number, so all
// template values share one number type.
func normalizeNumbers(v any) any {
	switch t := v.(type) {
	case float64:
		b, _ := json.Marshal(t)
		return json.Number(b)
	case map[string]any:
		for k, x := range t {
			t[k] = normalizeNumbers(x)
		}
	case []any:
		for i, x := range t {
			t[i] = normalizeNumbers(x)
		}
	}
	return v
}

var supportedKinds = map[string]string{
	"microsoft.app/sessionpools":                       "sessionpools",
	"microsoft.managedidentity/userassignedidentities": "userassignedidentities",
	"microsoft.authorization/roleassignments":          "roleassignments",
}

// prepareTemplate checks the template before anything is deployed: syntax,
// functions, parameters, resource types, names and dependencies. The caller
// holds e.mu.
func (e *Engine) prepareTemplate(sub, rg string, tmpl map[string]any, given map[string]any, d *deployment) (*evalCtx, []*tmplResource, *tmplError) {
	if err := checkExpressions(tmpl); err != nil {
		return nil, nil, err
	}
	ctx := &evalCtx{e: e, sub: sub, rg: rg, params: map[string]any{}, paramDecl: map[string]bool{},
		vars: map[string]any{}, varCache: map[string]any{}, varBusy: map[string]bool{}, deployedByID: map[string]bool{}}
	if vars, ok := lookup(tmpl, "variables"); ok && vars != nil {
		vm, ok := vars.(map[string]any)
		if !ok {
			return nil, nil, invalidTemplate("The template 'variables' must be an object.")
		}
		for k, v := range vm {
			if strings.EqualFold(k, "copy") {
				return nil, nil, invalidTemplate("Variable copy loops are not supported by the emulator.")
			}
			ctx.vars[strings.ToLower(k)] = v
		}
	}
	decls := map[string]any{}
	if ps, ok := lookup(tmpl, "parameters"); ok && ps != nil {
		pm, ok := ps.(map[string]any)
		if !ok {
			return nil, nil, invalidTemplate("The template 'parameters' must be an object.")
		}
		decls = pm
	}
	for name := range decls {
		ctx.paramDecl[strings.ToLower(name)] = true
	}
	for name := range given {
		if !ctx.paramDecl[strings.ToLower(name)] {
			return nil, nil, invalidTemplate("The template parameters '%s' in the parameters file are not valid; they are not present in the original template and can therefore not be provided at deployment time. The only supported parameters for this template are '%s'.", name, strings.Join(sortedKeys(decls), ", "))
		}
	}
	ctx.paramDefault = map[string]any{}
	for _, name := range sortedKeys(decls) {
		def, _ := decls[name].(map[string]any)
		found := false
		for gk, gv := range given {
			if strings.EqualFold(gk, name) {
				gm, ok := gv.(map[string]any)
				if !ok || !hasKey(gm, "value") {
					return nil, nil, invalidTemplate("The value of deployment parameter '%s' must be an object with a 'value' (Key Vault references are not supported by the emulator).", name)
				}
				ctx.params[strings.ToLower(name)], _ = lookup(gm, "value")
				found = true
			}
		}
		if !found {
			dv, ok := lookup(def, "defaultValue")
			if !ok {
				return nil, nil, invalidTemplate("Deployment template validation failed: 'The value for the template parameter '%s' is not provided. Please see https://aka.ms/arm-create-parameter-file for usage details.'.", name)
			}
			ctx.paramDefault[strings.ToLower(name)] = dv
		}
	}
	for _, name := range sortedKeys(decls) {
		def, _ := decls[name].(map[string]any)
		typ, _ := lookupString(def, "type")
		v, err := ctx.call("parameters", []any{name})
		if err != nil {
			return nil, nil, err
		}
		if allowed, ok := lookup(def, "allowedValues"); ok {
			if list, ok := allowed.([]any); ok {
				okv := false
				for _, a := range list {
					if looseEqual(a, v) {
						okv = true
					}
				}
				if !okv {
					return nil, nil, invalidTemplate("Deployment template validation failed: 'The provided value for the template parameter '%s' is not valid. The value is not part of the allowed value(s).'.", name)
				}
			}
		}
		d.params[name] = map[string]any{"type": typ, "value": v}
	}

	rawRes, _ := lookup(tmpl, "resources")
	list, ok := rawRes.([]any)
	if rawRes != nil && !ok {
		return nil, nil, invalidTemplate("The template 'resources' must be an array.")
	}
	var resources []*tmplResource
	for i, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			return nil, nil, invalidTemplate("Template resource %d must be an object.", i)
		}
		for _, unsupported := range []string{"copy", "condition"} {
			if hasKey(m, unsupported) {
				return nil, nil, invalidTemplate("Template resource %d uses '%s', which the emulator does not support.", i, unsupported)
			}
		}
		tv, err := ctx.evalValue(m["type"])
		if err != nil {
			return nil, nil, err
		}
		typ, _ := tv.(string)
		kind := supportedKinds[strings.ToLower(typ)]
		if kind == "" {
			return nil, nil, invalidTemplate("The resource type '%s' of template resource %d is not supported by the emulator; it deploys Microsoft.App/sessionPools, Microsoft.ManagedIdentity/userAssignedIdentities and Microsoft.Authorization/roleAssignments.", typ, i)
		}
		nv, err := ctx.evalValue(m["name"])
		if err != nil {
			return nil, nil, err
		}
		name, _ := nv.(string)
		if name == "" || strings.Contains(name, "/") {
			return nil, nil, invalidTemplate("Template resource %d of type '%s' needs a plain name (nested resource names are not supported); got %v.", i, typ, nv)
		}
		r := &tmplResource{index: i, raw: m, kind: kind, name: name}
		switch kind {
		case "sessionpools":
			r.id = poolID(sub, rg, name)
		case "userassignedidentities":
			r.id = identityID(sub, rg, name)
		case "roleassignments":
			scope := "/subscriptions/" + sub + "/resourceGroups/" + rg
			if sv, ok := lookup(m, "scope"); ok {
				s, err := ctx.evalValue(sv)
				if err != nil {
					return nil, nil, err
				}
				str, _ := s.(string)
				switch {
				case str == "":
					return nil, nil, invalidTemplate("The scope of role assignment '%s' must be a non-empty string.", name)
				case strings.HasPrefix(str, "/"):
					scope = normalizeScope(str)
				default:
					scope += "/providers/" + strings.Trim(str, "/")
				}
			}
			r.scope = scope
			r.id = roleAssignmentID(scope, name)
		}
		resources = append(resources, r)
	}
	ctx.resources = resources
	for _, r := range resources {
		dv, _ := lookup(r.raw, "dependsOn")
		if dv == nil {
			continue
		}
		deps, ok := dv.([]any)
		if !ok {
			return nil, nil, invalidTemplate("dependsOn of resource '%s' must be an array.", r.name)
		}
		for _, dep := range deps {
			v, err := ctx.evalValue(dep)
			if err != nil {
				return nil, nil, err
			}
			s, _ := v.(string)
			target := -1
			for j, o := range resources {
				typ, _ := o.raw["type"].(string)
				if strings.EqualFold(s, o.id) || strings.EqualFold(s, o.name) || strings.EqualFold(s, typ+"/"+o.name) {
					target = j
					break
				}
			}
			if target < 0 {
				return nil, nil, invalidTemplate("Deployment template validation failed: 'The resource '%s' is not defined in the template.'.", s)
			}
			if target != r.index {
				r.deps = append(r.deps, target)
			}
		}
	}
	ctx.allowRef = true
	return ctx, resources, nil
}

// runDeployment creates the resources in dependency order and records the
// outcome in d. The caller holds e.mu.
func (e *Engine) runDeployment(ctx *evalCtx, resources []*tmplResource, tmpl map[string]any, d *deployment, caller string) {
	deps := make([][]int, len(resources))
	for i, r := range resources {
		deps[i] = r.deps
	}
	order, ok := topoOrder(len(resources), deps)
	if !ok {
		d.failure = &armError{Status: http.StatusBadRequest, Code: "InvalidTemplate", Message: "Deployment template validation failed: circular dependency detected among the template resources."}
		return
	}
	pending := order
	for len(pending) > 0 {
		var later []int
		for _, i := range pending {
			r := resources[i]
			err := e.deployResource(ctx, r, caller)
			if err == nil {
				ctx.deployedByID[strings.ToLower(r.id)] = true
				d.outputResources = append(d.outputResources, r.id)
				continue
			}
			if err.notYet {
				later = append(later, i)
				continue
			}
			d.failure = deploymentError(r, err)
			return
		}
		if len(later) == len(pending) {
			d.failure = &armError{Status: http.StatusBadRequest, Code: "InvalidTemplate",
				Message: "Deployment template validation failed: reference() calls between template resources form a cycle or name a resource that never deploys."}
			return
		}
		pending = later
	}
	if outs, ok := lookupMap(tmpl, "outputs"); ok {
		d.outputs = map[string]any{}
		for _, name := range sortedKeys(outs) {
			o, _ := outs[name].(map[string]any)
			v, err := ctx.evalValue(o["value"])
			if err != nil {
				d.failure = &armError{Status: http.StatusBadRequest, Code: err.code, Message: err.msg}
				return
			}
			typ, _ := lookupString(o, "type")
			d.outputs[name] = map[string]any{"type": typ, "value": v}
		}
	}
	if d.mode == "Complete" {
		keep := map[string]bool{}
		for _, id := range d.outputResources {
			keep[strings.ToLower(id)] = true
		}
		for _, p := range e.pools {
			if strings.EqualFold(p.sub, d.sub) && strings.EqualFold(p.rg, d.rg) && !keep[strings.ToLower(p.id())] {
				e.deletePool(p)
			}
		}
		for k, id := range e.idents {
			if strings.EqualFold(id.SubscriptionID, d.sub) && strings.EqualFold(id.ResourceGroup, d.rg) && !keep[strings.ToLower(id.ID)] {
				delete(e.idents, k)
			}
		}
	}
}

func deploymentError(r *tmplResource, err *tmplError) *armError {
	if err.code == "InvalidTemplate" {
		return &armError{Status: http.StatusBadRequest, Code: "InvalidTemplate", Message: err.msg}
	}
	return &armError{
		Status:  http.StatusBadRequest,
		Code:    "DeploymentFailed",
		Message: "At least one resource deployment operation failed. Please list deployment operations for details. Please see https://aka.ms/arm-deployment-operations for usage details.",
		Details: []armError{{Code: err.code, Message: err.msg, Target: r.id}},
	}
}

// deployResource evaluates and creates one template resource with the same
// rules as a direct PUT. The caller holds e.mu.
func (e *Engine) deployResource(ctx *evalCtx, r *tmplResource, caller string) *tmplError {
	body := map[string]any{}
	for _, f := range []string{"location", "tags", "identity", "properties"} {
		if v, ok := lookup(r.raw, f); ok {
			ev, err := ctx.evalValue(v)
			if err != nil {
				return err
			}
			body[f] = ev
		}
	}
	var aerr *armError
	switch r.kind {
	case "sessionpools":
		apiVersion, _ := lookupString(r.raw, "apiVersion")
		_, _, aerr = e.putPool(ctx.sub, ctx.rg, r.name, body, caller, false, apiVersion)
	case "userassignedidentities":
		_, _, aerr = e.createIdentityChecked(ctx.sub, ctx.rg, r.name, body)
	case "roleassignments":
		props, _ := body["properties"].(map[string]any)
		_, _, aerr = e.putRole(rolePut{scope: r.scope, name: r.name, props: props, caller: caller})
	}
	if aerr != nil {
		return &tmplError{code: aerr.Code, msg: aerr.Message}
	}
	return nil
}
