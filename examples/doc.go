// Package examples holds one runnable program per step of the Azure Container
// Apps shell session pool tutorial, plus a quickstart and an emulator server.
// Each program's main.go is a small package main that imports only this
// module's public packages and builds on its own, so it can be copied into an
// application, where it uses Azure only; its emulator.go, which you leave
// out, adds -emulator to run against the local emulator
// (sessions/sessionstest) instead of Azure.
//
// The step programs use Azure unless asked for the emulator (-emulator, or
// SHELLPOOL_EMULATOR=1 as the emulator's env file sets it); with neither and
// without AZURE_SUBSCRIPTION_ID they exit with one line saying what to set.
// Only the quickstart runs locally without settings, and says so first:
//
//	go run ./examples/quickstart        // the whole tutorial, end to end, locally
//
// To walk through the tutorial locally, start the emulator once and run the
// steps one after another against it, each seeing what the earlier ones made:
//
//	env_file=$(mktemp) pid_file=$(mktemp)
//	go run ./examples/emulator -env-file "$env_file" -pid-file "$pid_file" &
//	until [ -s "$env_file" ]; do kill -0 $! 2>/dev/null || break; sleep 0.2; done
//	. "$env_file"
//	go run ./examples/setup             // register Microsoft.App, create the resource group
//	go run ./examples/deploy-pool       // write deploy.json and deploy the pool
//	go run ./examples/create-identity   // the managed identity "$POOL-uami"
//	go run ./examples/assign-role       // Session Executor on the pool (-assignee identity|me)
//	go run ./examples/get-token         // a token for https://dynamicsessions.io (never printed)
//	go run ./examples/execute           // echo 'hello world'; echo 'hi' in a session
//	go run ./examples/verify            // the pool and its role assignments
//	go run ./examples/cleanup           // delete the resource group
//	go run ./examples/files             // upload, list and download a file
//	go run ./examples/async-execute     // BeginExecute and PollUntilDone
//	go run ./examples/pool-mcp          // the pool's MCP server, with the MCP Go SDK's client
//	kill $(cat "$pid_file")             // stop the emulator
//
// A program run alone with -emulator starts an emulator in-process with the
// earlier steps done (sessionstest.StartTutorial).
//
// The tutorial's variables are read from flags or environment variables:
// -subscription (AZURE_SUBSCRIPTION_ID), -resource-group
// (SHELLPOOL_RESOURCE_GROUP, default my-shell-session-rg), -pool (SHELLPOOL_POOL,
// default myshellpool), -location (SHELLPOOL_LOCATION, default northcentralus),
// and one api-version per plane: -arm-api-version (SHELLPOOL_ARM_API_VERSION)
// for Microsoft.App through Azure Resource Manager and -sessions-api-version
// (SHELLPOOL_SESSIONS_API_VERSION) for the sessions data plane. Against Azure
// the programs sign in through azidentity (az login, a managed identity,
// environment variables).
package examples
