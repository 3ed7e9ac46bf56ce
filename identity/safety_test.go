package identity_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/tracing"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/identity"
	"github.com/shellpool/shellpool/internal/armfake"
)

const secretToken = "secret-arm-token-0123456789"

// countingCred hands out secretToken and counts how often it was asked.
type countingCred struct{ n atomic.Int32 }

func (c *countingCred) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.n.Add(1)
	return azcore.AccessToken{Token: secretToken, ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// newCountingFake is setup with a counting credential and, when tp is
// set, a tracing provider.
func newCountingFake(t *testing.T, tp *tracing.Provider, handle armfake.HandleFunc) (*identity.Client, *armfake.Server, *countingCred) {
	t.Helper()
	f := armfake.New(t)
	f.Handle(handle)
	o := f.ClientOptions()
	if tp != nil {
		o.TracingProvider = *tp
	}
	cred := &countingCred{}
	c, err := identity.NewClient(testSub, cred, &identity.ClientOptions{ClientOptions: o})
	require.NoError(t, err)
	return c, f, cred
}

// badSegments must never reach ARM as a name.
var badSegments = []string{"", "..", "../x", ".", "a/b", "bad name!", "x%2F..", "x?y", "x#y", `x\y`, " x"}

func TestEveryArgumentValidatedBeforeSending(t *testing.T) {
	t.Parallel()
	c, f, cred := newCountingFake(t, nil, func(int, recorded) (int, string) { return http.StatusOK, identityBody })
	ctx := t.Context()
	const raName = "5f0bb1e4-0000-4000-8000-000000000001"
	type method struct {
		name, param string
		call        func(v string) error
		extra       []string
	}
	badScopes := []string{"relative/scope", "subscriptions/" + testSub, "/relative/scope", "/", "/subscriptions/..",
		"/subscriptions/" + testSub + "/resourceGroups/../x", "/subscriptions/" + testSub + "//resourceGroups/rg",
		poolID + "?x=1", poolID + "/..", "/subscriptions/" + testSub + "/resourceGroups/rg/providers/Microsoft.App/sessionPools"}
	methods := []method{
		{"CreateOrUpdateIdentity group", "resourceGroup", func(v string) error {
			_, err := c.CreateOrUpdateIdentity(ctx, v, "pool-uami", "eastus", nil)
			return err
		}, []string{"rg.", strings.Repeat("g", 91)}},
		{"CreateOrUpdateIdentity name", "name", func(v string) error {
			_, err := c.CreateOrUpdateIdentity(ctx, "rg", v, "eastus", nil)
			return err
		}, []string{"ab", "-uami", "_uami", "u.ami", strings.Repeat("u", 129)}},
		{"CreateOrUpdateIdentity location", "location", func(v string) error {
			_, err := c.CreateOrUpdateIdentity(ctx, "rg", "pool-uami", v, nil)
			return err
		}, []string{"Not A Region!!", "east-us"}},
		{"GetIdentity group", "resourceGroup", func(v string) error { _, err := c.GetIdentity(ctx, v, "pool-uami", nil); return err }, nil},
		{"GetIdentity name", "name", func(v string) error { _, err := c.GetIdentity(ctx, "rg", v, nil); return err }, nil},
		{"DeleteIdentity group", "resourceGroup", func(v string) error { _, err := c.DeleteIdentity(ctx, v, "pool-uami", nil); return err }, nil},
		{"DeleteIdentity name", "name", func(v string) error { _, err := c.DeleteIdentity(ctx, "rg", v, nil); return err }, nil},
		{"AssignRole scope", "scope", func(v string) error {
			_, err := c.AssignRole(ctx, v, executorDefID, testPrincipal, fastRetry)
			return err
		}, badScopes},
		{"AssignRole principal", "principalID", func(v string) error {
			_, err := c.AssignRole(ctx, poolID, executorDefID, v, fastRetry)
			return err
		}, []string{"urn:uuid:" + testPrincipal, strings.ReplaceAll(testPrincipal, "-", "")}},
		{"AssignRole role", "roleDefinitionID", func(v string) error {
			_, err := c.AssignRole(ctx, poolID, v, testPrincipal, fastRetry)
			return err
		}, []string{"../../providers/Microsoft.Authorization/roleDefinitions/" + readerGUID, "relative/providers/Microsoft.Authorization/roleDefinitions/" + readerGUID}},
		{"AssignRole name", "AssignRoleOptions.Name", func(v string) error {
			_, err := c.AssignRole(ctx, poolID, executorDefID, testPrincipal, &identity.AssignRoleOptions{Name: v + "x"})
			return err
		}, nil},
		{"AssignSessionExecutor pool", "poolResourceID", func(v string) error {
			_, err := c.AssignSessionExecutor(ctx, v, testPrincipal, fastRetry)
			return err
		}, append([]string{strings.TrimPrefix(poolID, "/")}, badScopes...)},
		{"GetRoleAssignment scope", "scope", func(v string) error { _, err := c.GetRoleAssignment(ctx, v, raName, nil); return err }, badScopes},
		{"GetRoleAssignment name", "name", func(v string) error { _, err := c.GetRoleAssignment(ctx, poolID, v, nil); return err }, []string{"not-a-guid"}},
		{"DeleteRoleAssignment scope", "scope", func(v string) error { _, err := c.DeleteRoleAssignment(ctx, v, raName, nil); return err }, badScopes},
		{"DeleteRoleAssignment name", "name", func(v string) error { _, err := c.DeleteRoleAssignment(ctx, poolID, v, nil); return err }, []string{"not-a-guid"}},
		{"NewListRoleAssignmentsPager scope", "scope", func(v string) error {
			_, err := c.NewListRoleAssignmentsPager(v, nil).NextPage(ctx)
			return err
		}, badScopes},
		{"NewListRoleAssignmentsPager principal", "ListRoleAssignmentsOptions.PrincipalID", func(v string) error {
			_, err := c.NewListRoleAssignmentsPager(poolID, &identity.ListRoleAssignmentsOptions{PrincipalID: v + "'"}).NextPage(ctx)
			return err
		}, nil},
	}
	for _, m := range methods {
		for _, v := range append(append([]string(nil), badSegments...), m.extra...) {
			if m.param == "roleDefinitionID" && v == "" {
				continue // "" is refused too, but as a missing GUID; covered below
			}
			err := m.call(v)
			require.Error(t, err, "%s(%q) must be refused", m.name, v)
			assert.ErrorIs(t, err, identity.ErrInvalidArgument, "%s(%q)", m.name, v)
			var ae *identity.ArgumentError
			if assert.ErrorAs(t, err, &ae, "%s(%q)", m.name, v) {
				assert.Equal(t, m.param, ae.Name, "%s(%q)", m.name, v)
			}
		}
	}
	assert.Empty(t, f.Requests(), "nothing is sent for a bad argument")
	assert.Zero(t, cred.n.Load(), "no token is fetched for a bad argument")
}

func TestNewClientRefusesBadSubscription(t *testing.T) {
	t.Parallel()
	for _, v := range badSegments {
		cred := &countingCred{}
		_, err := identity.NewClient(v, cred, nil)
		var ae *identity.ArgumentError
		require.ErrorAs(t, err, &ae, "NewClient(%q)", v)
		assert.Equal(t, "subscriptionID", ae.Name)
		assert.Zero(t, cred.n.Load())
	}
}

// TestAssignRolePrincipalNotFoundIsBounded: with context.Background() and a
// principal that never appears, AssignRole returns once
// PrincipalNotFoundTimeout has passed.
func TestAssignRolePrincipalNotFoundIsBounded(t *testing.T) {
	t.Parallel()
	c, f, _ := newCountingFake(t, nil, func(int, recorded) (int, string) {
		return http.StatusBadRequest, armError("PrincipalNotFound", "Principal does not exist in the directory.")
	})
	type result struct {
		resp identity.AssignRoleResponse
		err  error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := c.AssignRole(context.Background(), poolID, executorDefID, testPrincipal, &identity.AssignRoleOptions{
			RetryDelay: time.Millisecond, MaxRetryDelay: 5 * time.Millisecond, PrincipalNotFoundTimeout: 50 * time.Millisecond,
		})
		done <- result{resp, err}
	}()
	var res result
	select {
	case res = <-done:
	case <-time.After(time.Minute): // generous: only a hang trips it
		t.Fatal("AssignRole did not return although PrincipalNotFoundTimeout was 50ms")
	}
	err := res.err
	require.Error(t, err)
	var se *identity.ServiceError
	require.ErrorAs(t, err, &se)
	var re *azcore.ResponseError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "PrincipalNotFound", re.ErrorCode)
	assert.False(t, errors.Is(err, context.DeadlineExceeded), "the bound, not a context, ended it")
	assert.Contains(t, err.Error(), "PrincipalNotFoundTimeout", "the error names the knob to widen")
	// How many attempts fit in 50ms depends on the machine; that retries
	// happen is TestAssignRolePrincipalNotFoundRetried's job.
	assert.GreaterOrEqual(t, res.resp.Attempts, 1)
	assert.Len(t, f.Requests(), res.resp.Attempts, "Attempts counts the PUTs sent")
}

func TestSpansCarryNamespace(t *testing.T) {
	t.Parallel()
	rec := &armfake.SpanRecorder{}
	tp := rec.Provider()
	c, _, _ := newCountingFake(t, &tp, func(i int, r recorded) (int, string) {
		switch {
		case strings.Contains(r.Path, "userAssignedIdentities"):
			return http.StatusOK, identityBody
		case r.Method == http.MethodPut:
			return echoPut(http.StatusCreated)(i, r)
		case r.Method == http.MethodGet && strings.HasSuffix(r.Path, "roleAssignments"):
			return http.StatusOK, `{"value":[]}`
		default:
			return http.StatusNotFound, armError("RoleAssignmentNotFound", "no such assignment")
		}
	})
	ctx := t.Context()
	_, err := c.CreateOrUpdateIdentity(ctx, "rg", "pool-uami", "eastus", nil)
	require.NoError(t, err)
	_, err = c.GetIdentity(ctx, "rg", "pool-uami", nil)
	require.NoError(t, err)
	_, err = c.AssignSessionExecutor(ctx, poolID, testPrincipal, nil)
	require.NoError(t, err)
	_, err = c.AssignRole(ctx, poolID, executorDefID, testPrincipal, nil)
	require.NoError(t, err)
	_, err = c.GetRoleAssignment(ctx, poolID, "5f0bb1e4-0000-4000-8000-000000000001", nil)
	require.Error(t, err, "a failing call is traced too")
	_, err = c.NewListRoleAssignmentsPager(poolID, nil).NextPage(ctx)
	require.NoError(t, err)

	want := map[string]string{
		"Client.CreateOrUpdateIdentity": identity.IdentityNamespace, "Client.GetIdentity": identity.IdentityNamespace,
		"Client.AssignSessionExecutor": identity.AuthorizationNamespace, "Client.AssignRole": identity.AuthorizationNamespace,
		"Client.GetRoleAssignment": identity.AuthorizationNamespace, "Client.NewListRoleAssignmentsPager": identity.AuthorizationNamespace,
	}
	seen := map[string]bool{}
	httpSpans := 0
	for _, s := range rec.Spans() {
		if ns, ok := want[s.Name]; ok {
			seen[s.Name] = true
			assert.Equal(t, ns, s.Attrs["az.namespace"], "span %s", s.Name)
		}
		if strings.HasPrefix(s.Name, "HTTP ") {
			httpSpans++
			assert.Contains(t, []any{identity.IdentityNamespace, identity.AuthorizationNamespace}, s.Attrs["az.namespace"], "HTTP span %s", s.Name)
		}
		for k, v := range s.Attrs {
			assert.NotContains(t, fmt.Sprint(v), secretToken, "span %s attribute %s", s.Name, k)
		}
		assert.NotContains(t, s.Status, secretToken)
		assert.NotContains(t, strings.Join(s.Events, " "), secretToken)
	}
	for name := range want {
		assert.True(t, seen[name], "span %s is recorded", name)
	}
	assert.Positive(t, httpSpans)
}
