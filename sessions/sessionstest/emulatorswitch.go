package sessionstest

import (
	"flag"
	"fmt"
	"os"
)

// EnvEmulator names the variable that asks a program for the emulator when
// it is "1"; the env file of examples/emulator sets it.
const EnvEmulator = "SHELLPOOL_EMULATOR"

// EmulatorSwitch is the -emulator switch of a program that runs one step of
// the tutorial against Azure unless asked for the emulator, as the
// programs under examples/ do. Their emulator.go files, which a user leaves
// out when copying a program, are a few lines on top of it.
type EmulatorSwitch struct {
	step TutorialStep
	flag *bool
}

// NewEmulatorSwitch registers the -emulator flag on flag.CommandLine for a
// program that runs step.
func NewEmulatorSwitch(step TutorialStep) *EmulatorSwitch {
	return &EmulatorSwitch{step: step, flag: flag.Bool("emulator", false, "run against the local emulator instead of Azure (or set "+EnvEmulator+"=1)")}
}

// On reports whether the emulator was asked for: -emulator, or
// SHELLPOOL_EMULATOR=1. Call it after flag.Parse.
func (e *EmulatorSwitch) On() bool { return *e.flag || os.Getenv(EnvEmulator) == "1" }

// Explain completes an error the program returns for missing Azure settings
// (such as "set AZURE_SUBSCRIPTION_ID (or -subscription) to use Azure") with
// how to use the emulator instead. It returns nil for nil.
func (e *EmulatorSwitch) Explain(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w, or pass -emulator (or set %s=1) to use the local emulator", err, EnvEmulator)
}

// Start gives the program its emulator as StartTutorial(step, o) does (the
// standalone emulator of a sourced env file, or one started in this process
// with the steps before step done) and prints one line to standard output
// saying which emulator it uses. Call the Tutorial's Close when done.
func (e *EmulatorSwitch) Start(o *TutorialOptions) (*Tutorial, error) {
	t, err := StartTutorial(e.step, o)
	if err != nil {
		return nil, err
	}
	if t.Shared {
		fmt.Println("Using the standalone emulator at", t.URL)
	} else {
		fmt.Println("Using an emulator started by this program at", t.URL)
	}
	return t, nil
}
