package pool

const (
	// DefaultARMAPIVersion is the Microsoft.App api-version the client sends for
	// session pools, and the apiVersion of pool resources in rendered
	// templates, unless options say otherwise. It is the version the shell
	// session pool tutorial uses and the first that accepts Shell pools
	// (API.md §2.1).
	DefaultARMAPIVersion = "2025-02-02-preview"

	// DefaultResourcesAPIVersion is the Microsoft.Resources api-version the
	// client sends for deployments, resource groups and provider registration.
	DefaultResourcesAPIVersion = "2021-04-01"

	// ResourceType is the ARM resource type of a session pool, spelled as the
	// service specification spells it. ARM compares types case-insensitively,
	// so "Microsoft.App/sessionpools" (the tutorial's spelling) names the same
	// type.
	ResourceType = "Microsoft.App/sessionPools"

	// ProviderNamespace is the resource provider that serves session pools.
	// Register it once per subscription with Client.BeginRegisterProvider.
	ProviderNamespace = "Microsoft.App"

	// ResourcesNamespace is the resource provider of resource groups,
	// deployments and provider registration. Spans of the Client methods for
	// those carry it as az.namespace; spans of session pool methods carry
	// ProviderNamespace.
	ResourcesNamespace = "Microsoft.Resources"

	// TemplateSchema is the $schema of the deployment templates Template renders.
	TemplateSchema = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"

	// TemplateContentVersion is the contentVersion of rendered templates.
	TemplateContentVersion = "1.0.0.0"
)

// ContainerType is the kind of container that runs each session of a pool.
// The service treats it as an extensible string: values this package does not
// list are sent and received unchanged.
type ContainerType string

const (
	// ContainerTypeShell runs a platform-managed shell (bash) container. The
	// specification's enum omits it, but the service accepts it from
	// 2025-02-02-preview on (API.md §2.3).
	ContainerTypeShell ContainerType = "Shell"
	// ContainerTypePythonLTS runs the platform-managed Python code interpreter.
	ContainerTypePythonLTS ContainerType = "PythonLTS"
	// ContainerTypeNodeLTS runs the platform-managed Node.js code interpreter.
	ContainerTypeNodeLTS ContainerType = "NodeLTS"
	// ContainerTypeCustomContainer runs your own image; it needs an environment
	// (Properties.EnvironmentID) and a Properties.CustomContainerTemplate.
	ContainerTypeCustomContainer ContainerType = "CustomContainer"
)

// PossibleContainerTypeValues returns the container types this package knows.
func PossibleContainerTypeValues() []ContainerType {
	return []ContainerType{ContainerTypeShell, ContainerTypePythonLTS, ContainerTypeNodeLTS, ContainerTypeCustomContainer}
}

// PoolManagementType says who manages the sessions of a pool. Use Dynamic.
type PoolManagementType string

const (
	// PoolManagementTypeDynamic lets the service allocate sessions on demand.
	PoolManagementTypeDynamic PoolManagementType = "Dynamic"
	// PoolManagementTypeManual is listed by the specification; no source
	// documents what it does.
	PoolManagementTypeManual PoolManagementType = "Manual"
)

// PossiblePoolManagementTypeValues returns the pool management types this
// package knows.
func PossiblePoolManagementTypeValues() []PoolManagementType {
	return []PoolManagementType{PoolManagementTypeDynamic, PoolManagementTypeManual}
}

// LifecycleType says when a session ends.
type LifecycleType string

const (
	// LifecycleTypeTimed ends a session after it has been idle for
	// LifecycleConfiguration.CooldownPeriodInSeconds.
	LifecycleTypeTimed LifecycleType = "Timed"
	// LifecycleTypeOnContainerExit ends a session when its container exits or
	// after LifecycleConfiguration.MaxAlivePeriodInSeconds. CustomContainer
	// pools only.
	LifecycleTypeOnContainerExit LifecycleType = "OnContainerExit"
)

// PossibleLifecycleTypeValues returns the lifecycle types this package knows.
func PossibleLifecycleTypeValues() []LifecycleType {
	return []LifecycleType{LifecycleTypeTimed, LifecycleTypeOnContainerExit}
}

// ExecutionType is the legacy (up to 2024-10-02-preview) way to say a pool is
// Timed; use LifecycleConfiguration instead. It is modelled so that older
// documents decode.
type ExecutionType string

const (
	// ExecutionTypeTimed is the only legacy execution type.
	ExecutionTypeTimed ExecutionType = "Timed"
)

// PossibleExecutionTypeValues returns the legacy execution types.
func PossibleExecutionTypeValues() []ExecutionType { return []ExecutionType{ExecutionTypeTimed} }

// SessionNetworkStatus says whether sessions may open outbound connections.
type SessionNetworkStatus string

const (
	// SessionNetworkStatusEgressEnabled lets sessions reach the network.
	SessionNetworkStatusEgressEnabled SessionNetworkStatus = "EgressEnabled"
	// SessionNetworkStatusEgressDisabled blocks outbound traffic (the service
	// default).
	SessionNetworkStatusEgressDisabled SessionNetworkStatus = "EgressDisabled"
)

// PossibleSessionNetworkStatusValues returns the network statuses this package
// knows.
func PossibleSessionNetworkStatusValues() []SessionNetworkStatus {
	return []SessionNetworkStatus{SessionNetworkStatusEgressEnabled, SessionNetworkStatusEgressDisabled}
}

// IdentitySettingsLifecycle says when a managed identity is available inside
// a session.
type IdentitySettingsLifecycle string

const (
	// IdentitySettingsLifecycleNone keeps the identity out of sessions (default).
	IdentitySettingsLifecycleNone IdentitySettingsLifecycle = "None"
	// IdentitySettingsLifecycleMain exposes the identity to code running in
	// sessions. Use with caution: untrusted code can then use it.
	IdentitySettingsLifecycleMain IdentitySettingsLifecycle = "Main"
)

// PossibleIdentitySettingsLifecycleValues returns the identity lifecycles this
// package knows.
func PossibleIdentitySettingsLifecycleValues() []IdentitySettingsLifecycle {
	return []IdentitySettingsLifecycle{IdentitySettingsLifecycleNone, IdentitySettingsLifecycleMain}
}

// ManagedServiceIdentityType says which managed identities a pool has.
type ManagedServiceIdentityType string

const (
	// ManagedServiceIdentityTypeNone removes every managed identity.
	ManagedServiceIdentityTypeNone ManagedServiceIdentityType = "None"
	// ManagedServiceIdentityTypeSystemAssigned gives the pool a system-assigned identity.
	ManagedServiceIdentityTypeSystemAssigned ManagedServiceIdentityType = "SystemAssigned"
	// ManagedServiceIdentityTypeUserAssigned attaches the identities listed in
	// ManagedServiceIdentity.UserAssignedIdentities.
	ManagedServiceIdentityTypeUserAssigned ManagedServiceIdentityType = "UserAssigned"
	// ManagedServiceIdentityTypeSystemAndUserAssigned combines both.
	ManagedServiceIdentityTypeSystemAndUserAssigned ManagedServiceIdentityType = "SystemAssigned,UserAssigned"
)

// PossibleManagedServiceIdentityTypeValues returns the identity types ARM knows.
func PossibleManagedServiceIdentityTypeValues() []ManagedServiceIdentityType {
	return []ManagedServiceIdentityType{
		ManagedServiceIdentityTypeNone, ManagedServiceIdentityTypeSystemAssigned,
		ManagedServiceIdentityTypeUserAssigned, ManagedServiceIdentityTypeSystemAndUserAssigned,
	}
}

// ProvisioningState is the read-only provisioning state of a session pool.
type ProvisioningState string

const (
	// ProvisioningStateInProgress means the pool is being created or updated.
	ProvisioningStateInProgress ProvisioningState = "InProgress"
	// ProvisioningStateSucceeded means the pool is ready.
	ProvisioningStateSucceeded ProvisioningState = "Succeeded"
	// ProvisioningStateFailed means the last create or update failed.
	ProvisioningStateFailed ProvisioningState = "Failed"
	// ProvisioningStateCanceled means the last operation was canceled.
	ProvisioningStateCanceled ProvisioningState = "Canceled"
	// ProvisioningStateDeleting means the pool is being deleted.
	ProvisioningStateDeleting ProvisioningState = "Deleting"
)

// PossibleProvisioningStateValues returns the provisioning states of a pool.
func PossibleProvisioningStateValues() []ProvisioningState {
	return []ProvisioningState{
		ProvisioningStateInProgress, ProvisioningStateSucceeded, ProvisioningStateFailed,
		ProvisioningStateCanceled, ProvisioningStateDeleting,
	}
}

// ProbeType is the kind of a container health probe.
type ProbeType string

const (
	// ProbeTypeLiveness restarts a container that stops answering.
	ProbeTypeLiveness ProbeType = "Liveness"
	// ProbeTypeStartup holds traffic until the container has started.
	ProbeTypeStartup ProbeType = "Startup"
)

// PossibleProbeTypeValues returns the probe types session pools support
// (Readiness probes are not supported).
func PossibleProbeTypeValues() []ProbeType { return []ProbeType{ProbeTypeLiveness, ProbeTypeStartup} }

// Scheme is the scheme of an HTTP probe.
type Scheme string

const (
	// SchemeHTTP probes over plain HTTP.
	SchemeHTTP Scheme = "HTTP"
	// SchemeHTTPS probes over HTTPS.
	SchemeHTTPS Scheme = "HTTPS"
)

// PossibleSchemeValues returns the probe schemes.
func PossibleSchemeValues() []Scheme { return []Scheme{SchemeHTTP, SchemeHTTPS} }

// CreatedByType is the kind of principal that created or changed a resource
// (SystemData).
type CreatedByType string

const (
	// CreatedByTypeUser is a user.
	CreatedByTypeUser CreatedByType = "User"
	// CreatedByTypeApplication is an application (service principal).
	CreatedByTypeApplication CreatedByType = "Application"
	// CreatedByTypeManagedIdentity is a managed identity.
	CreatedByTypeManagedIdentity CreatedByType = "ManagedIdentity"
	// CreatedByTypeKey is a shared key.
	CreatedByTypeKey CreatedByType = "Key"
)

// PossibleCreatedByTypeValues returns the principal kinds of SystemData.
func PossibleCreatedByTypeValues() []CreatedByType {
	return []CreatedByType{CreatedByTypeUser, CreatedByTypeApplication, CreatedByTypeManagedIdentity, CreatedByTypeKey}
}

// DeploymentMode says how a template deployment treats resources the template
// does not mention.
type DeploymentMode string

const (
	// DeploymentModeIncremental leaves other resources alone (the default).
	DeploymentModeIncremental DeploymentMode = "Incremental"
	// DeploymentModeComplete deletes resources of the group the template does
	// not mention.
	DeploymentModeComplete DeploymentMode = "Complete"
)

// PossibleDeploymentModeValues returns the deployment modes.
func PossibleDeploymentModeValues() []DeploymentMode {
	return []DeploymentMode{DeploymentModeIncremental, DeploymentModeComplete}
}

// RegistrationState is the registration state of a resource provider in a
// subscription.
type RegistrationState string

const (
	// RegistrationStateNotRegistered means the provider cannot be used yet.
	RegistrationStateNotRegistered RegistrationState = "NotRegistered"
	// RegistrationStateRegistering means registration has started.
	RegistrationStateRegistering RegistrationState = "Registering"
	// RegistrationStateRegistered means the provider is ready.
	RegistrationStateRegistered RegistrationState = "Registered"
	// RegistrationStateUnregistering means the provider is being unregistered.
	RegistrationStateUnregistering RegistrationState = "Unregistering"
)

// PossibleRegistrationStateValues returns the provider registration states.
func PossibleRegistrationStateValues() []RegistrationState {
	return []RegistrationState{
		RegistrationStateNotRegistered, RegistrationStateRegistering,
		RegistrationStateRegistered, RegistrationStateUnregistering,
	}
}
