package sessions

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/url"
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
	// DefaultAPIVersion is the data-plane api-version the client sends unless
	// ClientOptions.APIVersion says otherwise. It is the version the shell
	// session pool tutorial uses.
	DefaultAPIVersion = "2025-02-02-preview"

	// DefaultAudience is the audience of the access tokens the dynamic sessions
	// data plane accepts. The client requests DefaultAudience + "/.default".
	DefaultAudience = "https://dynamicsessions.io"

	// ServiceName identifies the dynamic sessions data plane in a
	// cloud.Configuration. Set ClientOptions.Cloud.Services[ServiceName].Audience
	// to request tokens for another audience (a sovereign cloud, a proxy).
	ServiceName cloud.ServiceName = "shellpool/dynamicsessions"

	// moduleName is reported in the User-Agent.
	moduleName = version.SessionsModule
)

// ClientOptions configures a Client. A nil *ClientOptions is the same as the
// zero value.
type ClientOptions struct {
	azcore.ClientOptions

	// APIVersion overrides DefaultAPIVersion for every request.
	APIVersion string

	// Dialect selects the JSON body the client sends for executions. The zero
	// value, DialectShell, sends the body the service specification defines
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
	// DialectShell sends {"shellCommand": ...} or {"execCommandAndArgs": [...]},
	// plus timeoutInSeconds, stdin and outputStreamsMaxLength when set, and
	// nothing else. It is the default.
	DialectShell Dialect = ""
	// DialectTutorial sends the tutorial's exact body:
	// {"codeInputType":"inline","executionType":"synchronous","command":[...],"timeoutInSeconds":N}.
	// A shell script is sent as ["/bin/bash","-c",script].
	DialectTutorial Dialect = "tutorial"
)

// PossibleDialectValues returns every Dialect the client knows.
func PossibleDialectValues() []Dialect { return []Dialect{DialectShell, DialectTutorial} }

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
	if cred == nil {
		return nil, &ArgumentError{Name: "cred", Reason: "must not be nil; pass a credential such as azidentity.NewDefaultAzureCredential"}
	}
	switch options.Dialect {
	case DialectShell, DialectTutorial:
	default:
		return nil, &ArgumentError{Name: "ClientOptions.Dialect", Reason: fmt.Sprintf("unknown dialect %q; use one of PossibleDialectValues()", options.Dialect)}
	}
	audience := DefaultAudience
	if c, ok := options.Cloud.Services[ServiceName]; ok && c.Audience != "" {
		audience = c.Audience
	}
	apiVersion := DefaultAPIVersion
	if options.APIVersion != "" {
		apiVersion = options.APIVersion
	}
	authPolicy := runtime.NewBearerTokenPolicy(cred, []string{strings.TrimRight(audience, "/") + "/.default"}, nil)
	azc, err := azcore.NewClient(moduleName, version.Version, runtime.PipelineOptions{
		AllowedHeaders: []string{
			"operation-id", "Operation-Location", "x-ms-error-code",
			"x-ms-execution-request-time", "x-ms-execution-read-response-time",
			"x-ms-total-execution-service-time", "x-ms-container-execution-duration",
			"x-ms-overall-execution-time", "x-ms-preparation-time",
			"x-ms-allocation-time", "x-ms-allocation-retries", "x-ms-new-allocation",
		},
		AllowedQueryParameters: []string{"api-version", "recursive", "skip"},
		// executeGuard goes before the bearer policy so that it sees the
		// final answer, after any token challenge has been handled.
		PerRetry: []policy.Policy{executeGuard{}, authPolicy},
		Tracing:  runtime.TracingOptions{Namespace: "Microsoft.App"},
	}, &options.ClientOptions)
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
		return "", &ArgumentError{Name: "endpoint", Reason: "must not be empty; " + fix}
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", &ArgumentError{Name: "endpoint", Reason: "must be an absolute https URL; " + fix}
	}
	if u.Scheme == "http" && !allowHTTP {
		return "", &ArgumentError{Name: "endpoint", Reason: "uses http, which would send the bearer token in clear text; use https, or set ClientOptions.InsecureAllowCredentialWithHTTP for a local test server"}
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", &ArgumentError{Name: "endpoint", Reason: "must not carry a query or fragment; the client adds api-version and identifier itself"}
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// PoolEndpoint builds the regional management endpoint of a shell or
// code-interpreter pool:
//
//	https://{region}.dynamicsessions.io/subscriptions/{subscriptionID}/resourceGroups/{resourceGroup}/sessionPools/{pool}
//
// region may be a short name ("northcentralus") or a display name
// ("North Central US"); it is normalised to the short form. Prefer the pool's
// properties.poolManagementEndpoint when it can be read from ARM (API.md §1.1).
func PoolEndpoint(region, subscriptionID, resourceGroup, pool string) string {
	return azname.RegionalEndpoint(region, subscriptionID, resourceGroup, pool)
}

// NormalizeRegion turns an Azure region display name into its short name:
// "North Central US" becomes "northcentralus". Short names are returned
// lower-cased and otherwise unchanged.
func NormalizeRegion(region string) string { return azname.NormalizeRegion(region) }

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
		return &ArgumentError{Name: "sessionID", Reason: fmt.Sprintf("%s has %d characters; identifiers must have %d to %d (use NewSessionID)", RedactSessionID(id), len(id), minSessionIDLen, maxSessionIDLen)}
	}
	for i := 0; i < len(id); i++ {
		ch := id[i]
		if ch == '-' || ch == '_' || ('0' <= ch && ch <= '9') || ('a' <= ch && ch <= 'z') || ('A' <= ch && ch <= 'Z') {
			continue
		}
		return &ArgumentError{Name: "sessionID", Reason: fmt.Sprintf("%s contains a character outside [A-Za-z0-9_-] at byte %d (use NewSessionID)", RedactSessionID(id), i)}
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

// newRequest builds a request for {endpoint}/{path}?api-version=..&identifier=..
// path is appended as given (callers escape segments); sessionID is added to
// the query when non-empty; query holds extra parameters. The query is
// encoded as url.Values.Encode would encode it (keys sorted).
func (c *Client) newRequest(ctx context.Context, method, path, sessionID string, query url.Values) (*policy.Request, error) {
	path = strings.TrimLeft(path, "/")
	if len(query) == 0 && !strings.ContainsAny(path, "?#") {
		// The common case: the query is written straight into the URL, in
		// the order Encode would sort it ("api-version" before "identifier"),
		// so the URL is built in one allocation.
		if sessionID == "" {
			return runtime.NewRequest(ctx, method, c.endpoint+"/"+path+"?api-version="+c.escapedAPIVersion)
		}
		return runtime.NewRequest(ctx, method, c.endpoint+"/"+path+"?api-version="+c.escapedAPIVersion+"&identifier="+url.QueryEscape(sessionID))
	}
	req, err := runtime.NewRequest(ctx, method, c.endpoint+"/"+path)
	if err != nil {
		return nil, err
	}
	q := make(url.Values, len(query)+2)
	for k, v := range query {
		q[k] = v
	}
	q.Set("api-version", c.apiVersion)
	if sessionID != "" {
		q.Set("identifier", sessionID)
	}
	req.Raw().URL.RawQuery = q.Encode()
	return req, nil
}

// startSpan opens the tracing span every public method has. name is the
// span's full name, "Client.<method>", a constant so that no string is built
// per call.
func (c *Client) startSpan(ctx context.Context, name string) (context.Context, func(error)) {
	return runtime.StartSpan(ctx, name, c.tracer, nil)
}

// ctxErr returns ctx.Err() when the context ended, so that a cancelled call
// reports context.Canceled or context.DeadlineExceeded rather than transport
// noise.
func ctxErr(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if ce := ctx.Err(); ce != nil && !errors.Is(err, ce) {
		return fmt.Errorf("%w (%v)", ce, err)
	}
	return err
}

// ensure *http.Client satisfies the transporter interface the tests use.
var _ policy.Transporter = (*http.Client)(nil)
