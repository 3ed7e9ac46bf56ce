package identity

import (
	"context"
	"net/http"
	"regexp"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/tracing"

	"github.com/google/uuid"

	"github.com/shellpool/shellpool/internal/armx"
	"github.com/shellpool/shellpool/internal/azname"
	"github.com/shellpool/shellpool/internal/version"
)

const moduleName = version.Module + "/identity"

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

// ResourceID returns the resource ID of the user-assigned managed identity
// name in resourceGroup of subscriptionID.
func ResourceID(subscriptionID, resourceGroup, name string) string {
	return "/subscriptions/" + subscriptionID + "/resourceGroups/" + resourceGroup + "/providers/" + IdentityResourceType + "/" + name
}

func (c *Client) identityURL(resourceGroup, name string) string {
	return armx.URL(c.endpoint, ResourceID(armx.Segment(c.subscriptionID), armx.Segment(resourceGroup), armx.Segment(name)))
}

// CreateOrUpdateIdentity creates the user-assigned managed identity name in
// resourceGroup, or updates its location and tags. The result carries the
// PrincipalID to assign roles to and the ClientID to request tokens with.
// A just-created identity may take a while to appear in Entra ID; AssignRole
// retries PrincipalNotFound for that reason.
//
//   - resourceGroup - an existing resource group: 1-90 letters, digits, '_',
//     '-', '.', '(' and ')', not ending with '.'.
//   - name - the identity's name: 3-128 letters, digits, '-' and '_',
//     starting with a letter or digit.
//   - location - an Azure region, such as "eastus" or "East US": letters,
//     digits and spaces ("Not A Region!!" is refused).
//   - options - nil for defaults.
//
// If the operation fails it returns an *azcore.ResponseError.
func (c *Client) CreateOrUpdateIdentity(ctx context.Context, resourceGroup, name, location string, options *CreateOrUpdateIdentityOptions) (resp CreateOrUpdateIdentityResponse, err error) {
	ctx, end := runtime.StartSpan(ctx, "Client.CreateOrUpdateIdentity", c.tracer, nil)
	defer func() { end(err) }()
	if options == nil {
		options = &CreateOrUpdateIdentityOptions{}
	}
	if err := checkIdentityArgs(resourceGroup, name); err != nil {
		return resp, err
	}
	if r := azname.RegionRule(location); r != "" {
		return resp, argErr("location", r)
	}
	body := identityWire{Location: location, Tags: options.Tags}
	id, httpResp, err := armx.Call[Identity](ctx, c.pl, http.MethodPut, c.identityURL(resourceGroup, name), c.identityAPI, body, http.StatusOK, http.StatusCreated)
	if err != nil {
		return resp, err
	}
	return CreateOrUpdateIdentityResponse{Identity: id, Created: httpResp.StatusCode == http.StatusCreated}, nil
}

// GetIdentity gets the user-assigned managed identity name in resourceGroup.
//
// If the operation fails it returns an *azcore.ResponseError (StatusCode 404
// when the identity does not exist).
func (c *Client) GetIdentity(ctx context.Context, resourceGroup, name string, options *GetIdentityOptions) (resp GetIdentityResponse, err error) {
	ctx, end := runtime.StartSpan(ctx, "Client.GetIdentity", c.tracer, nil)
	defer func() { end(err) }()
	if err := checkIdentityArgs(resourceGroup, name); err != nil {
		return resp, err
	}
	id, _, err := armx.Call[Identity](ctx, c.pl, http.MethodGet, c.identityURL(resourceGroup, name), c.identityAPI, nil, http.StatusOK)
	return GetIdentityResponse{Identity: id}, err
}

// DeleteIdentity deletes the user-assigned managed identity name in
// resourceGroup. Deleting one that does not exist succeeds with Existed false.
// Role assignments of the identity are not deleted with it.
//
// If the operation fails it returns an *azcore.ResponseError.
func (c *Client) DeleteIdentity(ctx context.Context, resourceGroup, name string, options *DeleteIdentityOptions) (resp DeleteIdentityResponse, err error) {
	ctx, end := runtime.StartSpan(ctx, "Client.DeleteIdentity", c.tracer, nil)
	defer func() { end(err) }()
	if err := checkIdentityArgs(resourceGroup, name); err != nil {
		return resp, err
	}
	req, err := armx.NewRequest(ctx, http.MethodDelete, c.identityURL(resourceGroup, name), c.identityAPI, nil)
	if err != nil {
		return resp, err
	}
	httpResp, err := armx.Send(c.pl, req, http.StatusOK, http.StatusNoContent)
	if err != nil {
		return resp, err
	}
	return DeleteIdentityResponse{Existed: httpResp.StatusCode == http.StatusOK}, nil
}

// checkIdentityArgs applies ARM's rules for resource group names and
// user-assigned identity names (3-128 letters, digits, '-' and '_', starting
// with a letter or digit).
func checkIdentityArgs(resourceGroup, name string) error {
	if r := azname.ResourceGroupRule(resourceGroup); r != "" {
		return argErr("resourceGroup", r)
	}
	if !identityNameRE.MatchString(name) {
		return argErr("name", "must be 3-128 letters, digits, '-' and '_', starting with a letter or digit (a user-assigned identity's name, not a path or resource ID)")
	}
	return nil
}

var identityNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{2,127}$`)

// checkRoleAssignmentName refuses a role assignment name that is not a GUID.
func checkRoleAssignmentName(name string) error {
	if _, err := uuid.Parse(name); err != nil || len(name) != 36 {
		return argErr("name", "must be the role assignment's name, a GUID such as RoleAssignmentName returns")
	}
	return nil
}
