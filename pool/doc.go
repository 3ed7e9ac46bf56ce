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
