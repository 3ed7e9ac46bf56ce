package sessionstest

import (
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/shellpool/shellpool/internal/armemu"
)

// backend is the data plane as the ARM engine sees it (armemu.Backend). The
// engine calls it with its own lock held; none of these methods calls back
// into the engine.
type backend struct{ s *Server }

var _ armemu.Backend = backend{}

// UpsertPool implements armemu.Backend.
func (b backend) UpsertPool(p armemu.PoolSpec) (string, error) {
	cool := time.Duration(p.CooldownPeriodInSeconds) * time.Second
	if cool <= 0 {
		cool = -1 // not Timed: sessions do not expire
	}
	s := b.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return "", errors.New("sessionstest: the emulator is closed")
	}
	np, err := s.addPoolLocked(Pool{
		Name:                  p.Name,
		SubscriptionID:        p.SubscriptionID,
		ResourceGroup:         p.ResourceGroup,
		Location:              p.Location,
		ContainerType:         p.ContainerType,
		MaxConcurrentSessions: p.MaxConcurrentSessions,
		Cooldown:              cool,
		EgressEnabled:         p.EgressEnabled,
	})
	if err != nil {
		return "", err
	}
	return s.regionalEndpoint(np), nil
}

// DeletePool implements armemu.Backend.
func (b backend) DeletePool(subscriptionID, resourceGroup, name string) {
	b.s.removePool(subscriptionID, resourceGroup, name)
}

// GrantRole implements armemu.Backend.
func (b backend) GrantRole(g armemu.RoleGrant) {
	b.s.grantRole(g.AssignmentID, g.Scope, g.RoleDefinitionID, g.PrincipalID)
}

// RevokeRole implements armemu.Backend.
func (b backend) RevokeRole(assignmentID string) { b.s.revokeRole(assignmentID) }

// wireARM creates the ARM engine and shows it the pools the server started
// with. Paths under .../sessionPools/{pool}/... (no /providers/) and
// *.localhost hosts go to the data plane; everything else to the engine.
func (s *Server) wireARM() {
	eng := armemu.New(armemu.Config{
		Backend:    backend{s},
		SigningKey: s.key,
		TenantID:   s.tenantID,
		// GET /subscriptions lists the server's subscription.
		SubscriptionID: s.opts.SubscriptionID,
		BaseURL:        func() string { return s.baseURL },
		Now:            s.opts.Now,

		PrincipalNotFoundFor: s.opts.PrincipalNotFoundFor,
		SystemPrincipalID:    s.prinID,
	})
	s.mu.Lock()
	s.arm = eng
	s.engine = eng
	specs := make([]Pool, 0, len(s.pools))
	for _, p := range s.pools {
		specs = append(specs, p.spec)
	}
	s.mu.Unlock()
	for _, p := range specs {
		s.seedARM(p)
	}
}

// seedARM makes a pool added through Options or AddPool visible to ARM
// clients. It must be called without s.mu held.
func (s *Server) seedARM(p Pool) {
	if s.engine == nil {
		return
	}
	cool := 0
	if p.Cooldown > 0 {
		cool = int(p.Cooldown / time.Second)
	}
	s.engine.SeedPool(armemu.PoolSpec{
		SubscriptionID:          p.SubscriptionID,
		ResourceGroup:           p.ResourceGroup,
		Name:                    p.Name,
		Location:                p.Location,
		ContainerType:           p.ContainerType,
		MaxConcurrentSessions:   p.MaxConcurrentSessions,
		CooldownPeriodInSeconds: cool,
		EgressEnabled:           p.EgressEnabled,
	}, s.baseURL+poolPath(p.SubscriptionID, p.ResourceGroup, p.Name))
}

// IdentityEndpoint starts (once) the managed identity token endpoint of the
// emulator on a plain-HTTP loopback listener, as Azure App Service and
// Container Apps serve it, and returns the values of IDENTITY_ENDPOINT and
// IDENTITY_HEADER. With both set in the environment, azidentity's
// ManagedIdentityCredential and DefaultAzureCredential get tokens from the
// emulator. The listener stops with Close.
func (s *Server) IdentityEndpoint() (endpoint, header string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return "", "", errors.New("sessionstest: IdentityEndpoint on a closed server")
	}
	if s.idURL == "" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", "", err
		}
		hs := &http.Server{Handler: s.engine.IdentityHandler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: nopLogger()}
		s.idServer = hs
		s.idURL = "http://" + ln.Addr().String() + "/msi/token"
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			_ = hs.Serve(ln)
		}()
	}
	return s.idURL, s.engine.IdentityHeader(), nil
}

// ServicePrincipal returns the client ID and secret of the emulator's service
// principal in Entra ID. With ClientOptions() (Cloud() as the cloud),
// TenantID() as the tenant and DisableInstanceDiscovery set, as for any
// private cloud, azidentity's ClientSecretCredential (and any client of Entra
// ID's client credentials grant) gets tokens from the server for PrincipalID():
// the same principal Credential and the managed identity endpoint act as.
// The secret is a secret: do not log it.
func (s *Server) ServicePrincipal() (clientID, clientSecret string) {
	return s.engine.ServicePrincipal()
}
