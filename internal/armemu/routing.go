package armemu

import (
	"net/http"
	"strings"

	"github.com/google/uuid"
)

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
	case n == 9 && ls[4] == "providers" && ls[5] == "microsoft.app" && ls[6] == "sessionpools" &&
		(ls[8] == "fetchmcpservercredentials" || ls[8] == "rotatemcpservercredentials"):
		return e.servePoolMCPAction(q, sub, segs[3], segs[7], ls[8] == "rotatemcpservercredentials")
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
