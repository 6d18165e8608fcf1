// Package docs holds Engram's documents; the Go file exists only so the
// OpenAPI document has one canonical copy that the server embeds.
package docs

import _ "embed"

// OpenAPI is docs/openapi.yaml, the HTTP API's OpenAPI 3.1 description.
//
//go:embed openapi.yaml
var OpenAPI []byte
