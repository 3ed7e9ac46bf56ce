package pool

import (
	"errors"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const envID = "/subscriptions/sub1/resourceGroups/rg1/providers/Microsoft.App/managedEnvironments/env1"

func customPool() *SessionPool {
	return &SessionPool{
		Name:     "custompool",
		Location: "eastus",
		Properties: &SessionPoolProperties{
			EnvironmentID:      envID,
			PoolManagementType: PoolManagementTypeDynamic,
			ContainerType:      ContainerTypeCustomContainer,
			ScaleConfiguration: &ScaleConfiguration{MaxConcurrentSessions: to.Ptr[int32](10), ReadySessionInstances: to.Ptr[int32](2)},
			DynamicPoolConfiguration: &DynamicPoolConfiguration{LifecycleConfiguration: &LifecycleConfiguration{
				LifecycleType: LifecycleTypeOnContainerExit, MaxAlivePeriodInSeconds: to.Ptr[int32](600),
			}},
			CustomContainerTemplate: &CustomContainerTemplate{
				Containers: []SessionContainer{{Image: "repo/img:v1", Name: "main", Probes: []SessionProbe{
					{Type: ProbeTypeLiveness, HTTPGet: &ProbeHTTPGet{Port: 8080, Path: "/health"}, PeriodSeconds: to.Ptr[int32](10)},
					{Type: ProbeTypeStartup, TCPSocket: &ProbeTCPSocket{Port: 8080}},
				}}},
				Ingress: &SessionIngress{TargetPort: to.Ptr[int32](8080)},
			},
		},
	}
}

// fields returns the Field of each problem of a *ValidationError.
func fields(t *testing.T, err error) []string {
	t.Helper()
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	var out []string
	for _, p := range ve.Problems {
		require.NotEmpty(t, p.Rule, "every problem states its rule")
		out = append(out, p.Field)
	}
	return out
}

func TestValidate(t *testing.T) {
	t.Parallel()
	const lc = "properties.dynamicPoolConfiguration.lifecycleConfiguration"
	tests := []struct {
		name   string
		mutate func(p *SessionPool) *SessionPool
		want   []string // problem fields, in order; nil means valid
	}{
		{"tutorial shell pool", func(p *SessionPool) *SessionPool { return p }, nil},
		{"valid custom container", func(*SessionPool) *SessionPool { return customPool() }, nil},
		{"name too short", func(p *SessionPool) *SessionPool { p.Name = "ab"; return p }, []string{"name"}},
		{"name 64 chars", func(p *SessionPool) *SessionPool { p.Name = "a" + strings.Repeat("b", 63); return p }, []string{"name"}},
		{"name 63 chars ok", func(p *SessionPool) *SessionPool { p.Name = "a" + strings.Repeat("b", 62); return p }, nil},
		{"hyphenated name", func(p *SessionPool) *SessionPool { p.Name = "my-session-pool"; return p }, []string{"name"}},
		{"upper case name", func(p *SessionPool) *SessionPool { p.Name = "MyPool"; return p }, []string{"name"}},
		{"digit first", func(p *SessionPool) *SessionPool { p.Name = "1pool"; return p }, []string{"name"}},
		{"no location", func(p *SessionPool) *SessionPool { p.Location = " "; return p }, []string{"location"}},
		{"no properties", func(p *SessionPool) *SessionPool { p.Properties = nil; return p }, []string{"properties"}},
		{"no container type", func(p *SessionPool) *SessionPool { p.Properties.ContainerType = ""; return p }, []string{"properties.containerType"}},
		{"zero max sessions", func(p *SessionPool) *SessionPool {
			p.Properties.ScaleConfiguration.MaxConcurrentSessions = to.Ptr[int32](0)
			return p
		}, []string{"properties.scaleConfiguration.maxConcurrentSessions"}},
		{"ready equals max", func(p *SessionPool) *SessionPool {
			p.Properties.ScaleConfiguration.ReadySessionInstances = to.Ptr[int32](5)
			return p
		}, []string{"properties.scaleConfiguration.readySessionInstances"}},
		{"timed cooldown too low", func(p *SessionPool) *SessionPool {
			p.Properties.DynamicPoolConfiguration.LifecycleConfiguration.CooldownPeriodInSeconds = to.Ptr[int32](299)
			return p
		}, []string{lc + ".cooldownPeriodInSeconds"}},
		{"timed cooldown 3600 ok", func(p *SessionPool) *SessionPool {
			p.Properties.DynamicPoolConfiguration.LifecycleConfiguration.CooldownPeriodInSeconds = to.Ptr[int32](3600)
			return p
		}, nil},
		{"timed without cooldown and with max alive", func(p *SessionPool) *SessionPool {
			l := p.Properties.DynamicPoolConfiguration.LifecycleConfiguration
			l.CooldownPeriodInSeconds, l.MaxAlivePeriodInSeconds = nil, to.Ptr[int32](60)
			return p
		}, []string{lc + ".cooldownPeriodInSeconds", lc + ".maxAlivePeriodInSeconds"}},
		{"on container exit on a shell pool", func(p *SessionPool) *SessionPool {
			p.Properties.DynamicPoolConfiguration.LifecycleConfiguration = &LifecycleConfiguration{LifecycleType: LifecycleTypeOnContainerExit, CooldownPeriodInSeconds: to.Ptr[int32](300)}
			return p
		}, []string{lc + ".lifecycleType", lc + ".maxAlivePeriodInSeconds", lc + ".cooldownPeriodInSeconds"}},
		{"legacy cooldown out of range", func(p *SessionPool) *SessionPool {
			p.Properties.DynamicPoolConfiguration = &DynamicPoolConfiguration{ExecutionType: ExecutionTypeTimed, CooldownPeriodInSeconds: to.Ptr[int32](4000)}
			return p
		}, []string{"properties.dynamicPoolConfiguration.cooldownPeriodInSeconds"}},
		{"shell pool with custom template", func(p *SessionPool) *SessionPool {
			p.Properties.CustomContainerTemplate = &CustomContainerTemplate{Containers: []SessionContainer{{Image: "x"}}}
			return p
		}, []string{"properties.customContainerTemplate"}},
		{"custom container without template and environment", func(*SessionPool) *SessionPool {
			p := customPool()
			p.Properties.EnvironmentID, p.Properties.CustomContainerTemplate = "", nil
			return p
		}, []string{"properties.environmentId", "properties.customContainerTemplate"}},
		{"environment of the wrong type", func(*SessionPool) *SessionPool {
			p := customPool()
			p.Properties.EnvironmentID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerApps/environments/e"
			return p
		}, []string{"properties.environmentId"}},
		{"bad probes", func(*SessionPool) *SessionPool {
			p := customPool()
			c := &p.Properties.CustomContainerTemplate.Containers[0]
			c.Probes = []SessionProbe{
				{Type: ProbeTypeLiveness, HTTPGet: &ProbeHTTPGet{Port: 0}, SuccessThreshold: to.Ptr[int32](2)},
				{Type: ProbeTypeLiveness, TCPSocket: &ProbeTCPSocket{Port: 80}, HTTPGet: &ProbeHTTPGet{Port: 80}, TimeoutSeconds: to.Ptr[int32](241)},
				{Type: "Readiness", FailureThreshold: to.Ptr[int32](11), InitialDelaySeconds: to.Ptr[int32](0), TerminationGracePeriodSeconds: to.Ptr[int64](3601)},
			}
			return p
		}, []string{
			"properties.customContainerTemplate.containers[0].probes[0].httpGet.port",
			"properties.customContainerTemplate.containers[0].probes[0].successThreshold",
			"properties.customContainerTemplate.containers[0].probes[1].type",
			"properties.customContainerTemplate.containers[0].probes[1]",
			"properties.customContainerTemplate.containers[0].probes[1].timeoutSeconds",
			"properties.customContainerTemplate.containers[0].probes[2].type",
			"properties.customContainerTemplate.containers[0].probes[2]",
			"properties.customContainerTemplate.containers[0].probes[2].failureThreshold",
			"properties.customContainerTemplate.containers[0].probes[2].initialDelaySeconds",
			"properties.customContainerTemplate.containers[0].probes[2].terminationGracePeriodSeconds",
		}},
		{"bad ingress and image", func(*SessionPool) *SessionPool {
			p := customPool()
			p.Properties.CustomContainerTemplate.Containers[0].Image = ""
			p.Properties.CustomContainerTemplate.Ingress.TargetPort = to.Ptr[int32](70000)
			return p
		}, []string{"properties.customContainerTemplate.containers[0].image", "properties.customContainerTemplate.ingress.targetPort"}},
		{"duplicate and unnamed secrets", func(p *SessionPool) *SessionPool {
			p.Properties.Secrets = []SessionPoolSecret{{Name: "a", Value: "1"}, {Value: "2"}, {Name: "a", Value: "3"}}
			return p
		}, []string{"properties.secrets[1].name", "properties.secrets[2].name"}},
		{"identity settings", func(p *SessionPool) *SessionPool {
			p.Properties.ManagedIdentitySettings = []ManagedIdentitySetting{{Identity: "system"}, {}, {Identity: "not-an-id"}}
			return p
		}, []string{"properties.managedIdentitySettings[1].identity", "properties.managedIdentitySettings[2].identity"}},
		{"user assigned identity without identities", func(p *SessionPool) *SessionPool {
			p.Identity = &ManagedServiceIdentity{Type: ManagedServiceIdentityTypeUserAssigned}
			return p
		}, []string{"identity.userAssignedIdentities"}},
		{"every problem at once", func(p *SessionPool) *SessionPool {
			p.Name, p.Location = "Bad-Name", ""
			p.Properties.ScaleConfiguration.MaxConcurrentSessions = to.Ptr[int32](0)
			p.Properties.DynamicPoolConfiguration.LifecycleConfiguration.CooldownPeriodInSeconds = to.Ptr[int32](10)
			return p
		}, []string{"name", "location", "properties.scaleConfiguration.maxConcurrentSessions", lc + ".cooldownPeriodInSeconds"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.mutate(NewShellPool("myshellpool", "North Central US")).Validate()
			if tc.want == nil {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.True(t, errors.Is(err, ErrInvalidArgument))
			assert.Equal(t, tc.want, fields(t, err))
			for _, f := range tc.want {
				assert.Contains(t, err.Error(), f, "the message names each field")
			}
		})
	}
}

func TestValidationErrorMessage(t *testing.T) {
	t.Parallel()
	p := NewShellPool("my-pool", "eastus")
	p.Properties.ScaleConfiguration.MaxConcurrentSessions = to.Ptr[int32](0)
	err := p.Validate()
	require.Error(t, err)
	assert.Equal(t, `pool: session pool "my-pool" is invalid (2 problems): `+
		`name: contains '-' (hyphens are not allowed, although some Azure documentation shows hyphenated pool names); `+
		`a session pool name is 3-63 lower-case letters and digits, starting with a letter (^[a-z][a-z0-9]*$), such as "mypool"; `+
		`properties.scaleConfiguration.maxConcurrentSessions: must be at least 1, got 0; fix these fields and try again`, err.Error())
}

func TestValidateName(t *testing.T) {
	t.Parallel()
	assert.NoError(t, ValidateName("myshellpool"))
	for _, bad := range []string{"", "ab", "my-shell-sessions", "Pool1", "pool_1"} {
		err := ValidateName(bad)
		assert.ErrorIs(t, err, ErrInvalidArgument, bad)
	}
	// The message fits the name: My_Pool! has no hyphen.
	err := ValidateName("My_Pool!")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `contains upper-case letters and '_', '!'`)
	assert.Contains(t, err.Error(), `such as "mypool"`)
	assert.NotContains(t, err.Error(), "hyphen")
}

func TestValidateUpdate(t *testing.T) {
	t.Parallel()
	ok := SessionPoolUpdate{Properties: &SessionPoolUpdateProperties{ScaleConfiguration: &ScaleConfiguration{MaxConcurrentSessions: to.Ptr[int32](20)}}}
	assert.NoError(t, ok.Validate())
	bad := SessionPoolUpdate{Properties: &SessionPoolUpdateProperties{
		ScaleConfiguration:       &ScaleConfiguration{MaxConcurrentSessions: to.Ptr[int32](2), ReadySessionInstances: to.Ptr[int32](3)},
		DynamicPoolConfiguration: &DynamicPoolConfiguration{LifecycleConfiguration: &LifecycleConfiguration{LifecycleType: LifecycleTypeTimed}},
	}}
	assert.Equal(t, []string{
		"properties.scaleConfiguration.readySessionInstances",
		"properties.dynamicPoolConfiguration.lifecycleConfiguration.cooldownPeriodInSeconds",
	}, fields(t, bad.Validate()))
}
