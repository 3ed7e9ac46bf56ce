package identity

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/google/uuid"

	"github.com/shellpool/shellpool/internal/armx"
	"github.com/shellpool/shellpool/internal/azname"
)

const (
	defaultRetryDelay    = 2 * time.Second
	defaultMaxRetryDelay = 30 * time.Second

	codePrincipalNotFound     = "PrincipalNotFound"
	codeRoleAssignmentExists  = "RoleAssignmentExists"
	adviceRoleAssignmentWrite = "The caller needs Microsoft.Authorization/roleAssignments/write at this scope: " +
		"ask for the Owner, User Access Administrator or Role Based Access Control Administrator role on it (or a parent scope), " +
		"or have someone who holds one make the assignment"
)

// roleAssignmentsPath returns the escaped path of the role assignments
// collection at scope ("" name) or of one assignment.
func roleAssignmentsPath(scope, name string) string {
	segs := strings.Split(strings.Trim(scope, "/"), "/")
	for i, s := range segs {
		segs[i] = armx.Segment(s)
	}
	p := "/" + strings.Join(segs, "/") + "/providers/" + RoleAssignmentResourceType
	if name != "" {
		p += "/" + armx.Segment(name)
	}
	return p
}

// normalizeScope checks a scope with azname.ScopeRule (an absolute ARM
// resource ID: /subscriptions/..., or /providers/... for management groups)
// and returns it without a trailing slash.
func normalizeScope(param, scope string) (string, error) {
	if r := azname.ScopeRule(scope); r != "" {
		return "", argErr(param, r)
	}
	return strings.TrimSuffix(scope, "/"), nil
}

// subscriptionOf returns the subscription ID in a resource ID, or "".
func subscriptionOf(resourceID string) string {
	segs := strings.Split(strings.Trim(resourceID, "/"), "/")
	if len(segs) >= 2 && strings.EqualFold(segs[0], "subscriptions") {
		return segs[1]
	}
	return ""
}

// AssignRole assigns the role roleDefinitionID (a role definition ID, see
// RoleDefinitionID, or a bare GUID) to principalID (an object ID, such as
// Identity.PrincipalID) at scope (an absolute resource, group or subscription
// ID). It is idempotent: the name is RoleAssignmentName unless options.Name
// is set, and an existing assignment is returned with Existing set. It waits
// out PrincipalNotFound as the package doc ("Managed identity and role
// assignments") describes; invalid arguments give an *ArgumentError.
func (c *Client) AssignRole(ctx context.Context, scope, roleDefinitionID, principalID string, options *AssignRoleOptions) (resp AssignRoleResponse, err error) {
	ctx, end := runtime.StartSpan(ctx, "Client.AssignRole", c.roleTracer, nil)
	defer func() { end(err) }()
	return c.assignRole(ctx, "AssignRole", scope, roleDefinitionID, principalID, options)
}

// AssignSessionExecutor assigns the "Azure ContainerApps Session Executor"
// role on a session pool to a principal, so that the principal's data-plane
// tokens (sessions.Audience) can run commands, move files and manage sessions in the
// pool. It is AssignRole with SessionExecutorRoleDefinitionID of the pool's
// subscription; see AssignRole for naming, retries and errors.
//
//   - poolResourceID - /subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.App/sessionPools/{pool}.
//   - principalID - the object ID of the principal, such as Identity.PrincipalID.
func (c *Client) AssignSessionExecutor(ctx context.Context, poolResourceID, principalID string, options *AssignRoleOptions) (resp AssignRoleResponse, err error) {
	ctx, end := runtime.StartSpan(ctx, "Client.AssignSessionExecutor", c.roleTracer, nil)
	defer func() { end(err) }()
	if _, err := normalizeScope("poolResourceID", poolResourceID); err != nil {
		return resp, err
	}
	sub := subscriptionOf(poolResourceID)
	if sub == "" || !strings.Contains(strings.ToLower(poolResourceID), "/providers/"+strings.ToLower(SessionPoolResourceType)+"/") {
		return resp, argErr("poolResourceID", "must be a session pool's resource ID: /subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.App/sessionPools/{pool}")
	}
	return c.assignRole(ctx, "AssignSessionExecutor", poolResourceID, SessionExecutorRoleDefinitionID(sub), principalID, options)
}

func (c *Client) assignRole(ctx context.Context, op, scope, roleDefinitionID, principalID string, options *AssignRoleOptions) (AssignRoleResponse, error) {
	var resp AssignRoleResponse
	if options == nil {
		options = &AssignRoleOptions{}
	}
	scope, err := normalizeScope("scope", scope)
	if err != nil {
		return resp, err
	}
	if _, err := uuid.Parse(principalID); err != nil || len(principalID) != 36 {
		return resp, argErr("principalID", "must be the principal's object ID, a GUID (Identity.PrincipalID, or the \"oid\" claim from InspectToken); an identity's client ID or name does not work")
	}
	roleDefinitionID, err = expandRoleDefinitionID(scope, roleDefinitionID)
	if err != nil {
		return resp, err
	}
	name := options.Name
	if name == "" {
		name = RoleAssignmentName(scope, principalID, roleDefinitionID)
	} else if checkRoleAssignmentName(name) != nil {
		return resp, argErr("AssignRoleOptions.Name", "must be a GUID; leave it empty for the deterministic RoleAssignmentName")
	}
	pt := options.PrincipalType
	if pt == "" {
		pt = PrincipalTypeServicePrincipal
	}
	delay, maxDelay := options.RetryDelay, options.MaxRetryDelay
	if delay <= 0 {
		delay = defaultRetryDelay
	}
	if maxDelay <= 0 {
		maxDelay = defaultMaxRetryDelay
	}
	if maxDelay < delay {
		maxDelay = delay
	}
	budget := principalNotFoundBudget(options)
	start := time.Now()
	body := roleAssignmentWire{Properties: roleAssignmentProps{
		RoleDefinitionID: roleDefinitionID, PrincipalID: principalID, PrincipalType: pt,
		Description: options.Description, Condition: options.Condition, ConditionVersion: options.ConditionVersion,
	}}
	u := armx.URL(c.endpoint, roleAssignmentsPath(scope, name))
	var lastNotFound *azcore.ResponseError
	for {
		resp.Attempts++
		req, err := armx.Request{Method: http.MethodPut, URL: u, APIVersion: c.roleAPI, Body: body}.New(ctx)
		if err != nil {
			return resp, err
		}
		ra, _, err := armx.SendDecode[RoleAssignment](c.pl, req, http.StatusOK, http.StatusCreated)
		if err == nil {
			resp.RoleAssignment = ra
			return resp, nil
		}
		re := asResponseError(err)
		switch {
		case re == nil:
			if ctx.Err() != nil && lastNotFound != nil {
				return resp, principalNotFoundError(op, lastNotFound, ctx.Err(), resp.Attempts)
			}
			return resp, err
		case re.StatusCode == http.StatusForbidden:
			return resp, serviceErr(op, re, nil, adviceRoleAssignmentWrite)
		case re.StatusCode == http.StatusConflict && strings.EqualFold(re.ErrorCode, codeRoleAssignmentExists):
			existing, ferr := c.findExisting(ctx, scope, name, roleDefinitionID, principalID)
			if ferr != nil {
				return resp, serviceErr(op, re, ferr,
					"The principal already holds the role at this scope, but the existing assignment could not be read; list the scope's role assignments to find it")
			}
			resp.RoleAssignment, resp.Existing = existing, true
			return resp, nil
		case re.StatusCode == http.StatusBadRequest && strings.EqualFold(re.ErrorCode, codePrincipalNotFound):
			lastNotFound = re
			left := budget - time.Since(start)
			if left <= 0 {
				return resp, serviceErr(op, re, nil,
					fmt.Sprintf("Gave up after %d attempts over %s (AssignRoleOptions.PrincipalNotFoundTimeout, default %s). "+
						"If the principal was just created, Entra ID replication can take minutes: retry, or set a longer PrincipalNotFoundTimeout; "+
						"otherwise check that principalID is an object ID in this tenant", resp.Attempts, time.Since(start).Round(time.Millisecond), DefaultPrincipalNotFoundTimeout))
			}
			t := time.NewTimer(min(delay, left))
			select {
			case <-ctx.Done():
				t.Stop()
				return resp, principalNotFoundError(op, re, ctx.Err(), resp.Attempts)
			case <-t.C:
			}
			delay = min(2*delay, maxDelay)
		default:
			return resp, err
		}
	}
}

// principalNotFoundBudget is how long PrincipalNotFound is retried.
func principalNotFoundBudget(o *AssignRoleOptions) time.Duration {
	if o == nil || o.PrincipalNotFoundTimeout <= 0 {
		return DefaultPrincipalNotFoundTimeout
	}
	return o.PrincipalNotFoundTimeout
}

func principalNotFoundError(op string, re *azcore.ResponseError, cause error, attempts int) error {
	return serviceErr(op, re, cause,
		fmt.Sprintf("Gave up after %d attempts. If the principal was just created, Entra ID replication can take minutes: retry with a longer context deadline; otherwise check that principalID is an object ID in this tenant", attempts))
}

// expandRoleDefinitionID accepts a role definition ID or a bare role GUID.
func expandRoleDefinitionID(scope, id string) (string, error) {
	id = strings.TrimSpace(id)
	if _, err := uuid.Parse(id); err == nil {
		if sub := subscriptionOf(scope); sub != "" {
			return RoleDefinitionID(sub, id), nil
		}
		return roleDefinitionsSegment + id, nil
	}
	i := strings.Index(strings.ToLower(id), strings.ToLower(roleDefinitionsSegment))
	if i < 0 || azname.ScopeRule(id) != "" {
		return "", argErr("roleDefinitionID", "must be a role definition ID (/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{guid}, see identity.RoleDefinitionID) or a role GUID")
	}
	if g := id[i+len(roleDefinitionsSegment):]; checkRoleAssignmentName(g) != nil {
		return "", argErr("roleDefinitionID", "must end with the role's GUID")
	}
	return id, nil
}

// findExisting finds the assignment that made a PUT conflict with
// RoleAssignmentExists: first by name, then by listing the principal's
// assignments at the scope.
func (c *Client) findExisting(ctx context.Context, scope, name, roleDefinitionID, principalID string) (RoleAssignment, error) {
	matches := func(ra RoleAssignment) bool {
		return strings.EqualFold(ra.PrincipalID, principalID) && SameRoleDefinition(ra.RoleDefinitionID, roleDefinitionID) &&
			(ra.Scope == "" || strings.EqualFold(strings.TrimRight(ra.Scope, "/"), scope))
	}
	got, err := c.getRoleAssignment(ctx, scope, name)
	if err == nil && matches(got) {
		return got, nil
	}
	if re := asResponseError(err); err != nil && (re == nil || re.StatusCode != http.StatusNotFound) {
		return RoleAssignment{}, err
	}
	pager := c.NewListRoleAssignmentsPager(scope, &ListRoleAssignmentsOptions{PrincipalID: principalID})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return RoleAssignment{}, err
		}
		for _, ra := range page.Value {
			if ra != nil && ra.Scope != "" && matches(*ra) {
				return *ra, nil
			}
		}
	}
	return RoleAssignment{}, fmt.Errorf("no assignment of role %s to principal %s found at the scope", lastSegment(roleDefinitionID), principalID)
}

// GetRoleAssignment gets the role assignment name at scope.
//
// If the operation fails it returns an *azcore.ResponseError (StatusCode 404
// when there is no such assignment).
func (c *Client) GetRoleAssignment(ctx context.Context, scope, name string, options *GetRoleAssignmentOptions) (resp GetRoleAssignmentResponse, err error) {
	ctx, end := runtime.StartSpan(ctx, "Client.GetRoleAssignment", c.roleTracer, nil)
	defer func() { end(err) }()
	if scope, err = normalizeScope("scope", scope); err != nil {
		return resp, err
	}
	if err := checkRoleAssignmentName(name); err != nil {
		return resp, err
	}
	ra, err := c.getRoleAssignment(ctx, scope, name)
	return GetRoleAssignmentResponse{RoleAssignment: ra}, err
}

func (c *Client) getRoleAssignment(ctx context.Context, scope, name string) (RoleAssignment, error) {
	ra, _, err := armx.Do[RoleAssignment](ctx, c.pl, armx.Request{Method: http.MethodGet, URL: armx.URL(c.endpoint, roleAssignmentsPath(scope, name)), APIVersion: c.roleAPI, OK: []int{http.StatusOK}})
	return ra, err
}

// DeleteRoleAssignment deletes the role assignment name at scope. Deleting
// one that does not exist succeeds with Existed false.
//
// If the operation fails it returns an *azcore.ResponseError; a 403 comes
// inside a *ServiceError that names the permission needed
// (Microsoft.Authorization/roleAssignments/delete).
func (c *Client) DeleteRoleAssignment(ctx context.Context, scope, name string, options *DeleteRoleAssignmentOptions) (resp DeleteRoleAssignmentResponse, err error) {
	ctx, end := runtime.StartSpan(ctx, "Client.DeleteRoleAssignment", c.roleTracer, nil)
	defer func() { end(err) }()
	if scope, err = normalizeScope("scope", scope); err != nil {
		return resp, err
	}
	if err := checkRoleAssignmentName(name); err != nil {
		return resp, err
	}
	req, err := armx.Request{Method: http.MethodDelete, URL: armx.URL(c.endpoint, roleAssignmentsPath(scope, name)), APIVersion: c.roleAPI}.New(ctx)
	if err != nil {
		return resp, err
	}
	httpResp, err := armx.Send(c.pl, req, http.StatusOK, http.StatusNoContent)
	if err != nil {
		if re := asResponseError(err); re != nil && re.StatusCode == http.StatusForbidden {
			return resp, serviceErr("DeleteRoleAssignment", re, nil,
				"The caller needs Microsoft.Authorization/roleAssignments/delete at this scope (Owner, User Access Administrator or Role Based Access Control Administrator)")
		}
		return resp, err
	}
	if httpResp.StatusCode == http.StatusNoContent {
		return resp, nil
	}
	ra, err := armx.Decode[RoleAssignment](httpResp)
	return DeleteRoleAssignmentResponse{RoleAssignment: ra, Existed: true}, err
}

// NewListRoleAssignmentsPager lists role assignments at scope: the tutorial's
// "Verify role assignment" step. It sends nothing until NextPage is called;
// an invalid scope or principal ID is reported by the first NextPage as an
// *ArgumentError.
//
//   - scope - a resource ID (a session pool's), a resource group ID or a subscription ID.
//   - options - nil lists everything the service returns for the scope.
//
// Pages that fail return an *azcore.ResponseError.
func (c *Client) NewListRoleAssignmentsPager(scope string, options *ListRoleAssignmentsOptions) *runtime.Pager[ListRoleAssignmentsResponse] {
	if options == nil {
		options = &ListRoleAssignmentsOptions{}
	}
	o := *options
	return runtime.NewPager(runtime.PagingHandler[ListRoleAssignmentsResponse]{
		More: func(page ListRoleAssignmentsResponse) bool { return page.NextLink != nil && *page.NextLink != "" },
		Fetcher: func(ctx context.Context, page *ListRoleAssignmentsResponse) (resp ListRoleAssignmentsResponse, err error) {
			ctx, end := runtime.StartSpan(ctx, "Client.NewListRoleAssignmentsPager", c.roleTracer, nil)
			defer func() { end(err) }()
			var req *policy.Request
			if page == nil {
				req, err = c.listRequest(ctx, scope, o)
			} else {
				req, err = armx.NewNextRequest(ctx, *page.NextLink)
			}
			if err != nil {
				return resp, err
			}
			resp, _, err = armx.SendDecode[ListRoleAssignmentsResponse](c.pl, req, http.StatusOK)
			return resp, err
		},
	})
}

func (c *Client) listRequest(ctx context.Context, scope string, o ListRoleAssignmentsOptions) (*policy.Request, error) {
	scope, err := normalizeScope("scope", scope)
	if err != nil {
		return nil, err
	}
	var filters []string
	if o.AtScope {
		filters = append(filters, "atScope()")
	}
	if o.PrincipalID != "" {
		if _, err := uuid.Parse(o.PrincipalID); err != nil || len(o.PrincipalID) != 36 {
			return nil, argErr("ListRoleAssignmentsOptions.PrincipalID", "must be the principal's object ID, a GUID")
		}
		filters = append(filters, "principalId eq '"+o.PrincipalID+"'")
	}
	if f := strings.TrimSpace(o.Filter); f != "" {
		filters = append(filters, f)
	}
	req, err := armx.Request{Method: http.MethodGet, URL: armx.URL(c.endpoint, roleAssignmentsPath(scope, "")), APIVersion: c.roleAPI}.New(ctx)
	if err != nil {
		return nil, err
	}
	if len(filters) > 0 {
		q := req.Raw().URL.Query()
		q.Set("$filter", strings.Join(filters, " and "))
		req.Raw().URL.RawQuery = q.Encode()
	}
	return req, nil
}

// checkRoleAssignmentName refuses a role assignment name that is not a GUID.
func checkRoleAssignmentName(name string) error {
	if _, err := uuid.Parse(name); err != nil || len(name) != 36 {
		return argErr("name", "must be the role assignment's name, a GUID such as RoleAssignmentName returns")
	}
	return nil
}
