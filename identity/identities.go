package identity

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"

	"github.com/shellpool/shellpool/internal/armx"
	"github.com/shellpool/shellpool/internal/azname"
)

// Identity is a user-assigned managed identity.
type Identity struct {
	// ID is the resource ID:
	// /subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}.
	ID string
	// Name is the identity's name.
	Name string
	// Type is the resource type, IdentityResourceType.
	Type string
	// Location is the Azure region.
	Location string
	// Tags are the resource tags.
	Tags map[string]string
	// PrincipalID is the object ID of the identity's service principal: the
	// principalId to assign roles to.
	PrincipalID string
	// ClientID selects this identity when requesting tokens
	// (CredentialOptions.ClientID, AZURE_CLIENT_ID, client_id=).
	ClientID string
	// TenantID is the Entra ID tenant of the identity.
	TenantID string
}

type identityWire struct {
	ID         string            `json:"id,omitempty"`
	Name       string            `json:"name,omitempty"`
	Type       string            `json:"type,omitempty"`
	Location   string            `json:"location,omitempty"`
	Tags       map[string]string `json:"tags,omitempty"`
	Properties *struct {
		PrincipalID string `json:"principalId,omitempty"`
		ClientID    string `json:"clientId,omitempty"`
		TenantID    string `json:"tenantId,omitempty"`
	} `json:"properties,omitempty"`
}

// UnmarshalJSON decodes the ARM resource body.
func (i *Identity) UnmarshalJSON(b []byte) error {
	var w identityWire
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*i = Identity{ID: w.ID, Name: w.Name, Type: w.Type, Location: w.Location, Tags: w.Tags}
	if w.Properties != nil {
		i.PrincipalID, i.ClientID, i.TenantID = w.Properties.PrincipalID, w.Properties.ClientID, w.Properties.TenantID
	}
	return nil
}

// CreateOrUpdateIdentityOptions contains the optional parameters for
// Client.CreateOrUpdateIdentity.
type CreateOrUpdateIdentityOptions struct {
	// Tags to set on the identity. They replace existing tags.
	Tags map[string]string
}

// CreateOrUpdateIdentityResponse is the result of Client.CreateOrUpdateIdentity.
type CreateOrUpdateIdentityResponse struct {
	Identity
	// Created is true when the identity was created (201) rather than updated (200).
	Created bool
}

// GetIdentityOptions contains the optional parameters for Client.GetIdentity.
type GetIdentityOptions struct {
	// placeholder for future options
}

// GetIdentityResponse is the result of Client.GetIdentity.
type GetIdentityResponse struct {
	Identity
}

// DeleteIdentityOptions contains the optional parameters for Client.DeleteIdentity.
type DeleteIdentityOptions struct {
	// placeholder for future options
}

// DeleteIdentityResponse is the result of Client.DeleteIdentity.
type DeleteIdentityResponse struct {
	// Existed is false when there was nothing to delete (204).
	Existed bool
}

// ResourceID returns the resource ID of the user-assigned managed identity
// name in resourceGroup of subscriptionID,
// /subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name},
// parsed as an azcore arm.ResourceID, as pool.ResourceID returns a pool's.
// Use its String method where a string is needed (azidentity.ResourceID,
// role assignment scopes). It fails with an *ArgumentError (matching
// ErrInvalidArgument) when an argument breaks ARM's naming rules.
func ResourceID(subscriptionID, resourceGroup, name string) (*arm.ResourceID, error) {
	if r := azname.SubscriptionRule(subscriptionID); r != "" {
		return nil, argErr("subscriptionID", r)
	}
	if err := checkIdentityArgs(resourceGroup, name); err != nil {
		return nil, err
	}
	id, err := arm.ParseResourceID(identityPath(subscriptionID, resourceGroup, name))
	if err != nil {
		return nil, fmt.Errorf("identity: build identity resource ID: %w", err)
	}
	return id, nil
}

// identityPath is the resource ID path of an identity, unparsed.
func identityPath(subscriptionID, resourceGroup, name string) string {
	return "/subscriptions/" + subscriptionID + "/resourceGroups/" + resourceGroup + "/providers/" + IdentityResourceType + "/" + name
}

func (c *Client) identityURL(resourceGroup, name string) string {
	return armx.URL(c.endpoint, identityPath(armx.Segment(c.subscriptionID), armx.Segment(resourceGroup), armx.Segment(name)))
}

// CreateOrUpdateIdentity creates the user-assigned managed identity name in
// resourceGroup, or updates its location and tags. The result carries the
// PrincipalID to assign roles to and the ClientID to request tokens with.
// A just-created identity may take a while to appear in Entra ID; AssignRole
// retries PrincipalNotFound for that reason. Names and location follow the
// rules in the package doc ("Errors"); a failed call returns an
// *azcore.ResponseError.
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
	id, httpResp, err := armx.Do[Identity](ctx, c.pl, armx.Request{Method: http.MethodPut, URL: c.identityURL(resourceGroup, name), APIVersion: c.identityAPI, Body: body, OK: []int{http.StatusOK, http.StatusCreated}})
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
	id, _, err := armx.Do[Identity](ctx, c.pl, armx.Request{Method: http.MethodGet, URL: c.identityURL(resourceGroup, name), APIVersion: c.identityAPI, OK: []int{http.StatusOK}})
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
	req, err := armx.Request{Method: http.MethodDelete, URL: c.identityURL(resourceGroup, name), APIVersion: c.identityAPI}.New(ctx)
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
