package wiring

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/httpapi"
)

// Every route the API documents (the optional features included), mem0's
// root routes and MCP's, is labelled in metrics and traces with the template
// the router matched (they were read from a second table scanned out of
// the YAML, which labelled mem0's routes "other"); a path no route serves
// is "other".
func TestMetricsLabelEveryDocumentedRouteByItsTemplate(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t, map[string]string{"ENGRAM_ADDR": "127.0.0.1:0"})
	sys, err := Build(ctx, cfg, quiet)
	require.NoError(t, err)
	t.Cleanup(func() { _ = sys.Close() })
	h := sys.Handler()
	doc, err := httpapi.OpenAPIDocument()
	require.NoError(t, err)
	paths, ok := doc["paths"].(map[string]any)
	require.True(t, ok)
	require.Greater(t, len(paths), 20)
	param := regexp.MustCompile(`\{[^}]+\}`)
	type call struct{ method, path, want string }
	var calls []call
	for p, item := range paths {
		ops, _ := item.(map[string]any)
		for m := range ops {
			method := strings.ToUpper(m)
			switch method {
			case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
			default:
				continue
			}
			calls = append(calls, call{method, param.ReplaceAllString(p, "01JX0000000000000000000000"), p})
		}
	}
	// mem0's root routes and MCP's, outside the OpenAPI document.
	calls = append(calls,
		call{http.MethodPost, "/v3/memories/add/", "/v3/memories/add/"},
		call{http.MethodPost, "/v1/memories", "/v1/memories"},
		call{http.MethodGet, "/v1/memories/01JX0000000000000000000000/history/", "/v1/memories/{id}/history/"},
		call{http.MethodGet, "/mcp", "/mcp"},
	)
	for _, junk := range []string{"/wp-login.php", "/api/v1/junk", "/api/v1/memories/x/y", "/api/v1/a/b/c/d/e/f", "/.well-known/anything"} {
		calls = append(calls, call{http.MethodGet, junk, "other"})
	}
	for _, c := range calls {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(c.method, c.path, nil))
	}
	families, err := sys.tel.Registry.Gather()
	require.NoError(t, err)
	got := map[string]bool{} // "METHOD route"
	for _, mf := range families {
		if mf.GetName() != "engram_http_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			l := map[string]string{}
			for _, lp := range m.GetLabel() {
				l[lp.GetName()] = lp.GetValue()
			}
			// echo's parameter names are its own; the shape is the point.
			got[l["method"]+" "+regexp.MustCompile(`:[^/]+`).ReplaceAllString(l["route"], "{}")] = true
		}
	}
	for _, c := range calls {
		want := c.method + " " + param.ReplaceAllString(c.want, "{}")
		assert.True(t, got[want], "no series %q", want)
	}
}
