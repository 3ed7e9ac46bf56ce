package pool

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"

	"github.com/shellpool/shellpool/internal/armx"
	"github.com/shellpool/shellpool/internal/azname"
)

// Provider is a resource provider's registration in a subscription.
type Provider struct {
	// ID is the provider's resource ID.
	ID string `json:"id,omitempty"`
	// Namespace is the provider's namespace, e.g. "Microsoft.App".
	Namespace string `json:"namespace,omitempty"`
	// RegistrationState is NotRegistered, Registering, Registered or Unregistering.
	RegistrationState RegistrationState `json:"registrationState,omitempty"`
	// RegistrationPolicy is e.g. "RegistrationRequired".
	RegistrationPolicy string `json:"registrationPolicy,omitempty"`
	// ResourceTypes lists the provider's resource types.
	ResourceTypes []ProviderResourceType `json:"resourceTypes,omitempty"`
}

// ProviderResourceType describes one resource type of a provider.
type ProviderResourceType struct {
	// ResourceType is the type's name, e.g. "sessionPools".
	ResourceType string `json:"resourceType,omitempty"`
	// Locations are the regions that offer the type.
	Locations []string `json:"locations,omitempty"`
	// APIVersions are the api-versions the type supports.
	APIVersions []string `json:"apiVersions,omitempty"`
}

// BeginRegisterProviderOptions contains the optional parameters for
// Client.BeginRegisterProvider.
type BeginRegisterProviderOptions struct {
	// ResumeToken resumes a poller from Poller.ResumeToken; the namespace is
	// then ignored.
	ResumeToken string
}

// RegisterProviderResponse is the result of Client.BeginRegisterProvider.
type RegisterProviderResponse struct {
	Provider
}

// GetProviderOptions contains the optional parameters for Client.GetProvider.
type GetProviderOptions struct {
	// placeholder for future options
}

// GetProviderResponse is the result of Client.GetProvider.
type GetProviderResponse struct {
	Provider
}

func checkNamespace(namespace string) error {
	if r := azname.NamespaceRule(namespace); r != "" {
		return invalidArg("namespace", namespace, r)
	}
	return nil
}

func (c *Client) providerURL(namespace string) string {
	return armx.URL(c.endpoint, "/subscriptions/"+armx.Segment(c.subscriptionID)+"/providers/"+armx.Segment(namespace))
}

// BeginRegisterProvider registers a resource provider in the subscription
// (az provider register): it POSTs .../providers/{namespace}/register, then
// the poller reads the provider until its registrationState is Registered.
// Registering an already registered provider completes at once. Pass
// ProviderNamespace for session pools. Registration that never completes
// polls until ctx ends, so give ctx a deadline.
//
// If the operation fails it returns an *azcore.ResponseError.
func (c *Client) BeginRegisterProvider(ctx context.Context, namespace string, options *BeginRegisterProviderOptions) (p *runtime.Poller[RegisterProviderResponse], err error) {
	if options != nil && options.ResumeToken != "" {
		return runtime.NewPollerFromResumeToken(options.ResumeToken, c.pl, &runtime.NewPollerFromResumeTokenOptions[RegisterProviderResponse]{
			Handler: &registerPoller{pl: c.pl},
			Tracer:  c.resTracer,
		})
	}
	ctx, end := c.startResSpan(ctx, "BeginRegisterProvider")
	defer func() { end(err) }()
	if err := checkNamespace(namespace); err != nil {
		return nil, err
	}
	prov, resp, err := armx.Do[Provider](ctx, c.pl, armx.Request{Method: http.MethodPost, URL: c.providerURL(namespace) + "/register", APIVersion: c.resAPIVersion, OK: []int{http.StatusOK}})
	if err != nil {
		return nil, err
	}
	getReq, err := armx.Request{Method: http.MethodGet, URL: c.providerURL(namespace), APIVersion: c.resAPIVersion}.New(ctx)
	if err != nil {
		return nil, err
	}
	h := &registerPoller{
		pl:       c.pl,
		Kind:     registerPollerKind,
		URL:      getReq.Raw().URL.String(),
		State:    prov.RegistrationState,
		provider: prov,
	}
	return runtime.NewPoller(resp, c.pl, &runtime.NewPollerOptions[RegisterProviderResponse]{Handler: h, Tracer: c.resTracer})
}

// GetProvider reads a resource provider's registration state.
//
// If the operation fails it returns an *azcore.ResponseError.
func (c *Client) GetProvider(ctx context.Context, namespace string, options *GetProviderOptions) (res GetProviderResponse, err error) {
	ctx, end := c.startResSpan(ctx, "GetProvider")
	defer func() { end(err) }()
	if err := checkNamespace(namespace); err != nil {
		return res, err
	}
	prov, _, err := armx.Do[Provider](ctx, c.pl, armx.Request{Method: http.MethodGet, URL: c.providerURL(namespace), APIVersion: c.resAPIVersion, OK: []int{http.StatusOK}})
	return GetProviderResponse{Provider: prov}, err
}

const registerPollerKind = "shellpool-provider-registration"

// registerPoller is a runtime.PollingHandler that reads a provider until it
// is Registered. Its exported fields form the resume token.
type registerPoller struct {
	pl       runtime.Pipeline
	provider Provider

	Kind  string            `json:"kind"`
	URL   string            `json:"url"`
	State RegistrationState `json:"state"`
}

var _ runtime.PollingHandler[RegisterProviderResponse] = (*registerPoller)(nil)

// Done reports whether the provider is registered.
func (p *registerPoller) Done() bool {
	return strings.EqualFold(string(p.State), string(RegistrationStateRegistered))
}

// Poll reads the provider once.
func (p *registerPoller) Poll(ctx context.Context) (*http.Response, error) {
	req, err := armx.NewNextRequest(ctx, p.URL)
	if err != nil {
		return nil, err
	}
	prov, resp, err := armx.SendDecode[Provider](p.pl, req, http.StatusOK)
	if err != nil {
		return nil, err
	}
	p.provider, p.State = prov, prov.RegistrationState
	return resp, nil
}

// Result returns the registered provider.
func (p *registerPoller) Result(_ context.Context, out *RegisterProviderResponse) error {
	if !p.Done() {
		return fmt.Errorf("pool: provider registration is still %s; keep polling", p.State)
	}
	out.Provider = p.provider
	return nil
}
