package main

// This file is not part of the tutorial: it lets the quickstart run against
// the local emulator instead of Azure. Leave it out when you copy the program.

import (
	"flag"
	"fmt"
	"os"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/shellpool/shellpool/sessions/sessionstest"
)

var useEmulator = flag.Bool("emulator", false, "run against the local emulator even when AZURE_SUBSCRIPTION_ID is set (or set SHELLPOOL_EMULATOR=1)")

// emulator returns the client options to use. With a subscription (and
// without -emulator or SHELLPOOL_EMULATOR=1) they are empty: the quickstart
// runs against Azure. Otherwise it joins the standalone emulator whose env
// file was sourced, or starts one in this process with nothing set up, and
// says so in the first line it prints; call stop when done.
func emulator(s *settings) (opts azcore.ClientOptions, stop func(), err error) {
	if s.subscription != "" && !*useEmulator && os.Getenv("SHELLPOOL_EMULATOR") != "1" {
		return opts, func() {}, nil
	}
	t, err := sessionstest.StartTutorial(sessionstest.StepSetup, &sessionstest.TutorialOptions{
		SubscriptionID: s.subscription, ResourceGroup: s.group, Pool: s.pool, Location: s.location,
	})
	if err != nil {
		return opts, nil, err
	}
	s.subscription = t.SubscriptionID
	if t.Shared {
		fmt.Println("Running locally against the standalone emulator at", t.URL, "(set AZURE_SUBSCRIPTION_ID and unset SHELLPOOL_EMULATOR to use Azure)")
	} else {
		fmt.Println("Running locally against an emulator started by this program at", t.URL, "(set AZURE_SUBSCRIPTION_ID to use Azure)")
	}
	return t.ClientOptions, t.Close, nil
}
