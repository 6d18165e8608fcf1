package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"
)

// TestDPoPHTUIsThePathRouted: a proof binds the exact path the router
// serves (issue 11). An encoded slash in htu is not a separator, and a
// request path the router would match literally but RFC 3986 would
// normalise is refused before authentication.
func TestDPoPHTUIsThePathRouted(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice := e.dpopUser("acme", "alice")
	decode[memoryJSON](t, alice.do(http.MethodPost, "/api/v1/memories", map[string]any{"text": "bound"}), http.StatusCreated)

	send := func(target, htu string) *httptest.ResponseRecorder {
		proof, err := alice.prover.Proof(http.MethodGet, htu, alice.token)
		require.NoError(t, err)
		req := httptest.NewRequest(http.MethodGet, target, nil)
		req.Header.Set("Authorization", "DPoP "+alice.token)
		req.Header.Set("DPoP", proof)
		rec := httptest.NewRecorder()
		e.server.Handler().ServeHTTP(rec, req)
		return rec
	}
	require.Equal(t, http.StatusOK, send("/api/v1/memories", publicURL+"/api/v1/memories").Code)
	for _, htu := range []string{"/api%2Fv1/memories", "/api%2fv1/memories", "/api/v1%5Cmemories"} {
		rec := send("/api/v1/memories", publicURL+htu)
		requireProblem(t, rec, http.StatusUnauthorized)
		requireChallenge(t, rec, "DPoP", "invalid_dpop_proof")
	}
	// Equivalent spellings of the same path still match.
	require.Equal(t, http.StatusOK, send("/api/v1/memories", publicURL+"/api/v1/%6Demories").Code)
	for _, target := range []string{"/api/v1/apps/../memories", "/api/v1/apps/%2e%2E/memories", "/api/v1/./memories"} {
		rec := send(target, publicURL+"/api/v1/memories")
		p := requireProblem(t, rec, http.StatusBadRequest)
		require.Equal(t, "path", p.Errors[0].Field, target)
	}
}

// TestEveryRouteRefusesAmbiguousPaths sweeps the router: on every route, a
// dot segment or an encoded slash or backslash in the path is a 400 before
// authentication (no credentials are sent, and the answer is not 401).
func TestEveryRouteRefusesAmbiguousPaths(t *testing.T) {
	t.Parallel()
	e := newFullEnv(t)
	e.server.MountPublic("/mcp", http.NotFoundHandler())
	e.skipConformance = true
	swept := 0
	for _, r := range e.server.Handler().(*echo.Echo).Routes() {
		path := strings.NewReplacer(":session_id", "s1", ":id", "x", "*", "y").Replace(r.Path)
		if r.Method == echo.RouteNotFound || path == "/" {
			continue
		}
		for _, bad := range []string{
			path + "/.", path + "/..", "/." + path, "/x/.." + path, path + "/%2e%2E",
			path + "%2Fx", path + "%2fx", path + "%5Cx", path + "%5cx",
		} {
			req := httptest.NewRequest(r.Method, "http://api.engram.test"+bad, nil)
			rec := httptest.NewRecorder()
			e.server.Handler().ServeHTTP(rec, req)
			require.Equal(t, http.StatusBadRequest, rec.Code, "%s %s: %s", r.Method, bad, rec.Body)
			if r.Method == http.MethodHead {
				continue // no body to carry a problem
			}
			p := requireProblem(t, rec, http.StatusBadRequest)
			require.Equal(t, "path", p.Errors[0].Field, "%s %s", r.Method, bad)
		}
		swept++
	}
	require.GreaterOrEqual(t, swept, 30, "every route was swept")
}
