package pool

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/tracing"

	"github.com/shellpool/shellpool/internal/armx"
	"github.com/shellpool/shellpool/internal/azname"
	"github.com/shellpool/shellpool/internal/version"
)

// ClientOptions configures a Client. A nil *ClientOptions is the same as the
// zero value.
type ClientOptions struct {
	arm.ClientOptions

	// APIVersion overrides DefaultARMAPIVersion for session pool operations.
	APIVersion string

	// ResourcesAPIVersion overrides DefaultResourcesAPIVersion for
	// deployments, resource groups and provider registration.
	ResourcesAPIVersion string
}

// Client manages session pools, template deployments, resource groups and
// provider registration in one subscription, through Azure Resource Manager.
// It is safe for concurrent use.
//
// It exists because the official armappcontainers module cannot create Shell
// pools: its newest stable version has no Shell container type.
type Client struct {
	subscriptionID string
	endpoint       string
	pl             runtime.Pipeline
	tracer         tracing.Tracer // az.namespace Microsoft.App: session pools
	resTracer      tracing.Tracer // az.namespace Microsoft.Resources: groups, deployments, providers
	apiVersion     string
	resAPIVersion  string
}

// NewClient returns a Client for the subscription.
//   - subscriptionID - the Azure subscription to manage
//   - cred - an ARM credential, e.g. from azidentity.NewDefaultAzureCredential
//   - options - pipeline and api-version settings; nil means defaults. Set
//     options.Cloud to reach another ARM endpoint (a sovereign cloud, or the
//     module's emulator).
func NewClient(subscriptionID string, cred azcore.TokenCredential, options *ClientOptions) (*Client, error) {
	if r := azname.SubscriptionRule(subscriptionID); r != "" {
		return nil, invalidArg("subscriptionID", subscriptionID, r)
	}
	if cred == nil {
		return nil, argErr("cred", "is nil; pass a credential such as azidentity.NewDefaultAzureCredential")
	}
	if options == nil {
		options = &ClientOptions{}
	}
	c, err := arm.NewClient(version.Module+"/pool", version.Version, cred, options.ClientOptions.Clone())
	if err != nil {
		return nil, fmt.Errorf("pool: create ARM client: %w", err)
	}
	cl := &Client{
		subscriptionID: subscriptionID,
		endpoint:       c.Endpoint(),
		pl:             c.Pipeline(),
		tracer:         withNamespace(c.Tracer(), ProviderNamespace),
		resTracer:      withNamespace(c.Tracer(), ResourcesNamespace),
		apiVersion:     options.APIVersion,
		resAPIVersion:  options.ResourcesAPIVersion,
	}
	if cl.apiVersion == "" {
		cl.apiVersion = DefaultARMAPIVersion
	}
	if cl.resAPIVersion == "" {
		cl.resAPIVersion = DefaultResourcesAPIVersion
	}
	return cl, nil
}

// SubscriptionID returns the subscription the client manages.
func (c *Client) SubscriptionID() string { return c.subscriptionID }

// withNamespace returns a copy of tr whose spans, including the HTTP spans
// of the requests sent under them, carry az.namespace=ns.
func withNamespace(tr tracing.Tracer, ns string) tracing.Tracer {
	tr.SetAttributes(tracing.Attribute{Key: "az.namespace", Value: ns})
	return tr
}

// startSpan starts the span of a session pool method (Microsoft.App).
func (c *Client) startSpan(ctx context.Context, method string) (context.Context, func(error)) {
	return runtime.StartSpan(ctx, "Client."+method, c.tracer, nil)
}

// startResSpan starts the span of a resource group, deployment or provider
// method (Microsoft.Resources).
func (c *Client) startResSpan(ctx context.Context, method string) (context.Context, func(error)) {
	return runtime.StartSpan(ctx, "Client."+method, c.resTracer, nil)
}

func (c *Client) groupPath(resourceGroup string) string {
	return "/subscriptions/" + armx.Segment(c.subscriptionID) + "/resourceGroups/" + armx.Segment(resourceGroup)
}

func (c *Client) poolURL(resourceGroup, name string) string {
	return armx.URL(c.endpoint, c.groupPath(resourceGroup)+"/providers/"+ResourceType+"/"+armx.Segment(name))
}

// begin sends the first request of a long-running operation and returns a
// poller that follows it; via says where the final result is read.
func begin[T any](ctx context.Context, c *Client, tr tracing.Tracer, method, rawURL, apiVersion string, body any, via runtime.FinalStateVia, ok ...int) (*runtime.Poller[T], error) {
	req, err := armx.NewRequest(ctx, method, rawURL, apiVersion, body)
	if err != nil {
		return nil, err
	}
	resp, err := armx.Send(c.pl, req, ok...)
	if err != nil {
		return nil, err
	}
	return runtime.NewPoller(resp, c.pl, &runtime.NewPollerOptions[T]{FinalStateVia: via, Tracer: tr})
}

// resume rebuilds a poller from Poller.ResumeToken.
func resume[T any](tr tracing.Tracer, c *Client, token string) (*runtime.Poller[T], error) {
	return runtime.NewPollerFromResumeToken(token, c.pl, &runtime.NewPollerFromResumeTokenOptions[T]{Tracer: tr})
}

// checkGroup validates a resource group name with ARM's rule: 1-90
// characters of letters, digits, '-', '_', '.', '(' and ')', not ending with
// a period (API.md §4).
func checkGroup(name string) error {
	if r := azname.ResourceGroupRule(name); r != "" {
		return invalidArg("resourceGroup", name, r)
	}
	return nil
}

// checkPoolName validates the name of an existing session pool with the
// specification's pattern (see ValidateName).
func checkPoolName(name string) error {
	if r := nameRule(name); r != "" {
		return invalidArg("name", name, r)
	}
	return nil
}

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
// The pool is validated first (SessionPool.Validate); an invalid pool returns
// a *ValidationError and sends nothing. Read-only fields are not sent.
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
	pool.Name = name // Validate checks it
	if err := pool.Validate(); err != nil {
		return nil, err
	}
	return begin[CreateOrUpdateResponse](ctx, c, c.tracer, http.MethodPut, c.poolURL(resourceGroup, name), c.apiVersion, pool.putBody(), runtime.FinalStateViaAzureAsyncOp, http.StatusOK, http.StatusCreated)
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
	pool, _, err := armx.Call[SessionPool](ctx, c.pl, http.MethodGet, c.poolURL(resourceGroup, name), c.apiVersion, nil, http.StatusOK)
	return GetResponse{SessionPool: pool}, err
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
	return begin[UpdateResponse](ctx, c, c.tracer, http.MethodPatch, c.poolURL(resourceGroup, name), c.apiVersion, update, runtime.FinalStateViaAzureAsyncOp, http.StatusOK, http.StatusAccepted)
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
	return begin[DeleteResponse](ctx, c, c.tracer, http.MethodDelete, c.poolURL(resourceGroup, name), c.apiVersion, nil, runtime.FinalStateViaLocation, http.StatusOK, http.StatusAccepted, http.StatusNoContent)
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
		page, _, err := armx.Call[SessionPoolCollection](ctx, c.pl, http.MethodGet, first, c.apiVersion, nil, http.StatusOK)
		return page, err
	}
	req, err := armx.NewNextRequest(ctx, next)
	if err != nil {
		return SessionPoolCollection{}, err
	}
	page, _, err := armx.SendDecode[SessionPoolCollection](c.pl, req, http.StatusOK)
	return page, err
}
