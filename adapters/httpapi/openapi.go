package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"
	"go.yaml.in/yaml/v3"

	"github.com/engram-memory/engram/docs"
)

// OpenAPIDocument is docs/openapi.yaml with every docs/openapi-*.yaml
// fragment's paths and components merged in, as a JSON-shaped value. A
// path or component defined twice is an error rather than a silent
// override.
func OpenAPIDocument() (map[string]any, error) {
	base, err := yamlObject("openapi.yaml", docs.OpenAPI)
	if err != nil {
		return nil, err
	}
	for _, f := range docs.OpenAPIFragments() {
		frag, err := yamlObject(f.Name, f.YAML)
		if err != nil {
			return nil, err
		}
		if err := mergeSection(base, frag, f.Name, "paths"); err != nil {
			return nil, err
		}
		comps, _ := frag["components"].(map[string]any)
		for kind := range comps {
			if err := mergeSection(base, frag, f.Name, "components", kind); err != nil {
				return nil, err
			}
		}
	}
	return base, nil
}

func yamlObject(name string, raw []byte) (map[string]any, error) {
	var doc any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("httpapi: docs/%s: %w", name, err)
	}
	m, ok := jsonCompatible(doc).(map[string]any)
	if !ok {
		return nil, fmt.Errorf("httpapi: docs/%s is not a mapping", name)
	}
	return m, nil
}

// mergeSection copies frag's entries at path (e.g. components, schemas)
// into base's, creating the section when base lacks it.
func mergeSection(base, frag map[string]any, name string, path ...string) error {
	src, dst := frag, base
	for _, key := range path {
		next, _ := src[key].(map[string]any)
		if next == nil {
			return nil
		}
		d, _ := dst[key].(map[string]any)
		if d == nil {
			d = map[string]any{}
			dst[key] = d
		}
		src, dst = next, d
	}
	for k, v := range src {
		if _, dup := dst[k]; dup {
			return fmt.Errorf("httpapi: docs/%s redefines %s/%s", name, strings.Join(path, "/"), k)
		}
		dst[k] = v
	}
	return nil
}

// jsonCompatible turns the map[any]any that yaml.v3 produces for a mapping
// with a non-string key (an unquoted response code such as 200:) into
// map[string]any, which is what JSON object keys are.
func jsonCompatible(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = jsonCompatible(e)
		}
		return t
	case map[any]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[fmt.Sprint(k)] = jsonCompatible(e)
		}
		return m
	case []any:
		for i, e := range t {
			t[i] = jsonCompatible(e)
		}
		return t
	}
	return v
}

var routeParam = regexp.MustCompile(`:([A-Za-z_]+)`)

// servedSpec is the document as this server serves it: fragment operations
// whose routes were not turned on (EnableFeedback and friends) are left
// out, so clients never see an operation that answers 404, and so are the
// components only they used (pruneComponents). It is computed on the first
// request, after every route is registered.
type servedSpec struct {
	once sync.Once
	doc  map[string]any
	json []byte
	err  error
}

func (s *Server) openAPI(c echo.Context) error {
	s.spec.once.Do(func() {
		registered := map[string]bool{}
		for _, r := range s.e.Routes() {
			registered[strings.ToLower(r.Method)+" "+routeParam.ReplaceAllString(r.Path, "{$1}")] = true
		}
		paths, _ := s.spec.doc["paths"].(map[string]any)
		for path, item := range paths {
			ops, _ := item.(map[string]any)
			for method := range ops {
				if isHTTPMethod(method) && !registered[method+" "+path] {
					delete(ops, method)
				}
			}
			if !hasOperation(ops) {
				delete(paths, path)
			}
		}
		pruneComponents(s.spec.doc)
		// Generated clients call the URL in servers: the one this server
		// is reached at (ENGRAM_PUBLIC_URL), not the document's example.
		s.spec.doc["servers"] = []any{map[string]any{"url": s.origin, "description": "this server (ENGRAM_PUBLIC_URL)"}}
		s.spec.json, s.spec.err = json.Marshal(s.spec.doc)
	})
	if s.spec.err != nil {
		return fmt.Errorf("httpapi: openapi: %w", s.spec.err)
	}
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, s.spec.json)
}

func isHTTPMethod(m string) bool {
	switch m {
	case "get", "put", "post", "delete", "options", "head", "patch", "trace":
		return true
	}
	return false
}

func hasOperation(ops map[string]any) bool {
	for m := range ops {
		if isHTTPMethod(m) {
			return true
		}
	}
	return false
}
