// Package app holds Engram's use cases. Each service composes ports, checks
// the principal's scopes, and never sees HTTP, SQL or any client library.
package app
