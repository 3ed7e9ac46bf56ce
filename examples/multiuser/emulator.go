package main

// This file is not part of the program a user copies: it lets it run
// against the local emulator instead of Azure. Leave it out when you copy
// the program.

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/shellpool/shellpool/sessions"
	"github.com/shellpool/shellpool/sessions/sessionstest"
)

func init() { connect = emulator }

// emulator returns the client options and credential to use. Against Azure
// (without -emulator) they are empty and nil. With -emulator it starts the
// emulator with two pools of three slots, and a session of another service in
// the first, which the reaper must not touch; call stop when done.
func emulator(s *settings, out io.Writer) (opts azcore.ClientOptions, cred azcore.TokenCredential, stop func(), err error) {
	if !s.emulator {
		return opts, nil, func() {}, nil
	}
	srv, err := startEmulator(s)
	if err != nil {
		return opts, nil, nil, err
	}
	fmt.Fprintln(out, "Using the built-in emulator at", srv.URL(), "with pools", strings.Join(s.pools, " and "), "of 3 slots each")
	return srv.ClientOptions(), srv.Credential(), srv.Close, nil
}

func startEmulator(s *settings) (*sessionstest.Server, error) {
	if len(s.pools) == 0 {
		s.pools = []string{"eastpool", "westpool"}
	}
	var pools []sessionstest.Pool
	for _, name := range s.pools {
		pools = append(pools, sessionstest.Pool{Name: name, MaxConcurrentSessions: 3})
	}
	srv, err := sessionstest.Start(&sessionstest.Options{Pools: pools})
	if err != nil {
		return nil, err
	}
	s.subscription, s.group = srv.SubscriptionID(), srv.ResourceGroup()
	other, err := sessions.NewClient(srv.PoolEndpointFor(s.pools[0]), srv.Credential(), &sessions.ClientOptions{ClientOptions: srv.ClientOptions()})
	if err == nil {
		_, err = other.Execute(context.Background(), sessions.NewSessionID(), sessions.ShellCommand("true"), nil)
	}
	if err != nil {
		srv.Close()
		return nil, err
	}
	return srv, nil
}
