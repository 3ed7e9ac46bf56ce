package version

import (
	"bufio"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var semver = regexp.MustCompile(`^v\d+\.\d+\.\d+$`)

// TestVersionIsNewestChangelogHeading ties Version to CHANGELOG.md: the first
// "## vX.Y.Z" heading there is the version the clients report.
func TestVersionIsNewestChangelogHeading(t *testing.T) {
	f, err := os.Open("../../CHANGELOG.md")
	require.NoError(t, err)
	defer f.Close()
	heading := regexp.MustCompile(`^## (v\d+\.\d+\.\d+)\b`)
	newest := ""
	s := bufio.NewScanner(f)
	for s.Scan() {
		if m := heading.FindStringSubmatch(s.Text()); m != nil {
			newest = m[1]
			break
		}
	}
	require.NoError(t, s.Err())
	require.NotEmpty(t, newest, "CHANGELOG.md has no \"## vX.Y.Z\" heading")
	assert.Equal(t, newest, Version, "internal/version.Version must be the newest version heading in CHANGELOG.md")
	assert.Regexp(t, semver, Version, "azcore refuses a module version that is not vX.Y.Z")
}

// TestModuleNamesInUserAgent builds azcore's telemetry policy with each
// client's module name and checks the User-Agent product it sends.
func TestModuleNamesInUserAgent(t *testing.T) {
	seen := map[string]string{}
	for _, name := range []string{SessionsModule, PoolModule, IdentityModule} {
		ua := userAgent(t, name)
		product := "azsdk-go-" + name + "/" + Version
		assert.True(t, strings.HasPrefix(ua, product+" "), "User-Agent %q does not start with %q", ua, product)
		assert.NotContains(t, []string{"azsdk-go-azidentity", "azsdk-go-azcore", "azsdk-go-identity", "azsdk-go-sessions", "azsdk-go-pool"},
			strings.SplitN(product, "/", 2)[0], "module name %q is not distinct from Azure SDK names", name)
		prev, dup := seen[product]
		assert.False(t, dup, "%s and %s report the same User-Agent product %s", prev, name, product)
		seen[product] = name
	}
}

func userAgent(t *testing.T, module string) string {
	t.Helper()
	pl := runtime.NewPipeline(module, Version, runtime.PipelineOptions{}, &policy.ClientOptions{
		Transport: uaRecorder{},
		Retry:     policy.RetryOptions{MaxRetries: -1},
	})
	req, err := runtime.NewRequest(t.Context(), "GET", "https://example.invalid/")
	require.NoError(t, err)
	resp, err := pl.Do(req)
	require.NoError(t, err)
	return resp.Request.Header.Get("User-Agent")
}

// uaRecorder answers every request itself, so no request leaves the process.
type uaRecorder struct{}

func (uaRecorder) Do(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusNoContent, Body: http.NoBody, Header: http.Header{}, Request: req}, nil
}
