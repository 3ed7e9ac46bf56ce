package armemu

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/shellpool/shellpool/internal/azname"
)

// poolSpec validates a pool's properties against API.md §2.3 and returns
// what the data plane needs.
//
// Defaults where the service's are undocumented (docs/API.md §7, question 16): a missing
// scaleConfiguration.maxConcurrentSessions means 5 (Terraform's default); a
// missing lifecycle means Timed with a 300-second cooldown. A missing
// containerType is refused.
func poolSpec(sub, rg, name, location string, props map[string]any) (PoolSpec, *armError) {
	spec := PoolSpec{SubscriptionID: sub, ResourceGroup: rg, Name: name, Location: location, MaxConcurrentSessions: 5, Cooldown: -1}
	if r := azname.PoolNameRule(name); r != "" {
		return spec, &armError{Status: http.StatusBadRequest, Code: "InvalidResourceName", Target: "name",
			Message: fmt.Sprintf("The session pool name '%s' %s.", name, r)}
	}
	if strings.TrimSpace(location) == "" {
		return spec, &armError{Status: http.StatusBadRequest, Code: "LocationRequired", Target: "location", Message: "The location property is required for this definition."}
	}
	if props == nil {
		return spec, validationErr("properties", "properties is required: set at least properties.containerType.")
	}
	ct, _ := lookupString(props, "containerType")
	switch strings.ToLower(ct) {
	case "shell":
		spec.ContainerType = "Shell"
	case "pythonlts":
		spec.ContainerType = "PythonLTS"
	case "nodelts":
		spec.ContainerType = "NodeLTS"
	case "customcontainer":
		spec.ContainerType = "CustomContainer"
	case "":
		return spec, validationErr("properties.containerType", "properties.containerType is required: use Shell, PythonLTS, NodeLTS or CustomContainer.")
	default:
		return spec, validationErr("properties.containerType", "properties.containerType '%s' is not supported: use Shell, PythonLTS, NodeLTS or CustomContainer.", ct)
	}
	custom := spec.ContainerType == "CustomContainer"
	if pm, ok := lookupString(props, "poolManagementType"); ok && !strings.EqualFold(pm, "Dynamic") && !strings.EqualFold(pm, "Manual") {
		return spec, validationErr("properties.poolManagementType", "properties.poolManagementType '%s' is invalid: use Dynamic or Manual.", pm)
	}
	scale, _ := lookupMap(props, "scaleConfiguration")
	ready, hasReady := 0, false
	if scale != nil {
		if v, ok := lookup(scale, "maxConcurrentSessions"); ok && v != nil {
			n, ok := asInt(v)
			if !ok || n < 1 {
				return spec, validationErr("properties.scaleConfiguration.maxConcurrentSessions", "properties.scaleConfiguration.maxConcurrentSessions must be an integer of at least 1; got %v.", v)
			}
			spec.MaxConcurrentSessions = n
		}
		if v, ok := lookup(scale, "readySessionInstances"); ok && v != nil {
			n, ok := asInt(v)
			if !ok || n < 0 {
				return spec, validationErr("properties.scaleConfiguration.readySessionInstances", "properties.scaleConfiguration.readySessionInstances must be a non-negative integer; got %v.", v)
			}
			ready, hasReady = n, true
		}
	}
	if hasReady && ready >= spec.MaxConcurrentSessions {
		return spec, validationErr("properties.scaleConfiguration.readySessionInstances", "properties.scaleConfiguration.readySessionInstances (%d) must be less than maxConcurrentSessions (%d).", ready, spec.MaxConcurrentSessions)
	}
	if err := lifecycle(props, custom, &spec); err != nil {
		return spec, err
	}
	tmpl, hasTmpl := lookup(props, "customContainerTemplate")
	hasTmpl = hasTmpl && tmpl != nil
	env, _ := lookupString(props, "environmentId")
	if custom {
		if _, ok := tmpl.(map[string]any); !ok {
			return spec, validationErr("properties.customContainerTemplate", "properties.customContainerTemplate is required when containerType is CustomContainer.")
		}
		if env == "" {
			return spec, validationErr("properties.environmentId", "properties.environmentId is required when containerType is CustomContainer: set the Microsoft.App/managedEnvironments resource ID.")
		}
	} else if hasTmpl {
		return spec, validationErr("properties.customContainerTemplate", "properties.customContainerTemplate is only allowed when containerType is CustomContainer; remove it for %s pools.", spec.ContainerType)
	}
	if net, _ := lookupMap(props, "sessionNetworkConfiguration"); net != nil {
		st, _ := lookupString(net, "status")
		switch strings.ToLower(st) {
		case "egressenabled":
			spec.EgressEnabled = true
		case "egressdisabled", "":
		default:
			return spec, validationErr("properties.sessionNetworkConfiguration.status", "properties.sessionNetworkConfiguration.status '%s' is invalid: use EgressEnabled or EgressDisabled.", st)
		}
	}
	return spec, nil
}

// lifecycle checks dynamicPoolConfiguration, in the lifecycleConfiguration
// form (2025-01-01 and later) or the legacy executionType form.
func lifecycle(props map[string]any, custom bool, spec *PoolSpec) *armError {
	const lc = "properties.dynamicPoolConfiguration.lifecycleConfiguration"
	dyn, _ := lookupMap(props, "dynamicPoolConfiguration")
	typ, cooldown, maxAlive := "Timed", any(nil), any(nil)
	prefix := lc
	if dyn != nil {
		if l, _ := lookupMap(dyn, "lifecycleConfiguration"); l != nil {
			t, _ := lookupString(l, "lifecycleType")
			if t == "" {
				t = "Timed"
			}
			typ = t
			cooldown, _ = lookup(l, "cooldownPeriodInSeconds")
			maxAlive, _ = lookup(l, "maxAlivePeriodInSeconds")
		} else if et, ok := lookupString(dyn, "executionType"); ok || hasKey(dyn, "cooldownPeriodInSeconds") {
			prefix = "properties.dynamicPoolConfiguration"
			if ok && !strings.EqualFold(et, "Timed") {
				return validationErr(prefix+".executionType", "%s.executionType '%s' is invalid: use Timed.", prefix, et)
			}
			cooldown, _ = lookup(dyn, "cooldownPeriodInSeconds")
		} else {
			cooldown = 300
		}
	} else {
		cooldown = 300
	}
	switch strings.ToLower(typ) {
	case "timed":
		if maxAlive != nil {
			return validationErr(prefix+".maxAlivePeriodInSeconds", "%s.maxAlivePeriodInSeconds is not allowed when lifecycleType is Timed; remove it or use OnContainerExit.", prefix)
		}
		if cooldown == nil {
			return validationErr(prefix+".cooldownPeriodInSeconds", "%s.cooldownPeriodInSeconds is required when lifecycleType is Timed (300-3600).", prefix)
		}
		n, ok := asInt(cooldown)
		if !ok || n < 300 || n > 3600 {
			return validationErr(prefix+".cooldownPeriodInSeconds", "%s.cooldownPeriodInSeconds must be an integer between 300 and 3600; got %v.", prefix, cooldown)
		}
		spec.Cooldown = time.Duration(n) * time.Second
	case "oncontainerexit":
		if !custom {
			return validationErr(prefix+".lifecycleType", "%s.lifecycleType OnContainerExit requires containerType CustomContainer; use Timed.", prefix)
		}
		if cooldown != nil {
			return validationErr(prefix+".cooldownPeriodInSeconds", "%s.cooldownPeriodInSeconds is not allowed when lifecycleType is OnContainerExit.", prefix)
		}
		if n, ok := asInt(maxAlive); !ok || n < 1 {
			return validationErr(prefix+".maxAlivePeriodInSeconds", "%s.maxAlivePeriodInSeconds is required when lifecycleType is OnContainerExit and must be at least 1.", prefix)
		}
	default:
		return validationErr(prefix+".lifecycleType", "%s.lifecycleType '%s' is invalid: use Timed or OnContainerExit.", prefix, typ)
	}
	return nil
}

// immutablePoolProps cannot change after creation (API.md §2.3).
var immutablePoolProps = []string{"containerType", "environmentId", "poolManagementType", "managedIdentitySettings", "mcpServerSettings"}
