package fleet

import (
	"context"
	"fmt"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/shellpool/shellpool/pool"
	"github.com/shellpool/shellpool/sessions"
)

// PoolFromARM reads a session pool through Azure Resource Manager and
// returns the Pool the fleet needs: its name, data-plane endpoint and
// maxConcurrentSessions. cred is the data-plane credential (its principal
// needs the Session Executor role); o may be nil.
func PoolFromARM(ctx context.Context, arm *pool.Client, resourceGroup, name string, cred azcore.TokenCredential, o *sessions.ClientOptions) (Pool, error) {
	if arm == nil {
		return Pool{}, argumentError("arm", "is nil; create one with pool.NewClient, or fill in Pool by hand")
	}
	res, err := arm.Get(ctx, resourceGroup, name, nil)
	if err != nil {
		return Pool{}, fmt.Errorf("fleet: read session pool %q: %w", name, err)
	}
	props := res.Properties
	if props == nil || props.ScaleConfiguration == nil || props.ScaleConfiguration.MaxConcurrentSessions == nil {
		return Pool{}, fmt.Errorf("fleet: session pool %q reports no scaleConfiguration.maxConcurrentSessions; set Pool.MaxConcurrentSessions by hand", name)
	}
	ep := res.Endpoint()
	if ep == "" {
		return Pool{}, fmt.Errorf("fleet: session pool %q reports no poolManagementEndpoint and no location; set Pool.Endpoint by hand", name)
	}
	return Pool{
		Name:                  name,
		Endpoint:              ep,
		Credential:            cred,
		ClientOptions:         o,
		MaxConcurrentSessions: int(*props.ScaleConfiguration.MaxConcurrentSessions),
	}, nil
}
