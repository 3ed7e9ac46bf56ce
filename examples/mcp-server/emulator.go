package main

// This file is not part of the program a user copies: it lets it run
// against the local emulator instead of Azure. Leave it out when you copy
// the program.

import (
	"fmt"
	"io"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/shellpool/shellpool/sessions/sessionstest"
)

// emulator returns the client options to use. Against Azure (without
// -emulator) they are empty. With -emulator it joins the standalone
// emulator whose env file was sourced, or starts one in this process with
// the pool deployed and the Session Executor role granted, and points
// azidentity at its managed identity; call stop when done. It writes to
// stderr only: stdout is the stdio transport's.
func emulator(s *settings, stderr io.Writer) (opts azcore.ClientOptions, stop func(), err error) {
	if !s.emulator {
		return opts, func() {}, nil
	}
	t, err := sessionstest.StartTutorial(sessionstest.StepExecute, &sessionstest.TutorialOptions{
		SubscriptionID: s.subscription, ResourceGroup: s.group, Pool: s.pool,
	})
	if err != nil {
		return opts, nil, err
	}
	s.subscription, s.endpoint = t.SubscriptionID, ""
	if s.group == "" {
		s.group = sessionstest.TutorialResourceGroup
	}
	if s.pool == "" {
		s.pool = sessionstest.TutorialPool
	}
	fmt.Fprintln(stderr, "mcp-server: using the emulator at", t.URL)
	return t.ClientOptions, t.Close, nil
}
