package identity_test

import (
	"os"

	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/identity"
)

func TestNewCredential(t *testing.T) {
	t.Parallel()
	t.Run("pinned client ID uses only that managed identity", func(t *testing.T) {
		t.Parallel()
		cred, err := identity.NewCredential(&identity.CredentialOptions{ClientID: "44444444-4444-4444-4444-444444444444"})
		require.NoError(t, err)
		assert.IsType(t, &azidentity.ManagedIdentityCredential{}, cred)
	})
	t.Run("invalid client ID", func(t *testing.T) {
		t.Parallel()
		_, err := identity.NewCredential(&identity.CredentialOptions{ClientID: "pool-uami"})
		var ae *identity.ArgumentError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, "CredentialOptions.ClientID", ae.Name)
	})
}

// TestNewCredentialDefault is not parallel: it controls AZURE_TOKEN_CREDENTIALS.
func TestNewCredentialDefault(t *testing.T) {
	t.Setenv("AZURE_TOKEN_CREDENTIALS", "")
	require.NoError(t, os.Unsetenv("AZURE_TOKEN_CREDENTIALS"))

	cred, err := identity.NewCredential(nil)
	require.NoError(t, err)
	assert.IsType(t, &azidentity.DefaultAzureCredential{}, cred)

	// The azidentity options are passed through: this one makes
	// DefaultAzureCredential refuse to start without AZURE_TOKEN_CREDENTIALS.
	_, err = identity.NewCredential(&identity.CredentialOptions{
		DefaultAzureCredentialOptions: azidentity.DefaultAzureCredentialOptions{RequireAzureTokenCredentials: true},
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "AZURE_TOKEN_CREDENTIALS")
}
