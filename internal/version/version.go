// Package version holds the module name and version that every client of this
// module reports in its User-Agent telemetry.
package version

const (
	// Module is the Go module path, used as azcore's module name.
	Module = "github.com/shellpool/shellpool"
	// Version is the module's semantic version (it must match ^v\d+\.\d+\.\d+).
	Version = "v0.1.0"
)
