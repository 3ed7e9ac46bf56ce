// Package azname holds the Azure names and naming rules that more than one
// package of this module applies: the token audiences and the Session
// Executor role, region short names, the regional dynamic sessions endpoint,
// and ARM's guid() template function. Public packages re-export the values a
// user needs (sessions, identity); this is the one place they are written.
package azname

import (
	"net/url"
	"strings"
	"unicode"

	"github.com/google/uuid"
)

const (
	// SessionsAudience is the audience ("aud" claim) of dynamic sessions
	// data-plane tokens.
	SessionsAudience = "https://dynamicsessions.io"
	// ARMAudience is the audience of Azure Resource Manager tokens.
	ARMAudience = "https://management.azure.com"
	// SessionExecutorRoleID is the GUID of the built-in role "Azure
	// ContainerApps Session Executor".
	SessionExecutorRoleID = "0fb8eba5-a2bb-4abe-b1c1-49dfad359bb0"
)

// NormalizeRegion turns a region display name into its short name, as used in
// host names: "North Central US" becomes "northcentralus". Short names come
// back lower-cased and otherwise unchanged.
func NormalizeRegion(region string) string {
	var b strings.Builder
	for _, r := range region {
		if unicode.IsSpace(r) {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// RegionalEndpoint builds the regional data-plane endpoint of a pool:
// https://{region}.dynamicsessions.io/subscriptions/{sub}/resourceGroups/{rg}/sessionPools/{name},
// with region normalised and the other values path-escaped.
func RegionalEndpoint(region, subscriptionID, resourceGroup, name string) string {
	return "https://" + NormalizeRegion(region) + ".dynamicsessions.io/subscriptions/" +
		url.PathEscape(subscriptionID) + "/resourceGroups/" + url.PathEscape(resourceGroup) +
		"/sessionPools/" + url.PathEscape(name)
}

// guidNamespace is the name-space UUID of ARM's guid() template function.
var guidNamespace = uuid.MustParse("11fb06fb-712d-4ddd-98c7-e71bbd588830")

// GUID is ARM's (and Bicep's) guid() template function: the RFC 4122
// version 5 (SHA-1, name-based) UUID, in the name space
// 11fb06fb-712d-4ddd-98c7-e71bbd588830, of the arguments joined with "-"
// (UTF-8), in lower case. Microsoft's Bicep documentation and independent
// re-implementations describe it this way.
func GUID(parts ...string) string {
	return uuid.NewSHA1(guidNamespace, []byte(strings.Join(parts, "-"))).String()
}
