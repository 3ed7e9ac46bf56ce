package armemu

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strings"
)

// The platform-managed MCP server of a pool (docs/API.md §1.11):
// properties.mcpServerSettings and the two credential actions.
//
// api-versions: the MCP tutorial uses 2025-02-02-preview, the specification
// has the settings and actions in 2025-10-02-preview, and 2026-01-01 removed
// them; no stable version has them. With a version that lacks them the
// emulator ignores the property (a pool keeps what an MCP version set) and
// leaves it out of responses, and the actions answer
// InvalidApiVersionParameter.

// mcpAPIVersions are the pool api-versions with the MCP server.
var mcpAPIVersions = []string{"2025-10-02-preview", "2025-02-02-preview"}

func hasMCP(apiVersion string) bool {
	for _, v := range mcpAPIVersions {
		if strings.EqualFold(v, apiVersion) {
			return true
		}
	}
	return false
}

// mcpKey is the settings key as the specification spells it; requests may
// use any casing (the tutorial writes isMCPServerEnabled, an example
// mcPServerSettings), responses use this one.
const mcpKey = "mcpServerSettings"

// newMCPAPIKey returns a fresh random API key.
func newMCPAPIKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// applyMCP reads the MCP settings of a PUT's properties (any casing) into
// spec and rewrites them in the specification's casing. old is the pool
// being replaced (nil on creation). With an api-version that lacks the
// settings, the request's are ignored and old's kept.
func applyMCP(props map[string]any, apiVersion string, spec *PoolSpec, old *pool) *armError {
	sent, has := lookup(props, mcpKey)
	deleteKey(props, mcpKey)
	if old != nil {
		spec.MCPServerAPIKey = old.spec.MCPServerAPIKey
	}
	enabled, keyDisabled := false, false
	switch {
	case !hasMCP(apiVersion):
		has = false
		if old != nil {
			enabled, keyDisabled = old.spec.MCPServerEnabled, old.spec.MCPServerAPIKeyDisabled
			_, has = lookup(old.props, mcpKey)
		}
	case has && sent != nil:
		m, ok := sent.(map[string]any)
		if !ok {
			return validationErr("properties.mcpServerSettings", "properties.mcpServerSettings must be a JSON object.")
		}
		for _, f := range []struct {
			name string
			v    *bool
		}{{"isMcpServerEnabled", &enabled}, {"isMcpServerApiKeyDisabled", &keyDisabled}} {
			v, ok := lookup(m, f.name)
			if !ok || v == nil {
				continue
			}
			b, ok := v.(bool)
			if !ok {
				return validationErr("properties.mcpServerSettings."+f.name, "properties.mcpServerSettings.%s must be a boolean; got %v.", f.name, v)
			}
			*f.v = b
		}
	default:
		has = false
	}
	if has {
		props[mcpKey] = map[string]any{"isMcpServerEnabled": enabled, "isMcpServerApiKeyDisabled": keyDisabled}
	}
	// Live pools of containerType CustomContainer accept the setting and drop
	// it: GET shows mcpServerSettings null and the credential actions answer
	// SessionMCPServerNotEnabled (reports of 2025-10-02-preview).
	if spec.ContainerType == "CustomContainer" && has {
		props[mcpKey] = nil
		enabled, keyDisabled = false, false
	}
	spec.MCPServerEnabled, spec.MCPServerAPIKeyDisabled = enabled, keyDisabled
	if enabled && spec.MCPServerAPIKey == "" {
		spec.MCPServerAPIKey = newMCPAPIKey()
	}
	return nil
}

// mcpBody adds the read-only endpoint to the settings of a pool's response
// body, or removes the settings for an api-version that lacks them.
func mcpBody(props map[string]any, p *pool, apiVersion string) {
	if !hasMCP(apiVersion) {
		deleteKey(props, mcpKey)
		return
	}
	if m, ok := lookupMap(props, mcpKey); ok && m != nil && p.spec.MCPServerEnabled {
		m["mcpServerEndpoint"] = mcpEndpoint(p.endpoint)
	}
}

// mcpEndpoint is the MCP server's URL for a pool endpoint.
func mcpEndpoint(poolEndpoint string) string { return strings.TrimRight(poolEndpoint, "/") + "/mcp" }

// servePoolMCPAction answers POST .../sessionPools/{name}/fetchMcpServerCredentials
// and .../rotateMcpServerCredentials (any casing: the tutorial writes
// fetchMCPServerCredentials).
func (e *Engine) servePoolMCPAction(q *req, sub, rg, name string, rotate bool) *armError {
	if q.apiVersion == "" {
		return checkAPIVersion(q, mcpAPIVersions)
	}
	if !hasMCP(q.apiVersion) {
		return errf(http.StatusBadRequest, "InvalidApiVersionParameter", "The api-version '%s' is invalid for this action. The supported versions are '%s'.", q.apiVersion, strings.Join(mcpAPIVersions, ","))
	}
	if q.r.Method != http.MethodPost {
		return methodNotAllowed(q)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.rgs[key(sub, rg)] == nil {
		return e.rgNotFound(rg)
	}
	p := e.pools[key(sub, rg, name)]
	if p == nil {
		return poolNotFound(name)
	}
	if !p.spec.MCPServerEnabled {
		return errf(http.StatusBadRequest, "SessionMCPServerNotEnabled", "Session pool '%s' does not have MCP Server enabled.", p.name)
	}
	if rotate || p.spec.MCPServerAPIKey == "" {
		p.spec.MCPServerAPIKey = newMCPAPIKey()
	}
	writeJSON(q.w, http.StatusOK, map[string]any{"apiKey": p.spec.MCPServerAPIKey})
	return nil
}
