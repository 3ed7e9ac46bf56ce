package armemu

import (
	"strings"
	"time"

	"github.com/google/uuid"
)

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
	if spec.MCPServerEnabled || spec.MCPServerAPIKeyDisabled {
		props[mcpKey] = map[string]any{"isMcpServerEnabled": spec.MCPServerEnabled, "isMcpServerApiKeyDisabled": spec.MCPServerAPIKeyDisabled}
	}
	if spec.MCPServerAPIKey == "" && old != nil {
		spec.MCPServerAPIKey = old.spec.MCPServerAPIKey
	}
	if spec.MCPServerEnabled && spec.MCPServerAPIKey == "" {
		spec.MCPServerAPIKey = newMCPAPIKey()
	}
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

// PoolNamed returns the spec of a pool found by its name (the data plane's
// host-form endpoints name no resource group): the one in sub and rg if
// there is one, else the oldest with that name in any. The arguments are in
// the order of Pool's.
func (e *Engine) PoolNamed(sub, rg, name string) (PoolSpec, bool) {
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
