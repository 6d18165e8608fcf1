package httpapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/app"
)

// unusedComponents finds, by searching the JSON text rather than walking
// the document as pruneComponents does, the components nothing outside
// components refers to, directly or through a component that is itself
// referred to.
func unusedComponents(t *testing.T, doc map[string]any) []string {
	t.Helper()
	comps, _ := doc["components"].(map[string]any)
	rest := map[string]any{}
	for k, v := range doc {
		if k != "components" {
			rest[k] = v
		}
	}
	raw, err := json.Marshal(rest)
	require.NoError(t, err)
	text := string(raw)
	used := map[string]bool{}
	for changed := true; changed; {
		changed = false
		for kind, v := range comps {
			for name, body := range v.(map[string]any) {
				key := kind + "/" + name
				if used[key] {
					continue
				}
				needle := `"#/components/` + key + `"`
				if kind == "securitySchemes" {
					needle = `"` + name + `":[`
				}
				if !strings.Contains(text, needle) && !strings.Contains(text, strings.TrimSuffix(needle, `"`)+"/") {
					continue
				}
				used[key] = true
				changed = true
				b, err := json.Marshal(body)
				require.NoError(t, err)
				text += string(b)
			}
		}
	}
	var unused []string
	for kind, v := range comps {
		for name := range v.(map[string]any) {
			if !used[kind+"/"+name] {
				unused = append(unused, kind+"/"+name)
			}
		}
	}
	return unused
}

// requireRefsResolve: pruning left no $ref pointing at a deleted component.
func requireRefsResolve(t *testing.T, doc map[string]any) {
	t.Helper()
	raw, err := json.Marshal(doc)
	require.NoError(t, err)
	comps := doc["components"].(map[string]any)
	for _, m := range regexp.MustCompile(`"#/components/([^/"]+)/([^/"]+)`).FindAllStringSubmatch(string(raw), -1) {
		kind, _ := comps[m[1]].(map[string]any)
		require.Contains(t, kind, strings.ReplaceAll(strings.ReplaceAll(m[2], "~1", "/"), "~0", "~"), "a $ref to %s/%s", m[1], m[2])
	}
}

func servedDocument(t *testing.T, s *Server) map[string]any {
	t.Helper()
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/openapi.json", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &doc))
	return doc
}

// TestServedOpenAPIHasNoUnusedComponents: a server with no optional route
// group serves none of the fragments' paths, and none of the components
// only those paths used; one with a group on keeps what that group uses.
func TestServedOpenAPIHasNoUnusedComponents(t *testing.T) {
	bare, err := New(Config{PublicURL: "https://memory.example.com"}, Deps{Memories: &app.MemoryService{}, Verifier: noVerifier{}})
	require.NoError(t, err)
	doc := servedDocument(t, bare)
	require.Empty(t, unusedComponents(t, doc))
	requireRefsResolve(t, doc)
	full, err := OpenAPIDocument()
	require.NoError(t, err)
	require.Equal(t, full["components"].(map[string]any)["securitySchemes"], doc["components"].(map[string]any)["securitySchemes"],
		"the schemes the top-level security names are kept")
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	require.Contains(t, schemas, "Memory")
	require.NotContains(t, schemas, "Entity", "the graph fragment's schema goes with its paths")

	graph, err := New(Config{PublicURL: "https://memory.example.com"}, Deps{Memories: &app.MemoryService{}, Verifier: noVerifier{}})
	require.NoError(t, err)
	graph.EnableGraph(&app.GraphService{})
	doc = servedDocument(t, graph)
	require.Empty(t, unusedComponents(t, doc))
	requireRefsResolve(t, doc)
	require.Contains(t, doc["components"].(map[string]any)["schemas"], "Entity")
}

func TestPruneComponentsFollowsRefsTransitively(t *testing.T) {
	doc := map[string]any{
		"security": []any{map[string]any{"bearer": []any{}}},
		"paths": map[string]any{"/a": map[string]any{"get": map[string]any{
			"responses": map[string]any{"200": map[string]any{"$ref": "#/components/responses/Ok"}},
		}}},
		"components": map[string]any{
			"responses": map[string]any{
				"Ok":     map[string]any{"content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/A~1B/properties/x"}}}},
				"Unused": map[string]any{"description": "no path uses it"},
			},
			"schemas": map[string]any{
				"A/B":  map[string]any{"properties": map[string]any{"x": map[string]any{"$ref": "#/components/schemas/C"}}},
				"C":    map[string]any{"type": "string"},
				"Lone": map[string]any{"$ref": "#/components/schemas/C"},
			},
			"parameters":      map[string]any{"P": map[string]any{"name": "p"}},
			"securitySchemes": map[string]any{"bearer": map[string]any{}, "dpop": map[string]any{}},
		},
	}
	pruneComponents(doc)
	require.Equal(t, map[string]any{
		"responses":       map[string]any{"Ok": doc["components"].(map[string]any)["responses"].(map[string]any)["Ok"]},
		"schemas":         map[string]any{"A/B": map[string]any{"properties": map[string]any{"x": map[string]any{"$ref": "#/components/schemas/C"}}}, "C": map[string]any{"type": "string"}},
		"securitySchemes": map[string]any{"bearer": map[string]any{}},
	}, doc["components"])
}
