package armemu

import (
	"net/http"
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

// poolBody is the pool's ARM body as apiVersion shows it.
func (e *Engine) poolBody(p *pool, read bool, apiVersion string) map[string]any {
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
	mcpBody(props, p, apiVersion)
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

// putPool validates a pool, asks the Backend for its endpoint and stores it. body is the
// whole resource ({location, tags, identity, properties}). The caller holds
// e.mu. apiVersion is the request's (or the template resource's).
func (e *Engine) putPool(sub, rg, name string, body map[string]any, caller string, async bool, apiVersion string) (*pool, bool, *armError) {
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
	if props != nil {
		if err := applyMCP(props, apiVersion, &spec, old); err != nil {
			return nil, false, err
		}
	}
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
		writeJSON(q.w, http.StatusOK, e.poolBody(p, true, q.apiVersion))
		return nil
	case http.MethodPut:
		var body map[string]any
		if err := decodeBody(q.r, &body); err != nil {
			return err
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		p, created, err := e.putPool(sub, rg, name, body, q.caller, true, q.apiVersion)
		if err != nil {
			return err
		}
		async, _ := e.poolOpURLs(q, p, p.op)
		q.w.Header().Set("Azure-AsyncOperation", async)
		e.setRetryAfter(q.w)
		writeJSON(q.w, putStatus(created), e.poolBody(p, false, q.apiVersion))
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
		np, _, err := e.putPool(sub, rg, name, merged, q.caller, true, q.apiVersion)
		if err != nil {
			return err
		}
		np.op.result = func() any { return e.poolBody(np, false, q.apiVersion) }
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
			items = append(items, e.poolBody(p, false, q.apiVersion))
		}
	}
	e.writePage(q, items)
	return nil
}
