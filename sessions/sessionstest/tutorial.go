package sessionstest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"

	"github.com/shellpool/shellpool/internal/azname"
)

// TutorialStep is a step of the Azure Container Apps shell session pool
// tutorial, in the tutorial's order. StartTutorial(step, ...) gives an
// emulator in which every step before step is done.
type TutorialStep int

// The tutorial's steps, in order.
const (
	// StepSetup registers Microsoft.App and creates the resource group.
	StepSetup TutorialStep = iota + 1
	// StepDeployPool deploys the shell session pool.
	StepDeployPool
	// StepCreateIdentity creates the user-assigned identity "$POOL-uami".
	StepCreateIdentity
	// StepAssignRole assigns the Session Executor role on the pool.
	StepAssignRole
	// StepGetToken gets a token for https://dynamicsessions.io.
	StepGetToken
	// StepExecute runs a command in a session.
	StepExecute
	// StepVerify reads the pool and its role assignments.
	StepVerify
	// StepCleanup deletes the resource group.
	StepCleanup
)

// The environment variables through which a program joins a standalone
// emulator (examples/emulator writes them to its env file).
const (
	// EnvEndpoint names the variable holding a standalone emulator's base URL
	// (Server.URL). When it is set, StartTutorial joins that emulator.
	EnvEndpoint = "SHELLPOOL_ENDPOINT"
	// EnvCACert names the variable holding the path of the PEM file with the
	// standalone emulator's certificate (Server.CACertPEM).
	EnvCACert = "SHELLPOOL_CA_CERT"
)

// Tutorial defaults, as the tutorial names its variables.
const (
	// TutorialResourceGroup is the tutorial's resource group ($RESOURCE_GROUP).
	TutorialResourceGroup = "my-shell-session-rg"
	// TutorialPool is the tutorial's session pool ($SESSION_POOL_NAME).
	TutorialPool = "myshellpool"
)

// TutorialOptions are the tutorial's variables. Empty fields take the
// tutorial's values (TutorialResourceGroup, TutorialPool, DefaultLocation)
// and DefaultSubscriptionID.
type TutorialOptions struct {
	SubscriptionID string
	ResourceGroup  string
	Pool           string
	Location       string
}

// Tutorial is an emulator that a program for one step of the tutorial runs
// against: either one started in this process with the earlier steps done,
// or the standalone emulator named by SHELLPOOL_ENDPOINT, shared by every
// step. Apply SubscriptionID and ClientOptions to the program's clients, and
// sign in with azidentity as usual: StartTutorial has pointed it at the
// emulator's managed identity endpoint.
type Tutorial struct {
	// URL is the emulator's base URL.
	URL string
	// SubscriptionID is the subscription to use: the one asked for or, for
	// a standalone emulator, its AZURE_SUBSCRIPTION_ID when none was.
	SubscriptionID string
	// ClientOptions trust the emulator's certificate and point Azure
	// Resource Manager at it. Use them for the pool, identity and sessions
	// clients.
	ClientOptions azcore.ClientOptions
	// Shared reports whether this is a standalone emulator that other
	// programs share (SHELLPOOL_ENDPOINT was set), so nothing was seeded.
	Shared bool

	server *Server
}

// Server returns the emulator started in this process, or nil when the
// Tutorial joined a standalone emulator.
func (t *Tutorial) Server() *Server { return t.server }

// Close stops an emulator started in this process (with its processes and
// files); a standalone emulator keeps running.
func (t *Tutorial) Close() {
	if t.server != nil {
		t.server.Close()
	}
}

// StartTutorial gives a program for one step of the tutorial an emulator to
// run against.
//
// When SHELLPOOL_ENDPOINT is set (source the env file of examples/emulator),
// it joins that standalone emulator: every step sees what the earlier steps
// made there, and nothing is seeded. SHELLPOOL_CA_CERT must name its
// certificate, and IDENTITY_ENDPOINT and IDENTITY_HEADER its managed identity
// endpoint.
//
// Otherwise it starts an emulator in this process (RBAC on, so the Session
// Executor role matters as in Azure) in which every step before step is
// done: from StepDeployPool the resource group exists, from StepCreateIdentity
// the pool, from StepAssignRole the identity "$POOL-uami", and from
// StepGetToken the Session Executor role on the pool is held by the identity
// and by the principal azidentity signs in as. It sets IDENTITY_ENDPOINT and
// IDENTITY_HEADER to its managed identity endpoint.
//
// Either way it unsets AZURE_CLIENT_ID, AZURE_TENANT_ID and
// AZURE_TOKEN_CREDENTIALS in this process, so that
// azidentity.DefaultAzureCredential signs in only as the emulator's managed
// identity (whose object ID is Server.PrincipalID, SHELLPOOL_PRINCIPAL_ID in
// the env file). Call Close when done.
func StartTutorial(step TutorialStep, o *TutorialOptions) (*Tutorial, error) {
	if step < StepSetup || step > StepCleanup {
		return nil, fmt.Errorf("sessionstest: StartTutorial: unknown step %d; use one of StepSetup ... StepCleanup", step)
	}
	var opts TutorialOptions
	if o != nil {
		opts = *o
	}
	if opts.ResourceGroup == "" {
		opts.ResourceGroup = TutorialResourceGroup
	}
	if opts.Pool == "" {
		opts.Pool = TutorialPool
	}
	if opts.Location == "" {
		opts.Location = DefaultLocation
	}
	var t *Tutorial
	var err error
	if endpoint := os.Getenv(EnvEndpoint); endpoint != "" {
		t, err = joinTutorial(endpoint, opts)
	} else {
		t, err = startTutorial(step, opts)
	}
	if err != nil {
		return nil, err
	}
	for _, name := range []string{"AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_TOKEN_CREDENTIALS"} {
		_ = os.Unsetenv(name)
	}
	return t, nil
}

// joinTutorial connects to the standalone emulator at endpoint.
func joinTutorial(endpoint string, opts TutorialOptions) (*Tutorial, error) {
	const source = "; source the env file that examples/emulator -env-file wrote, or unset " + EnvEndpoint + " to start an emulator in this program"
	u, err := url.Parse(endpoint)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("sessionstest: %s=%q is not an https:// URL%s", EnvEndpoint, endpoint, source)
	}
	caFile := os.Getenv(EnvCACert)
	if caFile == "" {
		return nil, fmt.Errorf("sessionstest: %s is set but %s is not%s", EnvEndpoint, EnvCACert, source)
	}
	for _, name := range []string{"IDENTITY_ENDPOINT", "IDENTITY_HEADER"} {
		if os.Getenv(name) == "" {
			return nil, fmt.Errorf("sessionstest: %s is set but %s is not%s", EnvEndpoint, name, source)
		}
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("sessionstest: read %s: %w; is the emulator still running? Start examples/emulator again and source its new env file", EnvCACert, err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("sessionstest: %s (%s) holds no PEM certificate%s", EnvCACert, caFile, source)
	}
	if opts.SubscriptionID == "" {
		opts.SubscriptionID = os.Getenv("AZURE_SUBSCRIPTION_ID")
	}
	if opts.SubscriptionID == "" {
		opts.SubscriptionID = DefaultSubscriptionID
	}
	base := u.Scheme + "://" + u.Host
	dialAddr := u.Host
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		DialContext: func(ctx context.Context, network, address string) (net.Conn, error) {
			if h, _, err := net.SplitHostPort(address); err == nil && isLocalhostName(h) {
				address = dialAddr // pool management endpoints: https://{pool}.localhost:{port}
			}
			return dialer.DialContext(ctx, network, address)
		},
		IdleConnTimeout: 30 * time.Second,
	}
	return &Tutorial{
		URL:            base,
		SubscriptionID: opts.SubscriptionID,
		ClientOptions:  azcore.ClientOptions{Transport: &http.Client{Transport: tr}, Cloud: emulatorCloud(base)},
		Shared:         true,
	}, nil
}

// emulatorCloud points Entra ID and Azure Resource Manager at base.
func emulatorCloud(base string) cloud.Configuration {
	return cloud.Configuration{
		ActiveDirectoryAuthorityHost: base + "/",
		Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
			cloud.ResourceManager: {Endpoint: base, Audience: azname.ARMAudience},
		},
	}
}

// startTutorial starts an emulator in this process with the steps before
// step done.
func startTutorial(step TutorialStep, opts TutorialOptions) (*Tutorial, error) {
	if opts.SubscriptionID == "" {
		opts.SubscriptionID = DefaultSubscriptionID
	}
	so := &Options{
		SubscriptionID: opts.SubscriptionID, ResourceGroup: opts.ResourceGroup, Location: opts.Location, RBAC: true,
		Pools: []Pool{{Name: opts.Pool, EgressEnabled: true}},
	}
	if step == StepSetup { // not even the resource group exists yet
		so.ResourceGroup, so.Pools = DefaultResourceGroup, nil
	}
	srv, err := Start(so)
	if err != nil {
		return nil, err
	}
	switch {
	case step == StepSetup:
		srv.RemovePool(DefaultPoolName)
	case step <= StepDeployPool:
		srv.RemovePool(opts.Pool) // the resource group stays
	}
	if step > StepCreateIdentity {
		uami := srv.engine.CreateIdentity(opts.SubscriptionID, opts.ResourceGroup, opts.Pool+"-uami", opts.Location)
		if step > StepAssignRole {
			srv.GrantSessionExecutor(uami.PrincipalID, opts.Pool)
			srv.GrantSessionExecutor(srv.PrincipalID(), opts.Pool)
		}
	}
	endpoint, header, err := srv.IdentityEndpoint()
	if err != nil {
		srv.Close()
		return nil, err
	}
	if err := errors.Join(os.Setenv("IDENTITY_ENDPOINT", endpoint), os.Setenv("IDENTITY_HEADER", header)); err != nil {
		srv.Close()
		return nil, err
	}
	return &Tutorial{URL: srv.URL(), SubscriptionID: opts.SubscriptionID, ClientOptions: srv.ClientOptions(), server: srv}, nil
}
