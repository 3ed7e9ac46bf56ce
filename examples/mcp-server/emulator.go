package main

// This file is not part of the program you copy: it adds -emulator (or
// SHELLPOOL_EMULATOR=1), which runs the program against the local emulator
// instead of Azure. Leave it out when you copy main.go and server.go.

import (
	"flag"
	"fmt"
	"io"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/shellpool/shellpool/sessions/sessionstest"
)

var useEmulator bool

func init() {
	flags, check, azure := addFlags, checkPool, connect
	addFlags = func(fs *flag.FlagSet, getenv func(string) string) {
		flags(fs, getenv)
		fs.BoolVar(&useEmulator, "emulator", getenv(sessionstest.EnvEmulator) == "1", "use the local emulator instead of Azure (or set "+sessionstest.EnvEmulator+"=1)")
	}
	checkPool = func(s *settings) error {
		if useEmulator {
			return nil
		}
		if err := check(s); err != nil {
			return fmt.Errorf("%w; or pass -emulator (or set %s=1) to use the local emulator", err, sessionstest.EnvEmulator)
		}
		return nil
	}
	// With -emulator: the standalone emulator of a sourced env file, or one
	// started in this process with the pool deployed and the Session
	// Executor role granted; azidentity signs in as its managed identity.
	// It writes to stderr only: stdout is the stdio transport's.
	connect = func(s *settings, stderr io.Writer) (azcore.ClientOptions, func(), error) {
		if !useEmulator {
			return azure(s, stderr)
		}
		t, err := sessionstest.StartTutorial(sessionstest.StepExecute, &sessionstest.TutorialOptions{
			SubscriptionID: s.subscription, ResourceGroup: s.group, Pool: s.pool,
		})
		if err != nil {
			return azcore.ClientOptions{}, nil, err
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
}
