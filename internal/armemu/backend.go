package armemu

import "time"

// PoolSpec is a session pool's settings as the emulator's data plane serves
// them. The Engine holds the only copy: the data plane asks for it (Pool,
// PoolNamed, FirstPool, Pools) when it serves a request.
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
	// Cooldown is how long a session may stay idle before it is destroyed:
	// lifecycleConfiguration.cooldownPeriodInSeconds for a Timed pool;
	// negative when sessions never expire (a pool that is not Timed).
	Cooldown time.Duration
	// EgressEnabled is sessionNetworkConfiguration.status == EgressEnabled.
	EgressEnabled bool
	// MCPServerEnabled is mcpServerSettings.isMcpServerEnabled: the pool
	// serves MCP at {endpoint}/mcp.
	MCPServerEnabled bool
	// MCPServerAPIKeyDisabled is mcpServerSettings.isMcpServerApiKeyDisabled:
	// MCP requests need no x-ms-apikey.
	MCPServerAPIKeyDisabled bool
	// MCPServerAPIKey is the MCP server's current API key (what
	// fetchMcpServerCredentials returns); rotateMcpServerCredentials
	// replaces it. Set by the Engine when MCP is enabled.
	MCPServerAPIKey string

	// Serial is set by the Engine when it stores the pool: unique to the
	// pool for its lifetime (updates keep it; a pool deleted and created
	// again under the same name gets a new one), increasing in creation
	// order. The data plane keys its live sessions by it. Zero in the spec
	// Backend.ProvisionPool sees.
	Serial uint64
	// Created is when the pool was first stored. Zero in the spec
	// Backend.ProvisionPool sees.
	Created time.Time
}

// Backend is implemented by the emulator's data plane (sessions/sessionstest).
// It holds no pool settings or role assignments of its own (the Engine does);
// the Engine tells it about the changes that concern its live sessions. Its
// methods are called with the Engine's lock held: they must not call back into
// the Engine.
type Backend interface {
	// ProvisionPool is asked before a pool created or updated through ARM
	// is stored. It returns the pool's data-plane endpoint
	// (properties.poolManagementEndpoint), or an error that refuses the
	// request.
	ProvisionPool(p PoolSpec) (endpoint string, err error)
	// PoolDeleted tells the data plane that the pool is gone (deleted
	// through ARM or with its resource group): it destroys the pool's
	// sessions.
	PoolDeleted(p PoolSpec)
}
