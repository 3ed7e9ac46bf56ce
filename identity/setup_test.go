package identity_test

import (
	"encoding/json"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/identity"
	"github.com/shellpool/shellpool/internal/armfake"
)

// The fixture of these tests: setup(t, handle) starts the module's shared
// fake ARM server (internal/armfake), answering every request with handle,
// and returns a Client pointed at it.

const (
	testSub       = "00000000-0000-0000-0000-000000000001"
	testPrincipal = "11111111-1111-1111-1111-111111111111"
	otherPrinc    = "22222222-2222-2222-2222-222222222222"
	// basePath is prefixed to the fake's URL so that a request built from an
	// absolute path instead of the configured endpoint fails.
	basePath = armfake.BasePath
)

// recorded is one request the fake ARM server received.
type recorded = armfake.Request

// setup starts a fake ARM server answering with handle and returns a Client
// pointed at it.
func setup(t *testing.T, handle armfake.HandleFunc) (*identity.Client, *armfake.Server) {
	t.Helper()
	return setupWith(t, &identity.ClientOptions{}, handle)
}

// setupWith is setup with client options (API versions); the fake's cloud,
// transport and retry settings replace those of o.
func setupWith(t *testing.T, o *identity.ClientOptions, handle armfake.HandleFunc) (*identity.Client, *armfake.Server) {
	t.Helper()
	f := armfake.New(t)
	f.Handle(handle)
	opts := *o
	opts.ClientOptions = f.ClientOptions()
	c, err := identity.NewClient(testSub, &fake.TokenCredential{}, &opts)
	require.NoError(t, err)
	return c, f
}

// armError is an ARM error body.
func armError(code, msg string) string {
	b, _ := json.Marshal(map[string]any{"error": map[string]string{"code": code, "message": msg}})
	return string(b)
}
