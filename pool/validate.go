package pool

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"

	"github.com/shellpool/shellpool/internal/azname"
)

type checker struct{ problems []Problem }

func (c *checker) add(field, rule string, args ...any) {
	if len(args) > 0 {
		rule = fmt.Sprintf(rule, args...)
	}
	c.problems = append(c.problems, Problem{Field: field, Rule: rule})
}

// addErr records a problem caused by err, keeping err for errors.As.
func (c *checker) addErr(field string, err error, rule string, args ...any) {
	c.add(field, rule, args...)
	c.problems[len(c.problems)-1].Err = err
}

func (c *checker) err(subject string) error {
	if len(c.problems) == 0 {
		return nil
	}
	return &ValidationError{Subject: subject, Problems: c.problems}
}

func (c *checker) rangeInt32(field string, v *int32, lo, hi int32) {
	if v != nil && (*v < lo || *v > hi) {
		c.add(field, "must be between %d and %d, got %d", lo, hi, *v)
	}
}

// nameRule returns the rule a pool name breaks, or "".
func nameRule(name string) string { return azname.PoolNameRule(name) }

// ValidateName checks a session pool name against the specification's rule:
// 3-63 characters, lower-case letters and digits, starting with a letter
// (^[a-z][a-z0-9]*$). Some documentation uses hyphenated names such as
// "my-session-pool"; the specification forbids them, and so does this check
// (docs/API.md §2.2). The error is a *ValidationError whose message says
// what is wrong with this name and, when one is near, suggests a valid one.
func ValidateName(name string) error {
	if r := nameRule(name); r != "" {
		return &ValidationError{Subject: fmt.Sprintf("session pool name %q", name), Problems: []Problem{{Field: "name", Rule: r}}}
	}
	return nil
}

// Validate checks the pool against the rules listed in the package doc
// ("Validation rules") and returns a *ValidationError listing every
// violation (nil when there is none). The client runs it before sending a
// pool, so a bad pool never reaches Azure.
//
// Validate does not know the api-version the pool will be sent with:
// BeginCreateOrUpdate and Template.Render also refuse settings their
// api-version lacks (MCPServerSettings outside SupportsMCPServer).
func (p *SessionPool) Validate() error {
	return p.validate(checkDirect, "")
}

// checkMode says how SessionPool.validate treats the name and location.
type checkMode int

const (
	// checkDirect: both are literal and must follow the rules.
	checkDirect checkMode = iota
	// checkInTemplate: either may also be an ARM expression, such as
	// "[resourceGroup().location]", which ARM evaluates.
	checkInTemplate
	// checkParameterized: both come from template parameters; skipped.
	checkParameterized
)

func (p *SessionPool) subject() string {
	if p == nil {
		return "session pool"
	}
	return fmt.Sprintf("session pool %q", p.Name)
}

// validate checks the pool; mode says how to check name and location, and
// apiVersion, unless "", is the api-version the pool will be sent with.
func (p *SessionPool) validate(mode checkMode, apiVersion string) error {
	var c checker
	if p == nil {
		c.add("pool", "must not be nil")
		return c.err("session pool")
	}
	if mode != checkParameterized {
		if _, expr := expression(p.Name); !expr || mode != checkInTemplate {
			if r := nameRule(p.Name); r != "" {
				c.add("name", r)
			}
		}
		if _, expr := expression(p.Location); !expr || mode != checkInTemplate {
			if r := azname.RegionRule(p.Location); r != "" {
				c.add("location", r)
			}
		}
	}
	checkIdentity(&c, "identity", p.Identity)
	props := p.Properties
	if props == nil {
		c.add("properties", "is required (use NewShellPool for a ready-made shell pool)")
		return c.err(p.subject())
	}
	if props.ContainerType == "" {
		c.add("properties.containerType", "is required (for example %q)", ContainerTypeShell)
	}
	custom := props.ContainerType == ContainerTypeCustomContainer
	if custom {
		switch {
		case props.EnvironmentID == "":
			c.add("properties.environmentId", "is required for CustomContainer pools")
		default:
			if r := environmentRule(props.EnvironmentID); r != "" {
				c.add("properties.environmentId", r)
			}
		}
		if props.CustomContainerTemplate == nil {
			c.add("properties.customContainerTemplate", "is required for CustomContainer pools")
		}
	} else if props.CustomContainerTemplate != nil && props.ContainerType != "" {
		c.add("properties.customContainerTemplate", "must not be set for containerType %s (CustomContainer only)", props.ContainerType)
	}
	checkScale(&c, "properties.scaleConfiguration", props.ScaleConfiguration)
	checkSecrets(&c, "properties.secrets", props.Secrets)
	checkDynamic(&c, "properties.dynamicPoolConfiguration", props.DynamicPoolConfiguration, props.ContainerType)
	checkTemplate(&c, "properties.customContainerTemplate", props.CustomContainerTemplate, custom)
	checkNetwork(&c, "properties.sessionNetworkConfiguration", props.SessionNetworkConfiguration)
	checkMCP(&c, props, apiVersion)
	for i, m := range props.ManagedIdentitySettings {
		f := fmt.Sprintf("properties.managedIdentitySettings[%d]", i)
		if m.Identity == "" {
			c.add(f+".identity", `is required ("system" or a user-assigned identity's resource ID)`)
		} else if !strings.EqualFold(m.Identity, "system") {
			if _, err := arm.ParseResourceID(m.Identity); err != nil {
				c.add(f+".identity", `must be "system" or a user-assigned identity's resource ID`)
			}
		}
	}
	return c.err(p.subject())
}

// Validate checks the updatable settings with the rules of
// SessionPool.Validate that do not depend on fields a PATCH cannot carry
// (the container type), and returns a *ValidationError listing every
// violation.
func (u *SessionPoolUpdate) Validate() error {
	var c checker
	if u == nil {
		c.add("update", "must not be nil")
		return c.err("session pool update")
	}
	checkIdentity(&c, "identity", u.Identity)
	if props := u.Properties; props != nil {
		checkScale(&c, "properties.scaleConfiguration", props.ScaleConfiguration)
		checkSecrets(&c, "properties.secrets", props.Secrets)
		checkDynamic(&c, "properties.dynamicPoolConfiguration", props.DynamicPoolConfiguration, "")
		checkTemplate(&c, "properties.customContainerTemplate", props.CustomContainerTemplate, true)
		checkNetwork(&c, "properties.sessionNetworkConfiguration", props.SessionNetworkConfiguration)
	}
	return c.err("session pool update")
}

func environmentRule(id string) string {
	rid, err := arm.ParseResourceID(id)
	if err != nil {
		return "must be a resource ID such as /subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.App/managedEnvironments/{name}"
	}
	if !strings.EqualFold(rid.ResourceType.String(), "Microsoft.App/managedEnvironments") {
		return fmt.Sprintf("must name a Microsoft.App/managedEnvironments resource, got %s", rid.ResourceType.String())
	}
	return ""
}

func checkIdentity(c *checker, f string, m *ManagedServiceIdentity) {
	if m == nil {
		return
	}
	hasUser := strings.Contains(string(m.Type), string(ManagedServiceIdentityTypeUserAssigned))
	if m.Type == "" {
		c.add(f+".type", "is required (None, SystemAssigned, UserAssigned or SystemAssigned,UserAssigned)")
	}
	if hasUser && len(m.UserAssignedIdentities) == 0 {
		c.add(f+".userAssignedIdentities", "must list at least one identity when type is %s", m.Type)
	}
	if !hasUser && m.Type != "" {
		for _, v := range m.UserAssignedIdentities {
			if v != nil { // a nil value removes an identity in a PATCH
				c.add(f+".userAssignedIdentities", "must be empty when type is %s (add UserAssigned to the type)", m.Type)
				break
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(m.UserAssignedIdentities)) {
		if _, err := arm.ParseResourceID(k); err != nil {
			c.add(f+".userAssignedIdentities", "key %q must be a user-assigned identity's resource ID", k)
		}
	}
}

func checkScale(c *checker, f string, s *ScaleConfiguration) {
	if s == nil {
		return
	}
	if s.MaxConcurrentSessions != nil && *s.MaxConcurrentSessions < 1 {
		c.add(f+".maxConcurrentSessions", "must be at least 1, got %d", *s.MaxConcurrentSessions)
	}
	if r := s.ReadySessionInstances; r != nil {
		if *r < 0 {
			c.add(f+".readySessionInstances", "must not be negative, got %d", *r)
		}
		if m := s.MaxConcurrentSessions; m != nil && *r >= *m {
			c.add(f+".readySessionInstances", "must be less than maxConcurrentSessions (%d), got %d", *m, *r)
		}
	}
}

func checkSecrets(c *checker, f string, secrets []SessionPoolSecret) {
	seen := map[string]bool{}
	for i, s := range secrets {
		if s.Name == "" {
			c.add(fmt.Sprintf("%s[%d].name", f, i), "is required")
			continue
		}
		if seen[s.Name] {
			c.add(fmt.Sprintf("%s[%d].name", f, i), "duplicates secret %q; secret names must be unique", s.Name)
		}
		seen[s.Name] = true
	}
}

func checkDynamic(c *checker, f string, d *DynamicPoolConfiguration, ct ContainerType) {
	if d == nil {
		return
	}
	c.rangeInt32(f+".cooldownPeriodInSeconds", d.CooldownPeriodInSeconds, 300, 3600)
	l := d.LifecycleConfiguration
	if l == nil {
		return
	}
	lf := f + ".lifecycleConfiguration"
	switch l.LifecycleType {
	case "":
		c.add(lf+".lifecycleType", "is required (Timed or OnContainerExit)")
	case LifecycleTypeTimed:
		if l.CooldownPeriodInSeconds == nil {
			c.add(lf+".cooldownPeriodInSeconds", "is required when lifecycleType is Timed (300-3600)")
		}
		c.rangeInt32(lf+".cooldownPeriodInSeconds", l.CooldownPeriodInSeconds, 300, 3600)
		if l.MaxAlivePeriodInSeconds != nil {
			c.add(lf+".maxAlivePeriodInSeconds", "must not be set when lifecycleType is Timed")
		}
	case LifecycleTypeOnContainerExit:
		if ct != "" && ct != ContainerTypeCustomContainer {
			c.add(lf+".lifecycleType", "OnContainerExit needs containerType CustomContainer, got %s", ct)
		}
		if l.MaxAlivePeriodInSeconds == nil {
			c.add(lf+".maxAlivePeriodInSeconds", "is required when lifecycleType is OnContainerExit")
		} else if *l.MaxAlivePeriodInSeconds < 1 {
			c.add(lf+".maxAlivePeriodInSeconds", "must be at least 1, got %d", *l.MaxAlivePeriodInSeconds)
		}
		if l.CooldownPeriodInSeconds != nil {
			c.add(lf+".cooldownPeriodInSeconds", "must not be set when lifecycleType is OnContainerExit")
		}
	}
}

func checkTemplate(c *checker, f string, t *CustomContainerTemplate, custom bool) {
	if t == nil {
		return
	}
	if custom && len(t.Containers) == 0 {
		c.add(f+".containers", "must list at least one container")
	}
	for i, ctr := range t.Containers {
		cf := fmt.Sprintf("%s.containers[%d]", f, i)
		if ctr.Image == "" {
			c.add(cf+".image", "is required")
		}
		if r := ctr.Resources; r != nil && r.CPU != nil && *r.CPU <= 0 {
			c.add(cf+".resources.cpu", "must be positive, got %g", *r.CPU)
		}
		seen := map[ProbeType]bool{}
		for j, p := range ctr.Probes {
			checkProbe(c, fmt.Sprintf("%s.probes[%d]", cf, j), p, seen)
		}
	}
	if in := t.Ingress; in != nil {
		c.rangeInt32(f+".ingress.targetPort", in.TargetPort, 1, 65535)
	}
}

func checkProbe(c *checker, f string, p SessionProbe, seen map[ProbeType]bool) {
	switch p.Type {
	case ProbeTypeLiveness, ProbeTypeStartup:
		if seen[p.Type] {
			c.add(f+".type", "%s probe appears more than once; each probe type is allowed once per container", p.Type)
		}
		seen[p.Type] = true
	case "":
		c.add(f+".type", "is required (Liveness or Startup)")
	default:
		c.add(f+".type", "must be Liveness or Startup (Readiness is not supported), got %s", p.Type)
	}
	switch {
	case p.HTTPGet == nil && p.TCPSocket == nil:
		c.add(f, "must set one of httpGet and tcpSocket")
	case p.HTTPGet != nil && p.TCPSocket != nil:
		c.add(f, "must set only one of httpGet and tcpSocket")
	}
	if h := p.HTTPGet; h != nil {
		if h.Port < 1 || h.Port > 65535 {
			c.add(f+".httpGet.port", "must be between 1 and 65535, got %d", h.Port)
		}
		if h.Scheme != "" && h.Scheme != SchemeHTTP && h.Scheme != SchemeHTTPS {
			c.add(f+".httpGet.scheme", "must be HTTP or HTTPS, got %s", h.Scheme)
		}
	}
	if t := p.TCPSocket; t != nil && (t.Port < 1 || t.Port > 65535) {
		c.add(f+".tcpSocket.port", "must be between 1 and 65535, got %d", t.Port)
	}
	c.rangeInt32(f+".failureThreshold", p.FailureThreshold, 1, 10)
	c.rangeInt32(f+".initialDelaySeconds", p.InitialDelaySeconds, 1, 60)
	c.rangeInt32(f+".periodSeconds", p.PeriodSeconds, 1, 240)
	if p.SuccessThreshold != nil && *p.SuccessThreshold != 1 {
		c.add(f+".successThreshold", "must be 1, got %d", *p.SuccessThreshold)
	}
	if g := p.TerminationGracePeriodSeconds; g != nil && (*g < 0 || *g > 3600) {
		c.add(f+".terminationGracePeriodSeconds", "must be between 0 and 3600, got %d", *g)
	}
	c.rangeInt32(f+".timeoutSeconds", p.TimeoutSeconds, 1, 240)
}

func checkNetwork(c *checker, f string, n *SessionNetworkConfiguration) {
	if n == nil {
		return
	}
	if n.Subnet != nil {
		if _, err := arm.ParseResourceID(n.Subnet.SubnetID); err != nil {
			c.add(f+".subnet.subnetId", "must be a subnet's resource ID")
		}
	}
}
