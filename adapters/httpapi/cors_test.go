package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/httpapi"
	"github.com/engram-memory/engram/adapters/mcpserver"
)

// TestCORSPreflightIsAnsweredBeforeAuthentication: a browser preflight
// carries no credentials, so for an origin in ENGRAM_ALLOWED_ORIGINS it is
// answered before authentication, on /mcp (the real MCP server mounted as
// engramd mounts it) and on the API (issue 11). A foreign origin gets no
// CORS grant.
func TestCORSPreflightIsAnsweredBeforeAuthentication(t *testing.T) {
	t.Parallel()
	const app = "https://app.example.com"
	e := newEnv(t, func(o *envOptions) { o.cfg.AllowedOrigins = []string{app + "/"} })
	e.skipConformance = true
	mcp := mcpserver.New(mcpserver.Config{PublicURL: publicURL, AllowedOrigins: []string{app}}, mcpserver.Deps{Memories: e.deps.Memories, Verifier: e.deps.Verifier})
	e.server.MountPublic("/mcp", mcp.Handler())

	preflight := func(path, origin string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodOptions, path, nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", http.MethodPost)
		req.Header.Set("Access-Control-Request-Headers", "authorization, content-type, mcp-protocol-version")
		rec := httptest.NewRecorder()
		e.server.Handler().ServeHTTP(rec, req)
		return rec
	}
	for _, path := range []string{"/mcp", "/api/v1/memories", "/api/v1/memories/0190a000-0000-7000-8000-000000000001"} {
		rec := preflight(path, app)
		require.Equal(t, http.StatusNoContent, rec.Code, "%s: %s", path, rec.Body)
		require.Equal(t, app, rec.Header().Get("Access-Control-Allow-Origin"), path)
		require.Contains(t, rec.Header().Get("Access-Control-Allow-Methods"), "POST", path)
		allowed := strings.ToLower(rec.Header().Get("Access-Control-Allow-Headers"))
		for _, h := range []string{"authorization", "dpop", "content-type", "mcp-protocol-version", "mcp-session-id"} {
			require.Contains(t, allowed, h, path)
		}
		require.Empty(t, rec.Header().Get("WWW-Authenticate"), "not an authentication failure")

		rec = preflight(path, "https://evil.example")
		require.Empty(t, rec.Header().Get("Access-Control-Allow-Origin"), "%s: a foreign origin is not granted", path)
	}

	// The real request that follows carries the grant, and still needs a token.
	req := httptest.NewRequest(http.MethodGet, "/api/v1/memories", nil)
	req.Header.Set("Origin", app)
	rec := httptest.NewRecorder()
	e.server.Handler().ServeHTTP(rec, req)
	require.Equal(t, http.StatusUnauthorized, rec.Code)
	require.Equal(t, app, rec.Header().Get("Access-Control-Allow-Origin"))
	require.Contains(t, rec.Header().Get("Access-Control-Expose-Headers"), "WWW-Authenticate")
	decode[pageJSON](t, e.user("acme", "alice").do(http.MethodGet, "/api/v1/memories", nil), http.StatusOK)

	_, err := newServerWithOrigins(e, []string{"not a url"})
	require.ErrorContains(t, err, "ENGRAM_ALLOWED_ORIGINS")
}

func newServerWithOrigins(e *env, origins []string) (*httpapi.Server, error) {
	return httpapi.New(httpapi.Config{PublicURL: publicURL, AllowedOrigins: origins}, e.deps)
}
