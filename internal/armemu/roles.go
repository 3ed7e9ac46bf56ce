package armemu

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
)

const roleAssignmentType = "Microsoft.Authorization/roleAssignments"

type roleAssignment struct {
	name, scope      string
	roleGUID         string
	roleDefSent      string
	principalID      string
	principalType    string
	description      any
	condition        any
	conditionVersion any
	created          time.Time
	createdBy        string
}

func roleAssignmentID(scope, name string) string {
	return strings.TrimRight(scope, "/") + "/providers/" + roleAssignmentType + "/" + name
}

func (ra *roleAssignment) id() string { return roleAssignmentID(ra.scope, ra.name) }

func (ra *roleAssignment) body() map[string]any {
	return map[string]any{
		"id":   ra.id(),
		"name": ra.name,
		"type": roleAssignmentType,
		"properties": map[string]any{
			// The subscription form, as Azure answers for assignments under a
			// subscription; the Azure CLI compares its --role filter with it.
			"roleDefinitionId":                   roleDefinitionID(scopeSubscription(ra.scope), ra.roleGUID),
			"principalId":                        ra.principalID,
			"principalType":                      ra.principalType,
			"scope":                              ra.scope,
			"description":                        ra.description,
			"condition":                          ra.condition,
			"conditionVersion":                   ra.conditionVersion,
			"delegatedManagedIdentityResourceId": nil,
			"createdOn":                          timestamp(ra.created),
			"updatedOn":                          timestamp(ra.created),
			"createdBy":                          ra.createdBy,
			"updatedBy":                          ra.createdBy,
		},
	}
}

var (
	guidRE    = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	roleDefRE = regexp.MustCompile(`(?i)^(/subscriptions/[^/]+)?/providers/Microsoft\.Authorization/roleDefinitions/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$`)
)

var principalTypes = []string{"User", "Group", "ServicePrincipal", "ForeignGroup", "Device"}

// normalizeScope gives a scope a leading slash and no trailing one.
func normalizeScope(s string) string {
	s = "/" + strings.Trim(s, "/")
	return s
}

// checkScope reports whether the scope's resource exists; the caller holds e.mu.
func (e *Engine) checkScope(scope string) *armError {
	segs := strings.Split(strings.Trim(scope, "/"), "/")
	if len(segs) < 2 || !strings.EqualFold(segs[0], "subscriptions") {
		return errf(http.StatusBadRequest, "InvalidScope", "The scope '%s' is not valid: use a subscription, resource group or resource ID.", scope)
	}
	if len(segs) < 4 {
		return nil
	}
	if !strings.EqualFold(segs[2], "resourceGroups") {
		return errf(http.StatusBadRequest, "InvalidScope", "The scope '%s' is not valid: use a subscription, resource group or resource ID.", scope)
	}
	if e.rgs[key(segs[1], segs[3])] == nil {
		return e.rgNotFound(segs[3])
	}
	if len(segs) == 8 && strings.EqualFold(segs[4], "providers") {
		switch strings.ToLower(segs[5] + "/" + segs[6]) {
		case "microsoft.app/sessionpools":
			if e.pools[key(segs[1], segs[3], segs[7])] == nil {
				return poolNotFound(segs[7])
			}
		case "microsoft.managedidentity/userassignedidentities":
			if e.idents[key(segs[1], segs[3], segs[7])] == nil {
				return identityNotFound(segs[7])
			}
		}
	}
	return nil
}

// rolePut is one role assignment to store (putRole).
type rolePut struct {
	scope  string         // where the role is assigned
	name   string         // the assignment's name, a GUID
	props  map[string]any // properties as sent
	caller string         // the creating principal's object ID
	// seeded is an assignment the data plane makes through AssignRole: its
	// scope's resource need not exist yet (a pool created later is
	// covered) and its principal need not be a GUID (any object ID a test
	// mints tokens for).
	seeded bool
}

// putRole validates and stores a role assignment. The caller holds e.mu.
func (e *Engine) putRole(in rolePut) (*roleAssignment, bool, *armError) {
	scope, name, props, caller := normalizeScope(in.scope), in.name, in.props, in.caller
	if !guidRE.MatchString(name) {
		return nil, false, errf(http.StatusBadRequest, "InvalidRoleAssignmentId", "The role assignment ID '%s' is not valid. The role assignment ID must be a GUID.", name)
	}
	if props == nil {
		return nil, false, errf(http.StatusBadRequest, "InvalidRequestContent", "The request content must have properties.roleDefinitionId and properties.principalId.")
	}
	roleDef, _ := lookupString(props, "roleDefinitionId")
	m := roleDefRE.FindStringSubmatch(roleDef)
	if m == nil {
		return nil, false, errf(http.StatusBadRequest, "InvalidRoleDefinitionId", "The role definition ID '%s' is not valid: use /subscriptions/{subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/{roleGuid}.", roleDef)
	}
	roleGUID := strings.ToLower(m[2])
	principal, _ := lookupString(props, "principalId")
	if !guidRE.MatchString(principal) && !in.seeded {
		return nil, false, errf(http.StatusBadRequest, "InvalidPrincipalId", "The principal ID '%s' is not valid: use the object ID (a GUID) of a user, group or service principal.", principal)
	}
	principal = strings.ToLower(principal)
	ptype, hasType := lookupString(props, "principalType")
	if hasType {
		found := false
		for _, t := range principalTypes {
			if strings.EqualFold(t, ptype) {
				ptype, found = t, true
			}
		}
		if !found {
			return nil, false, errf(http.StatusBadRequest, "InvalidPrincipalType", "The principal type '%s' is not valid: use %s.", ptype, strings.Join(principalTypes, ", "))
		}
	}
	if err := e.checkScope(scope); err != nil && (!in.seeded || err.Code == "InvalidScope") {
		return nil, false, err
	}
	known := e.identityBy(principal, "")
	if known == nil && principal == strings.ToLower(e.system.PrincipalID) {
		known = &identity{Identity: e.system}
	}
	if ptype != "ServicePrincipal" && known != nil && e.cfg.Now().Sub(known.Created) < e.cfg.PrincipalNotFoundFor {
		return nil, false, errf(http.StatusBadRequest, "PrincipalNotFound",
			"Principal %s does not exist in the directory %s. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group.  See https://aka.ms/docs-principaltype",
			strings.ReplaceAll(principal, "-", ""), e.cfg.TenantID)
	}
	if !hasType {
		ptype = "User"
		if known != nil {
			ptype = "ServicePrincipal"
		}
	}
	id := roleAssignmentID(scope, name)
	if old := e.roles[strings.ToLower(id)]; old != nil {
		if old.principalID != principal || old.roleGUID != roleGUID {
			return nil, false, errf(http.StatusConflict, "RoleAssignmentUpdateNotPermitted", "Tenant ID, application ID, principal ID, and scope are not allowed to be updated; delete role assignment '%s' and create a new one.", name)
		}
		old.description, _ = lookup(props, "description")
		return old, false, nil
	}
	for _, ra := range e.roles {
		if ra.principalID == principal && ra.roleGUID == roleGUID && strings.EqualFold(ra.scope, scope) {
			return nil, false, errf(http.StatusConflict, "RoleAssignmentExists", "The role assignment already exists. The ID of the existing role assignment is %s.", strings.ReplaceAll(ra.name, "-", ""))
		}
	}
	ra := &roleAssignment{name: strings.ToLower(name), scope: scope, roleGUID: roleGUID, roleDefSent: roleDef, principalID: principal,
		principalType: ptype, created: e.cfg.Now(), createdBy: caller}
	ra.description, _ = lookup(props, "description")
	ra.condition, _ = lookup(props, "condition")
	ra.conditionVersion, _ = lookup(props, "conditionVersion")
	e.roles[strings.ToLower(id)] = ra
	return ra, true, nil
}

func (e *Engine) serveRoleAssignment(q *req, scope, name string) *armError {
	scope = normalizeScope(scope)
	k := strings.ToLower(roleAssignmentID(scope, name))
	switch q.r.Method {
	case http.MethodPut:
		var body map[string]any
		if err := decodeBody(q.r, &body); err != nil {
			return err
		}
		props, _ := lookupMap(body, "properties")
		e.mu.Lock()
		defer e.mu.Unlock()
		ra, created, err := e.putRole(rolePut{scope: scope, name: name, props: props, caller: q.caller})
		if err != nil {
			return err
		}
		writeJSON(q.w, putStatus(created), ra.body())
		return nil
	case http.MethodGet:
		e.mu.Lock()
		defer e.mu.Unlock()
		ra := e.roles[k]
		if ra == nil {
			return errf(http.StatusNotFound, "RoleAssignmentNotFound", "The role assignment '%s' is not found.", name)
		}
		writeJSON(q.w, http.StatusOK, ra.body())
		return nil
	case http.MethodDelete:
		e.mu.Lock()
		defer e.mu.Unlock()
		ra := e.roles[k]
		if ra == nil {
			q.w.WriteHeader(http.StatusNoContent)
			return nil
		}
		delete(e.roles, k)
		writeJSON(q.w, http.StatusOK, ra.body())
		return nil
	}
	return methodNotAllowed(q)
}

var (
	principalFilterRE = regexp.MustCompile(`(?i)^principalId\s+eq\s+'([^']*)'$`)
	assignedToRE      = regexp.MustCompile(`(?i)^assignedTo\('([^']*)'\)$`)
)

// serveRoleList lists role assignments for a scope the way Azure does: with
// no filter, those at, above and below the scope; with atScope(), those at
// or above it; principalId eq '...' (or assignedTo('...')) narrows to one
// principal.
func (e *Engine) serveRoleList(q *req, scope string) *armError {
	if q.r.Method != http.MethodGet {
		return methodNotAllowed(q)
	}
	scope = normalizeScope(scope)
	atScope, principal := false, ""
	if f := strings.TrimSpace(q.r.URL.Query().Get("$filter")); f != "" {
		for _, clause := range regexp.MustCompile(`(?i)\s+and\s+`).Split(f, -1) {
			clause = strings.TrimSpace(clause)
			switch {
			case strings.EqualFold(clause, "atScope()"):
				atScope = true
			case principalFilterRE.MatchString(clause):
				principal = strings.ToLower(principalFilterRE.FindStringSubmatch(clause)[1])
			case assignedToRE.MatchString(clause):
				principal = strings.ToLower(assignedToRE.FindStringSubmatch(clause)[1])
			default:
				return errf(http.StatusBadRequest, "UnsupportedQuery", "The filter '%s' is not supported: use atScope(), principalId eq '{id}' or assignedTo('{id}').", clause)
			}
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	var items []any
	for _, k := range sortedKeys(e.roles) {
		ra := e.roles[k]
		above := scopeWithin(scope, ra.scope)
		below := scopeWithin(ra.scope, scope)
		if !above && (atScope || !below) {
			continue
		}
		if principal != "" && ra.principalID != principal {
			continue
		}
		items = append(items, ra.body())
	}
	e.writePage(q, items)
	return nil
}

// RoleGrant is a role held by a principal at a scope: what AssignRole
// stores and HasRole looks for.
type RoleGrant struct {
	// Scope is a subscription, resource group or resource ID.
	Scope string
	// Role is a role definition ID or its bare GUID.
	Role string
	// PrincipalID is the object ID of the principal.
	PrincipalID string
}

// roleGUID is the GUID of g.Role, lower case.
func (g RoleGrant) roleGUID() string {
	r := g.Role
	if i := strings.LastIndex(r, "/"); i >= 0 {
		r = r[i+1:]
	}
	return strings.ToLower(r)
}

// HasRole reports whether g.PrincipalID holds g.Role at g.Scope or at a
// scope above it.
func (e *Engine) HasRole(g RoleGrant) bool {
	scope, guid := normalizeScope(g.Scope), g.roleGUID()
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ra := range e.roles {
		if strings.EqualFold(ra.principalID, g.PrincipalID) && ra.roleGUID == guid && scopeWithin(scope, ra.scope) {
			return true
		}
	}
	return false
}

// AssignRole seeds a role assignment (named by a random GUID, principalType
// ServicePrincipal so no replication delay applies) and returns its resource
// ID. Unlike a PUT through ARM, the scope's resource need not exist yet (a
// pool that is created later is covered) and the principal may be any object
// ID, not only a GUID; the scope must still be a subscription, resource group
// or resource ID.
func (e *Engine) AssignRole(g RoleGrant) (string, error) {
	roleDefinitionID := g.Role
	if guidRE.MatchString(roleDefinitionID) {
		roleDefinitionID = "/providers/Microsoft.Authorization/roleDefinitions/" + roleDefinitionID
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	ra, _, err := e.putRole(rolePut{scope: g.Scope, name: uuid.NewString(), props: map[string]any{
		"roleDefinitionId": roleDefinitionID, "principalId": g.PrincipalID, "principalType": "ServicePrincipal",
	}, seeded: true})
	if err != nil {
		return "", fmt.Errorf("armemu: assign role: %w", err)
	}
	return ra.id(), nil
}

// DeleteRoleAssignment removes the role assignment with this resource ID, as
// a DELETE through ARM does, and reports whether it existed.
func (e *Engine) DeleteRoleAssignment(id string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	k := strings.ToLower(id)
	if e.roles[k] == nil {
		return false
	}
	delete(e.roles, k)
	return true
}
