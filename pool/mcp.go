package pool

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"

	"github.com/shellpool/shellpool/internal/armx"
)

// The platform-managed MCP server of a shell pool (preview; docs/API.md
// §1.11): properties.mcpServerSettings turns it on, and two POST actions on
// the pool, fetchMcpServerCredentials and rotateMcpServerCredentials, return
// the API key that MCP clients send in the x-ms-apikey header.
//
// Which api-versions have it: the MCP tutorial (learn.microsoft.com,
// "Tutorial: Use MCP with dynamic sessions (shell)", 02/18/2026) uses
// 2025-02-02-preview; the specification (azure-rest-api-specs,
// Microsoft.App/ContainerApps/preview/2025-10-02-preview/SessionPools.json)
// lists the settings and both actions in 2025-10-02-preview; the stable
// 2026-01-01 removes them, and no stable version has them.

// MCPServerAPIVersion is the newest Microsoft.App api-version whose
// specification has the MCP server settings and credential actions. Use it
// (or DefaultARMAPIVersion, which the MCP tutorial uses) for a pool with
// MCPServerSettings.
const MCPServerAPIVersion = "2025-10-02-preview"

// firstMCPServerAPIVersion is the oldest api-version that documents the MCP
// server: the one the tutorial uses.
const firstMCPServerAPIVersion = "2025-02-02-preview"

// ErrorCodeMCPServerNotEnabled is the error code (azcore.ResponseError's
// ErrorCode) the service answers a credential action with when the pool's
// MCP server is off. Reports of the live service show it for pools created
// without MCP and for CustomContainer pools, whose MCP setting the service
// drops.
const ErrorCodeMCPServerNotEnabled = "SessionMCPServerNotEnabled"

// ErrMCPServerNotEnabled is matched (errors.Is) by the error of
// Client.FetchMCPServerCredentials and Client.RotateMCPServerCredentials when
// the service answers SessionMCPServerNotEnabled. errors.As still reaches the
// *azcore.ResponseError.
var ErrMCPServerNotEnabled = errors.New("pool: the session pool's MCP server is not enabled")

// SupportsMCPServer reports whether a Microsoft.App api-version has the MCP
// server settings and credential actions: the previews from
// 2025-02-02-preview on. Stable versions (2026-01-01 removed them) and older
// previews do not.
func SupportsMCPServer(apiVersion string) bool {
	v := strings.ToLower(strings.TrimSpace(apiVersion))
	date, preview := strings.CutSuffix(v, "-preview")
	return preview && len(date) == len("2006-01-02") && date >= firstMCPServerAPIVersion[:len(date)]
}

// mcpVersionRule returns why an api-version cannot carry MCP settings, or "".
func mcpVersionRule(apiVersion string) string {
	if SupportsMCPServer(apiVersion) {
		return ""
	}
	return fmt.Sprintf("api-version %s has no MCP server (a preview feature: stable versions and previews before %s lack it); use api-version %s (or %s, the tutorial's)",
		apiVersion, firstMCPServerAPIVersion, MCPServerAPIVersion, firstMCPServerAPIVersion)
}

// checkMCP records the problems of a pool's MCP settings for an api-version
// ("" skips the version check).
func checkMCP(c *checker, props *SessionPoolProperties, apiVersion string) {
	if props == nil || props.MCPServerSettings == nil {
		return
	}
	m := props.MCPServerSettings
	if m.IsMCPServerEnabled == nil && m.IsMCPServerAPIKeyDisabled == nil {
		return // only read-only fields: nothing is sent
	}
	const f = "properties.mcpServerSettings"
	if apiVersion != "" {
		if r := mcpVersionRule(apiVersion); r != "" {
			c.add(f, "cannot be sent: %s", r)
		}
	}
	if props.ContainerType == ContainerTypeCustomContainer && m.IsMCPServerEnabled != nil && *m.IsMCPServerEnabled {
		c.add(f+".isMcpServerEnabled", "cannot be true for a CustomContainer pool: the service accepts the pool but drops the setting (its credential actions then answer %s); use a Shell or PythonLTS pool for MCP", ErrorCodeMCPServerNotEnabled)
	}
}

// ShellPoolOption changes a pool that NewShellPool returns.
type ShellPoolOption func(*SessionPool)

// WithMCPServer turns on the pool's platform-managed MCP server
// (properties.mcpServerSettings.isMcpServerEnabled), so that MCP clients can
// launch shells and run commands in it with the key that
// Client.FetchMCPServerCredentials returns. The pool must be sent with an
// api-version that has the setting (SupportsMCPServer): BeginCreateOrUpdate
// and Template.Render refuse others.
func WithMCPServer() ShellPoolOption {
	return func(p *SessionPool) {
		if p.Properties == nil {
			p.Properties = &SessionPoolProperties{}
		}
		if p.Properties.MCPServerSettings == nil {
			p.Properties.MCPServerSettings = &MCPServerSettings{}
		}
		p.Properties.MCPServerSettings.IsMCPServerEnabled = to.Ptr(true)
	}
}

// MCPEndpoint returns the URL of the pool's MCP server
// (properties.mcpServerSettings.mcpServerEndpoint), which the service reports
// once the server is enabled, or "" when it reported none. Read the pool with
// Client.Get first.
func (p *SessionPool) MCPEndpoint() string {
	if p == nil || p.Properties == nil || p.Properties.MCPServerSettings == nil {
		return ""
	}
	return p.Properties.MCPServerSettings.MCPServerEndpoint
}

// MCPAPIKey is the API key of a pool's MCP server, sent by MCP clients in the
// x-ms-apikey header. It never shows its value: fmt's verbs (%v, %+v, %#v,
// %s, %q, %x ...), encoding/json, encoding (text marshalling) and log/slog
// all print "REDACTED", and the value is held behind a pointer so that even
// fmt's printing of a struct field that holds the key unexported shows an
// address only. Call Reveal to send it.
type MCPAPIKey struct {
	v *string
}

// redacted is what an MCPAPIKey prints instead of its value.
const redacted = "REDACTED"

// NewMCPAPIKey wraps a key read elsewhere (a secret store, an environment
// variable), so that it prints as REDACTED.
func NewMCPAPIKey(key string) MCPAPIKey { return MCPAPIKey{v: &key} }

// Reveal returns the key itself, for the x-ms-apikey header. Do not print or
// log it.
func (k MCPAPIKey) Reveal() string {
	if k.v == nil {
		return ""
	}
	return *k.v
}

// IsZero reports whether the key is empty.
func (k MCPAPIKey) IsZero() bool { return k.Reveal() == "" }

// String returns "REDACTED" (or "" for an empty key).
func (k MCPAPIKey) String() string {
	if k.IsZero() {
		return ""
	}
	return redacted
}

// GoString is String, for %#v.
func (k MCPAPIKey) GoString() string { return "pool.MCPAPIKey(" + k.String() + ")" }

// Format prints String for every verb, so no verb reveals the key.
func (k MCPAPIKey) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = f.Write([]byte(k.GoString()))
		return
	}
	if verb == 'q' {
		_, _ = fmt.Fprintf(f, "%q", k.String())
		return
	}
	_, _ = f.Write([]byte(k.String()))
}

// MarshalJSON encodes the key as "REDACTED": encoding a credential or a
// response never reveals it.
func (k MCPAPIKey) MarshalJSON() ([]byte, error) { return json.Marshal(k.String()) }

// UnmarshalJSON reads the key from a JSON string (the service's apiKey).
func (k *MCPAPIKey) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*k = NewMCPAPIKey(s)
	return nil
}

// MarshalText returns "REDACTED", for encoders that use encoding.TextMarshaler.
func (k MCPAPIKey) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// LogValue makes log/slog print "REDACTED".
func (k MCPAPIKey) LogValue() slog.Value { return slog.StringValue(k.String()) }

// MCPServerCredential is the credential of a pool's MCP server (the
// specification's McpServerCredential).
type MCPServerCredential struct {
	// APIKey is the key MCP clients send in the x-ms-apikey header. It prints
	// as REDACTED; use APIKey.Reveal to send it.
	APIKey MCPAPIKey `json:"apiKey"`
}

// FetchMCPServerCredentialsOptions contains the optional parameters for
// Client.FetchMCPServerCredentials.
type FetchMCPServerCredentialsOptions struct {
	// placeholder for future options
}

// FetchMCPServerCredentialsResponse is the result of
// Client.FetchMCPServerCredentials.
type FetchMCPServerCredentialsResponse struct {
	MCPServerCredential
}

// RotateMCPServerCredentialsOptions contains the optional parameters for
// Client.RotateMCPServerCredentials.
type RotateMCPServerCredentialsOptions struct {
	// placeholder for future options
}

// RotateMCPServerCredentialsResponse is the result of
// Client.RotateMCPServerCredentials.
type RotateMCPServerCredentialsResponse struct {
	MCPServerCredential
}

// FetchMCPServerCredentials returns the current API key of the pool's MCP
// server (POST .../fetchMcpServerCredentials). The key authenticates every
// MCP tool call against the pool: keep it secret. The response body is never
// logged, even with azcore's Logging.IncludeBody, and the key prints as
// REDACTED.
//
// The client's api-version must have the action (SupportsMCPServer);
// otherwise it returns an error matching ErrInvalidArgument and sends
// nothing. A pool whose MCP server is off answers SessionMCPServerNotEnabled:
// the error matches ErrMCPServerNotEnabled. Other failures are
// *azcore.ResponseError.
func (c *Client) FetchMCPServerCredentials(ctx context.Context, resourceGroup, name string, options *FetchMCPServerCredentialsOptions) (res FetchMCPServerCredentialsResponse, err error) {
	cred, err := c.mcpCredentialAction(ctx, "FetchMCPServerCredentials", "fetchMcpServerCredentials", resourceGroup, name)
	return FetchMCPServerCredentialsResponse{MCPServerCredential: cred}, err
}

// RotateMCPServerCredentials replaces the API key of the pool's MCP server
// and returns the new one (POST .../rotateMcpServerCredentials). The old key
// stops working: MCP clients must switch to the new one. A retry after a lost
// response rotates once more and returns that newer key, which is then the
// one that works, so retries are safe; after an error whose outcome is
// unknown, FetchMCPServerCredentials returns the current key. Errors are those
// of FetchMCPServerCredentials.
func (c *Client) RotateMCPServerCredentials(ctx context.Context, resourceGroup, name string, options *RotateMCPServerCredentialsOptions) (res RotateMCPServerCredentialsResponse, err error) {
	cred, err := c.mcpCredentialAction(ctx, "RotateMCPServerCredentials", "rotateMcpServerCredentials", resourceGroup, name)
	return RotateMCPServerCredentialsResponse{MCPServerCredential: cred}, err
}

func (c *Client) mcpCredentialAction(ctx context.Context, method, action, resourceGroup, name string) (cred MCPServerCredential, err error) {
	ctx, end := c.startSpan(ctx, method)
	defer func() { end(err) }()
	if err := errors.Join(checkGroup(resourceGroup), checkPoolName(name)); err != nil {
		return cred, err
	}
	if r := mcpVersionRule(c.apiVersion); r != "" {
		return cred, argErr("ClientOptions.APIVersion", "the MCP server credential actions cannot be sent: "+r)
	}
	cred, _, err = armx.Do[MCPServerCredential](ctx, c.secretPL, armx.Request{Method: http.MethodPost, URL: c.poolURL(resourceGroup, name) + "/" + action, APIVersion: c.apiVersion, OK: []int{http.StatusOK}})
	var re *azcore.ResponseError
	if errors.As(err, &re) && strings.EqualFold(re.ErrorCode, ErrorCodeMCPServerNotEnabled) {
		return cred, &mcpNotEnabledError{pool: name, err: re}
	}
	if err == nil && cred.APIKey.IsZero() {
		return cred, fmt.Errorf("pool: %s of pool %q returned no apiKey; check that the api-version (%s) has the MCP server", action, name, c.apiVersion)
	}
	return cred, err
}

// mcpNotEnabledError is the service's SessionMCPServerNotEnabled answer.
type mcpNotEnabledError struct {
	pool string
	err  *azcore.ResponseError
}

func (e *mcpNotEnabledError) Error() string {
	return fmt.Sprintf("pool: session pool %q has no MCP server enabled (%s); enable it with properties.mcpServerSettings.isMcpServerEnabled (pool.WithMCPServer) and create or update the pool with BeginCreateOrUpdate, on a Shell or PythonLTS pool (CustomContainer pools drop the setting): %v",
		e.pool, ErrorCodeMCPServerNotEnabled, e.err)
}

func (e *mcpNotEnabledError) Is(target error) bool { return target == ErrMCPServerNotEnabled }

func (e *mcpNotEnabledError) Unwrap() error { return e.err }
