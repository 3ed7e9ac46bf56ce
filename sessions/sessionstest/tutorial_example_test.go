package sessionstest_test

import (
	"context"
	"fmt"
	"log"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/shellpool/shellpool/identity"
	"github.com/shellpool/shellpool/pool"
	"github.com/shellpool/shellpool/sessions"
	"github.com/shellpool/shellpool/sessions/sessionstest"
)

// A program for the tutorial's execute step runs against an emulator in
// which the earlier steps are done, or, after sourcing the env file of examples/emulator, against
// the standalone emulator that the earlier step programs used.
func ExampleStartTutorial() {
	ctx := context.Background()
	tut, err := sessionstest.StartTutorial(sessionstest.StepExecute, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer tut.Close()

	// From here on, the code is the same as against Azure.
	cred, err := identity.NewCredential(nil) // the emulator's managed identity
	if err != nil {
		log.Fatal(err)
	}
	pools, err := pool.NewClient(tut.SubscriptionID, cred, &pool.ClientOptions{ClientOptions: arm.ClientOptions{ClientOptions: tut.ClientOptions}})
	if err != nil {
		log.Fatal(err)
	}
	p, err := pools.Get(ctx, sessionstest.TutorialResourceGroup, sessionstest.TutorialPool, nil)
	if err != nil {
		log.Fatal(err)
	}
	client, err := sessions.NewClient(p.Endpoint(), cred, &sessions.ClientOptions{ClientOptions: tut.ClientOptions})
	if err != nil {
		log.Fatal(err)
	}
	resp, err := client.Execute(ctx, sessions.NewSessionID(), sessions.ShellCommand("echo 'hello world'"), nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(resp.Stdout)
}
