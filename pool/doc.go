// Package pool models Azure Container Apps session pools
// (Microsoft.App/sessionPools), renders them as ARM deployment templates, and
// manages them through Azure Resource Manager: session pools, template
// deployments, resource groups and resource provider registration.
//
// The official armappcontainers module cannot create shell pools: its newest
// stable version has no Shell container type. This package sends the
// 2025-02-02-preview resource itself, on azcore's arm pipeline.
//
// # Model
//
// [SessionPool] has a typed field for every property of the
// 2025-02-02-preview resource; zero fields are never sent, and unknown fields
// in responses are ignored. [NewShellPool] returns the tutorial's shell pool
// (Dynamic, Shell, 5 sessions, Timed with a 300 s cooldown, egress enabled).
// [SessionPool.Validate] reports every broken rule at once in a
// [*ValidationError] that matches [ErrInvalidArgument].
//
// # Validation rules
//
// [SessionPool.Validate] (run by BeginCreateOrUpdate and Template.Render)
// checks:
//   - name: 3-63 characters, ^[a-z][a-z0-9]*$ (specification; docs that use
//     hyphens disagree, API.md §2.2 [CONFLICT]).
//   - location: a region, letters, digits and spaces ("eastus",
//     "North Central US"); "Not A Region!!" is refused. In a Template, name
//     and location may instead be ARM expressions such as
//     "[resourceGroup().location]".
//   - properties and properties.containerType are required.
//   - scaleConfiguration.maxConcurrentSessions >= 1 when set;
//     readySessionInstances >= 0 and below maxConcurrentSessions.
//   - lifecycleType Timed needs cooldownPeriodInSeconds in 300-3600 and
//     forbids maxAlivePeriodInSeconds; OnContainerExit needs CustomContainer
//     and maxAlivePeriodInSeconds >= 1 and forbids cooldownPeriodInSeconds.
//     The legacy dynamicPoolConfiguration.cooldownPeriodInSeconds must also be
//     in 300-3600.
//   - CustomContainer needs customContainerTemplate (with at least one
//     container that has an image) and an environmentId that is a
//     Microsoft.App/managedEnvironments resource ID (some docs wrongly write
//     Microsoft.ContainerApps/environments, API.md §2.3 [CONFLICT]); other
//     container types must not set customContainerTemplate.
//   - probes: type Liveness or Startup, each at most once per container;
//     exactly one of httpGet and tcpSocket; port 1-65535; failureThreshold
//     1-10; initialDelaySeconds 1-60; periodSeconds 1-240; successThreshold 1;
//     terminationGracePeriodSeconds 0-3600; timeoutSeconds 1-240.
//   - ingress.targetPort 1-65535; secrets need unique names;
//     managedIdentitySettings need an identity ("system" or a resource ID);
//     identity type UserAssigned needs userAssignedIdentities.
//   - mcpServerSettings: isMcpServerEnabled cannot be true for a
//     CustomContainer pool (the service drops it). BeginCreateOrUpdate and
//     Template.Render also refuse the settings with an api-version that lacks
//     them (SupportsMCPServer: the previews from 2025-02-02-preview on),
//     naming MCPServerAPIVersion.
//
// # The pool's MCP server
//
// A shell pool can serve MCP itself (preview): WithMCPServer turns it on
// (properties.mcpServerSettings), SessionPool.MCPEndpoint reads its URL
// from a pool read with Client.Get, and Client.FetchMCPServerCredentials and
// Client.RotateMCPServerCredentials return the API key MCP clients send in
// the x-ms-apikey header. The key is an MCPAPIKey, which prints as REDACTED
// (fmt, encoding/json, log/slog); its responses are never logged, even with
// azcore's Logging.IncludeBody. Call Reveal to send it. A pool without the
// server answers with an error matching ErrMCPServerNotEnabled.
//
//	p := pool.NewShellPool("myshellpool", "eastus", pool.WithMCPServer())
//	// ... BeginCreateOrUpdate, PollUntilDone, Get ...
//	creds, err := client.FetchMCPServerCredentials(ctx, "my-rg", "myshellpool", nil)
//	req.Header.Set("x-ms-apikey", creds.APIKey.Reveal())
//
// Most cross-field rules come from Terraform's provider, which mirrors the
// service; that the service enforces each of them is [UNVERIFIED] (API.md
// §2.3). Two Terraform rules are deliberately NOT enforced because the
// service's own examples and tutorials contradict them or no other source
// states them: "identity only for CustomContainer" and "CustomContainer
// requires readySessionInstances".
//
// # Templates
//
// [Template] renders pools (and any extra [TemplateResource], such as the identity
// package's managed identity and role assignment, added with
// [Template.AddResources]) into a deterministic deployment template;
// [ParseTemplate] reads pools back from one, resolving [parameters('x')]
// references. Rendering accepts any ARM expression, such as
// "[resourceGroup().location]" or "[uniqueString(resourceGroup().id)]",
// and refuses only mistakes that can be known offline (unbalanced
// parentheses, unknown functions, undeclared parameters or variables).
//
//	t := pool.NewTemplate(pool.NewShellPool("myshellpool", "North Central US"))
//	err := t.AddResources(
//		identity.ManagedIdentityResource("myshellpool-uami", "northcentralus"),
//		identity.SessionExecutorAssignmentResource("myshellpool", "myshellpool-uami"))
//	deployJSON, err := t.Render()              // or deploy t itself:
//	poller, err := client.BeginDeploy(ctx, "my-rg", "", t, nil)
//
// # Client
//
// [Client] follows the Azure SDK shape: ctx first, an options pointer last
// (nil means defaults), responses by value, [runtime.Poller] for long-running
// operations (Begin…, resumable with ResumeToken) and [runtime.Pager] for
// lists.
//
//	client, err := pool.NewClient(subscriptionID, cred, nil)
//	poller, err := client.BeginCreateOrUpdate(ctx, "my-rg", "myshellpool",
//		*pool.NewShellPool("myshellpool", "northcentralus"), nil)
//	created, err := poller.PollUntilDone(ctx, nil)
//	endpoint := created.Endpoint() // for sessions.NewClient
//
// # Authentication
//
// The client takes any azcore.TokenCredential (e.g.
// azidentity.NewDefaultAzureCredential) and requests ARM tokens
// (https://management.azure.com/.default, or the audience of
// ClientOptions.Cloud).
//
// # Errors
//
// A request the service rejects returns an [*azcore.ResponseError]: branch on
// its StatusCode and ErrorCode with errors.As, not on its text. Input this
// package can tell is wrong returns an error matching [ErrInvalidArgument]
// (the same value as identity's) before anything is sent and before any
// token is requested: an [*ArgumentError] {Name, Reason} for a method's
// argument (a bad name, a nil template), a [*ValidationError] listing every
// problem for a model or template (an invalid pool, a template that does not
// render). Every name is checked with ARM's rule: session pools
// ^[a-z][a-z0-9]*$ (3-63), resource groups 1-90 letters, digits, '_', '-',
// '.', '(' and ')' not ending with '.', deployments 1-64 of the same
// characters, provider namespaces letters and digits between periods
// ("Microsoft.App"), regions letters, digits and spaces. JSON decoding
// errors are wrapped with %w: errors.As reaches *json.SyntaxError and
// *json.UnmarshalTypeError.
//
// # Tracing
//
// Spans (azcore's ClientOptions.TracingProvider) are named after the methods
// ("Client.Get") and carry az.namespace: [ProviderNamespace]
// (Microsoft.App) for session pools, [ResourcesNamespace]
// (Microsoft.Resources) for resource groups, deployments and provider
// registration; the HTTP spans under them carry it too. No span attribute
// holds a token.
//
// # Logging
//
// The package never logs by itself. Turn on azcore's HTTP logging with
// azcore/log.SetListener; it redacts tokens.
//
// # Testing
//
// Point ClientOptions.Cloud at a fake ARM endpoint (for example the module's
// emulator in sessions/sessionstest) and pass its TLS client as
// ClientOptions.Transport.
package pool
