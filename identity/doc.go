// Package identity gets the authentication side of Azure Container Apps shell
// session pools right: tokens for the right audience, a user-assigned managed
// identity, and the "Azure ContainerApps Session Executor" role on a pool.
// Each step is one call, and each common failure has a clear answer.
//
// # Credentials and tokens
//
// [NewCredential] returns an azcore.TokenCredential: azidentity's
// DefaultAzureCredential, or, when [CredentialOptions].ClientID is set, the
// managed identity with that client ID (what an app in a Container App uses).
// Clients in this module request the scopes they need from it.
//
// The data plane accepts only tokens whose audience is sessions.Audience
// (https://dynamicsessions.io; request it with [SessionsScope]). `az account get-access-token` without
// --resource returns an Azure Resource Manager token, which gets 401. For
// the tutorial's "Get a bearer token" step use [GetToken] with
// sessions.Audience. A [Token] never prints its value: fmt, log/slog and
// encoding/json all show "REDACTED"; [Token.Value] returns it for an
// Authorization header. [InspectToken] and [Token.Claims] decode a token's
// audience, object ID (oid), tenant, app ID and expiry without verifying it,
// and [Claims.Check] says why a service would reject it:
//
//	claims, err := identity.InspectToken(raw)
//	if err == nil {
//		err = claims.Check(sessions.Audience) // ErrWrongAudience, ErrTokenExpired, ...
//	}
//
// # Managed identity and role assignments
//
// [Client] talks to Azure Resource Manager through azcore's arm pipeline:
//
//	client, err := identity.NewClient(subscriptionID, cred, nil)
//	id, err := client.CreateOrUpdateIdentity(ctx, "my-rg", "mypool-uami", "eastus", nil)
//	ra, err := client.AssignSessionExecutor(ctx, poolID, id.PrincipalID, nil)
//
// [Client.AssignRole] names the assignment with [RoleAssignmentName], a
// deterministic GUID of scope, principal and role, so repeating it is
// idempotent. It sends principalType ServicePrincipal unless told otherwise,
// retries PrincipalNotFound (the replication delay after creating an
// identity) with backoff for at most [DefaultPrincipalNotFoundTimeout] (five
// minutes; AssignRoleOptions.PrincipalNotFoundTimeout widens or narrows it)
// or until its context ends; the error is then a [*ServiceError] holding the
// last PrincipalNotFound answer that also matches ctx.Err() when the context
// ended first. It treats RoleAssignmentExists (the principal holds the role
// at the scope under any name) as success, returning the assignment that
// exists with Existing set.
// [Client.NewListRoleAssignmentsPager] is the tutorial's "Verify role
// assignment" step. Compare role definition IDs with [SameRoleDefinition]:
// the service answers with another prefix than it was sent.
//
// [ManagedIdentityResource] and [SessionExecutorAssignmentResource] return
// typed ARM template resources (pool.TemplateResource) to add to a session
// pool template with the pool package's Template.AddResources.
//
// # Errors
//
// Invalid input is refused before anything is sent, and before any token is
// requested, with an [*ArgumentError] (errors.Is(err, [ErrInvalidArgument])).
// Names follow ARM's rules: resource groups 1-90 letters, digits, '_', '-',
// '.', '(' and ')', not ending with '.'; identities 3-128 letters, digits,
// '-' and '_', starting with a letter or digit; role assignment names are
// GUIDs; regions are letters, digits and spaces; scopes are absolute
// resource IDs (/subscriptions/... or /providers/...) without ".." or empty
// segments. ErrInvalidArgument and ArgumentError are the same value and type
// as the pool package's. Service failures are *azcore.ResponseError; where
// there is advice to give (403 on a role assignment: the caller needs
// Microsoft.Authorization/roleAssignments/write at the scope;
// PrincipalNotFound retries ended by their bound or the context) it comes
// inside a [*ServiceError] (Op, Advice, Response, Cause), and errors.As still
// reaches the *azcore.ResponseError. No error contains a token.
//
// # Tracing, logging and testing
//
// Spans (azcore's ClientOptions.TracingProvider) are named after the
// methods ("Client.AssignRole") and carry az.namespace:
// [IdentityNamespace] for identities, [AuthorizationNamespace] for role
// assignments; the HTTP spans under them carry it too. No span attribute
// holds a token.
//
// The package never logs. azcore's HTTP logging (azcore/log.SetListener)
// redacts Authorization headers. Tests can point a Client at an httptest TLS
// server or the emulator in sessions/sessionstest with
// ClientOptions.Cloud.Services[cloud.ResourceManager].Endpoint and
// ClientOptions.Transport.
package identity
