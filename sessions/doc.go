// Package sessions is the data-plane client of Azure Container Apps dynamic
// sessions: it runs shell commands in a session pool, moves files in and out
// of sessions, and manages session lifetimes.
//
// (The full package documentation is written with the executions client.)
package sessions
