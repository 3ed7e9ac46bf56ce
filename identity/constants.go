package identity

import (
	"strings"
	"time"

	"github.com/shellpool/shellpool/internal/azname"
)

const (
	// SessionsScope is the scope to request a dynamic sessions token with
	// through azidentity or any azcore.TokenCredential: sessions.Audience
	// followed by "/.default".
	SessionsScope = azname.SessionsAudience + "/.default"

	// ARMAudience is the audience of Azure Resource Manager tokens: what
	// `az account get-access-token` returns without --resource. Such a token
	// is rejected (401) by the dynamic sessions data plane.
	ARMAudience = azname.ARMAudience
	// ARMScope is the scope to request an Azure Resource Manager token with.
	ARMScope = ARMAudience + "/.default"

	// SessionExecutorRoleID is the GUID of the built-in role "Azure
	// ContainerApps Session Executor", which a principal needs on a session
	// pool to run code and manage files and sessions in it.
	SessionExecutorRoleID = azname.SessionExecutorRoleID

	// IdentityResourceType is the ARM resource type of a user-assigned
	// managed identity.
	IdentityResourceType = "Microsoft.ManagedIdentity/userAssignedIdentities"
	// RoleAssignmentResourceType is the ARM resource type of a role assignment.
	RoleAssignmentResourceType = "Microsoft.Authorization/roleAssignments"
	// SessionPoolResourceType is the ARM resource type of a session pool, the
	// scope AssignSessionExecutor assigns on.
	SessionPoolResourceType = "Microsoft.App/sessionPools"

	// IdentityNamespace is the resource provider of user-assigned managed
	// identities; spans of the identity methods carry it as az.namespace.
	IdentityNamespace = "Microsoft.ManagedIdentity"
	// AuthorizationNamespace is the resource provider of role assignments;
	// spans of the role assignment methods carry it as az.namespace.
	AuthorizationNamespace = "Microsoft.Authorization"

	// DefaultPrincipalNotFoundTimeout is how long AssignRole and
	// AssignSessionExecutor keep retrying PrincipalNotFound when
	// AssignRoleOptions.PrincipalNotFoundTimeout is zero: five minutes, which
	// covers the usual Entra ID replication delay of a just-created
	// principal (seconds to a few minutes).
	DefaultPrincipalNotFoundTimeout = 5 * time.Minute

	// DefaultIdentityAPIVersion is the api-version used for user-assigned
	// managed identities unless ClientOptions.IdentityAPIVersion says otherwise.
	DefaultIdentityAPIVersion = "2023-01-31"
	// DefaultRoleAssignmentAPIVersion is the api-version used for role
	// assignments unless ClientOptions.RoleAssignmentAPIVersion says otherwise.
	DefaultRoleAssignmentAPIVersion = "2022-04-01"

	roleDefinitionsSegment = "/providers/Microsoft.Authorization/roleDefinitions/"
)

// RoleDefinitionID returns the subscription-level resource ID of a role
// definition: /subscriptions/{subscriptionID}/providers/Microsoft.Authorization/roleDefinitions/{roleGUID},
// the form role assignment requests use (Bicep's
// subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleGUID)).
func RoleDefinitionID(subscriptionID, roleGUID string) string {
	return "/subscriptions/" + subscriptionID + roleDefinitionsSegment + roleGUID
}

// SessionExecutorRoleDefinitionID returns the role definition ID of "Azure
// ContainerApps Session Executor" in subscriptionID.
func SessionExecutorRoleDefinitionID(subscriptionID string) string {
	return RoleDefinitionID(subscriptionID, SessionExecutorRoleID)
}

// SameRoleDefinition reports whether two role definition IDs name the same
// role. It compares the trailing GUIDs, case-insensitively, because the
// service answers with the tenant-level form
// (/providers/Microsoft.Authorization/roleDefinitions/{guid}) when it was sent
// the subscription-level form. A bare GUID is accepted on either side.
func SameRoleDefinition(a, b string) bool {
	ga, gb := lastSegment(a), lastSegment(b)
	return ga != "" && strings.EqualFold(ga, gb)
}

// RoleAssignmentName returns the deterministic role assignment name AssignRole
// uses: ARM's guid(lower(scope), lower(principalID), lower(role GUID)), where the
// scope loses its trailing slashes and the role is the last segment of
// roleDefinitionID. This is the normalisation of Bicep's
// getRoleAssignmentName(), so the same (scope, principal, role) gives the same
// name however the IDs were cased or which role definition ID form was used,
// and repeating an assignment is idempotent.
func RoleAssignmentName(scope, principalID, roleDefinitionID string) string {
	return azname.GUID(
		strings.ToLower(strings.TrimRight(scope, "/")),
		strings.ToLower(principalID),
		strings.ToLower(lastSegment(roleDefinitionID)),
	)
}

// lastSegment returns what follows the last "/" of s, ignoring trailing slashes.
func lastSegment(s string) string {
	s = strings.TrimRight(s, "/")
	return s[strings.LastIndexByte(s, '/')+1:]
}
