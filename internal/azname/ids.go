package azname

// Literal values that several packages need. Each public package exports
// them once (sessions.Audience, identity.ARMAudience,
// identity.SessionExecutorRoleID) and refers to these.
const (
	// DataPlaneAudience is the audience of dynamic sessions data-plane
	// tokens.
	DataPlaneAudience = "https://dynamicsessions.io"
	// ARMAudience is the audience of Azure Resource Manager tokens.
	ARMAudience = "https://management.azure.com"
	// SessionExecutorRoleGUID is the GUID of the built-in "Azure
	// ContainerApps Session Executor" role definition.
	SessionExecutorRoleGUID = "0fb8eba5-a2bb-4abe-b1c1-49dfad359bb0"
)
