package armemu

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/shellpool/shellpool/internal/jwt"
)

// Config configures an Engine. Backend is required; every other field has a
// default.
type Config struct {
	// Backend is the data plane that serves the pools ARM provisions. Its
	// methods are called with the engine's lock held: they must not call back
	// into the Engine.
	Backend Backend
	// SigningKey is the HS256 key that ARM bearer tokens must be signed with
	// and that the managed identity endpoint signs its tokens with.
	SigningKey []byte
	// TenantID is the directory (tenant) ID reported for identities and put in
	// minted tokens. Default: a fixed all-zero-but-one GUID.
	TenantID string
	// BaseURL returns the emulator's https base URL, used in Location and
	// Azure-AsyncOperation headers and nextLinks. Default: https:// plus the
	// request's Host.
	BaseURL func() string
	// SystemPrincipalID is the object ID of the emulator's system-assigned
	// identity: the oid of managed identity tokens requested without a
	// client_id (what DefaultAzureCredential gets). Default: a random UUID.
	SystemPrincipalID string
	// PrincipalNotFoundFor is how long after an identity is created a role
	// assignment naming its principal (without principalType
	// ServicePrincipal) is refused with PrincipalNotFound, as Entra
	// replication delay causes in Azure. Default 0: never refused, which keeps
	// examples fast.
	PrincipalNotFoundFor time.Duration
	// LROPolls is how many status reads of a long-running operation report it
	// as still running before it reports its final state. 0 means the default
	// 1; a negative value makes operations finish at once.
	LROPolls int
	// RetryAfter is the polling delay advertised on long-running operation
	// responses (Retry-After-Ms, and Retry-After in whole seconds when at
	// least one second). Default 10ms; azcore pollers honour it instead of
	// their 30-second default frequency.
	RetryAfter time.Duration
	// PageSize is the number of items per list page before a nextLink is
	// returned. Default 50.
	PageSize int
	// SubscriptionID is the subscription GET /subscriptions lists (with any
	// other subscription a resource group was created in). Default
	// DefaultSubscriptionID.
	SubscriptionID string
	// ClientID and ClientSecret are the credentials of the emulator's service
	// principal: the Entra ID token endpoint grants client credentials tokens
	// for them, with SystemPrincipalID as their oid. Defaults: a random UUID
	// and a random secret (see ServicePrincipal).
	ClientID, ClientSecret string
	// Now returns the current time for resource timestamps and the
	// PrincipalNotFound window, so tests can move it. Default time.Now.
	// Tokens are always minted and checked against the real clock, as the
	// clients that use them check them against it.
	Now func() time.Time
}

// DefaultTenantID is the tenant ID used when Config.TenantID is empty.
const DefaultTenantID = "72f988bf-0000-4000-8000-00000000e4e1"

// DefaultSubscriptionID is the subscription used when Config.SubscriptionID
// is empty.
const DefaultSubscriptionID = "00000000-0000-0000-0000-000000000000"

// Engine is the emulator's Azure Resource Manager and managed identity side:
// resource groups, provider registration, session pools, template
// deployments, user-assigned identities, role assignments and an App Service
// style managed identity token endpoint. It is safe for concurrent use.
type Engine struct {
	cfg       Config
	idHeader  string
	system    Identity
	mu        sync.Mutex
	rgs       map[string]*resourceGroup
	providers map[string]*provider
	pools     map[string]*pool
	idents    map[string]*identity
	roles     map[string]*roleAssignment
	deploys   map[string]*deployment
	ops       map[string]*operation
	opOrder   []string // operation ids, oldest first (see newOp)
	serial    uint64   // the last PoolSpec.Serial given (see stamp)
}

// New returns an Engine configured by cfg. It panics when cfg.Backend is nil,
// a programming error.
func New(cfg Config) *Engine {
	if cfg.Backend == nil {
		panic("armemu: Config.Backend is required")
	}
	if cfg.TenantID == "" {
		cfg.TenantID = DefaultTenantID
	}
	if cfg.LROPolls == 0 {
		cfg.LROPolls = 1
	} else if cfg.LROPolls < 0 {
		cfg.LROPolls = 0
	}
	if cfg.RetryAfter <= 0 {
		cfg.RetryAfter = 10 * time.Millisecond
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = 50
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SubscriptionID == "" {
		cfg.SubscriptionID = DefaultSubscriptionID
	}
	if cfg.SystemPrincipalID == "" {
		cfg.SystemPrincipalID = uuid.NewString()
	}
	if cfg.ClientID == "" {
		cfg.ClientID = uuid.NewString()
	}
	if cfg.ClientSecret == "" {
		cfg.ClientSecret = randomSecret()
	}
	e := &Engine{
		cfg:       cfg,
		idHeader:  uuid.NewString(),
		rgs:       map[string]*resourceGroup{},
		providers: map[string]*provider{},
		pools:     map[string]*pool{},
		idents:    map[string]*identity{},
		roles:     map[string]*roleAssignment{},
		deploys:   map[string]*deployment{},
		ops:       map[string]*operation{},
	}
	e.system = Identity{
		Name:        "system-assigned",
		PrincipalID: cfg.SystemPrincipalID,
		ClientID:    cfg.ClientID,
		TenantID:    cfg.TenantID,
		Created:     cfg.Now(),
	}
	return e
}

// api-versions accepted per resource family (API.md §2.1, §3, §4): every
// published version of each served resource type, newest first, the order
// provider answers list them in (clients such as az resource show pick the
// first stable one).
var (
	poolAPIVersions     = []string{"2026-01-01", "2025-10-02-preview", "2025-07-01", "2025-02-02-preview", "2025-01-01", "2024-10-02-preview", "2024-08-02-preview", "2024-02-02-preview"}
	resourceAPIVersions = []string{"2025-04-01", "2025-03-01", "2024-11-01", "2024-07-01", "2024-03-01", "2023-07-01", "2022-09-01", "2021-04-01", "2021-01-01", "2020-10-01", "2020-08-01", "2020-06-01", "2019-10-01", "2019-08-01", "2019-07-01", "2019-05-10", "2019-05-01", "2019-03-01", "2018-05-01", "2018-02-01", "2017-05-10", "2016-09-01", "2016-07-01", "2016-02-01", "2015-11-01"}
	identityAPIVersions = []string{"2025-01-31-preview", "2024-11-30", "2023-07-31-preview", "2023-01-31", "2022-01-31-preview", "2021-09-30-preview", "2018-11-30", "2015-08-31-preview"}
	roleAPIVersions     = []string{"2022-04-01", "2022-01-01-preview", "2020-10-01-preview", "2020-08-01-preview", "2020-04-01-preview", "2020-03-01-preview", "2018-09-01-preview", "2018-01-01-preview", "2017-10-01-preview", "2015-07-01"}
	roleDefAPIVersions  = []string{"2022-05-01-preview", "2022-04-01", "2018-01-01-preview", "2015-07-01"}
	// subscriptionAPIVersions are those of GET /subscriptions and /tenants.
	subscriptionAPIVersions = []string{"2022-12-01", "2021-01-01", "2020-01-01", "2019-11-01", "2019-06-01", "2018-06-01", "2016-06-01"}
)

// armError is an ARM error answer: an HTTP status and the body
// {"error":{code,message,target,details}}.
type armError struct {
	Status  int        `json:"-"`
	Code    string     `json:"code"`
	Message string     `json:"message"`
	Target  string     `json:"target,omitempty"`
	Details []armError `json:"details,omitempty"`
}

func (e *armError) Error() string { return e.Code + ": " + e.Message }

func errf(status int, code, format string, args ...any) *armError {
	return &armError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// putStatus is the status of a successful PUT: 201 when it created the
// resource, 200 when it updated it.
func putStatus(created bool) int {
	if created {
		return http.StatusCreated
	}
	return http.StatusOK
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	if v != nil {
		_ = json.NewEncoder(w).Encode(v)
	}
}

func writeErr(w http.ResponseWriter, err *armError) {
	w.Header().Set("x-ms-failure-cause", "gateway")
	writeJSON(w, err.Status, map[string]any{"error": err})
}

// req is one parsed ARM request.
type req struct {
	w          http.ResponseWriter
	r          *http.Request
	segs       []string // path segments as sent
	ls         []string // lower-cased segments
	apiVersion string
	caller     string // the token's oid
	base       string
}

// ServeHTTP serves the ARM management routes: subscriptions, tenants,
// resource groups, providers, session pools, deployments, user-assigned
// identities, role assignments and definitions and long-running operation
// status URLs. Every such request needs a bearer token for
// https://management.azure.com signed with Config.SigningKey.
//
// Without a token it serves what Azure serves without one: the cloud
// metadata (GET /metadata/endpoints, what az cloud register reads) and Entra
// ID (OpenID and instance discovery, and the client credentials token
// endpoint under /{tenant}/ and /adfs/). Under /v1.0/ and /beta/ it serves a
// minimal Microsoft Graph (service principals and getByIds), which needs a
// token for https://graph.microsoft.com or for the emulator's own URL.
func (e *Engine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("x-ms-request-id", uuid.NewString())
	if id := r.Header.Get("x-ms-correlation-request-id"); id != "" {
		w.Header().Set("x-ms-correlation-request-id", id)
	}
	if e.serveUnauthenticated(w, r) {
		return
	}
	caller, aerr := e.authenticate(r)
	if aerr != nil {
		writeErr(w, aerr)
		return
	}
	path := strings.Trim(r.URL.Path, "/")
	var segs []string
	if path != "" {
		segs = strings.Split(path, "/")
	}
	ls := make([]string, len(segs))
	for i, s := range segs {
		ls[i] = strings.ToLower(s)
	}
	q := &req{w: w, r: r, segs: segs, ls: ls, apiVersion: r.URL.Query().Get("api-version"), caller: caller, base: e.base(r)}
	e.route(q)
}

func (e *Engine) base(r *http.Request) string {
	if e.cfg.BaseURL != nil {
		return strings.TrimRight(e.cfg.BaseURL(), "/")
	}
	return "https://" + r.Host
}

var managementAudiences = map[string]bool{
	"https://management.azure.com":        true,
	"https://management.core.windows.net": true,
}

func (e *Engine) authenticate(r *http.Request) (string, *armError) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", errf(http.StatusUnauthorized, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.")
	}
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return "", errf(http.StatusUnauthorized, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is provided in an invalid format: expected 'Bearer <token>'.")
	}
	c, err := jwt.Verify(e.cfg.SigningKey, strings.TrimSpace(tok))
	if err != nil {
		return "", errf(http.StatusUnauthorized, "InvalidAuthenticationToken", "The access token is invalid: %v.", err)
	}
	if !managementAudiences[strings.TrimRight(c.Audience, "/")] {
		return "", errf(http.StatusUnauthorized, "InvalidAuthenticationToken", "The access token has an invalid audience %q; request a token for https://management.azure.com/.default.", c.Audience)
	}
	now := time.Now()
	if c.ExpiresAt.IsZero() || !now.Before(c.ExpiresAt) {
		return "", errf(http.StatusUnauthorized, "ExpiredAuthenticationToken", "The access token expiry UTC time '%s' is earlier than current UTC time '%s'; get a new token.", c.ExpiresAt.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if !c.NotBefore.IsZero() && now.Add(5*time.Minute).Before(c.NotBefore) {
		return "", errf(http.StatusUnauthorized, "InvalidAuthenticationToken", "The access token is not yet valid (nbf %s).", c.NotBefore.UTC().Format(time.RFC3339))
	}
	return c.ObjectID, nil
}

// checkAPIVersion refuses a missing or unsupported api-version.
func checkAPIVersion(q *req, supported []string) *armError {
	if q.apiVersion == "" {
		return errf(http.StatusBadRequest, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.")
	}
	for _, v := range supported {
		if strings.EqualFold(v, q.apiVersion) {
			return nil
		}
	}
	return errf(http.StatusBadRequest, "InvalidApiVersionParameter", "The api-version '%s' is invalid. The supported versions are '%s'.", q.apiVersion, strings.Join(supported, ","))
}

func notFoundRoute(q *req) *armError {
	return errf(http.StatusNotFound, "NotFound", "The emulator does not serve %s on this path.", q.r.Method)
}

func methodNotAllowed(q *req) *armError {
	return errf(http.StatusMethodNotAllowed, "MethodNotAllowed", "The method %s is not allowed on this resource.", q.r.Method)
}

// route dispatches on the path's fixed segments, case-insensitively.
func (e *Engine) route(q *req) {
	ls, n := q.ls, len(q.ls)
	var err *armError
	switch {
	case n >= 2 && (ls[n-2] == "operationstatuses" || ls[n-2] == "operationresults"):
		err = e.serveOperation(q, q.segs[n-1], ls[n-2] == "operationresults")
	case roleAssignmentsIndex(ls) >= 0:
		i := roleAssignmentsIndex(ls)
		if err = checkAPIVersion(q, roleAPIVersions); err == nil {
			scope := "/" + strings.Join(q.segs[:i], "/")
			switch n - i {
			case 3:
				err = e.serveRoleList(q, scope)
			case 4:
				err = e.serveRoleAssignment(q, scope, q.segs[n-1])
			default:
				err = notFoundRoute(q)
			}
		}
	case roleDefinitionsIndex(ls) >= 0:
		i := roleDefinitionsIndex(ls)
		if err = checkAPIVersion(q, roleDefAPIVersions); err == nil {
			scope := "/" + strings.Join(q.segs[:i], "/")
			switch n - i {
			case 3:
				err = e.serveRoleDefinitionList(q, scope)
			case 4:
				err = e.serveRoleDefinition(q, scope, q.segs[n-1])
			default:
				err = notFoundRoute(q)
			}
		}
	case n == 1 && (ls[0] == "subscriptions" || ls[0] == "tenants"):
		if err = checkAPIVersion(q, subscriptionAPIVersions); err == nil {
			if ls[0] == "tenants" {
				err = e.serveTenants(q)
			} else {
				err = e.serveSubscriptionList(q)
			}
		}
	case n == 2 && ls[0] == "subscriptions":
		if err = checkAPIVersion(q, subscriptionAPIVersions); err == nil {
			err = e.serveSubscription(q, q.segs[1])
		}
	case n >= 2 && ls[0] == "subscriptions":
		err = e.routeSubscription(q)
	default:
		err = notFoundRoute(q)
	}
	if err != nil {
		writeErr(q.w, err)
	}
}

func roleAssignmentsIndex(ls []string) int {
	for i := len(ls) - 3; i >= 0; i-- {
		if ls[i] == "providers" && ls[i+1] == "microsoft.authorization" && ls[i+2] == "roleassignments" {
			return i
		}
	}
	return -1
}

func (e *Engine) routeSubscription(q *req) *armError {
	ls, segs, n := q.ls, q.segs, len(q.ls)
	sub := segs[1]
	if n >= 3 && ls[2] == "providers" {
		switch {
		case n == 5 && ls[3] == "microsoft.app" && ls[4] == "sessionpools":
			if err := checkAPIVersion(q, poolAPIVersions); err != nil {
				return err
			}
			if q.r.Method != http.MethodGet {
				return methodNotAllowed(q)
			}
			return e.servePoolList(q, sub, "")
		case n == 4:
			if err := checkAPIVersion(q, resourceAPIVersions); err != nil {
				return err
			}
			return e.serveProvider(q, sub, segs[3], false)
		case n == 5 && ls[4] == "register":
			if err := checkAPIVersion(q, resourceAPIVersions); err != nil {
				return err
			}
			return e.serveProvider(q, sub, segs[3], true)
		}
		return notFoundRoute(q)
	}
	if n < 3 || ls[2] != "resourcegroups" {
		return notFoundRoute(q)
	}
	switch {
	case n == 3:
		if err := checkAPIVersion(q, resourceAPIVersions); err != nil {
			return err
		}
		if q.r.Method != http.MethodGet {
			return methodNotAllowed(q)
		}
		return e.serveRGList(q, sub)
	case n == 4:
		if err := checkAPIVersion(q, resourceAPIVersions); err != nil {
			return err
		}
		return e.serveRG(q, sub, segs[3])
	case n == 9 && ls[4] == "providers" && ls[5] == "microsoft.resources" && ls[6] == "deployments" && ls[8] == "validate":
		if err := checkAPIVersion(q, resourceAPIVersions); err != nil {
			return err
		}
		if q.r.Method != http.MethodPost {
			return methodNotAllowed(q)
		}
		return e.validateDeployment(q, sub, segs[3], segs[7])
	case n >= 7 && ls[4] == "providers":
		rg := segs[3]
		typ := ls[5] + "/" + ls[6]
		name := ""
		if n == 8 {
			name = segs[7]
		} else if n != 7 {
			return notFoundRoute(q)
		}
		rt, ok := e.resourceRoutes()[typ]
		if !ok {
			return notFoundRoute(q)
		}
		if err := checkAPIVersion(q, rt.versions); err != nil {
			return err
		}
		if name != "" {
			return rt.item(q, sub, rg, name)
		}
		if rt.list == nil {
			return notFoundRoute(q)
		}
		if q.r.Method != http.MethodGet {
			return methodNotAllowed(q)
		}
		return rt.list(q, sub, rg)
	}
	return notFoundRoute(q)
}

// resourceRoute serves one resource type inside a resource group.
type resourceRoute struct {
	versions []string
	list     func(q *req, sub, rg string) *armError // nil: the type has no list
	item     func(q *req, sub, rg, name string) *armError
}

// resourceRoutes maps lower-case "namespace/type" to its handlers.
func (e *Engine) resourceRoutes() map[string]resourceRoute {
	return map[string]resourceRoute{
		"microsoft.app/sessionpools":                       {poolAPIVersions, e.servePoolList, e.servePool},
		"microsoft.managedidentity/userassignedidentities": {identityAPIVersions, e.serveIdentityList, e.serveIdentity},
		"microsoft.resources/deployments":                  {resourceAPIVersions, nil, e.serveDeployment},
	}
}

// key builds a case-insensitive map key.
func key(parts ...string) string { return strings.ToLower(strings.Join(parts, "/")) }

func decodeBody(r *http.Request, v any) *armError {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 4<<20))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		if err.Error() == "EOF" {
			return errf(http.StatusBadRequest, "InvalidRequestContent", "The request content was invalid and could not be deserialized: the body is empty.")
		}
		return errf(http.StatusBadRequest, "InvalidRequestContent", "The request content was invalid and could not be deserialized: %v.", err)
	}
	return nil
}

// --- long-running operations ---

type operation struct {
	id        string
	remaining int    // status reads left that report "running"
	running   string // status while running (InProgress, Running)
	failure   *armError
	result    func() any // body of the final Location answer (nil: empty)
	start     time.Time
}

// maxOperations is how many long-running operations the engine remembers;
// the status URLs of older ones answer 404 OperationNotFound. It keeps a
// long-running emulator's memory bounded.
const maxOperations = 10000

// newOp starts tracking a long-running operation. The caller holds e.mu.
func (e *Engine) newOp(running string) *operation {
	op := &operation{id: uuid.NewString(), remaining: e.cfg.LROPolls, running: running, start: e.cfg.Now()}
	e.ops[op.id] = op
	e.opOrder = append(e.opOrder, op.id)
	if len(e.opOrder) > maxOperations {
		delete(e.ops, e.opOrder[0])
		e.opOrder[0] = ""
		e.opOrder = e.opOrder[1:]
	}
	return op
}

// read reports whether op is done, counting this read as one poll.
func (op *operation) read() bool {
	if op == nil {
		return true
	}
	if op.remaining > 0 {
		op.remaining--
		return false
	}
	return true
}

// done reports whether op is done without counting a poll.
func (op *operation) done() bool { return op == nil || op.remaining <= 0 }

func (e *Engine) setRetryAfter(w http.ResponseWriter) {
	d := e.cfg.RetryAfter
	w.Header().Set("Retry-After-Ms", strconv.FormatInt(d.Milliseconds(), 10))
	if d >= time.Second {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(d.Seconds()))))
	}
}

func (e *Engine) serveOperation(q *req, id string, location bool) *armError {
	if q.r.Method != http.MethodGet {
		return methodNotAllowed(q)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	op := e.ops[id]
	if op == nil {
		return errf(http.StatusNotFound, "OperationNotFound", "The operation '%s' was not found; it may belong to another emulator instance.", id)
	}
	done := op.read()
	if location {
		if !done {
			q.w.Header().Set("Location", q.base+q.r.URL.RequestURI())
			e.setRetryAfter(q.w)
			q.w.WriteHeader(http.StatusAccepted)
			return nil
		}
		if op.failure != nil {
			return op.failure
		}
		if op.result != nil {
			writeJSON(q.w, http.StatusOK, op.result())
			return nil
		}
		q.w.WriteHeader(http.StatusOK)
		return nil
	}
	body := map[string]any{"id": q.base + q.r.URL.Path, "name": op.id, "startTime": op.start.UTC().Format(time.RFC3339Nano)}
	switch {
	case !done:
		body["status"] = op.running
		e.setRetryAfter(q.w)
	case op.failure != nil:
		body["status"] = "Failed"
		body["error"] = op.failure
		body["endTime"] = e.cfg.Now().UTC().Format(time.RFC3339Nano)
	default:
		body["status"] = "Succeeded"
		body["endTime"] = e.cfg.Now().UTC().Format(time.RFC3339Nano)
	}
	writeJSON(q.w, http.StatusOK, body)
	return nil
}

// --- list paging ---

// writePage answers a list with {"value":[...],"nextLink"} paging by
// $skipToken (an offset).
func (e *Engine) writePage(q *req, items []any) {
	skip, _ := strconv.Atoi(q.r.URL.Query().Get("$skipToken"))
	if skip < 0 || skip > len(items) {
		skip = len(items)
	}
	end := min(skip+e.cfg.PageSize, len(items))
	body := map[string]any{"value": append([]any{}, items[skip:end]...)}
	if end < len(items) {
		v := url.Values{}
		for k, vs := range q.r.URL.Query() {
			v[k] = vs
		}
		v.Set("$skipToken", strconv.Itoa(end))
		body["nextLink"] = q.base + q.r.URL.Path + "?" + v.Encode()
	}
	writeJSON(q.w, http.StatusOK, body)
}

func sortedKeys[M ~map[string]V, V any](m M) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// opURL is base+path with the api-version query.
func opURL(base, path, apiVersion string) string {
	return base + path + "?api-version=" + url.QueryEscape(apiVersion)
}
