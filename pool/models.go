package pool

// The model follows the 2025-02-02-preview SessionPool resource (API.md §2.3).
// Strings are plain values (an empty string is omitted), numbers and booleans
// are pointers so that 0 and false can be sent (use azcore's to.Ptr), nested
// objects are pointers, and every field carries omitempty, so a zero field is
// never sent. Decoding tolerates unknown fields, and because encoding/json
// matches names case-insensitively it also accepts the odd casings some
// documents use (isMCPServerEnabled, mcPServerSettings; API.md §2.3 [CONFLICT]).
// The model always sends the specification's casing.

// SessionPool is a Microsoft.App/sessionPools resource: a pool of sandboxed
// sessions (shell, code interpreter or custom container).
//
// ID, Name, Type and SystemData are read-only: the service fills them in.
// Name is also the pool's name when a template is rendered.
type SessionPool struct {
	// ID is the pool's full ARM resource ID (read-only).
	ID string `json:"id,omitempty"`
	// Name is the pool's name: 3-63 lower-case letters and digits, starting
	// with a letter.
	Name string `json:"name,omitempty"`
	// Type is the resource type, "Microsoft.App/sessionPools" (read-only).
	Type string `json:"type,omitempty"`
	// Location is the Azure region, as a short name ("northcentralus") or a
	// display name ("North Central US"). Required.
	Location string `json:"location,omitempty"`
	// Tags are free-form resource tags.
	Tags map[string]string `json:"tags,omitempty"`
	// Identity lists the pool's managed identities.
	Identity *ManagedServiceIdentity `json:"identity,omitempty"`
	// Properties holds the pool's settings.
	Properties *SessionPoolProperties `json:"properties,omitempty"`
	// SystemData records who created and last changed the pool (read-only).
	SystemData *SystemData `json:"systemData,omitempty"`
}

// SessionPoolProperties holds the settings of a session pool. The field order
// is the order the tutorial's template uses.
type SessionPoolProperties struct {
	// EnvironmentID is the resource ID of the Microsoft.App/managedEnvironments
	// the pool runs in. Required for CustomContainer pools, omitted for Shell,
	// PythonLTS and NodeLTS pools. It cannot change after creation.
	EnvironmentID string `json:"environmentId,omitempty"`
	// PoolManagementType is Dynamic for every documented use.
	PoolManagementType PoolManagementType `json:"poolManagementType,omitempty"`
	// ContainerType is the kind of session container (Shell for shell pools).
	ContainerType ContainerType `json:"containerType,omitempty"`
	// NodeCount is the number of nodes the pool uses (read-only).
	NodeCount *int32 `json:"nodeCount,omitempty"`
	// ScaleConfiguration bounds the number of sessions.
	ScaleConfiguration *ScaleConfiguration `json:"scaleConfiguration,omitempty"`
	// Secrets are named secrets that containers and registry credentials refer
	// to. Their values are write-only: the service never returns them.
	Secrets []SessionPoolSecret `json:"secrets,omitempty"`
	// DynamicPoolConfiguration says when sessions end.
	DynamicPoolConfiguration *DynamicPoolConfiguration `json:"dynamicPoolConfiguration,omitempty"`
	// CustomContainerTemplate describes the containers of a CustomContainer
	// pool. Other container types must not set it.
	CustomContainerTemplate *CustomContainerTemplate `json:"customContainerTemplate,omitempty"`
	// SessionNetworkConfiguration controls outbound network access.
	SessionNetworkConfiguration *SessionNetworkConfiguration `json:"sessionNetworkConfiguration,omitempty"`
	// ManagedIdentitySettings say when the pool's managed identities are
	// available to sessions.
	ManagedIdentitySettings []ManagedIdentitySetting `json:"managedIdentitySettings,omitempty"`
	// MCPServerSettings turns on the platform-managed MCP server of a shell
	// pool (preview; documented for 2025-02-02-preview by the MCP tutorial,
	// specified from 2025-10-02-preview, absent from 2026-01-01).
	MCPServerSettings *MCPServerSettings `json:"mcpServerSettings,omitempty"`
	// PoolManagementEndpoint is the data-plane endpoint of the pool
	// (read-only). Use SessionPool.Endpoint to read it.
	PoolManagementEndpoint string `json:"poolManagementEndpoint,omitempty"`
	// ProvisioningState is the state of the last create, update or delete
	// (read-only).
	ProvisioningState ProvisioningState `json:"provisioningState,omitempty"`
}

// ScaleConfiguration bounds the number of sessions of a pool.
type ScaleConfiguration struct {
	// MaxConcurrentSessions is the most sessions that may exist at once (>= 1).
	MaxConcurrentSessions *int32 `json:"maxConcurrentSessions,omitempty"`
	// ReadySessionInstances is the number of pre-warmed sessions kept ready;
	// it must be below MaxConcurrentSessions.
	ReadySessionInstances *int32 `json:"readySessionInstances,omitempty"`
}

// SessionPoolSecret is a named secret of a pool. Value is write-only and is
// redacted when the secret is printed with the fmt package.
type SessionPoolSecret struct {
	// Name is the secret's name, which containers refer to with SecretRef.
	Name string `json:"name,omitempty"`
	// Value is the secret's value (write-only).
	Value string `json:"value,omitempty"`
}

// String returns the secret's name with its value redacted, so that printing
// a pool never reveals secrets.
func (s SessionPoolSecret) String() string {
	if s.Value == "" {
		return "{" + s.Name + "}"
	}
	return "{" + s.Name + " REDACTED}"
}

// GoString is String for the %#v verb.
func (s SessionPoolSecret) GoString() string { return s.String() }

// DynamicPoolConfiguration says when the sessions of a Dynamic pool end.
type DynamicPoolConfiguration struct {
	// LifecycleConfiguration is the current (2025-01-01 and later) setting.
	LifecycleConfiguration *LifecycleConfiguration `json:"lifecycleConfiguration,omitempty"`
	// ExecutionType is the legacy (up to 2024-10-02-preview) setting, kept so
	// older documents decode; prefer LifecycleConfiguration.
	ExecutionType ExecutionType `json:"executionType,omitempty"`
	// CooldownPeriodInSeconds is the legacy idle timeout that goes with
	// ExecutionType; prefer LifecycleConfiguration.CooldownPeriodInSeconds.
	CooldownPeriodInSeconds *int32 `json:"cooldownPeriodInSeconds,omitempty"`
}

// LifecycleConfiguration says when a session ends.
type LifecycleConfiguration struct {
	// LifecycleType is Timed or OnContainerExit.
	LifecycleType LifecycleType `json:"lifecycleType,omitempty"`
	// CooldownPeriodInSeconds is how long an idle session lives (Timed only,
	// 300-3600).
	CooldownPeriodInSeconds *int32 `json:"cooldownPeriodInSeconds,omitempty"`
	// MaxAlivePeriodInSeconds is the longest a session lives (OnContainerExit
	// only).
	MaxAlivePeriodInSeconds *int32 `json:"maxAlivePeriodInSeconds,omitempty"`
}

// CustomContainerTemplate describes the containers of a CustomContainer pool.
type CustomContainerTemplate struct {
	// RegistryCredentials authenticate pulls from a private registry.
	RegistryCredentials *RegistryCredentials `json:"registryCredentials,omitempty"`
	// Containers are the containers of each session.
	Containers []SessionContainer `json:"containers,omitempty"`
	// Ingress routes data-plane traffic to a container port.
	Ingress *SessionIngress `json:"ingress,omitempty"`
}

// RegistryCredentials authenticate image pulls from a private registry.
type RegistryCredentials struct {
	// Server is the registry host, e.g. "myregistry.azurecr.io".
	Server string `json:"server,omitempty"`
	// Username is the registry user name.
	Username string `json:"username,omitempty"`
	// PasswordSecretRef names the pool secret that holds the password.
	PasswordSecretRef string `json:"passwordSecretRef,omitempty"`
	// Identity is a user-assigned identity's resource ID, or "system" for the
	// pool's system-assigned identity.
	Identity string `json:"identity,omitempty"`
}

// SessionContainer is one container of a custom-container session.
type SessionContainer struct {
	// Image is the container image reference.
	Image string `json:"image,omitempty"`
	// Name is the container's name.
	Name string `json:"name,omitempty"`
	// Command overrides the image's entry point.
	Command []string `json:"command,omitempty"`
	// Args are the command's arguments.
	Args []string `json:"args,omitempty"`
	// Env are environment variables.
	Env []EnvironmentVar `json:"env,omitempty"`
	// Resources are the container's CPU and memory.
	Resources *SessionContainerResources `json:"resources,omitempty"`
	// Probes are health probes (2025-02-02-preview and later previews).
	Probes []SessionProbe `json:"probes,omitempty"`
}

// EnvironmentVar is an environment variable of a container: a literal Value
// or a SecretRef naming a pool secret.
type EnvironmentVar struct {
	// Name is the variable's name.
	Name string `json:"name,omitempty"`
	// Value is the literal value.
	Value string `json:"value,omitempty"`
	// SecretRef names the pool secret whose value the variable gets.
	SecretRef string `json:"secretRef,omitempty"`
}

// SessionContainerResources are the CPU and memory of a container.
type SessionContainerResources struct {
	// CPU is the number of cores, e.g. 0.25.
	CPU *float64 `json:"cpu,omitempty"`
	// Memory is the amount of memory, e.g. "0.5Gi".
	Memory string `json:"memory,omitempty"`
}

// SessionIngress routes data-plane traffic to a container port.
type SessionIngress struct {
	// TargetPort is the container port (1-65535).
	TargetPort *int32 `json:"targetPort,omitempty"`
}

// SessionProbe is a health probe of a custom container: exactly one of
// HTTPGet and TCPSocket.
type SessionProbe struct {
	// Type is Liveness or Startup; each at most once per container.
	Type ProbeType `json:"type,omitempty"`
	// HTTPGet probes with an HTTP GET request.
	HTTPGet *ProbeHTTPGet `json:"httpGet,omitempty"`
	// TCPSocket probes by opening a TCP connection.
	TCPSocket *ProbeTCPSocket `json:"tcpSocket,omitempty"`
	// FailureThreshold is the number of failures before the probe fails
	// (1-10, default 3).
	FailureThreshold *int32 `json:"failureThreshold,omitempty"`
	// InitialDelaySeconds is the wait before the first probe (1-60).
	InitialDelaySeconds *int32 `json:"initialDelaySeconds,omitempty"`
	// PeriodSeconds is the interval between probes (1-240, default 10).
	PeriodSeconds *int32 `json:"periodSeconds,omitempty"`
	// SuccessThreshold is the number of successes before the probe passes
	// (must be 1).
	SuccessThreshold *int32 `json:"successThreshold,omitempty"`
	// TerminationGracePeriodSeconds is the grace period before a failing
	// container is killed (at most 3600).
	TerminationGracePeriodSeconds *int64 `json:"terminationGracePeriodSeconds,omitempty"`
	// TimeoutSeconds is the probe's timeout (1-240, default 1).
	TimeoutSeconds *int32 `json:"timeoutSeconds,omitempty"`
}

// ProbeHTTPGet is an HTTP GET health probe.
type ProbeHTTPGet struct {
	// Host is the host name to connect to (default: the container's IP).
	Host string `json:"host,omitempty"`
	// HTTPHeaders are extra request headers.
	HTTPHeaders []HTTPHeader `json:"httpHeaders,omitempty"`
	// Path is the request path.
	Path string `json:"path,omitempty"`
	// Port is the port to probe (1-65535). Required.
	Port int32 `json:"port"`
	// Scheme is HTTP (default) or HTTPS.
	Scheme Scheme `json:"scheme,omitempty"`
}

// HTTPHeader is a header sent by an HTTP probe.
type HTTPHeader struct {
	// Name is the header's name.
	Name string `json:"name"`
	// Value is the header's value.
	Value string `json:"value"`
}

// ProbeTCPSocket is a TCP health probe.
type ProbeTCPSocket struct {
	// Host is the host name to connect to (default: the container's IP).
	Host string `json:"host,omitempty"`
	// Port is the port to probe (1-65535). Required.
	Port int32 `json:"port"`
}

// SessionNetworkConfiguration controls the network access of sessions.
type SessionNetworkConfiguration struct {
	// Status is EgressEnabled or EgressDisabled (the service default).
	Status SessionNetworkStatus `json:"status,omitempty"`
	// Subnet connects the pool to a virtual network subnet.
	Subnet *SubnetReference `json:"subnet,omitempty"`
}

// SubnetReference names a virtual network subnet.
type SubnetReference struct {
	// SubnetID is the subnet's resource ID.
	SubnetID string `json:"subnetId,omitempty"`
}

// ManagedIdentitySetting says when one of the pool's managed identities is
// available to sessions.
type ManagedIdentitySetting struct {
	// Identity is a user-assigned identity's resource ID, or "system". Required.
	Identity string `json:"identity"`
	// Lifecycle is None (default) or Main.
	Lifecycle IdentitySettingsLifecycle `json:"lifecycle,omitempty"`
}

// MCPServerSettings configures the platform-managed MCP server of a shell pool.
type MCPServerSettings struct {
	// IsMCPServerEnabled turns the MCP server on (default false).
	IsMCPServerEnabled *bool `json:"isMcpServerEnabled,omitempty"`
	// IsMCPServerAPIKeyDisabled turns API-key authentication off (default false).
	IsMCPServerAPIKeyDisabled *bool `json:"isMcpServerApiKeyDisabled,omitempty"`
	// MCPServerEndpoint is the MCP server's URL (read-only).
	MCPServerEndpoint string `json:"mcpServerEndpoint,omitempty"`
}

// ManagedServiceIdentity lists the managed identities of a resource.
type ManagedServiceIdentity struct {
	// Type is None, SystemAssigned, UserAssigned or "SystemAssigned,UserAssigned".
	Type ManagedServiceIdentityType `json:"type,omitempty"`
	// UserAssignedIdentities maps each user-assigned identity's resource ID to
	// its details; send an empty value (&UserAssignedIdentity{}) to attach one.
	UserAssignedIdentities map[string]*UserAssignedIdentity `json:"userAssignedIdentities,omitempty"`
	// PrincipalID is the system-assigned identity's object ID (read-only).
	PrincipalID string `json:"principalId,omitempty"`
	// TenantID is the system-assigned identity's tenant (read-only).
	TenantID string `json:"tenantId,omitempty"`
}

// UserAssignedIdentity holds the read-only details of a user-assigned
// identity attached to a resource.
type UserAssignedIdentity struct {
	// PrincipalID is the identity's object ID (read-only).
	PrincipalID string `json:"principalId,omitempty"`
	// ClientID is the identity's client (application) ID (read-only).
	ClientID string `json:"clientId,omitempty"`
}

// SystemData records who created and last changed a resource, and when. The
// timestamps are kept as the RFC 3339 strings ARM sends.
type SystemData struct {
	// CreatedBy is the creator's identity.
	CreatedBy string `json:"createdBy,omitempty"`
	// CreatedByType is the kind of the creator.
	CreatedByType CreatedByType `json:"createdByType,omitempty"`
	// CreatedAt is the creation time.
	CreatedAt string `json:"createdAt,omitempty"`
	// LastModifiedBy is the last modifier's identity.
	LastModifiedBy string `json:"lastModifiedBy,omitempty"`
	// LastModifiedByType is the kind of the last modifier.
	LastModifiedByType CreatedByType `json:"lastModifiedByType,omitempty"`
	// LastModifiedAt is the last modification time.
	LastModifiedAt string `json:"lastModifiedAt,omitempty"`
}

// SessionPoolCollection is one page of a session pool list.
type SessionPoolCollection struct {
	// Value holds the pools of this page.
	Value []*SessionPool `json:"value"`
	// NextLink is the URL of the next page; nil or empty on the last page.
	NextLink *string `json:"nextLink,omitempty"`
}

// SessionPoolUpdate is the body of a PATCH (BeginUpdate): only the properties
// the service lets you change after creation. Fields left nil are unchanged
// (JSON merge patch).
type SessionPoolUpdate struct {
	// Tags replace the pool's tags.
	Tags map[string]string `json:"tags,omitempty"`
	// Identity changes the pool's managed identities.
	Identity *ManagedServiceIdentity `json:"identity,omitempty"`
	// Properties holds the updatable settings.
	Properties *SessionPoolUpdateProperties `json:"properties,omitempty"`
}

// SessionPoolUpdateProperties are the settings BeginUpdate can change.
// ContainerType, EnvironmentID, PoolManagementType, ManagedIdentitySettings
// and MCPServerSettings cannot be patched: recreate the pool (or PUT it with
// BeginCreateOrUpdate) to change them.
type SessionPoolUpdateProperties struct {
	// ScaleConfiguration bounds the number of sessions.
	ScaleConfiguration *ScaleConfiguration `json:"scaleConfiguration,omitempty"`
	// Secrets replace the pool's secrets.
	Secrets []SessionPoolSecret `json:"secrets,omitempty"`
	// DynamicPoolConfiguration says when sessions end.
	DynamicPoolConfiguration *DynamicPoolConfiguration `json:"dynamicPoolConfiguration,omitempty"`
	// CustomContainerTemplate describes the containers (CustomContainer pools).
	CustomContainerTemplate *CustomContainerTemplate `json:"customContainerTemplate,omitempty"`
	// SessionNetworkConfiguration controls outbound network access.
	SessionNetworkConfiguration *SessionNetworkConfiguration `json:"sessionNetworkConfiguration,omitempty"`
}
