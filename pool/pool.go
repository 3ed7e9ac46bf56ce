package pool

import (
	"errors"
	"fmt"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"

	"github.com/shellpool/shellpool/internal/azname"
)

// Tutorial defaults used by NewShellPool.
const (
	// ShellPoolMaxConcurrentSessions is the session limit NewShellPool sets.
	ShellPoolMaxConcurrentSessions int32 = 5
	// ShellPoolCooldownPeriodInSeconds is the idle timeout NewShellPool sets.
	ShellPoolCooldownPeriodInSeconds int32 = 300
)

// NewShellPool returns a shell session pool with the tutorial's settings:
// Dynamic management, container type Shell, at most 5 concurrent sessions,
// Timed lifecycle with a 300 second cooldown, and egress enabled. Change the
// returned value before use if you need other settings.
//
// The official armappcontainers module cannot create this pool: its newest
// stable version has no Shell container type. This package sends the
// resource itself.
//   - name - the pool's name: 3-63 lower-case letters and digits, starting
//     with a letter
//   - location - the region, as a short name ("northcentralus") or a display
//     name ("North Central US"); letters, digits and spaces. NewShellPool
//     returns no error: Validate, which BeginCreateOrUpdate and
//     Template.Render run before anything is sent, refuses a bad name or
//     region such as "Not A Region!!".
//   - opts - changes to apply, such as WithMCPServer
func NewShellPool(name, location string, opts ...ShellPoolOption) *SessionPool {
	maxSessions, cooldown := ShellPoolMaxConcurrentSessions, ShellPoolCooldownPeriodInSeconds
	p := &SessionPool{
		Name:     name,
		Location: location,
		Properties: &SessionPoolProperties{
			PoolManagementType: PoolManagementTypeDynamic,
			ContainerType:      ContainerTypeShell,
			ScaleConfiguration: &ScaleConfiguration{MaxConcurrentSessions: &maxSessions},
			DynamicPoolConfiguration: &DynamicPoolConfiguration{
				LifecycleConfiguration: &LifecycleConfiguration{
					LifecycleType:           LifecycleTypeTimed,
					CooldownPeriodInSeconds: &cooldown,
				},
			},
			SessionNetworkConfiguration: &SessionNetworkConfiguration{Status: SessionNetworkStatusEgressEnabled},
		},
	}
	for _, o := range opts {
		if o != nil {
			o(p)
		}
	}
	return p
}

// Endpoint returns the pool's data-plane endpoint, the base URL that
// sessions.NewClient takes. It returns properties.poolManagementEndpoint when
// the service reported one (always prefer a pool read with Client.Get).
// Otherwise it builds the regional form
// https://{region}.dynamicsessions.io/subscriptions/{sub}/resourceGroups/{rg}/sessionPools/{name}
// from the pool's ID and Location, with the region normalised by
// NormalizeRegion (API.md §1.1). It returns "" when neither is possible (no
// endpoint, and no parsable ID, or a location that is not a region such as
// "north central us!!", or an ID whose names break ARM's rules).
func (p *SessionPool) Endpoint() string {
	if p == nil {
		return ""
	}
	if p.Properties != nil && p.Properties.PoolManagementEndpoint != "" {
		return p.Properties.PoolManagementEndpoint
	}
	if p.ID == "" || p.Location == "" {
		return ""
	}
	id, err := arm.ParseResourceID(p.ID)
	if err != nil || azname.RegionRule(p.Location) != "" || azname.SubscriptionRule(id.SubscriptionID) != "" ||
		azname.ResourceGroupRule(id.ResourceGroupName) != "" || azname.SegmentRule(id.Name) != "" {
		return ""
	}
	return azname.RegionalEndpoint(p.Location, id.SubscriptionID, id.ResourceGroupName, id.Name)
}

// NormalizeRegion turns a region display name into its short name, as used in
// host names: "North Central US" becomes "northcentralus". Short names come
// back lower-cased and otherwise unchanged.
func NormalizeRegion(region string) string { return azname.NormalizeRegion(region) }

// ResourceID returns the resource ID of a session pool,
// /subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.App/sessionPools/{name},
// parsed as an azcore arm.ResourceID. Use its String method for role
// assignment scopes. It fails with a *ValidationError (matching ErrInvalidArgument)
// when an argument breaks ARM's naming rules: see NewClient for the
// subscription, CreateOrUpdateResourceGroup for the group and ValidateName
// for the pool's name.
func ResourceID(subscriptionID, resourceGroup, name string) (*arm.ResourceID, error) {
	if r := azname.SubscriptionRule(subscriptionID); r != "" {
		return nil, invalidArg("subscriptionID", subscriptionID, r)
	}
	if err := errors.Join(checkGroup(resourceGroup), checkPoolName(name)); err != nil {
		return nil, err
	}
	id, err := arm.ParseResourceID("/subscriptions/" + subscriptionID + "/resourceGroups/" + resourceGroup +
		"/providers/" + ResourceType + "/" + name)
	if err != nil {
		return nil, fmt.Errorf("pool: build pool resource ID: %w", err)
	}
	return id, nil
}

// writable returns a copy of the pool's settings without the read-only
// fields, as sent in a PUT body or a template.
func (p *SessionPoolProperties) writable() *SessionPoolProperties {
	if p == nil {
		return nil
	}
	c := *p
	c.NodeCount = nil
	c.PoolManagementEndpoint = ""
	c.ProvisioningState = ""
	if m := p.MCPServerSettings; m != nil {
		mc := *m
		mc.MCPServerEndpoint = ""
		if mc.IsMCPServerEnabled == nil && mc.IsMCPServerAPIKeyDisabled == nil {
			c.MCPServerSettings = nil
		} else {
			c.MCPServerSettings = &mc
		}
	}
	return &c
}

// writable returns a copy of the identity without read-only fields.
func (m *ManagedServiceIdentity) writable() *ManagedServiceIdentity {
	if m == nil {
		return nil
	}
	c := ManagedServiceIdentity{Type: m.Type}
	if m.UserAssignedIdentities != nil {
		c.UserAssignedIdentities = make(map[string]*UserAssignedIdentity, len(m.UserAssignedIdentities))
		for k := range m.UserAssignedIdentities {
			c.UserAssignedIdentities[k] = &UserAssignedIdentity{}
		}
	}
	return &c
}

// putBody is the body of a session pool PUT: the writable fields only.
type putBody struct {
	Location   string                  `json:"location"`
	Tags       map[string]string       `json:"tags,omitempty"`
	Identity   *ManagedServiceIdentity `json:"identity,omitempty"`
	Properties *SessionPoolProperties  `json:"properties,omitempty"`
}

func (p *SessionPool) putBody() putBody {
	return putBody{Location: p.Location, Tags: p.Tags, Identity: p.Identity.writable(), Properties: p.Properties.writable()}
}
