// Package armemu is the Azure Resource Manager, managed identity, Entra ID
// and Microsoft Graph side of the emulator in sessions/sessionstest:
// subscriptions, resource groups, provider registration,
// Microsoft.App/sessionPools, template deployments (and their validation),
// user-assigned identities, role assignments and built-in role definitions,
// a managed identity token endpoint (App Service 2019-08-01 and 2017-09-01,
// Cloud Shell), Entra ID's discovery and client credentials token endpoint,
// the cloud metadata az cloud register reads, and the little of Graph that
// az role assignment uses. Its answers carry ARM's bodies and long-running
// operation headers, so azcore pollers, azidentity, this module's pool and
// identity packages, Azure's own ARM Go clients and the Azure CLI work
// against it unchanged.
//
// The Engine is the one store of pool settings and role assignments. The
// data plane keeps only its live sessions: it asks the Engine for a pool's
// PoolSpec (Pool, PoolNamed, FirstPool, Pools) and for role checks (HasRole)
// when it serves a request, stores pools it serves without a deployment with
// SeedPool, and implements Backend, through which the Engine asks it for a
// new pool's endpoint and tells it that a pool is gone.
//
// The data plane routes every management request to Engine.ServeHTTP (over
// TLS); the token endpoint is served on plain-HTTP loopback, as Azure's
// IDENTITY_ENDPOINT is:
//
//	eng := armemu.New(armemu.Config{Backend: dataPlane, SigningKey: key})
//	mux.Handle("/subscriptions/", eng)
//	mi := httptest.NewServer(eng.IdentityHandler())
//	os.Setenv("IDENTITY_ENDPOINT", mi.URL)
//	os.Setenv("IDENTITY_HEADER", eng.IdentityHeader())
//
// Template deployments evaluate a small subset of ARM's expression language
// (see template.go); anything else fails with InvalidTemplate naming the
// expression.
package armemu
