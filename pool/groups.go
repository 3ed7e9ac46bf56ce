package pool

import (
	"context"
	"net/http"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"

	"github.com/shellpool/shellpool/internal/armx"
	"github.com/shellpool/shellpool/internal/azname"
)

// ResourceGroup is an Azure resource group.
type ResourceGroup struct {
	// ID is the group's resource ID (read-only).
	ID string `json:"id,omitempty"`
	// Name is the group's name (read-only).
	Name string `json:"name,omitempty"`
	// Type is "Microsoft.Resources/resourceGroups" (read-only).
	Type string `json:"type,omitempty"`
	// Location is where the group's metadata lives. Required.
	Location string `json:"location,omitempty"`
	// ManagedBy is the ID of the resource that manages the group, if any.
	ManagedBy string `json:"managedBy,omitempty"`
	// Tags are free-form tags.
	Tags map[string]string `json:"tags,omitempty"`
	// Properties holds the group's provisioning state (read-only).
	Properties *ResourceGroupProperties `json:"properties,omitempty"`
}

// ResourceGroupProperties holds the state of a resource group.
type ResourceGroupProperties struct {
	// ProvisioningState is e.g. Succeeded or Deleting.
	ProvisioningState string `json:"provisioningState,omitempty"`
}

// CreateOrUpdateResourceGroupOptions contains the optional parameters for
// Client.CreateOrUpdateResourceGroup.
type CreateOrUpdateResourceGroupOptions struct {
	// placeholder for future options
}

// CreateOrUpdateResourceGroupResponse is the result of
// Client.CreateOrUpdateResourceGroup.
type CreateOrUpdateResourceGroupResponse struct {
	ResourceGroup
}

// CreateOrUpdateResourceGroup creates a resource group or updates its tags
// (az group create). Only group.Location, group.Tags and group.ManagedBy are
// sent.
//
// If the operation fails it returns an *azcore.ResponseError.
func (c *Client) CreateOrUpdateResourceGroup(ctx context.Context, name string, group ResourceGroup, options *CreateOrUpdateResourceGroupOptions) (res CreateOrUpdateResourceGroupResponse, err error) {
	ctx, end := c.startResSpan(ctx, "CreateOrUpdateResourceGroup")
	defer func() { end(err) }()
	if err := checkGroup(name); err != nil {
		return res, err
	}
	if r := azname.RegionRule(group.Location); r != "" {
		return res, invalidArg("location", group.Location, r)
	}
	body := ResourceGroup{Location: group.Location, Tags: group.Tags, ManagedBy: group.ManagedBy}
	g, _, err := armx.Do[ResourceGroup](ctx, c.pl, armx.Request{Method: http.MethodPut, URL: c.resourceGroupURL(name), APIVersion: c.resAPIVersion, Body: body, OK: []int{http.StatusOK, http.StatusCreated}})
	return CreateOrUpdateResourceGroupResponse{ResourceGroup: g}, err
}

// GetResourceGroupOptions contains the optional parameters for
// Client.GetResourceGroup.
type GetResourceGroupOptions struct {
	// placeholder for future options
}

// GetResourceGroupResponse is the result of Client.GetResourceGroup.
type GetResourceGroupResponse struct {
	ResourceGroup
}

// GetResourceGroup reads a resource group.
//
// If the operation fails it returns an *azcore.ResponseError; a missing group
// has StatusCode 404 (ErrorCode "ResourceGroupNotFound").
func (c *Client) GetResourceGroup(ctx context.Context, name string, options *GetResourceGroupOptions) (res GetResourceGroupResponse, err error) {
	ctx, end := c.startResSpan(ctx, "GetResourceGroup")
	defer func() { end(err) }()
	if err := checkGroup(name); err != nil {
		return res, err
	}
	g, _, err := armx.Do[ResourceGroup](ctx, c.pl, armx.Request{Method: http.MethodGet, URL: c.resourceGroupURL(name), APIVersion: c.resAPIVersion, OK: []int{http.StatusOK}})
	return GetResourceGroupResponse{ResourceGroup: g}, err
}

// BeginDeleteResourceGroupOptions contains the optional parameters for
// Client.BeginDeleteResourceGroup.
type BeginDeleteResourceGroupOptions struct {
	// ResumeToken resumes a poller from Poller.ResumeToken; the other
	// arguments are then ignored.
	ResumeToken string
}

// DeleteResourceGroupResponse is the result of Client.BeginDeleteResourceGroup.
type DeleteResourceGroupResponse struct {
	// placeholder for future fields
}

// BeginDeleteResourceGroup deletes a resource group and everything in it,
// including its deployment history (az group delete, the tutorial's clean
// up). The poller follows the Location header of the 202 response.
//
// If the operation fails it returns an *azcore.ResponseError.
func (c *Client) BeginDeleteResourceGroup(ctx context.Context, name string, options *BeginDeleteResourceGroupOptions) (p *runtime.Poller[DeleteResourceGroupResponse], err error) {
	if options != nil && options.ResumeToken != "" {
		return resume[DeleteResourceGroupResponse](c.resTracer, c, options.ResumeToken)
	}
	ctx, end := c.startResSpan(ctx, "BeginDeleteResourceGroup")
	defer func() { end(err) }()
	if err := checkGroup(name); err != nil {
		return nil, err
	}
	return begin[DeleteResourceGroupResponse](ctx, c, c.resTracer, armx.Request{Method: http.MethodDelete, URL: c.resourceGroupURL(name), APIVersion: c.resAPIVersion, OK: []int{http.StatusOK, http.StatusAccepted}}, runtime.FinalStateViaLocation)
}

// resourceGroupURL follows the Microsoft.Resources specification's spelling
// ("resourcegroups"); ARM matches path segments case-insensitively.
func (c *Client) resourceGroupURL(name string) string {
	return armx.URL(c.endpoint, "/subscriptions/"+armx.Segment(c.subscriptionID)+"/resourcegroups/"+armx.Segment(name))
}
