package main

// This file is not part of the tutorial step: it lets the program run
// against the local emulator instead of Azure. Leave it out when you copy
// the program.

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/shellpool/shellpool/sessions/sessionstest"
)

// tutorialStep is where this program fits: it needs the deployed pool, so
// the emulator it starts has the steps up to deploying the pool done.
const tutorialStep = sessionstest.StepCreateIdentity

var useEmulator = flag.Bool("emulator", false, "run against the local emulator instead of Azure (or set SHELLPOOL_EMULATOR=1)")

// emulator returns the client options to use. Against Azure (the default)
// they are empty. With -emulator or SHELLPOOL_EMULATOR=1 it joins the
// standalone emulator whose env file was sourced, or starts one in this
// process with the tutorial's steps before tutorialStep done; call stop when done.
// With neither, and no subscription, it refuses to run.
func emulator(s *settings) (opts azcore.ClientOptions, stop func(), err error) {
	if !*useEmulator && os.Getenv("SHELLPOOL_EMULATOR") != "1" {
		if s.subscription == "" {
			err = errors.New("set AZURE_SUBSCRIPTION_ID (or -subscription) to use Azure, or pass -emulator (or set SHELLPOOL_EMULATOR=1) to use the local emulator")
		}
		return opts, func() {}, err
	}
	t, err := sessionstest.StartTutorial(tutorialStep, &sessionstest.TutorialOptions{
		SubscriptionID: s.subscription, ResourceGroup: s.group, Pool: s.pool, Location: s.location,
	})
	if err != nil {
		return opts, nil, err
	}
	s.subscription = t.SubscriptionID
	if t.Shared {
		fmt.Println("Using the standalone emulator at", t.URL)
	} else {
		fmt.Println("Using an emulator started by this program at", t.URL)
	}
	return t.ClientOptions, t.Close, nil
}
