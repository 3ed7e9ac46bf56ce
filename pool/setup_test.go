package pool

import (
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/stretchr/testify/require"

	"github.com/shellpool/shellpool/internal/armfake"
)

// The fixture of these tests: setup(t) starts the module's shared fake ARM
// server (internal/armfake) with scripted routes; f.client(t) is a Client
// pointed at it.

const (
	testSub      = "sub1"
	testRG       = "rg1"
	testPoolPath = "/subscriptions/sub1/resourceGroups/rg1/providers/Microsoft.App/sessionPools/myshellpool"
)

var pollFast = &runtime.PollUntilDoneOptions{Frequency: time.Millisecond}

// step is one scripted response; call is one recorded request.
type (
	step = armfake.Response
	call = armfake.Request
)

type fakeARM struct{ *armfake.Server }

// setup starts a fake ARM server for one test.
func setup(t *testing.T) *fakeARM {
	t.Helper()
	return &fakeARM{armfake.New(t)}
}

func (f *fakeARM) options() *ClientOptions {
	return &ClientOptions{ClientOptions: f.ClientOptions()}
}

func (f *fakeARM) client(t *testing.T) *Client {
	t.Helper()
	c, err := NewClient(testSub, &fake.TokenCredential{}, f.options())
	require.NoError(t, err)
	return c
}
