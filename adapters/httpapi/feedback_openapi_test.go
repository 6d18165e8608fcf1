package httpapi

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/engram-memory/engram/app"
)

// TestOpenAPIFeedbackFragmentMatchesRoutes holds docs/openapi-feedback.yaml
// to the routes EnableFeedback and EnableSearch add: every route
// documented with its scope, nothing documented that is not served, every
// operation with an id and responses.
func TestOpenAPIFeedbackFragmentMatchesRoutes(t *testing.T) {
	raw, err := os.ReadFile("../../docs/openapi-feedback.yaml")
	require.NoError(t, err)
	var doc any
	require.NoError(t, yaml.Unmarshal(raw, &doc))
	paths, _ := jsonCompatible(doc).(map[string]any)["paths"].(map[string]any)
	require.NotEmpty(t, paths)

	// Handlers are closures over services they never call here.
	s := &Server{e: echo.New()}
	s.EnableFeedback(&app.FeedbackService{}, &app.ExperimentService{})
	s.EnableSearch(&app.ExperimentSearch{})
	param := regexp.MustCompile(`:([a-z_]+)`)
	served := map[string]string{}
	for k, v := range s.scopes {
		method, path, _ := strings.Cut(k, " ")
		served[strings.ToLower(method)+" "+param.ReplaceAllString(path, "{$1}")] = string(v)
	}
	require.Len(t, served, 15)

	documented := map[string]bool{}
	ids := map[string]bool{}
	for path, item := range paths {
		for method, op := range item.(map[string]any) {
			if method == "parameters" {
				continue
			}
			key := method + " " + path
			documented[key] = true
			o := op.(map[string]any)
			scope, ok := served[key]
			require.True(t, ok, "docs/openapi-feedback.yaml documents %s, which is not served", key)
			require.Equal(t, scope, o["x-required-scope"], key)
			id, _ := o["operationId"].(string)
			require.NotEmpty(t, id, key)
			require.False(t, ids[id], "operationId %s twice", id)
			ids[id] = true
			require.NotEmpty(t, o["responses"], key)
		}
	}
	for key := range served {
		require.True(t, documented[key], "route %s is missing from docs/openapi-feedback.yaml", key)
	}
}
