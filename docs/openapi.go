// Package docs holds Engram's documents; the Go file exists only so the
// OpenAPI description has one canonical copy that the server embeds.
package docs

import (
	"embed"
	"io/fs"
	"sort"
)

// OpenAPI is docs/openapi.yaml, the HTTP API's OpenAPI 3.1 description.
//
//go:embed openapi.yaml
var OpenAPI []byte

// fragments are docs/openapi-*.yaml: the paths and components of optional
// route groups (feedback, experiments, search...), merged into OpenAPI for
// the routes a server turns on.
//
//go:embed openapi-*.yaml
var fragments embed.FS

// Fragment is one openapi-*.yaml file.
type Fragment struct {
	Name string
	YAML []byte
}

// OpenAPIFragments returns every fragment, ordered by file name.
func OpenAPIFragments() []Fragment {
	names, _ := fs.Glob(fragments, "openapi-*.yaml") // the pattern is valid
	sort.Strings(names)
	out := make([]Fragment, 0, len(names))
	for _, n := range names {
		b, _ := fragments.ReadFile(n) // listed just above, so readable
		out = append(out, Fragment{Name: n, YAML: b})
	}
	return out
}
