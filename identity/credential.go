package identity

import (
	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/google/uuid"
)

// CredentialOptions configures NewCredential. A nil *CredentialOptions is the
// same as the zero value.
type CredentialOptions struct {
	// DefaultAzureCredentialOptions are passed to
	// azidentity.NewDefaultAzureCredential unchanged when ClientID is empty;
	// when ClientID is set, only its ClientOptions are used.
	azidentity.DefaultAzureCredentialOptions

	// ClientID pins the credential to the user-assigned managed identity with
	// this client ID (a GUID; Identity.ClientID). Set it where the code runs
	// in Azure with that identity attached, for example in a Container App;
	// leave it empty on a developer machine.
	ClientID string
}

// NewCredential returns a credential for the common cases without hiding
// azidentity:
//
//   - ClientID empty: azidentity.DefaultAzureCredential with the given options.
//     It tries environment variables, workload identity, the managed identity
//     (the system-assigned one, or the one AZURE_CLIENT_ID names), then the
//     Azure CLI and Azure Developer CLI logins.
//   - ClientID set: azidentity.ManagedIdentityCredential for that user-assigned
//     identity, and nothing else. A pinned identity never falls back to
//     another principal (a developer login, the system-assigned identity),
//     because that fallback is how a call ends up with 403 under the wrong
//     principal. azidentity v1.13's DefaultAzureCredential has no option to
//     pin a client ID other than the process-wide AZURE_CLIENT_ID variable.
//
// The credential returned requests tokens for whatever scope a client asks
// for; pass SessionsScope for the data plane and ARMScope for management.
// NewCredential does no I/O. An invalid ClientID is an *ArgumentError.
func NewCredential(options *CredentialOptions) (azcore.TokenCredential, error) {
	if options == nil {
		options = &CredentialOptions{}
	}
	if options.ClientID == "" {
		o := options.DefaultAzureCredentialOptions
		return azidentity.NewDefaultAzureCredential(&o)
	}
	if _, err := uuid.Parse(options.ClientID); err != nil {
		return nil, argErr("CredentialOptions.ClientID", "must be the GUID client ID of a user-assigned managed identity (Identity.ClientID, or `az identity show --query clientId`)")
	}
	return azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{
		ClientOptions: options.ClientOptions,
		ID:            azidentity.ClientID(options.ClientID),
	})
}
