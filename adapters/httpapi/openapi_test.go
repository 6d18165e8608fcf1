package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/docs"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

func loadSpec(t *testing.T) map[string]any {
	t.Helper()
	var doc any
	require.NoError(t, yaml.Unmarshal(docs.OpenAPI, &doc), "docs/openapi.yaml is not YAML")
	m, ok := jsonCompatible(doc).(map[string]any)
	require.True(t, ok, "docs/openapi.yaml is not a mapping")
	return m
}

// registeredRoutes builds the routes without dependencies: handlers are
// method values that are never called here.
func registeredRoutes(t *testing.T) (map[string]bool, map[string]string) {
	t.Helper()
	s := &Server{e: echo.New()}
	s.routes()
	routes := map[string]bool{}
	param := regexp.MustCompile(`:([a-z_]+)`)
	for _, r := range s.e.Routes() {
		routes[strings.ToLower(r.Method)+" "+param.ReplaceAllString(r.Path, "{$1}")] = true
	}
	scopes := map[string]string{}
	for k, v := range s.scopes {
		method, path, _ := strings.Cut(k, " ")
		scopes[strings.ToLower(method)+" "+param.ReplaceAllString(path, "{$1}")] = string(v)
	}
	require.Greater(t, len(routes), 15)
	return routes, scopes
}

func TestOpenAPIIsValid31(t *testing.T) {
	// The merged document: base plus every fragment, $refs across them.
	doc, err := OpenAPIDocument()
	require.NoError(t, err)
	require.Regexp(t, `^3\.1\.\d+$`, doc["openapi"])
	info, _ := doc["info"].(map[string]any)
	require.NotEmpty(t, info["title"])
	require.NotEmpty(t, info["version"])
	paths, _ := doc["paths"].(map[string]any)
	require.NotEmpty(t, paths)
	ops := 0
	for path, item := range paths {
		require.True(t, strings.HasPrefix(path, "/"), path)
		methods, ok := item.(map[string]any)
		require.True(t, ok, path)
		for method, op := range methods {
			if !slices.Contains(httpMethods, method) {
				continue
			}
			ops++
			o, ok := op.(map[string]any)
			require.True(t, ok, "%s %s", method, path)
			require.NotEmpty(t, o["operationId"], "%s %s has no operationId", method, path)
			responses, _ := o["responses"].(map[string]any)
			require.NotEmpty(t, responses, "%s %s has no responses", method, path)
			for code, r := range responses {
				require.Regexp(t, `^([1-5][0-9X]{2}|default)$`, code, "%s %s", method, path)
				rm, _ := r.(map[string]any)
				require.True(t, rm["description"] != nil || rm["$ref"] != nil, "%s %s response %s needs a description", method, path, code)
			}
		}
	}
	require.Greater(t, ops, 15)
	// Every $ref points at something that exists.
	var walk func(v any)
	walk = func(v any) {
		switch t2 := v.(type) {
		case map[string]any:
			if ref, ok := t2["$ref"].(string); ok {
				require.True(t, resolves(doc, ref), "dangling $ref %s", ref)
			}
			for _, e := range t2 {
				walk(e)
			}
		case []any:
			for _, e := range t2 {
				walk(e)
			}
		}
	}
	walk(doc)
}

func resolves(doc map[string]any, ref string) bool {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return false
	}
	var cur any = doc
	for _, part := range strings.Split(rest, "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		if cur, ok = m[part]; !ok {
			return false
		}
	}
	return true
}

func TestOpenAPIDocumentsEveryRouteAndNoOther(t *testing.T) {
	doc := loadSpec(t)
	routes, scopes := registeredRoutes(t)
	documented := map[string]bool{}
	paths, _ := doc["paths"].(map[string]any)
	for path, item := range paths {
		for method, op := range item.(map[string]any) {
			if !slices.Contains(httpMethods, method) {
				continue
			}
			key := method + " " + path
			documented[key] = true
			want, isAPI := scopes[key]
			got, _ := op.(map[string]any)["x-required-scope"].(string)
			if isAPI {
				require.Equal(t, want, got, "%s: x-required-scope differs from the route's scope", key)
			} else {
				require.Empty(t, got, "%s documents a scope but the route needs none", key)
			}
		}
	}
	for r := range routes {
		require.True(t, documented[r], "route %s is missing from docs/openapi.yaml", r)
	}
	for d := range documented {
		require.True(t, routes[d], "docs/openapi.yaml documents %s, which the router does not serve", d)
	}
}

// TestOpenAPIDocumentsEveryEnabledRoute turns every optional route group on
// and holds all served routes to the merged document (openapi.yaml plus the
// openapi-*.yaml fragments), both ways, scopes included.
func TestOpenAPIDocumentsEveryEnabledRoute(t *testing.T) {
	s := &Server{e: echo.New()}
	s.routes()
	// Handlers are closures over services they never call here.
	s.EnableFeedback(&app.FeedbackService{}, &app.ExperimentService{})
	s.EnableSearch(&app.ExperimentSearch{})
	s.EnableSessions(&app.SessionService{})
	s.EnableArchive(ArchiveDeps{Source: archiveStub{}, Sink: archiveStub{}})
	s.EnableKeys(&app.KeyService{})
	s.EnableGrants(&app.GrantService{})
	s.EnablePrivacy(&app.PrivacyService{})
	s.EnableMem0(Mem0Deps{Search: &app.ExperimentSearch{}, Owners: ownersStub{}})
	s.EnableGraph(&app.GraphService{})
	served := map[string]string{}
	for _, r := range s.e.Routes() {
		key := strings.ToLower(r.Method) + " " + routeParam.ReplaceAllString(r.Path, "{$1}")
		served[key] = ""
	}
	for k, v := range s.scopes {
		method, path, _ := strings.Cut(k, " ")
		served[strings.ToLower(method)+" "+routeParam.ReplaceAllString(path, "{$1}")] = string(v)
	}
	doc, err := OpenAPIDocument()
	require.NoError(t, err)
	ids := map[string]string{}
	documented := map[string]bool{}
	for path, item := range doc["paths"].(map[string]any) {
		for method, op := range item.(map[string]any) {
			if !isHTTPMethod(method) {
				continue
			}
			key := method + " " + path
			documented[key] = true
			scope, ok := served[key]
			require.True(t, ok, "the OpenAPI document describes %s, which no route group serves", key)
			o := op.(map[string]any)
			got, _ := o["x-required-scope"].(string)
			require.Equal(t, scope, got, "%s: x-required-scope", key)
			if scope != "" {
				// Every scoped route runs the rate limiter; mem0's routes
				// answer its refusal in mem0's error shape.
				responses, _ := o["responses"].(map[string]any)
				want := "#/components/responses/RateLimited"
				if isMem0Path(path) {
					want = "#/components/responses/Mem0RateLimited"
				}
				require.Equal(t, map[string]any{"$ref": want}, responses["429"], "%s: 429", key)
			}
			id, _ := o["operationId"].(string)
			require.NotEmpty(t, id, key)
			require.Empty(t, ids[id], "operationId %s used by %s and %s", id, ids[id], key)
			ids[id] = key
		}
	}
	for key := range served {
		// A mem0 route is documented without the trailing slash mem0's
		// SDKs send; its twin with the slash serves the same.
		if method, path, _ := strings.Cut(key, " "); isMem0Path(path) {
			key = method + " " + strings.TrimSuffix(path, "/")
		}
		require.True(t, documented[key], "route %s is missing from docs/openapi*.yaml", key)
	}
}

func TestOpenAPIConvertsToJSON(t *testing.T) {
	doc, err := OpenAPIDocument()
	require.NoError(t, err)
	out, err := json.Marshal(doc)
	require.NoError(t, err)
	require.Contains(t, string(out), `"openapi":"3.1.0"`)
	// Response codes written as YAML integers still become JSON keys.
	var y any
	require.NoError(t, yaml.Unmarshal([]byte("responses:\n  200: {description: ok}\n"), &y))
	m := jsonCompatible(y).(map[string]any)
	require.Contains(t, m["responses"], "200")
}

func TestOpenAPIMergeRefusesRedefinition(t *testing.T) {
	base := map[string]any{"paths": map[string]any{"/a": map[string]any{}}, "components": map[string]any{"schemas": map[string]any{"X": 1}}}
	require.NoError(t, mergeSection(base, map[string]any{"paths": map[string]any{"/b": map[string]any{}}}, "f1", "paths"))
	require.Contains(t, base["paths"], "/b")
	require.ErrorContains(t, mergeSection(base, map[string]any{"paths": map[string]any{"/a": map[string]any{}}}, "f2", "paths"), "redefines paths//a")
	require.ErrorContains(t, mergeSection(base, map[string]any{"components": map[string]any{"schemas": map[string]any{"X": 2}}}, "f3", "components", "schemas"),
		"redefines components/schemas/X")
	// A section the base lacks is created.
	require.NoError(t, mergeSection(base, map[string]any{"components": map[string]any{"parameters": map[string]any{"P": 1}}}, "f4", "components", "parameters"))
	require.Contains(t, base["components"].(map[string]any)["parameters"], "P")
}

// archiveStub only has to be non-nil: the routes are listed, never called.
type archiveStub struct {
	ports.ArchiveSource
	ports.ArchiveSink
}

// TestOpenAPITagsDeclaredAndServersServed: every operation's tag is
// declared at the top (generators group by them), and the served document
// names this server's public URL in servers.
func TestOpenAPITagsDeclaredAndServersServed(t *testing.T) {
	doc, err := OpenAPIDocument()
	require.NoError(t, err)
	declared := map[string]bool{}
	for _, tag := range doc["tags"].([]any) {
		declared[tag.(map[string]any)["name"].(string)] = true
	}
	for path, item := range doc["paths"].(map[string]any) {
		for method, op := range item.(map[string]any) {
			if !isHTTPMethod(method) {
				continue
			}
			tags, _ := op.(map[string]any)["tags"].([]any)
			require.NotEmpty(t, tags, "%s %s has no tag", method, path)
			for _, tag := range tags {
				require.True(t, declared[tag.(string)], "%s %s uses undeclared tag %q", method, path, tag)
			}
		}
	}

	s, err := New(Config{PublicURL: "https://memory.example.com"}, Deps{Memories: &app.MemoryService{}, Verifier: noVerifier{}})
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/openapi.json", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	var served map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &served))
	require.Equal(t, "https://memory.example.com", served["servers"].([]any)[0].(map[string]any)["url"])
}

type noVerifier struct{}

func (noVerifier) Verify(context.Context, ports.Credentials) (domain.Principal, error) {
	return domain.Principal{}, domain.ErrUnauthenticated
}
