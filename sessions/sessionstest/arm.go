package sessionstest

import (
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/shellpool/shellpool/internal/armemu"
)

// backend is the data plane as the ARM engine sees it (armemu.Backend). The
// engine holds every pool's settings and the role assignments; the data
// plane keeps only its live sessions, keyed by PoolSpec.Serial, and asks the
// engine when it serves a request. The engine calls these methods with its
// lock held, so the data plane never calls the engine while it holds
// Server.mu.
type backend struct{ s *Server }

var _ armemu.Backend = backend{}

// ProvisionPool implements armemu.Backend.
func (b backend) ProvisionPool(p armemu.PoolSpec) (string, error) {
	s := b.s
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return "", errors.New("sessionstest: the emulator is closed")
	}
	return s.regionalEndpoint(p), nil
}

// PoolDeleted implements armemu.Backend.
func (b backend) PoolDeleted(p armemu.PoolSpec) { b.s.dropPool(p.Serial) }

// newEngine creates the ARM engine. Paths under .../sessionPools/{pool}/...
// (no /providers/) and *.localhost hosts go to the data plane; everything
// else to the engine.
func (s *Server) newEngine() *armemu.Engine {
	return armemu.New(armemu.Config{
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
