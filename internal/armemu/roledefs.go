package armemu

import (
	"net/http"
	"regexp"
	"strings"
)

const roleDefinitionType = "Microsoft.Authorization/roleDefinitions"

// builtInRole is one of Azure's built-in role definitions.
type builtInRole struct {
	guid, name, description string
	actions, notActions     []string
	dataActions             []string
}

// builtInRoles are the built-in roles the emulator knows: those the
// tutorial, this module's examples and common set-ups assign. The GUIDs and
// names are Azure's; the permission lists are abridged.
var builtInRoles = []builtInRole{
	{guid: "0fb8eba5-a2bb-4abe-b1c1-49dfad359bb0", name: "Azure ContainerApps Session Executor",
		description: "Allows executing code in sessions of a session pool.",
		actions:     []string{"Microsoft.App/sessionPools/read"}, dataActions: []string{"Microsoft.App/sessionPools/*"}},
	{guid: "f7669afb-68b2-44b4-9c5f-6d2a47fddda0", name: "Container Apps SessionPools Contributor",
		description: "Allows managing session pools.",
		actions:     []string{"Microsoft.App/sessionPools/*", "Microsoft.Resources/subscriptions/resourceGroups/read", "Microsoft.Resources/deployments/*"}},
	{guid: "8e3af657-a8ff-443c-a75c-2fe8c4bcb635", name: "Owner",
		description: "Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.",
		actions:     []string{"*"}},
	{guid: "b24988ac-6180-42a0-ab88-20f7382dd24c", name: "Contributor",
		description: "Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC.",
		actions:     []string{"*"}, notActions: []string{"Microsoft.Authorization/*/Delete", "Microsoft.Authorization/*/Write", "Microsoft.Authorization/elevateAccess/Action"}},
	{guid: "acdd72a7-3385-48ef-bd42-f606fba81ae7", name: "Reader",
		description: "View all resources, but does not allow you to make any changes.",
		actions:     []string{"*/read"}},
	{guid: "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9", name: "User Access Administrator",
		description: "Lets you manage user access to Azure resources.",
		actions:     []string{"*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"}},
	{guid: "f1a07417-d97a-45cb-824c-7a7467783830", name: "Managed Identity Operator",
		description: "Read and Assign User Assigned Identity",
		actions:     []string{"Microsoft.ManagedIdentity/userAssignedIdentities/*/read", "Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action", "Microsoft.Authorization/*/read"}},
	{guid: "e40ec5ca-96e0-45a2-b4ff-59039f2c2b59", name: "Managed Identity Contributor",
		description: "Create, Read, Update, and Delete User Assigned Identity",
		actions:     []string{"Microsoft.ManagedIdentity/userAssignedIdentities/read", "Microsoft.ManagedIdentity/userAssignedIdentities/write", "Microsoft.ManagedIdentity/userAssignedIdentities/delete", "Microsoft.Authorization/*/read"}},
}

// roleDefinitionID is the ID Azure gives a built-in role definition read
// at or below a subscription: /subscriptions/{sub}/providers/...; at the
// root (no subscription) the tenant-level form.
func roleDefinitionID(sub, guid string) string {
	if sub == "" {
		return "/providers/" + roleDefinitionType + "/" + guid
	}
	return "/subscriptions/" + sub + "/providers/" + roleDefinitionType + "/" + guid
}

// scopeSubscription returns the subscription of a scope, or "".
func scopeSubscription(scope string) string {
	segs := strings.Split(strings.Trim(scope, "/"), "/")
	if len(segs) >= 2 && strings.EqualFold(segs[0], "subscriptions") {
		return segs[1]
	}
	return ""
}

func (b builtInRole) body(sub string) map[string]any {
	nonNil := func(s []string) []string {
		if s == nil {
			return []string{}
		}
		return s
	}
	return map[string]any{
		"id":   roleDefinitionID(sub, b.guid),
		"name": b.guid,
		"type": roleDefinitionType,
		"properties": map[string]any{
			"roleName":         b.name,
			"type":             "BuiltInRole",
			"description":      b.description,
			"assignableScopes": []string{"/"},
			"permissions": []any{map[string]any{
				"actions": nonNil(b.actions), "notActions": nonNil(b.notActions),
				"dataActions": nonNil(b.dataActions), "notDataActions": []string{},
			}},
			"createdOn": "2015-02-02T21:55:09.8806423Z",
			"updatedOn": "2024-01-01T00:00:00.0000000Z",
			"createdBy": nil,
			"updatedBy": nil,
		},
	}
}

func roleDefinitionsIndex(ls []string) int {
	for i := len(ls) - 3; i >= 0; i-- {
		if ls[i] == "providers" && ls[i+1] == "microsoft.authorization" && ls[i+2] == "roledefinitions" {
			return i
		}
	}
	return -1
}

// checkRoleDefScope checks a role definition read's scope: the root, or a
// subscription, group or resource that exists.
func (e *Engine) checkRoleDefScope(scope string) *armError {
	if strings.Trim(scope, "/") == "" {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.checkScope(scope)
}

var (
	roleNameFilterRE = regexp.MustCompile(`(?i)^roleName\s+eq\s+'([^']*)'$`)
	roleTypeFilterRE = regexp.MustCompile(`(?i)^type\s+eq\s+'([^']*)'$`)
)

// serveRoleDefinitionList lists the built-in roles, filtered by
// $filter=roleName eq '...' or type eq 'BuiltInRole'|'CustomRole'.
func (e *Engine) serveRoleDefinitionList(q *req, scope string) *armError {
	if q.r.Method != http.MethodGet {
		return methodNotAllowed(q)
	}
	if err := e.checkRoleDefScope(scope); err != nil {
		return err
	}
	name, typ := "", ""
	if f := strings.TrimSpace(q.r.URL.Query().Get("$filter")); f != "" {
		switch {
		case roleNameFilterRE.MatchString(f):
			name = roleNameFilterRE.FindStringSubmatch(f)[1]
		case roleTypeFilterRE.MatchString(f):
			typ = roleTypeFilterRE.FindStringSubmatch(f)[1]
		default:
			return errf(http.StatusBadRequest, "UnsupportedQuery", "The filter '%s' is not supported: use roleName eq '{name}' or type eq 'BuiltInRole'.", f)
		}
	}
	sub := scopeSubscription(scope)
	items := []any{}
	for _, b := range builtInRoles {
		if name != "" && !strings.EqualFold(b.name, name) || typ != "" && !strings.EqualFold(typ, "BuiltInRole") {
			continue
		}
		items = append(items, b.body(sub))
	}
	e.writePage(q, items)
	return nil
}

func (e *Engine) serveRoleDefinition(q *req, scope, guid string) *armError {
	if q.r.Method != http.MethodGet {
		return methodNotAllowed(q)
	}
	if err := e.checkRoleDefScope(scope); err != nil {
		return err
	}
	for _, b := range builtInRoles {
		if strings.EqualFold(b.guid, guid) {
			writeJSON(q.w, http.StatusOK, b.body(scopeSubscription(scope)))
			return nil
		}
	}
	return errf(http.StatusNotFound, "RoleDefinitionDoesNotExist", "The specified role definition with ID '%s' does not exist. The emulator knows the built-in roles listed by GET {scope}/providers/Microsoft.Authorization/roleDefinitions.", guid)
}
