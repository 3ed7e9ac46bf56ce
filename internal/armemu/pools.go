package armemu

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/shellpool/shellpool/internal/azname"
)

const poolType = "Microsoft.App/sessionPools"

type pool struct {
	sub, rg, name string
	location      string
	tags          any
	identity      map[string]any
	props         map[string]any // as sent (read-only fields removed)
	endpoint      string
	op            *operation // provisioning operation; nil when done
	created       time.Time
	createdBy     string
	sysPrincipal  string
	spec          PoolSpec // what the data plane serves (Serial and Created set)
}

func poolID(sub, rg, name string) string {
	return "/subscriptions/" + sub + "/resourceGroups/" + rg + "/providers/" + poolType + "/" + name
}

func (p *pool) id() string { return poolID(p.sub, p.rg, p.name) }

// state is the provisioningState; read counts the call as a status poll.
func (p *pool) state(read bool) string {
	done := p.op.done()
	if read {
		done = p.op.read()
	}
	if done {
		return "Succeeded"
	}
	return "InProgress"
}

func (e *Engine) poolBody(p *pool, read bool) map[string]any {
	props := deepCopy(p.props).(map[string]any)
	if secrets, ok := lookup(props, "secrets"); ok {
		if list, ok := secrets.([]any); ok {
			for _, s := range list {
				if m, ok := s.(map[string]any); ok {
					for k := range m {
						if strings.EqualFold(k, "value") {
							delete(m, k)
						}
					}
				}
			}
		}
	}
	props["provisioningState"] = p.state(read)
	props["poolManagementEndpoint"] = p.endpoint
	props["nodeCount"] = 0
	b := map[string]any{
		"id":         p.id(),
		"name":       p.name,
		"type":       poolType,
		"location":   p.location,
		"properties": props,
		"systemData": map[string]any{
			"createdBy":     p.createdBy,
			"createdByType": "Application",
			"createdAt":     timestamp(p.created),
		},
	}
	if p.tags != nil {
		b["tags"] = p.tags
	}
	if p.identity != nil {
		id := deepCopy(p.identity).(map[string]any)
		t, _ := lookup(id, "type")
		if ts, _ := t.(string); strings.Contains(strings.ToLower(ts), "systemassigned") {
			id["principalId"] = p.sysPrincipal
			id["tenantId"] = e.cfg.TenantID
		}
		if ua, ok := lookup(id, "userAssignedIdentities"); ok {
			if m, ok := ua.(map[string]any); ok {
				for rid := range m {
					if known := e.identityByResourceID(rid); known != nil {
						m[rid] = map[string]any{"principalId": known.PrincipalID, "clientId": known.ClientID}
					}
				}
			}
		}
		b["identity"] = id
	}
	return b
}

var poolNameRE = regexp.MustCompile(`^[a-z][a-z0-9]*$`)

func validationErr(target, format string, args ...any) *armError {
	return &armError{Status: http.StatusBadRequest, Code: "ValidationError", Target: target, Message: fmt.Sprintf(format, args...)}
}

// poolSpec validates a pool's properties against API.md §2.3 and returns
// what the data plane needs.
//
// Defaults where the service's are undocumented (API.md §7.16): a missing
// scaleConfiguration.maxConcurrentSessions means 5 (Terraform's default); a
// missing lifecycle means Timed with a 300-second cooldown. A missing
// containerType is refused.
func poolSpec(sub, rg, name, location string, props map[string]any) (PoolSpec, *armError) {
	spec := PoolSpec{SubscriptionID: sub, ResourceGroup: rg, Name: name, Location: location, MaxConcurrentSessions: 5, Cooldown: -1}
	if len(name) < 3 || len(name) > 63 || !poolNameRE.MatchString(name) {
		return spec, &armError{Status: http.StatusBadRequest, Code: "InvalidResourceName", Target: "name",
			Message: fmt.Sprintf("The session pool name '%s' is invalid: use 3-63 lower-case letters and digits, starting with a letter (^[a-z][a-z0-9]*$).", name)}
	}
	if strings.TrimSpace(location) == "" {
		return spec, &armError{Status: http.StatusBadRequest, Code: "LocationRequired", Target: "location", Message: "The location property is required for this definition."}
	}
	if props == nil {
		return spec, validationErr("properties", "properties is required: set at least properties.containerType.")
	}
	ct, _ := lookupString(props, "containerType")
	switch strings.ToLower(ct) {
	case "shell":
		spec.ContainerType = "Shell"
	case "pythonlts":
		spec.ContainerType = "PythonLTS"
	case "nodelts":
		spec.ContainerType = "NodeLTS"
	case "customcontainer":
		spec.ContainerType = "CustomContainer"
	case "":
		return spec, validationErr("properties.containerType", "properties.containerType is required: use Shell, PythonLTS, NodeLTS or CustomContainer.")
	default:
		return spec, validationErr("properties.containerType", "properties.containerType '%s' is not supported: use Shell, PythonLTS, NodeLTS or CustomContainer.", ct)
	}
	custom := spec.ContainerType == "CustomContainer"
	if pm, ok := lookupString(props, "poolManagementType"); ok && !strings.EqualFold(pm, "Dynamic") && !strings.EqualFold(pm, "Manual") {
		return spec, validationErr("properties.poolManagementType", "properties.poolManagementType '%s' is invalid: use Dynamic or Manual.", pm)
	}
	scale, _ := lookupMap(props, "scaleConfiguration")
	ready, hasReady := 0, false
	if scale != nil {
		if v, ok := lookup(scale, "maxConcurrentSessions"); ok && v != nil {
			n, ok := asInt(v)
			if !ok || n < 1 {
				return spec, validationErr("properties.scaleConfiguration.maxConcurrentSessions", "properties.scaleConfiguration.maxConcurrentSessions must be an integer of at least 1; got %v.", v)
			}
			spec.MaxConcurrentSessions = n
		}
		if v, ok := lookup(scale, "readySessionInstances"); ok && v != nil {
			n, ok := asInt(v)
			if !ok || n < 0 {
				return spec, validationErr("properties.scaleConfiguration.readySessionInstances", "properties.scaleConfiguration.readySessionInstances must be a non-negative integer; got %v.", v)
			}
			ready, hasReady = n, true
		}
	}
	if hasReady && ready >= spec.MaxConcurrentSessions {
		return spec, validationErr("properties.scaleConfiguration.readySessionInstances", "properties.scaleConfiguration.readySessionInstances (%d) must be less than maxConcurrentSessions (%d).", ready, spec.MaxConcurrentSessions)
	}
	if err := lifecycle(props, custom, &spec); err != nil {
		return spec, err
	}
	tmpl, hasTmpl := lookup(props, "customContainerTemplate")
	hasTmpl = hasTmpl && tmpl != nil
	env, _ := lookupString(props, "environmentId")
	if custom {
		if _, ok := tmpl.(map[string]any); !ok {
			return spec, validationErr("properties.customContainerTemplate", "properties.customContainerTemplate is required when containerType is CustomContainer.")
		}
		if env == "" {
			return spec, validationErr("properties.environmentId", "properties.environmentId is required when containerType is CustomContainer: set the Microsoft.App/managedEnvironments resource ID.")
		}
	} else if hasTmpl {
		return spec, validationErr("properties.customContainerTemplate", "properties.customContainerTemplate is only allowed when containerType is CustomContainer; remove it for %s pools.", spec.ContainerType)
	}
	if net, _ := lookupMap(props, "sessionNetworkConfiguration"); net != nil {
		st, _ := lookupString(net, "status")
		switch strings.ToLower(st) {
		case "egressenabled":
			spec.EgressEnabled = true
		case "egressdisabled", "":
		default:
			return spec, validationErr("properties.sessionNetworkConfiguration.status", "properties.sessionNetworkConfiguration.status '%s' is invalid: use EgressEnabled or EgressDisabled.", st)
		}
	}
	return spec, nil
}

// lifecycle checks dynamicPoolConfiguration, in the lifecycleConfiguration
// form (2025-01-01 and later) or the legacy executionType form.
func lifecycle(props map[string]any, custom bool, spec *PoolSpec) *armError {
	const lc = "properties.dynamicPoolConfiguration.lifecycleConfiguration"
	dyn, _ := lookupMap(props, "dynamicPoolConfiguration")
	typ, cooldown, maxAlive := "Timed", any(nil), any(nil)
	prefix := lc
	if dyn != nil {
		if l, _ := lookupMap(dyn, "lifecycleConfiguration"); l != nil {
			t, _ := lookupString(l, "lifecycleType")
			if t == "" {
				t = "Timed"
			}
			typ = t
			cooldown, _ = lookup(l, "cooldownPeriodInSeconds")
			maxAlive, _ = lookup(l, "maxAlivePeriodInSeconds")
		} else if et, ok := lookupString(dyn, "executionType"); ok || hasKey(dyn, "cooldownPeriodInSeconds") {
			prefix = "properties.dynamicPoolConfiguration"
			if ok && !strings.EqualFold(et, "Timed") {
				return validationErr(prefix+".executionType", "%s.executionType '%s' is invalid: use Timed.", prefix, et)
			}
			cooldown, _ = lookup(dyn, "cooldownPeriodInSeconds")
		} else {
			cooldown = 300
		}
	} else {
		cooldown = 300
	}
	switch strings.ToLower(typ) {
	case "timed":
		if maxAlive != nil {
			return validationErr(prefix+".maxAlivePeriodInSeconds", "%s.maxAlivePeriodInSeconds is not allowed when lifecycleType is Timed; remove it or use OnContainerExit.", prefix)
		}
		if cooldown == nil {
			return validationErr(prefix+".cooldownPeriodInSeconds", "%s.cooldownPeriodInSeconds is required when lifecycleType is Timed (300-3600).", prefix)
		}
		n, ok := asInt(cooldown)
		if !ok || n < 300 || n > 3600 {
			return validationErr(prefix+".cooldownPeriodInSeconds", "%s.cooldownPeriodInSeconds must be an integer between 300 and 3600; got %v.", prefix, cooldown)
		}
		spec.Cooldown = time.Duration(n) * time.Second
	case "oncontainerexit":
		if !custom {
			return validationErr(prefix+".lifecycleType", "%s.lifecycleType OnContainerExit requires containerType CustomContainer; use Timed.", prefix)
		}
		if cooldown != nil {
			return validationErr(prefix+".cooldownPeriodInSeconds", "%s.cooldownPeriodInSeconds is not allowed when lifecycleType is OnContainerExit.", prefix)
		}
		if n, ok := asInt(maxAlive); !ok || n < 1 {
			return validationErr(prefix+".maxAlivePeriodInSeconds", "%s.maxAlivePeriodInSeconds is required when lifecycleType is OnContainerExit and must be at least 1.", prefix)
		}
	default:
		return validationErr(prefix+".lifecycleType", "%s.lifecycleType '%s' is invalid: use Timed or OnContainerExit.", prefix, typ)
	}
	return nil
}

// immutablePoolProps cannot change after creation (API.md §2.3).
var immutablePoolProps = []string{"containerType", "environmentId", "poolManagementType", "managedIdentitySettings", "mcpServerSettings"}

// putPool validates a pool, asks the Backend for its endpoint and stores it. body is the
// whole resource ({location, tags, identity, properties}). The caller holds
// e.mu.
func (e *Engine) putPool(sub, rg, name string, body map[string]any, caller string, async bool) (*pool, bool, *armError) {
	if e.rgs[key(sub, rg)] == nil {
		return nil, false, e.rgNotFound(rg)
	}
	location, _ := lookupString(body, "location")
	var props map[string]any
	if v, ok := lookup(body, "properties"); ok && v != nil {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false, validationErr("properties", "properties must be a JSON object.")
		}
		props = deepCopy(m).(map[string]any)
		for _, ro := range []string{"provisioningState", "poolManagementEndpoint", "nodeCount", "templateUpdateStatus"} {
			deleteKey(props, ro)
		}
	}
	spec, err := poolSpec(sub, rg, name, location, props)
	if err != nil {
		return nil, false, err
	}
	k := key(sub, rg, name)
	old := e.pools[k]
	if old != nil {
		for _, f := range immutablePoolProps[:2] {
			a, _ := lookup(old.props, f)
			b, _ := lookup(props, f)
			if !looseEqual(a, b) {
				return nil, false, validationErr("properties."+f, "properties.%s cannot be changed on an existing pool; delete the pool and create it again.", f)
			}
		}
	}
	endpoint, berr := e.cfg.Backend.ProvisionPool(spec)
	if berr != nil {
		return nil, false, errf(http.StatusBadRequest, "InvalidRequestContent", "The session pool cannot be provisioned: %v.", berr)
	}
	p := &pool{sub: sub, rg: rg, name: name, created: e.cfg.Now(), createdBy: caller, sysPrincipal: uuid.NewString()}
	if old != nil {
		p.sub, p.rg, p.name, p.created, p.createdBy, p.sysPrincipal = old.sub, old.rg, old.name, old.created, old.createdBy, old.sysPrincipal
	}
	p.location = location
	p.tags, _ = lookup(body, "tags")
	if id, ok := lookup(body, "identity"); ok {
		p.identity, _ = id.(map[string]any)
	}
	p.props = props
	p.endpoint = endpoint
	p.spec = e.stamp(spec, old)
	p.spec.Created = p.created
	if async {
		p.op = e.newOp("InProgress")
	}
	e.pools[k] = p
	return p, old == nil, nil
}

func (e *Engine) poolOpURLs(q *req, p *pool, op *operation) (async, location string) {
	loc := azname.NormalizeRegion(p.location)
	prefix := "/subscriptions/" + p.sub + "/providers/Microsoft.App/locations/" + loc
	return opURL(q.base, prefix+"/operationStatuses/"+op.id, q.apiVersion), opURL(q.base, prefix+"/operationResults/"+op.id, q.apiVersion)
}

func (e *Engine) servePool(q *req, sub, rg, name string) *armError {
	k := key(sub, rg, name)
	switch q.r.Method {
	case http.MethodGet:
		e.mu.Lock()
		defer e.mu.Unlock()
		p := e.pools[k]
		if p == nil {
			return poolNotFound(name)
		}
		writeJSON(q.w, http.StatusOK, e.poolBody(p, true))
		return nil
	case http.MethodPut:
		var body map[string]any
		if err := decodeBody(q.r, &body); err != nil {
			return err
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		p, created, err := e.putPool(sub, rg, name, body, q.caller, true)
		if err != nil {
			return err
		}
		async, _ := e.poolOpURLs(q, p, p.op)
		q.w.Header().Set("Azure-AsyncOperation", async)
		e.setRetryAfter(q.w)
		writeJSON(q.w, putStatus(created), e.poolBody(p, false))
		return nil
	case http.MethodPatch:
		var patch map[string]any
		if err := decodeBody(q.r, &patch); err != nil {
			return err
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		p := e.pools[k]
		if p == nil {
			return poolNotFound(name)
		}
		if pp, ok := lookupMap(patch, "properties"); ok {
			for _, f := range immutablePoolProps {
				if v, ok := lookup(pp, f); ok {
					cur, _ := lookup(p.props, f)
					if !looseEqual(v, cur) {
						return validationErr("properties."+f, "properties.%s cannot be changed with PATCH; delete the pool and create it again.", f)
					}
				}
			}
		}
		for k := range patch {
			switch strings.ToLower(k) {
			case "tags", "identity", "properties":
			default:
				return validationErr(k, "'%s' cannot be changed with PATCH; only tags, identity and properties are updatable.", k)
			}
		}
		full := map[string]any{"location": p.location, "properties": p.props}
		if p.tags != nil {
			full["tags"] = p.tags
		}
		if p.identity != nil {
			full["identity"] = p.identity
		}
		merged := mergePatch(deepCopy(full), patch).(map[string]any)
		np, _, err := e.putPool(sub, rg, name, merged, q.caller, true)
		if err != nil {
			return err
		}
		np.op.result = func() any { return e.poolBody(np, false) }
		async, loc := e.poolOpURLs(q, np, np.op)
		q.w.Header().Set("Azure-AsyncOperation", async)
		q.w.Header().Set("Location", loc)
		e.setRetryAfter(q.w)
		q.w.WriteHeader(http.StatusAccepted)
		return nil
	case http.MethodDelete:
		e.mu.Lock()
		defer e.mu.Unlock()
		p := e.pools[k]
		if p == nil {
			q.w.WriteHeader(http.StatusNoContent)
			return nil
		}
		e.deletePool(p)
		op := e.newOp("InProgress")
		_, loc := e.poolOpURLs(q, p, op)
		q.w.Header().Set("Location", loc)
		e.setRetryAfter(q.w)
		q.w.WriteHeader(http.StatusAccepted)
		return nil
	}
	return methodNotAllowed(q)
}

// deletePool removes the pool and the role assignments scoped to it, and
// tells the Backend. The caller holds e.mu.
func (e *Engine) deletePool(p *pool) {
	delete(e.pools, key(p.sub, p.rg, p.name))
	e.cfg.Backend.PoolDeleted(p.spec)
	e.revokeUnder(p.id())
}

// stamp gives spec the Serial of the pool it updates, or a new one. The
// caller holds e.mu.
func (e *Engine) stamp(spec PoolSpec, old *pool) PoolSpec {
	if old != nil {
		spec.Serial = old.spec.Serial
		return spec
	}
	e.serial++
	spec.Serial = e.serial
	return spec
}

func poolNotFound(name string) *armError {
	return errf(http.StatusNotFound, "ResourceNotFound", "The Resource '%s/%s' was not found.", poolType, name)
}

func (e *Engine) servePoolList(q *req, sub, rg string) *armError {
	e.mu.Lock()
	defer e.mu.Unlock()
	if rg != "" && e.rgs[key(sub, rg)] == nil {
		return e.rgNotFound(rg)
	}
	var items []any
	for _, k := range sortedKeys(e.pools) {
		p := e.pools[k]
		if strings.EqualFold(p.sub, sub) && (rg == "" || strings.EqualFold(p.rg, rg)) {
			items = append(items, e.poolBody(p, false))
		}
	}
	e.writePage(q, items)
	return nil
}

// SeedPool stores a pool that the data plane serves without an ARM
// deployment (sessionstest's Options.Pools and AddPool), as if it had been
// deployed: GET and list return it with provisioningState Succeeded and
// poolManagementEndpoint set to endpoint, and deleting it (or its resource
// group) calls Backend.PoolDeleted. Seeding an existing pool replaces its
// settings and keeps its Serial and live sessions. The resource group is
// created when missing. It does not call Backend.ProvisionPool. It returns
// the stored spec.
func (e *Engine) SeedPool(spec PoolSpec, endpoint string) PoolSpec {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.ensureRG(spec.SubscriptionID, spec.ResourceGroup, spec.Location)
	props := map[string]any{
		"containerType":      spec.ContainerType,
		"poolManagementType": "Dynamic",
		"scaleConfiguration": map[string]any{"maxConcurrentSessions": spec.MaxConcurrentSessions},
	}
	if secs := int(spec.Cooldown / time.Second); secs > 0 {
		props["dynamicPoolConfiguration"] = map[string]any{"lifecycleConfiguration": map[string]any{"lifecycleType": "Timed", "cooldownPeriodInSeconds": secs}}
	}
	status := "EgressDisabled"
	if spec.EgressEnabled {
		status = "EgressEnabled"
	}
	props["sessionNetworkConfiguration"] = map[string]any{"status": status}
	k := key(spec.SubscriptionID, spec.ResourceGroup, spec.Name)
	old := e.pools[k]
	p := &pool{
		sub: spec.SubscriptionID, rg: spec.ResourceGroup, name: spec.Name, location: spec.Location,
		props: props, endpoint: endpoint, created: e.cfg.Now(), sysPrincipal: uuid.NewString(),
	}
	if old != nil {
		p.created, p.createdBy, p.sysPrincipal = old.created, old.createdBy, old.sysPrincipal
	}
	p.spec = e.stamp(spec, old)
	p.spec.Created = p.created
	e.pools[k] = p
	return p.spec
}

// ForgetPool removes a pool from ARM (GET answers 404, lists omit it) and
// deletes the role assignments scoped to it, without calling
// Backend.PoolDeleted: the data plane calls it when it stops serving the
// pool itself. It returns the pool's spec and whether ARM knew the pool.
func (e *Engine) ForgetPool(sub, rg, name string) (PoolSpec, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	k := key(sub, rg, name)
	p := e.pools[k]
	if p == nil {
		return PoolSpec{}, false
	}
	delete(e.pools, k)
	e.revokeUnder(p.id())
	return p.spec, true
}

// Pool returns the spec of the pool with this subscription, resource group
// and name (case-insensitive), and whether there is one.
func (e *Engine) Pool(sub, rg, name string) (PoolSpec, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.pools[key(sub, rg, name)]
	if p == nil {
		return PoolSpec{}, false
	}
	return p.spec, true
}

// PoolNamed returns the spec of a pool found by its name alone (the
// data plane's host-form endpoints name no resource group): the one in sub
// and rg if there is one, else the oldest with that name.
func (e *Engine) PoolNamed(name, sub, rg string) (PoolSpec, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if p := e.pools[key(sub, rg, name)]; p != nil {
		return p.spec, true
	}
	var found *pool
	for _, p := range e.pools {
		if strings.EqualFold(p.name, name) && (found == nil || p.spec.Serial < found.spec.Serial) {
			found = p
		}
	}
	if found == nil {
		return PoolSpec{}, false
	}
	return found.spec, true
}

// FirstPool returns the spec of the oldest pool, and whether there is any.
func (e *Engine) FirstPool() (PoolSpec, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var first *pool
	for _, p := range e.pools {
		if first == nil || p.spec.Serial < first.spec.Serial {
			first = p
		}
	}
	if first == nil {
		return PoolSpec{}, false
	}
	return first.spec, true
}

// Pools returns the specs of every pool, in no particular order.
func (e *Engine) Pools() []PoolSpec {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]PoolSpec, 0, len(e.pools))
	for _, p := range e.pools {
		out = append(out, p.spec)
	}
	return out
}

// --- JSON helpers (property names are matched case-insensitively, as ARM does) ---

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
