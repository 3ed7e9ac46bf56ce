package sessionstest

import (
	"fmt"
	"net/http"

	"github.com/shellpool/shellpool/internal/armemu"
	"github.com/shellpool/shellpool/internal/azname"
)

// GrantSessionExecutor gives principalID the Session Executor role on the
// named pool of the server's subscription and resource group (RBAC mode).
// The assignment is visible to ARM clients (role assignment list and get);
// the pool need not exist yet.
func (s *Server) GrantSessionExecutor(principalID, poolName string) {
	scope := "/subscriptions/" + s.opts.SubscriptionID + "/resourceGroups/" + s.opts.ResourceGroup +
		"/providers/Microsoft.App/sessionPools/" + poolName
	if s.engine.HasRole(armemu.RoleGrant{PrincipalID: principalID, Scope: scope, Role: azname.SessionExecutorRoleID}) {
		return // already granted (here or above); a second grant would outlive a DELETE of the first
	}
	roleDef := "/subscriptions/" + s.opts.SubscriptionID + "/providers/Microsoft.Authorization/roleDefinitions/" + azname.SessionExecutorRoleID
	// The engine refuses only a scope that is no resource ID (a pool name
	// with a "/"), which no pool can have.
	_, _ = s.engine.AssignRole(armemu.RoleGrant{Scope: scope, Role: roleDef, PrincipalID: principalID})
}

// authorize answers 403 and returns false when RBAC is on and principal
// does not hold Session Executor on the pool or a parent scope. The role
// assignments are the engine's, so ones made through ARM count.
func (s *Server) authorize(w http.ResponseWriter, p *pool, principal string) bool {
	if !s.opts.RBAC || s.engine.HasRole(armemu.RoleGrant{PrincipalID: principal, Scope: p.resourceID(), Role: azname.SessionExecutorRoleID}) {
		return true
	}
	writeError(w, http.StatusForbidden, "PermissionDenied", fmt.Sprintf(
		"the principal %s does not have the \"Azure ContainerApps Session Executor\" role (%s) on session pool %q or a parent scope; assign it on %s",
		principal, azname.SessionExecutorRoleID, p.spec.Name, p.resourceID()))
	return false
}
