package pool

import (
	"context"
	"fmt"

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
	// ClientOptions configures azcore's ARM pipeline. Its APIVersion (azcore's
	// one api-version knob) overrides DefaultARMAPIVersion for session pool
	// operations only.
	arm.ClientOptions

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
	secretPL       runtime.Pipeline // pl without body logging: its responses carry secrets
	tracer         tracing.Tracer   // az.namespace Microsoft.App: session pools
	resTracer      tracing.Tracer   // az.namespace Microsoft.Resources: groups, deployments, providers
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
	armOpts := options.ClientOptions.Clone()
	// The client applies azcore's APIVersion to session pool requests itself:
	// azcore would put it on every request (resource groups and deployments
	// have api-versions of their own) or refuse it.
	poolAPIVersion := armOpts.APIVersion
	armOpts.APIVersion = ""
	c, err := arm.NewClient(version.PoolModule, version.Version, cred, armOpts)
	if err != nil {
		return nil, fmt.Errorf("pool: create ARM client: %w", err)
	}
	// The MCP credential actions answer with a key in the body: their
	// pipeline never logs bodies, whatever Logging.IncludeBody says.
	secretOpts := armOpts.Clone()
	secretOpts.Logging.IncludeBody = false
	sc, err := arm.NewClient(version.PoolModule, version.Version, cred, secretOpts)
	if err != nil {
		return nil, fmt.Errorf("pool: create ARM client: %w", err)
	}
	cl := &Client{
		subscriptionID: subscriptionID,
		endpoint:       c.Endpoint(),
		pl:             c.Pipeline(),
		secretPL:       sc.Pipeline(),
		tracer:         withNamespace(c.Tracer(), ProviderNamespace),
		resTracer:      withNamespace(c.Tracer(), ResourcesNamespace),
		apiVersion:     poolAPIVersion,
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
func begin[T any](ctx context.Context, c *Client, tr tracing.Tracer, r armx.Request, via runtime.FinalStateVia) (*runtime.Poller[T], error) {
	req, err := r.New(ctx)
	if err != nil {
		return nil, err
	}
	resp, err := armx.Send(c.pl, req, r.OK...)
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
