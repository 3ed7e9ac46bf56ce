// Package version holds the module name and version that every client of this
// module reports in its User-Agent telemetry.
package version

const (
	// Module is the Go module path.
	Module = "github.com/shellpool/shellpool"
	// Version is the module's semantic version (it must match ^v\d+\.\d+\.\d+).
	// It is the newest version heading in CHANGELOG.md; a test keeps the two
	// in step.
	Version = "v0.3.0"
)

// Module names the clients pass to azcore. azcore reports the text after the
// last "/" of a module name as "azsdk-go-<name>/<Version>" in the User-Agent,
// so each name is one path element that no Azure SDK module uses: a request
// from this module's identity client cannot be mistaken for one from
// azidentity.
const (
	// SessionsModule is the sessions client's name: azsdk-go-shellpool-sessions.
	SessionsModule = "shellpool-sessions"
	// PoolModule is the pool client's name: azsdk-go-shellpool-pool.
	PoolModule = "shellpool-pool"
	// IdentityModule is the identity client's name: azsdk-go-shellpool-identity.
	IdentityModule = "shellpool-identity"
)
