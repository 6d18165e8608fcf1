package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
	"go.yaml.in/yaml/v3"

	"github.com/engram-memory/engram/docs"
)

// openAPIJSON converts the canonical docs/openapi.yaml (embedded by package
// docs, so there is one copy) to JSON once, at start.
func openAPIJSON() ([]byte, error) {
	var doc any
	if err := yaml.Unmarshal(docs.OpenAPI, &doc); err != nil {
		return nil, fmt.Errorf("httpapi: docs/openapi.yaml: %w", err)
	}
	out, err := json.Marshal(jsonCompatible(doc))
	if err != nil {
		return nil, fmt.Errorf("httpapi: docs/openapi.yaml is not JSON-compatible: %w", err)
	}
	return out, nil
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

func (s *Server) openAPI(c echo.Context) error {
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, s.spec)
}
