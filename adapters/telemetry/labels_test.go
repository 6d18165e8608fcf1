package telemetry_test

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/httpapi"
	"github.com/engram-memory/engram/adapters/telemetry"
)

// Every path the API documents is a route template of its own: a route
// added to docs/openapi.yaml but not to the label list would be counted
// as "other".
func TestRouteTemplatesCoverTheAPI(t *testing.T) {
	doc, err := httpapi.OpenAPIDocument()
	require.NoError(t, err)
	paths, ok := doc["paths"].(map[string]any)
	require.True(t, ok)
	require.Greater(t, len(paths), 20)
	param := regexp.MustCompile(`\{([^}]+)\}`)
	for p := range paths {
		concrete := param.ReplaceAllString(p, "01JX0000000000000000000000")
		want := param.ReplaceAllString(p, ":$1")
		require.Equal(t, want, telemetry.Route(concrete), p)
	}
	for _, p := range []string{"/mcp", "/mcp/sse", "/.well-known/oauth-protected-resource"} {
		require.Equal(t, p, telemetry.Route(p))
	}
	require.Equal(t, "/mcp/:client/http/:user", telemetry.Route("/mcp/claude/http/alice"))
}

func randomString(t *testing.T, alphabet string, n int) string {
	t.Helper()
	var b strings.Builder
	for range n {
		i, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		require.NoError(t, err)
		b.WriteByte(alphabet[i.Int64()])
	}
	return b.String()
}

// Requests for paths and methods nobody serves, sent without a token,
// add no series: the labels come only from route templates and a fixed
// method set. (13,000 such requests used to grow /metrics to 22 MB.)
func TestJunkPathsAndMethodsDoNotGrowTheSeries(t *testing.T) {
	tel := newT(t, "")
	h := tel.HTTP(http.NotFoundHandler())
	send := func(method, path string) {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Method, req.URL.Path = method, path
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	series := func() int {
		mfs, err := tel.Registry.Gather()
		require.NoError(t, err)
		n := 0
		for _, mf := range mfs {
			if strings.HasPrefix(mf.GetName(), "engram_http_") {
				n += len(mf.GetMetric())
			}
		}
		return n
	}
	send("GET", "/warm-up")
	send("BREW", "/api/v1/memories")
	send("BREW", "/warm-up")
	send(http.MethodPost, "/warm-up")
	before := series()
	for i := range 1000 {
		method := randomString(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZ", 3+i%8)
		prefix := []string{"/", "/api/v1/", "/api/v1/memories/x/", "/mcp/", "/.well-known/", "/api/"}[i%6]
		path := prefix + randomString(t, "abcdefghijklmnopqrstuvwxyz0123456789-_.", 1+i%40)
		send(method, path)
		send(http.MethodGet, path)
		send(http.MethodPost, fmt.Sprintf("%s/%d", path, i))
	}
	require.Equal(t, before, series(), "junk requests added series")
	require.Equal(t, "other", telemetry.Method("BREW"))
	require.Equal(t, http.MethodPatch, telemetry.Method(http.MethodPatch))
}
