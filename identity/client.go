package identity

import (
	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/tracing"

	"github.com/shellpool/shellpool/internal/azname"
	"github.com/shellpool/shellpool/internal/version"
)

const moduleName = version.IdentityModule

// ClientOptions configures a Client. A nil *ClientOptions is the same as the
// zero value.
type ClientOptions struct {
	// ClientOptions configures azcore's ARM pipeline: cloud (endpoint and
	// audience), retries, transport, logging and tracing. Leave its
	// APIVersion empty; it would apply to both resource types.
	arm.ClientOptions

	// IdentityAPIVersion overrides DefaultIdentityAPIVersion (2023-01-31) for
	// user-assigned managed identities, for example with "2024-11-30".
	IdentityAPIVersion string
	// RoleAssignmentAPIVersion overrides DefaultRoleAssignmentAPIVersion
	// (2022-04-01) for role assignments.
	RoleAssignmentAPIVersion string
}

// Client manages user-assigned managed identities in one subscription and
// role assignments at any scope, through Azure Resource Manager. It is safe
// for concurrent use.
type Client struct {
	subscriptionID string
	endpoint       string
	pl             runtime.Pipeline
	tracer         tracing.Tracer // az.namespace Microsoft.ManagedIdentity
	roleTracer     tracing.Tracer // az.namespace Microsoft.Authorization
	identityAPI    string
	roleAPI        string
}

// NewClient creates a Client.
//
//   - subscriptionID - the subscription that holds the managed identities.
//     Role assignment methods take full scopes and may address others.
//   - cred - a credential for Azure Resource Manager. To assign roles its
//     principal needs Microsoft.Authorization/roleAssignments/write at the
//     scope (Owner, User Access Administrator or Role Based Access Control
//     Administrator).
//   - options - nil for defaults.
func NewClient(subscriptionID string, cred azcore.TokenCredential, options *ClientOptions) (*Client, error) {
	if options == nil {
		options = &ClientOptions{}
	}
	if r := azname.SubscriptionRule(subscriptionID); r != "" {
		return nil, argErr("subscriptionID", r)
	}
	if cred == nil {
		return nil, argErr("cred", "must not be nil; pass a credential such as the one identity.NewCredential returns")
	}
	if options.APIVersion != "" {
		return nil, argErr("ClientOptions.APIVersion", "would apply to identities and role assignments alike; set IdentityAPIVersion or RoleAssignmentAPIVersion instead")
	}
	o := options.ClientOptions.Clone()
	c, err := arm.NewClient(moduleName, version.Version, cred, o)
	if err != nil {
		return nil, err
	}
	cl := &Client{
		subscriptionID: subscriptionID,
		endpoint:       c.Endpoint(),
		pl:             c.Pipeline(),
		tracer:         withNamespace(c.Tracer(), IdentityNamespace),
		roleTracer:     withNamespace(c.Tracer(), AuthorizationNamespace),
		identityAPI:    DefaultIdentityAPIVersion,
		roleAPI:        DefaultRoleAssignmentAPIVersion,
	}
	if options.IdentityAPIVersion != "" {
		cl.identityAPI = options.IdentityAPIVersion
	}
	if options.RoleAssignmentAPIVersion != "" {
		cl.roleAPI = options.RoleAssignmentAPIVersion
	}
	return cl, nil
}

// withNamespace returns a copy of tr whose spans, including the HTTP spans
// of the requests sent under them, carry az.namespace=ns.
func withNamespace(tr tracing.Tracer, ns string) tracing.Tracer {
	tr.SetAttributes(tracing.Attribute{Key: "az.namespace", Value: ns})
	return tr
}
