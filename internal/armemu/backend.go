package armemu

// PoolSpec is what the data plane of the emulator needs to serve a session
// pool that ARM provisioned.
type PoolSpec struct {
	// SubscriptionID, ResourceGroup and Name identify the pool.
	SubscriptionID string
	ResourceGroup  string
	Name           string
	// Location is the pool's location as sent (display or short name).
	Location string
	// ContainerType is properties.containerType (Shell, PythonLTS, ...).
	ContainerType string
	// MaxConcurrentSessions is scaleConfiguration.maxConcurrentSessions.
	MaxConcurrentSessions int
	// CooldownPeriodInSeconds is lifecycleConfiguration.cooldownPeriodInSeconds
	// (0 when the pool is not Timed).
	CooldownPeriodInSeconds int
	// EgressEnabled is sessionNetworkConfiguration.status == EgressEnabled.
	EgressEnabled bool
}

// RoleGrant is a role assignment as the data plane's RBAC check needs it.
type RoleGrant struct {
	// AssignmentID is the role assignment's full resource ID.
	AssignmentID string
	// Scope is the assignment's scope, e.g. a pool's resource ID, a resource
	// group or a subscription ("/subscriptions/{sub}").
	Scope string
	// RoleDefinitionID is the role definition ID as sent; compare by its
	// trailing GUID.
	RoleDefinitionID string
	// PrincipalID is the object ID the role is granted to.
	PrincipalID string
}

// Backend is implemented by the emulator's data plane (sessions/sessionstest):
// the ARM engine calls it when pools and role assignments change.
type Backend interface {
	// UpsertPool makes the data plane serve the pool with these settings and
	// returns its regional management endpoint (properties.poolManagementEndpoint).
	UpsertPool(p PoolSpec) (endpoint string, err error)
	// DeletePool stops serving the pool and deletes its sessions.
	DeletePool(subscriptionID, resourceGroup, name string)
	// GrantRole records a role assignment for data-plane RBAC checks.
	GrantRole(g RoleGrant)
	// RevokeRole removes the role assignment with this full resource ID.
	RevokeRole(assignmentID string)
}
