package armemu

import (
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/shellpool/shellpool/internal/azname"
)

type resourceGroup struct {
	sub, name, location string
	tags                any
	created             time.Time
}

func (g *resourceGroup) id() string { return "/subscriptions/" + g.sub + "/resourceGroups/" + g.name }

func (g *resourceGroup) body() map[string]any {
	b := map[string]any{
		"id":         g.id(),
		"name":       g.name,
		"type":       "Microsoft.Resources/resourceGroups",
		"location":   g.location,
		"properties": map[string]any{"provisioningState": "Succeeded"},
	}
	if g.tags != nil {
		b["tags"] = g.tags
	}
	return b
}

var rgNameRE = regexp.MustCompile(`^[-\w._()]{1,90}$`)

// EnsureResourceGroup creates the resource group when it does not exist yet.
// Use it to seed the emulator before code under test runs.
func (e *Engine) EnsureResourceGroup(sub, rg, location string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.ensureRG(sub, rg, location)
}

func (e *Engine) ensureRG(sub, rg, location string) *resourceGroup {
	k := key(sub, rg)
	if g := e.rgs[k]; g != nil {
		return g
	}
	g := &resourceGroup{sub: sub, name: rg, location: azname.NormalizeRegion(location), created: e.cfg.Now()}
	e.rgs[k] = g
	return g
}

func (e *Engine) rgNotFound(rg string) *armError {
	return errf(http.StatusNotFound, "ResourceGroupNotFound", "Resource group '%s' could not be found.", rg)
}

func (e *Engine) serveRGList(q *req, sub string) *armError {
	e.mu.Lock()
	defer e.mu.Unlock()
	var items []any
	for _, k := range sortedKeys(e.rgs) {
		if g := e.rgs[k]; strings.EqualFold(g.sub, sub) {
			items = append(items, g.body())
		}
	}
	e.writePage(q, items)
	return nil
}

func (e *Engine) serveRG(q *req, sub, name string) *armError {
	switch q.r.Method {
	case http.MethodPut:
		var body struct {
			Location string `json:"location"`
			Tags     any    `json:"tags"`
		}
		if err := decodeBody(q.r, &body); err != nil {
			return err
		}
		if !rgNameRE.MatchString(name) || strings.HasSuffix(name, ".") {
			return errf(http.StatusBadRequest, "InvalidResourceGroupName", "Resource group name '%s' is invalid: use 1-90 letters, digits, '-', '_', '.', '(' or ')', not ending in '.'.", name)
		}
		if strings.TrimSpace(body.Location) == "" {
			return errf(http.StatusBadRequest, "LocationRequired", "The location property is required for this definition.")
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		k := key(sub, name)
		if g := e.rgs[k]; g != nil {
			if g.location != azname.NormalizeRegion(body.Location) {
				return errf(http.StatusConflict, "InvalidResourceGroupLocation", "Invalid resource group location '%s'. The Resource group already exists in location '%s'.", body.Location, g.location)
			}
			if body.Tags != nil {
				g.tags = body.Tags
			}
			writeJSON(q.w, http.StatusOK, g.body())
			return nil
		}
		g := e.ensureRG(sub, name, body.Location)
		g.tags = body.Tags
		writeJSON(q.w, http.StatusCreated, g.body())
		return nil
	case http.MethodGet, http.MethodHead:
		e.mu.Lock()
		defer e.mu.Unlock()
		g := e.rgs[key(sub, name)]
		if q.r.Method == http.MethodHead {
			if g == nil {
				q.w.WriteHeader(http.StatusNotFound)
			} else {
				q.w.WriteHeader(http.StatusNoContent)
			}
			return nil
		}
		if g == nil {
			return e.rgNotFound(name)
		}
		writeJSON(q.w, http.StatusOK, g.body())
		return nil
	case http.MethodDelete:
		e.mu.Lock()
		defer e.mu.Unlock()
		g := e.rgs[key(sub, name)]
		if g == nil {
			return e.rgNotFound(name)
		}
		e.deleteRG(g)
		op := e.newOp("InProgress")
		q.w.Header().Set("Location", opURL(q.base, "/subscriptions/"+sub+"/operationresults/"+op.id, q.apiVersion))
		e.setRetryAfter(q.w)
		q.w.WriteHeader(http.StatusAccepted)
		return nil
	}
	return methodNotAllowed(q)
}

// deleteRG removes the group and everything in it: pools (telling
// Backend.PoolDeleted), identities, deployments and role assignments at
// scopes inside it. The caller holds e.mu.
func (e *Engine) deleteRG(g *resourceGroup) {
	for k, p := range e.pools {
		if strings.EqualFold(p.sub, g.sub) && strings.EqualFold(p.rg, g.name) {
			delete(e.pools, k)
			e.cfg.Backend.PoolDeleted(p.spec)
		}
	}
	for k, id := range e.idents {
		if strings.EqualFold(id.SubscriptionID, g.sub) && strings.EqualFold(id.ResourceGroup, g.name) {
			delete(e.idents, k)
		}
	}
	for k, d := range e.deploys {
		if strings.EqualFold(d.sub, g.sub) && strings.EqualFold(d.rg, g.name) {
			delete(e.deploys, k)
		}
	}
	e.revokeUnder(g.id())
	delete(e.rgs, key(g.sub, g.name))
}

// revokeUnder deletes the role assignments at scope or below it. The caller
// holds e.mu.
func (e *Engine) revokeUnder(scope string) {
	for k, ra := range e.roles {
		if scopeWithin(ra.scope, scope) {
			delete(e.roles, k)
		}
	}
}

// scopeWithin reports whether scope equals parent or lies below it.
func scopeWithin(scope, parent string) bool {
	s, p := strings.ToLower(strings.TrimRight(scope, "/")), strings.ToLower(strings.TrimRight(parent, "/"))
	return s == p || strings.HasPrefix(s, p+"/")
}

// --- resource providers ---

type provider struct {
	namespace string
	state     string // NotRegistered, Registering, Registered
	reads     int    // reads left that report Registering
}

var namespaceRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)+$`)

// alwaysRegistered are the namespaces every Azure subscription has registered.
var alwaysRegistered = map[string]bool{"microsoft.resources": true, "microsoft.authorization": true}

func (e *Engine) serveProvider(q *req, sub, ns string, register bool) *armError {
	if !namespaceRE.MatchString(ns) {
		return errf(http.StatusNotFound, "InvalidResourceNamespace", "The resource namespace '%s' is invalid.", ns)
	}
	if register && q.r.Method != http.MethodPost || !register && q.r.Method != http.MethodGet {
		return methodNotAllowed(q)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	k := key(sub, ns)
	p := e.providers[k]
	if p == nil {
		p = &provider{namespace: ns, state: "NotRegistered"}
		if alwaysRegistered[strings.ToLower(ns)] {
			p.state = "Registered"
		}
		e.providers[k] = p
	}
	if register {
		if p.state == "NotRegistered" {
			p.state, p.reads = "Registering", e.cfg.LROPolls
		}
	} else if p.state == "Registering" {
		if p.reads > 0 {
			p.reads--
		} else {
			p.state = "Registered"
		}
	}
	body := map[string]any{
		"id":                 "/subscriptions/" + sub + "/providers/" + p.namespace,
		"namespace":          p.namespace,
		"registrationState":  p.state,
		"registrationPolicy": "RegistrationRequired",
		"resourceTypes":      providerTypes(p.namespace),
	}
	if p.state == "Registering" {
		// Tell pollers how soon to look again, as for the other long-running
		// operations; without it azcore's PollUntilDone waits 30 s.
		e.setRetryAfter(q.w)
	}
	writeJSON(q.w, http.StatusOK, body)
	return nil
}

func providerTypes(ns string) []any {
	switch strings.ToLower(ns) {
	case "microsoft.app":
		return []any{map[string]any{"resourceType": "sessionPools", "locations": regionNames, "apiVersions": poolAPIVersions}}
	case "microsoft.managedidentity":
		return []any{map[string]any{"resourceType": "userAssignedIdentities", "locations": regionNames, "apiVersions": identityAPIVersions}}
	case "microsoft.authorization":
		return []any{
			map[string]any{"resourceType": "roleAssignments", "locations": []string{}, "apiVersions": roleAPIVersions},
			map[string]any{"resourceType": "roleDefinitions", "locations": []string{}, "apiVersions": roleDefAPIVersions},
		}
	case "microsoft.resources":
		return []any{map[string]any{"resourceType": "deployments", "locations": []string{}, "apiVersions": resourceAPIVersions}}
	}
	return []any{}
}

// regionNames are the regions listing dynamic sessions (API.md §5).
var regionNames = []string{"Brazil South", "Canada Central", "Canada East", "Central US", "East US", "East US 2", "North Central US", "West Central US", "West US", "West US 2", "West US 3", "France Central", "France South", "Germany West Central", "Italy North", "North Europe", "Norway East", "Poland Central", "Spain Central", "Sweden Central", "Switzerland North", "Switzerland West", "UK South", "UK West", "West Europe", "Australia East", "Australia Southeast", "Central India", "East Asia", "Japan East", "Japan West", "Korea Central", "South India", "Southeast Asia", "South Africa North", "UAE North"}
