// Package armemu is the Azure Resource Manager and managed identity side of
// the emulator in sessions/sessionstest: resource groups, provider
// registration, Microsoft.App/sessionPools, template deployments,
// user-assigned identities, role assignments and an App Service style managed
// identity token endpoint. Its answers carry ARM's bodies and long-running
// operation headers, so azcore pollers, this module's pool and identity
// packages and Azure's own ARM Go clients work against it unchanged.
//
// The data plane implements Backend and routes every management request to
// Engine.ServeHTTP (over TLS); the token endpoint is served on plain-HTTP
// loopback, as Azure's IDENTITY_ENDPOINT is:
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
