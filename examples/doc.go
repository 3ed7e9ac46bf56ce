// Package examples holds one runnable program per step of the Azure Container
// Apps shell session pool tutorial, plus a quickstart and an emulator server.
// Each program is a small package main that imports only this module's public
// packages, so it can be copied into an application. Without
// AZURE_SUBSCRIPTION_ID (or with -emulator) every program starts the built-in
// emulator (sessions/sessionstest) in its own process and needs no Azure
// account:
//
//	go run ./examples/quickstart        // the whole tutorial, end to end
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
//	go run ./examples/emulator -env-file /tmp/shellpool.env  // the emulator for curl
//
// The tutorial's variables are read from flags or environment variables:
// -subscription (AZURE_SUBSCRIPTION_ID), -resource-group
// (SHELLPOOL_RESOURCE_GROUP, default my-shell-session-rg), -pool (SHELLPOOL_POOL,
// default myshellpool), -location (SHELLPOOL_LOCATION, default northcentralus)
// and -api-version (SHELLPOOL_API_VERSION, default 2025-02-02-preview). Against
// Azure the programs sign in through azidentity (az login, a managed identity,
// environment variables).
package examples
