package main

// This file is not part of the program you copy: it makes the quickstart run
// locally against the emulator unless AZURE_SUBSCRIPTION_ID is set (and
// always with -emulator or SHELLPOOL_EMULATOR=1). Leave it out when you copy
// main.go.

import (
	"flag"
	"fmt"
	"os"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/shellpool/shellpool/sessions/sessionstest"
)

var useEmulator = flag.Bool("emulator", false, "run against the local emulator even when AZURE_SUBSCRIPTION_ID is set (or set SHELLPOOL_EMULATOR=1)")

func init() {
	azure := connect
	connect = func(s *settings) (azcore.ClientOptions, func(), error) {
		if s.subscription != "" && !*useEmulator && os.Getenv(sessionstest.EnvEmulator) != "1" {
			return azure(s)
		}
		t, err := sessionstest.StartTutorial(sessionstest.StepSetup, &sessionstest.TutorialOptions{
			SubscriptionID: s.subscription, ResourceGroup: s.group, Pool: s.pool, Location: s.location,
		})
		if err != nil {
			return azcore.ClientOptions{}, nil, err
		}
		s.subscription = t.SubscriptionID
		if t.Shared {
			fmt.Println("Running locally against the standalone emulator at", t.URL, "(set AZURE_SUBSCRIPTION_ID and unset SHELLPOOL_EMULATOR to use Azure)")
		} else {
			fmt.Println("Running locally against an emulator started by this program at", t.URL, "(set AZURE_SUBSCRIPTION_ID to use Azure)")
		}
		return t.ClientOptions, t.Close, nil
	}
}
