package pool

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"

	"github.com/shellpool/shellpool/internal/armx"
)

// BeginCreateOrUpdateOptions contains the optional parameters for
// Client.BeginCreateOrUpdate.
type BeginCreateOrUpdateOptions struct {
	// ResumeToken resumes a poller from Poller.ResumeToken; the other
	// arguments are then ignored.
	ResumeToken string
}

// CreateOrUpdateResponse is the result of Client.BeginCreateOrUpdate.
type CreateOrUpdateResponse struct {
	SessionPool
}

// BeginCreateOrUpdate creates a session pool or replaces its settings (PUT).
// The pool is validated first (SessionPool.Validate, and its settings against
// the client's api-version: MCPServerSettings need one that has them,
// SupportsMCPServer); an invalid pool returns a *ValidationError and sends
// nothing. Read-only fields are not sent.
// The poller follows the Azure-AsyncOperation header of a 201 response and
// then reads the pool; a synchronous 200 completes at once.
//   - resourceGroup - the resource group, which must exist
//   - name - the pool's name; it overrides pool.Name
//   - pool - the pool, e.g. from NewShellPool
//
// If the operation fails it returns an *azcore.ResponseError.
func (c *Client) BeginCreateOrUpdate(ctx context.Context, resourceGroup, name string, pool SessionPool, options *BeginCreateOrUpdateOptions) (p *runtime.Poller[CreateOrUpdateResponse], err error) {
	if options != nil && options.ResumeToken != "" {
		return resume[CreateOrUpdateResponse](c.tracer, c, options.ResumeToken)
	}
	ctx, end := c.startSpan(ctx, "BeginCreateOrUpdate")
	defer func() { end(err) }()
	if err := checkGroup(resourceGroup); err != nil {
		return nil, err
	}
	pool.Name = name // validate checks it
	if err := pool.validate(checkDirect, c.apiVersion); err != nil {
		return nil, err
	}
	return begin[CreateOrUpdateResponse](ctx, c, c.tracer, armx.Request{Method: http.MethodPut, URL: c.poolURL(resourceGroup, name), APIVersion: c.apiVersion, Body: pool.putBody(), OK: []int{http.StatusOK, http.StatusCreated}}, runtime.FinalStateViaAzureAsyncOp)
}

// GetOptions contains the optional parameters for Client.Get.
type GetOptions struct {
	// placeholder for future options
}

// GetResponse is the result of Client.Get.
type GetResponse struct {
	SessionPool
}

// Get reads a session pool, including its provisioning state and its
// data-plane endpoint (GetResponse.Endpoint()).
//
// If the operation fails it returns an *azcore.ResponseError; a missing pool
// has StatusCode 404 (ErrorCode "ResourceNotFound").
func (c *Client) Get(ctx context.Context, resourceGroup, name string, options *GetOptions) (res GetResponse, err error) {
	ctx, end := c.startSpan(ctx, "Get")
	defer func() { end(err) }()
	if err := errors.Join(checkGroup(resourceGroup), checkPoolName(name)); err != nil {
		return res, err
	}
	pool, _, err := armx.Do[SessionPool](ctx, c.pl, armx.Request{Method: http.MethodGet, URL: c.poolURL(resourceGroup, name), APIVersion: c.apiVersion, OK: []int{http.StatusOK}})
	return GetResponse{SessionPool: pool}, notFoundHint(err, resourceGroup, name)
}

// notFoundHint wraps a 404 from a pool's URL (ResourceNotFound,
// ResourceGroupNotFound) with what to do; errors.As still reaches the
// *azcore.ResponseError.
func notFoundHint(err error, resourceGroup, name string) error {
	var re *azcore.ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusNotFound {
		return err
	}
	return fmt.Errorf("pool: session pool %q was not found in resource group %q (%s): deploy it first (Client.BeginCreateOrUpdate, examples/deploy-pool), or check the pool name, resource group and subscription; a pool goes with its resource group when that is deleted: %w",
		name, resourceGroup, re.ErrorCode, err)
}

// BeginUpdateOptions contains the optional parameters for Client.BeginUpdate.
type BeginUpdateOptions struct {
	// ResumeToken resumes a poller from Poller.ResumeToken; the other
	// arguments are then ignored.
	ResumeToken string
}

// UpdateResponse is the result of Client.BeginUpdate.
type UpdateResponse struct {
	SessionPool
}

// BeginUpdate changes the updatable settings of a pool (PATCH, JSON merge
// patch): tags, identity, scale, secrets, lifecycle, custom container
// template and network. The update is validated first
// (SessionPoolUpdate.Validate). The poller follows the Location header of a
// 202 response; a 200 completes at once. When the service ends the operation
// without a body the result is empty: call Get to read the pool.
//
// If the operation fails it returns an *azcore.ResponseError.
func (c *Client) BeginUpdate(ctx context.Context, resourceGroup, name string, update SessionPoolUpdate, options *BeginUpdateOptions) (p *runtime.Poller[UpdateResponse], err error) {
	if options != nil && options.ResumeToken != "" {
		return resume[UpdateResponse](c.tracer, c, options.ResumeToken)
	}
	ctx, end := c.startSpan(ctx, "BeginUpdate")
	defer func() { end(err) }()
	if err := errors.Join(checkGroup(resourceGroup), checkPoolName(name)); err != nil {
		return nil, err
	}
	if err := update.Validate(); err != nil {
		return nil, err
	}
	return begin[UpdateResponse](ctx, c, c.tracer, armx.Request{Method: http.MethodPatch, URL: c.poolURL(resourceGroup, name), APIVersion: c.apiVersion, Body: update, OK: []int{http.StatusOK, http.StatusAccepted}}, runtime.FinalStateViaAzureAsyncOp)
}

// BeginDeleteOptions contains the optional parameters for Client.BeginDelete.
type BeginDeleteOptions struct {
	// ResumeToken resumes a poller from Poller.ResumeToken; the other
	// arguments are then ignored.
	ResumeToken string
}

// DeleteResponse is the result of Client.BeginDelete.
type DeleteResponse struct {
	// placeholder for future fields
}

// BeginDelete deletes a session pool and all of its sessions. The poller
// follows the Location header of a 202 response; 204 (the pool did not
// exist) completes at once.
//
// If the operation fails it returns an *azcore.ResponseError.
func (c *Client) BeginDelete(ctx context.Context, resourceGroup, name string, options *BeginDeleteOptions) (p *runtime.Poller[DeleteResponse], err error) {
	if options != nil && options.ResumeToken != "" {
		return resume[DeleteResponse](c.tracer, c, options.ResumeToken)
	}
	ctx, end := c.startSpan(ctx, "BeginDelete")
	defer func() { end(err) }()
	if err := errors.Join(checkGroup(resourceGroup), checkPoolName(name)); err != nil {
		return nil, err
	}
	return begin[DeleteResponse](ctx, c, c.tracer, armx.Request{Method: http.MethodDelete, URL: c.poolURL(resourceGroup, name), APIVersion: c.apiVersion, OK: []int{http.StatusOK, http.StatusAccepted, http.StatusNoContent}}, runtime.FinalStateViaLocation)
}

// ListByResourceGroupOptions contains the optional parameters for
// Client.NewListByResourceGroupPager.
type ListByResourceGroupOptions struct {
	// placeholder for future options
}

// ListByResourceGroupResponse is one page of Client.NewListByResourceGroupPager.
type ListByResourceGroupResponse struct {
	SessionPoolCollection
}

// NewListByResourceGroupPager lists the session pools of a resource group,
// following nextLink from page to page. It sends nothing until the first
// NextPage call; an invalid resource group name fails there.
//
// If a page fails it returns an *azcore.ResponseError.
func (c *Client) NewListByResourceGroupPager(resourceGroup string, options *ListByResourceGroupOptions) *runtime.Pager[ListByResourceGroupResponse] {
	first := armx.URL(c.endpoint, c.groupPath(resourceGroup)+"/providers/"+ResourceType)
	return runtime.NewPager(runtime.PagingHandler[ListByResourceGroupResponse]{
		More: func(p ListByResourceGroupResponse) bool { return p.NextLink != nil && *p.NextLink != "" },
		Fetcher: func(ctx context.Context, cur *ListByResourceGroupResponse) (ListByResourceGroupResponse, error) {
			if err := checkGroup(resourceGroup); err != nil {
				return ListByResourceGroupResponse{}, err
			}
			var next string
			if cur != nil {
				next = cur.SessionPoolCollection.nextLinkValue()
			}
			page, err := c.listPage(ctx, first, next)
			return ListByResourceGroupResponse{SessionPoolCollection: page}, err
		},
		Tracer: c.tracer,
	})
}

// ListBySubscriptionOptions contains the optional parameters for
// Client.NewListBySubscriptionPager.
type ListBySubscriptionOptions struct {
	// placeholder for future options
}

// ListBySubscriptionResponse is one page of Client.NewListBySubscriptionPager.
type ListBySubscriptionResponse struct {
	SessionPoolCollection
}

// NewListBySubscriptionPager lists the session pools of the subscription,
// following nextLink from page to page. It sends nothing until the first
// NextPage call.
//
// If a page fails it returns an *azcore.ResponseError.
func (c *Client) NewListBySubscriptionPager(options *ListBySubscriptionOptions) *runtime.Pager[ListBySubscriptionResponse] {
	first := armx.URL(c.endpoint, "/subscriptions/"+armx.Segment(c.subscriptionID)+"/providers/"+ResourceType)
	return runtime.NewPager(runtime.PagingHandler[ListBySubscriptionResponse]{
		More: func(p ListBySubscriptionResponse) bool { return p.NextLink != nil && *p.NextLink != "" },
		Fetcher: func(ctx context.Context, cur *ListBySubscriptionResponse) (ListBySubscriptionResponse, error) {
			var next string
			if cur != nil {
				next = cur.SessionPoolCollection.nextLinkValue()
			}
			page, err := c.listPage(ctx, first, next)
			return ListBySubscriptionResponse{SessionPoolCollection: page}, err
		},
		Tracer: c.tracer,
	})
}

func (s SessionPoolCollection) nextLinkValue() string {
	if s.NextLink == nil {
		return ""
	}
	return *s.NextLink
}

// listPage fetches the first page (next == "") or the page at next. A
// nextLink already carries its api-version and is sent as is.
func (c *Client) listPage(ctx context.Context, first, next string) (SessionPoolCollection, error) {
	if next == "" {
		page, _, err := armx.Do[SessionPoolCollection](ctx, c.pl, armx.Request{Method: http.MethodGet, URL: first, APIVersion: c.apiVersion, OK: []int{http.StatusOK}})
		return page, err
	}
	req, err := armx.NewNextRequest(ctx, next)
	if err != nil {
		return SessionPoolCollection{}, err
	}
	page, _, err := armx.SendDecode[SessionPoolCollection](c.pl, req, http.StatusOK)
	return page, err
}
