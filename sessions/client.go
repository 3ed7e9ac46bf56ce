package sessions

import (
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/tracing"
	"github.com/google/uuid"

	"github.com/shellpool/shellpool/internal/azname"
	"github.com/shellpool/shellpool/internal/version"
)

const (
	// DefaultDataPlaneAPIVersion is the data-plane api-version the client sends unless
	// the azcore option ClientOptions.ClientOptions.APIVersion says
	// otherwise. It is the version the shell session pool tutorial uses.
	DefaultDataPlaneAPIVersion = "2025-02-02-preview"

	// Audience is the audience of the access tokens the dynamic sessions
	// data plane accepts, https://dynamicsessions.io. The client requests
	// Audience + "/.default".
	Audience = azname.SessionsAudience

	// ServiceName identifies the dynamic sessions data plane in a
	// cloud.Configuration. Set ClientOptions.Cloud.Services[ServiceName].Audience
	// to request tokens for another audience (a sovereign cloud, a proxy).
	ServiceName cloud.ServiceName = "shellpool/dynamicsessions"

	// moduleName is reported in the User-Agent.
	moduleName = version.SessionsModule
)

// ClientOptions configures a Client. A nil *ClientOptions is the same as the
// zero value. The embedded azcore.ClientOptions holds the transport, retry,
// logging and tracing settings; its APIVersion field overrides
// DefaultDataPlaneAPIVersion for every request the client sends (the api-version
// query parameter, also on polling URLs and nextLinks).
type ClientOptions struct {
	azcore.ClientOptions

	// Dialect selects the JSON body the client sends for executions. The zero
	// value, DialectSpec, sends the body the service specification defines
	// for shell pools.
	Dialect Dialect
}

// Dialect selects the request body sent by Execute and BeginExecute. Public
// sources disagree on the body a shell pool accepts (API.md §1.5.2): the
// service specification and LangChain send only shellCommand or
// execCommandAndArgs with timeoutInSeconds, while the tutorial sends
// codeInputType, executionType and a command array.
type Dialect string

const (
	// DialectSpec sends {"shellCommand": ...} or {"execCommandAndArgs": [...]}
	// and timeoutInSeconds (always), plus stdin and outputStreamsMaxLength
	// when set, and nothing else. It is the default.
	DialectSpec Dialect = ""
	// DialectTutorial sends the tutorial's exact body:
	// {"codeInputType":"inline","executionType":"synchronous","command":[...],"timeoutInSeconds":N}.
	// A shell script is sent as ["/bin/bash","-c",script].
	DialectTutorial Dialect = "tutorial"
)

// PossibleDialectValues returns every Dialect the client knows.
func PossibleDialectValues() []Dialect { return []Dialect{DialectSpec, DialectTutorial} }

// Client runs commands, moves files and manages sessions in one session pool.
// It is safe for concurrent use; create one per pool and reuse it.
type Client struct {
	endpoint   string // no trailing slash
	apiVersion string
	// escapedAPIVersion is apiVersion query-escaped once, for newRequest.
	escapedAPIVersion string
	dialect           Dialect
	pl                runtime.Pipeline
	tracer            tracing.Tracer
	health            *clientHealth
}

// NewClient creates a Client for the session pool at endpoint.
//
//   - endpoint - the pool's management endpoint: the ARM property
//     properties.poolManagementEndpoint, or the regional form built by
//     PoolEndpoint (https://{region}.dynamicsessions.io/subscriptions/.../sessionPools/{pool}).
//   - cred - a credential whose principal holds the "Azure ContainerApps
//     Session Executor" role on the pool, such as azidentity.DefaultAzureCredential.
//     Tokens are requested for https://dynamicsessions.io/.default.
//   - options - nil for defaults.
func NewClient(endpoint string, cred azcore.TokenCredential, options *ClientOptions) (*Client, error) {
	if options == nil {
		options = &ClientOptions{}
	}
	ep, err := normalizeEndpoint(endpoint, options.InsecureAllowCredentialWithHTTP)
	if err != nil {
		return nil, err
	}
	if isNil(cred) {
		return nil, newArgumentError("cred", "must not be nil (nor a nil pointer in the interface); pass a credential such as the one azidentity.NewDefaultAzureCredential returns, and check its error")
	}
	switch options.Dialect {
	case DialectSpec, DialectTutorial:
	default:
		return nil, newArgumentError("ClientOptions.Dialect", fmt.Sprintf("unknown dialect %q; use one of PossibleDialectValues()", options.Dialect))
	}
	audience := Audience
	if c, ok := options.Cloud.Services[ServiceName]; ok && c.Audience != "" {
		audience = c.Audience
	}
	apiVersion := DefaultDataPlaneAPIVersion
	if options.ClientOptions.APIVersion != "" {
		apiVersion = options.ClientOptions.APIVersion
	}
	authPolicy := runtime.NewBearerTokenPolicy(cred, []string{strings.TrimRight(audience, "/") + "/.default"}, nil)
	// The caller's options are copied, not changed: the transport is wrapped
	// so that transport errors never quote a session identifier.
	azOpts := options.ClientOptions
	next := azOpts.Transport
	if isNil(next) {
		next = defaultTransport
	}
	azOpts.Transport = &redactingTransport{next: next}
	health := &clientHealth{}
	azc, err := azcore.NewClient(moduleName, version.Version, runtime.PipelineOptions{
		// Operation-Location is not listed: it carries identifier=<id>, so
		// azcore's log shows it as REDACTED.
		AllowedHeaders: []string{
			"operation-id", "x-ms-error-code",
			"x-ms-execution-request-time", "x-ms-execution-read-response-time",
			"x-ms-total-execution-service-time", "x-ms-container-execution-duration",
			"x-ms-overall-execution-time", "x-ms-preparation-time",
			"x-ms-allocation-time", "x-ms-allocation-retries", "x-ms-new-allocation",
		},
		AllowedQueryParameters: []string{"api-version", "recursive", "skip"},
		// executeGuard goes before the bearer policy so that it sees the
		// final answer, after any token challenge has been handled.
		// countAttempts and attemptPolicy count the tries of a call, stop
		// retries of transport failures that cannot succeed, and say both
		// in the error.
		PerCall:  []policy.Policy{countAttempts{}},
		PerRetry: []policy.Policy{attemptPolicy{c: health}, executeGuard{}, authPolicy},
		Tracing:  runtime.TracingOptions{Namespace: "Microsoft.App"},
		// Lets azcore accept ClientOptions.APIVersion. The client already
		// writes that version into every URL it builds, so azcore's policy
		// only ever rewrites the parameter to the value it already has.
		APIVersion: runtime.APIVersionOptions{Name: "api-version", Location: runtime.APIVersionLocationQueryParam},
	}, &azOpts)
	if err != nil {
		return nil, err
	}
	return &Client{
		endpoint:          ep,
		apiVersion:        apiVersion,
		escapedAPIVersion: url.QueryEscape(apiVersion),
		dialect:           options.Dialect,
		pl:                azc.Pipeline(),
		tracer:            azc.Tracer(),
		health:            health,
	}, nil
}

// Endpoint returns the pool endpoint the client sends requests to.
func (c *Client) Endpoint() string { return c.endpoint }

// normalizeEndpoint checks endpoint and drops its trailing slashes. Plain
// http is refused unless the caller set InsecureAllowCredentialWithHTTP,
// because the bearer token policy would refuse every request anyway, with a
// less helpful error and only at the first call.
func normalizeEndpoint(endpoint string, allowHTTP bool) (string, error) {
	const fix = "pass the pool's poolManagementEndpoint, or build one with PoolEndpoint"
	if strings.TrimSpace(endpoint) == "" {
		return "", newArgumentError("endpoint", "must not be empty; "+fix)
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", newArgumentError("endpoint", "must be an absolute https URL; "+fix)
	}
	if u.Scheme == "http" && !allowHTTP {
		return "", newArgumentError("endpoint", "uses http, which would send the bearer token in clear text; use https, or set ClientOptions.InsecureAllowCredentialWithHTTP for a local test server")
	}
	if u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return "", newArgumentError("endpoint", "must not carry a query or fragment; the client adds api-version and identifier itself")
	}
	if u.User != nil {
		// The user information is not shown: it may be a password.
		return "", newArgumentError("endpoint", "must not carry user information (user:password@); the client authenticates with the bearer token of its credential, so remove it from the URL")
	}
	if !validHost(u.Hostname()) {
		return "", newArgumentError("endpoint", fmt.Sprintf("has host %q, which is not a DNS name (letters, digits and hyphens between dots) or an IP address; when it comes from PoolEndpoint, pass a region such as \"northcentralus\" or \"North Central US\"", u.Hostname()))
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", newArgumentError("endpoint", fmt.Sprintf("has port %q; use a number from 1 to 65535, or none", p))
		}
	}
	if name, ok := poolNameOf(u.Path); ok {
		if r := azname.PoolNameRule(name); r != "" {
			return "", newArgumentError("endpoint", fmt.Sprintf("names session pool %q, which %s; when it comes from PoolEndpoint, pass the pool's name as deployed", name, r))
		}
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// poolNameOf returns the pool name of a regional endpoint's path,
// .../sessionPools/{name}, unescaped.
func poolNameOf(path string) (string, bool) {
	segs := strings.Split(strings.TrimRight(path, "/"), "/")
	if len(segs) < 2 || !strings.EqualFold(segs[len(segs)-2], "sessionPools") {
		return "", false
	}
	return segs[len(segs)-1], true
}

// validHost reports whether host is an IP address or a DNS name whose labels
// are 1 to 63 letters, digits and hyphens, not starting or ending with a
// hyphen. url.Parse accepts far more ("northcentralus!!.dynamicsessions.io").
func validHost(host string) bool {
	if host == "" || len(host) > 253 {
		return false
	}
	if net.ParseIP(host) != nil {
		return true
	}
	for _, label := range strings.Split(strings.TrimSuffix(host, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			ch := label[i]
			if ch != '-' && !('0' <= ch && ch <= '9') && !('a' <= ch && ch <= 'z') && !('A' <= ch && ch <= 'Z') {
				return false
			}
		}
	}
	return true
}

// isNil reports whether v is nil or an interface holding a nil pointer (a
// "typed nil"), which would only panic at the first call.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan, reflect.Interface:
		return rv.IsNil()
	}
	return false
}

// PoolEndpoint builds the regional management endpoint of a shell or
// code-interpreter pool:
//
//	https://{region}.dynamicsessions.io/subscriptions/{subscriptionID}/resourceGroups/{resourceGroup}/sessionPools/{pool}
//
// region may be a short name ("northcentralus") or a display name
// ("North Central US"); it is normalised to the short form. PoolEndpoint
// itself never fails: a region that does not make a valid host name
// ("north central us!!"), or a pool name that breaks the service's rule
// (3-63 lower-case letters and digits, starting with a letter; "My_Pool!"),
// gives an endpoint that NewClient refuses with an *ArgumentError saying
// what is wrong, before anything is sent. Prefer the pool's
// properties.poolManagementEndpoint when it can be read from ARM (API.md §1.1).
func PoolEndpoint(region, subscriptionID, resourceGroup, pool string) string {
	return azname.RegionalEndpoint(region, subscriptionID, resourceGroup, pool)
}

// NewSessionID returns a new random session identifier: a lower-case UUID
// from a cryptographic random source. It satisfies every identifier rule the
// service documents (API.md §1.3). Treat identifiers as secrets: a caller who
// knows one can use that session.
func NewSessionID() string {
	return uuid.Must(uuid.NewRandomFromReader(rand.Reader)).String()
}

// Session identifier limits enforced before any request is sent. They are the
// intersection of the documented rules (API.md §1.3): 4 to 128 characters
// from [A-Za-z0-9_-].
const (
	minSessionIDLen = 4
	maxSessionIDLen = 128
)

// ValidateSessionID reports whether id is a session identifier the client
// will send. The error names the rule that failed and shows at most the first
// four characters of id.
func ValidateSessionID(id string) error {
	if len(id) < minSessionIDLen || len(id) > maxSessionIDLen {
		return newArgumentError("sessionID", fmt.Sprintf("%s has %d characters; identifiers must have %d to %d (use NewSessionID)", RedactSessionID(id), len(id), minSessionIDLen, maxSessionIDLen))
	}
	for i := 0; i < len(id); i++ {
		ch := id[i]
		if ch == '-' || ch == '_' || ('0' <= ch && ch <= '9') || ('a' <= ch && ch <= 'z') || ('A' <= ch && ch <= 'Z') {
			continue
		}
		return newArgumentError("sessionID", fmt.Sprintf("%s contains a character outside [A-Za-z0-9_-] at byte %d (use NewSessionID)", RedactSessionID(id), i))
	}
	return nil
}

// RedactSessionID returns a form of a session identifier that is safe to log:
// its first four characters followed by "…", or "…" alone when it is shorter.
func RedactSessionID(id string) string {
	const keep = 4
	if len(id) <= keep {
		return "…"
	}
	r := []rune(id)
	if len(r) <= keep {
		return "…"
	}
	return string(r[:keep]) + "…"
}

// ensure *http.Client satisfies the transporter interface the tests use.
var _ policy.Transporter = (*http.Client)(nil)

// ValidateCommand reports whether Execute would send cmd: the same checks,
// and the same *ArgumentError, as Execute makes before sending anything.
// Layers that queue a command before sending it (sessions/fleet) call it
// first, so that bad input fails at once.
func ValidateCommand(cmd Command) error { return cmd.validate() }

// ValidateOperationID reports whether id is an operation-id Execute would
// send (ExecuteOptions.OperationID): printable ASCII without spaces, at
// most 256 characters. The empty string is valid (a random one is used).
func ValidateOperationID(id string) error {
	if id == "" {
		return nil
	}
	return validateOperationID(id)
}
