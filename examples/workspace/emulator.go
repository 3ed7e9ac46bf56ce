package main

// This file is not part of the program you copy: it adds -emulator (or
// SHELLPOOL_EMULATOR=1), which runs the program against the local emulator
// instead of Azure. Leave it out when you copy main.go.

import (
	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/shellpool/shellpool/sessions/sessionstest"
)

// emulator starts the emulator with the tutorial's steps before this
// program's done, or joins the standalone one of a sourced env file.
var emulator = sessionstest.NewEmulatorSwitch(sessionstest.StepExecute)

func init() {
	azure := connect
	connect = func(s *settings) (azcore.ClientOptions, func(), error) {
		if !emulator.On() {
			opts, stop, err := azure(s)
			return opts, stop, emulator.Explain(err)
		}
		t, err := emulator.Start(&sessionstest.TutorialOptions{SubscriptionID: s.subscription, ResourceGroup: s.group, Pool: s.pool, Location: s.location})
		if err != nil {
			return azcore.ClientOptions{}, nil, err
		}
		s.subscription = t.SubscriptionID
		return t.ClientOptions, t.Close, nil
	}
}
