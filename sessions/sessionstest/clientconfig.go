package sessionstest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/shellpool/shellpool/internal/azname"
)

// clientIdleConns is how many idle connections Client keeps to the server.
const clientIdleConns = 512

// Client returns an *http.Client that trusts the server's certificate and
// dials the server for any *.localhost host. Use it as
// azcore.ClientOptions.Transport. It keeps up to 512 idle connections, so
// up to that many concurrent callers reuse theirs instead of opening new TLS
// connections.
func (s *Server) Client() *http.Client { return s.client }

// Cloud returns a cloud configuration that points Entra ID and Azure
// Resource Manager at the server.
func (s *Server) Cloud() cloud.Configuration {
	return cloud.Configuration{
		ActiveDirectoryAuthorityHost: s.baseURL + "/",
		Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
			cloud.ResourceManager: {Endpoint: s.baseURL, Audience: azname.ARMAudience},
		},
	}
}

// ClientOptions returns azcore client options whose Transport is Client()
// and whose Cloud is Cloud(). Embed them in a client's options.
func (s *Server) ClientOptions() azcore.ClientOptions {
	return azcore.ClientOptions{Transport: s.client, Cloud: s.Cloud()}
}

// CACertPEM returns the server's self-signed certificate in PEM form, for
// clients (curl --cacert) that must trust it.
func (s *Server) CACertPEM() []byte { return append([]byte(nil), s.certPEM...) }

// newClient makes the client Client returns: it trusts certPEM and dials
// dialAddr for every *.localhost host (refusing the hosts of unreachable
// pools).
func (s *Server) newClient(certPEM []byte, dialAddr string) *http.Client {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		DialContext: func(ctx context.Context, network, address string) (net.Conn, error) {
			h, _, err := net.SplitHostPort(address)
			if err == nil && isLocalhostName(h) {
				if s.hostUnreachable(h) {
					return nil, refusedDial(network, address)
				}
				address = dialAddr
			}
			return dialer.DialContext(ctx, network, address)
		},
		// Sized for many concurrent callers (benchmarks run 128): every
		// caller keeps its connection instead of opening a new TLS one.
		MaxIdleConns:        0, // no limit across hosts
		MaxIdleConnsPerHost: clientIdleConns,
		IdleConnTimeout:     30 * time.Second,
	}
	return &http.Client{Transport: tr}
}
