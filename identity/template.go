package identity

import (
	"strings"

	"github.com/shellpool/shellpool/pool"
)

// ARM template resources. The pool package builds ARM templates for session
// pools; these functions return resources callers add to such a template
// (pool.Template.AddResources) so that one deployment creates the pool, a
// user-assigned identity and the identity's Session Executor role assignment.
//
// The values use only these template functions (what the emulator in
// sessions/sessionstest evaluates): parameters, variables, resourceId,
// subscriptionResourceId, guid, reference(id[, apiVersion]).property, concat,
// format and toLower.
//
// Names and locations are either literal values or ARM expressions: a string
// that starts with "[" and ends with "]", such as "[parameters('poolName')]".

// ManagedIdentityResource returns an ARM template resource that creates the
// user-assigned managed identity name in location:
//
//	{"type": "Microsoft.ManagedIdentity/userAssignedIdentities", "apiVersion": "2023-01-31",
//	 "name": name, "location": location}
func ManagedIdentityResource(name, location string) pool.TemplateResource {
	return pool.TemplateResource{
		Type:       IdentityResourceType,
		APIVersion: DefaultIdentityAPIVersion,
		Name:       name,
		Location:   location,
	}
}

// SessionExecutorAssignmentResource returns an ARM template resource that
// assigns "Azure ContainerApps Session Executor" on the session pool poolName
// to the user-assigned identity identityName, both in the deployment's
// resource group and, through dependsOn, both created by the same template:
//
//	{"type": "Microsoft.Authorization/roleAssignments", "apiVersion": "2022-04-01",
//	 "scope": "Microsoft.App/sessionPools/{pool}",
//	 "name": "[guid(resourceId('Microsoft.App/sessionPools', '{pool}'),
//	          resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', '{identity}'),
//	          subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '0fb8eba5-…'))]",
//	 "dependsOn": [pool resource ID, identity resource ID],
//	 "properties": {
//	   "roleDefinitionId": "[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '0fb8eba5-…')]",
//	   "principalId": "[reference(resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', '{identity}'), '2023-01-31').principalId]",
//	   "principalType": "ServicePrincipal"}}
//
// The name follows the usual Bicep pattern guid(scope ID, identity ID, role
// ID): ARM does not allow reference() in names, so it cannot use the principal
// ID as RoleAssignmentName does. If Client.AssignSessionExecutor later assigns
// the same role to the same identity, it gets RoleAssignmentExists and
// returns this assignment. principalType ServicePrincipal lets ARM assign the
// role to the new identity without waiting for directory replication.
func SessionExecutorAssignmentResource(poolName, identityName string) pool.TemplateResource {
	poolArg := templateArg(poolName)
	ident := templateArg(identityName)
	poolID := "resourceId('" + SessionPoolResourceType + "', " + poolArg + ")"
	identID := "resourceId('" + IdentityResourceType + "', " + ident + ")"
	roleID := "subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '" + SessionExecutorRoleID + "')"
	scope := SessionPoolResourceType + "/" + poolName
	if isExpression(poolName) {
		scope = "[format('" + SessionPoolResourceType + "/{0}', " + poolArg + ")]"
	}
	return pool.TemplateResource{
		Type:       RoleAssignmentResourceType,
		APIVersion: DefaultRoleAssignmentAPIVersion,
		Scope:      scope,
		Name:       "[guid(" + poolID + ", " + identID + ", " + roleID + ")]",
		DependsOn:  []string{"[" + poolID + "]", "[" + identID + "]"},
		Properties: map[string]any{
			"roleDefinitionId": "[" + roleID + "]",
			"principalId":      "[reference(" + identID + ", '" + DefaultIdentityAPIVersion + "').principalId]",
			"principalType":    string(PrincipalTypeServicePrincipal),
		},
	}
}

// isExpression reports whether a template string value is an ARM expression
// ("[...]", but not the "[[" escape of a literal that starts with "[").
func isExpression(s string) bool {
	return len(s) >= 2 && s[0] == '[' && s[len(s)-1] == ']' && !strings.HasPrefix(s, "[[")
}

// templateArg turns a literal or an expression into an argument of a template
// function call: 'literal' (quotes doubled) or the expression's body.
func templateArg(s string) string {
	if isExpression(s) {
		return strings.TrimSpace(s[1 : len(s)-1])
	}
	s = strings.TrimPrefix(s, "[") // "[[x" is the literal "[x"
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
