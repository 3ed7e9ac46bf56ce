package identity_test

import (
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/identity"
)

const identityPath = "/subscriptions/" + testSub + "/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/pool-uami"

// identityBody is the response shape of API.md §3.1 (MSI IdentityCreate example).
const identityBody = `{
  "id": "/subscriptions/` + testSub + `/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/pool-uami",
  "name": "pool-uami", "location": "eastus", "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
  "tags": {"env": "test"},
  "properties": {"tenantId": "33333333-3333-3333-3333-333333333333", "principalId": "` + testPrincipal + `", "clientId": "44444444-4444-4444-4444-444444444444"}
}`

func TestCreateOrUpdateIdentity(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		status      int
		wantCreated bool
	}{
		{"created", http.StatusCreated, true},
		{"updated", http.StatusOK, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, f := setup(t, func(int, recorded) (int, string) { return tc.status, identityBody })
			resp, err := c.CreateOrUpdateIdentity(t.Context(), "rg", "pool-uami", "eastus", &identity.CreateOrUpdateIdentityOptions{Tags: map[string]string{"env": "test"}})
			require.NoError(t, err)

			reqs := f.Requests()
			require.Len(t, reqs, 1)
			assert.Equal(t, http.MethodPut, reqs[0].Method)
			assert.Equal(t, identityPath, reqs[0].Path)
			assert.Equal(t, url.Values{"api-version": {"2023-01-31"}}, reqs[0].Query)
			assert.JSONEq(t, `{"location":"eastus","tags":{"env":"test"}}`, reqs[0].Body)
			assert.Equal(t, "Bearer fake_token", reqs[0].Auth)

			assert.Equal(t, tc.wantCreated, resp.Created)
			assert.Equal(t, testPrincipal, resp.PrincipalID)
			assert.Equal(t, "44444444-4444-4444-4444-444444444444", resp.ClientID)
			assert.Equal(t, "33333333-3333-3333-3333-333333333333", resp.TenantID)
			assert.Equal(t, "pool-uami", resp.Name)
			assert.Equal(t, "eastus", resp.Location)
			assert.Equal(t, identity.IdentityResourceType, resp.Type)
			assert.Equal(t, map[string]string{"env": "test"}, resp.Tags)
			assert.Contains(t, resp.ID, "/userAssignedIdentities/pool-uami")
		})
	}
}

func TestIdentityAPIVersionOverride(t *testing.T) {
	t.Parallel()
	c, f := setup(t, func(int, recorded) (int, string) { return http.StatusOK, identityBody })
	_, err := c.GetIdentity(t.Context(), "rg", "pool-uami", nil)
	require.NoError(t, err)
	assert.Equal(t, "2023-01-31", f.Requests()[0].Query.Get("api-version"))

	// A second client with the override, on a fresh fake.
	c2, f2 := setupWith(t, &identity.ClientOptions{IdentityAPIVersion: "2024-11-30", RoleAssignmentAPIVersion: "2022-05-01-preview"},
		func(int, recorded) (int, string) { return http.StatusOK, identityBody })
	_, err = c2.GetIdentity(t.Context(), "rg", "pool-uami", nil)
	require.NoError(t, err)
	_, err = c2.GetRoleAssignment(t.Context(), "/subscriptions/"+testSub, "55555555-5555-5555-5555-555555555555", nil)
	require.NoError(t, err)
	reqs := f2.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, "2024-11-30", reqs[0].Query.Get("api-version"))
	assert.Equal(t, "2022-05-01-preview", reqs[1].Query.Get("api-version"))
}

func TestGetIdentity(t *testing.T) {
	t.Parallel()
	t.Run("found", func(t *testing.T) {
		t.Parallel()
		c, f := setup(t, func(int, recorded) (int, string) { return http.StatusOK, identityBody })
		resp, err := c.GetIdentity(t.Context(), "rg", "pool-uami", nil)
		require.NoError(t, err)
		assert.Equal(t, testPrincipal, resp.PrincipalID)
		reqs := f.Requests()
		require.Len(t, reqs, 1)
		assert.Equal(t, http.MethodGet, reqs[0].Method)
		assert.Equal(t, identityPath, reqs[0].Path)
	})
	t.Run("not found", func(t *testing.T) {
		t.Parallel()
		c, _ := setup(t, func(int, recorded) (int, string) {
			return http.StatusNotFound, armError("ResourceNotFound", "The Resource 'pool-uami' was not found.")
		})
		_, err := c.GetIdentity(t.Context(), "rg", "pool-uami", nil)
		var re *azcore.ResponseError
		require.ErrorAs(t, err, &re)
		assert.Equal(t, http.StatusNotFound, re.StatusCode)
		assert.Equal(t, "ResourceNotFound", re.ErrorCode)
	})
}

func TestDeleteIdentity(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		status      int
		wantExisted bool
	}{
		{"deleted", http.StatusOK, true},
		{"absent", http.StatusNoContent, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, f := setup(t, func(int, recorded) (int, string) { return tc.status, "" })
			resp, err := c.DeleteIdentity(t.Context(), "rg", "pool-uami", nil)
			require.NoError(t, err)
			assert.Equal(t, tc.wantExisted, resp.Existed)
			reqs := f.Requests()
			require.Len(t, reqs, 1)
			assert.Equal(t, http.MethodDelete, reqs[0].Method)
			assert.Equal(t, identityPath, reqs[0].Path)
			assert.Equal(t, "2023-01-31", reqs[0].Query.Get("api-version"))
		})
	}
}

func TestIdentityArgumentsRefusedBeforeSending(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		call      func(c *identity.Client) error
		wantParam string
	}{
		{"empty resource group", func(c *identity.Client) error {
			_, err := c.CreateOrUpdateIdentity(t.Context(), "", "uami", "eastus", nil)
			return err
		}, "resourceGroup"},
		{"name is a path", func(c *identity.Client) error {
			_, err := c.GetIdentity(t.Context(), "rg", "a/b", nil)
			return err
		}, "name"},
		{"empty location", func(c *identity.Client) error {
			_, err := c.CreateOrUpdateIdentity(t.Context(), "rg", "uami", " ", nil)
			return err
		}, "location"},
		{"empty name on delete", func(c *identity.Client) error {
			_, err := c.DeleteIdentity(t.Context(), "rg", "", nil)
			return err
		}, "name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, f := setup(t, func(int, recorded) (int, string) { return http.StatusOK, identityBody })
			err := tc.call(c)
			require.ErrorIs(t, err, identity.ErrInvalidArgument)
			var ae *identity.ArgumentError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, tc.wantParam, ae.Name)
			assert.Empty(t, f.Requests(), "nothing may be sent")
		})
	}
}

func TestNewClientValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		sub     string
		cred    azcore.TokenCredential
		options *identity.ClientOptions
		param   string
	}{
		{"empty subscription", "", &fake.TokenCredential{}, nil, "subscriptionID"},
		{"subscription is a path", "/subscriptions/x", &fake.TokenCredential{}, nil, "subscriptionID"},
		{"nil credential", testSub, nil, nil, "cred"},
		{"shared api-version", testSub, &fake.TokenCredential{}, &identity.ClientOptions{
			ClientOptions: arm.ClientOptions{ClientOptions: policy.ClientOptions{APIVersion: "2020-01-01"}},
		}, "ClientOptions.APIVersion"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := identity.NewClient(tc.sub, tc.cred, tc.options)
			var ae *identity.ArgumentError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, tc.param, ae.Name)
			assert.True(t, errors.Is(err, identity.ErrInvalidArgument))
		})
	}
}

func TestResourceID(t *testing.T) {
	t.Parallel()
	id, err := identity.ResourceID(testSub, "rg", "pool-uami")
	require.NoError(t, err)
	assert.Equal(t, identityPath, id.String())
	assert.Equal(t, "pool-uami", id.Name)
	assert.Equal(t, "rg", id.ResourceGroupName)
	for _, bad := range [][3]string{{"", "rg", "pool-uami"}, {testSub, "a/b", "pool-uami"}, {testSub, "rg", "../x"}, {testSub, "rg", "x"}} {
		_, err := identity.ResourceID(bad[0], bad[1], bad[2])
		assert.ErrorIs(t, err, identity.ErrInvalidArgument, "%q", bad)
	}
}
