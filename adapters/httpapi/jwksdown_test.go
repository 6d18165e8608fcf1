package httpapi_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/httpapi"
	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/adapters/jwtauth"
	"github.com/engram-memory/engram/app"
)

// TestJWKSUnreachable: when the identity provider's key set cannot be
// fetched, a token is neither accepted nor called invalid: the API answers
// 503 with Retry-After, and /readyz reports the verifier down.
func TestJWKSUnreachable(t *testing.T) {
	t.Parallel()
	iss := newIssuer(t)
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close() // nothing listens at this URL any more
	replay := inproc.NewReplayCache(inproc.ReplayOptions{})
	t.Cleanup(func() { _ = replay.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	v, err := jwtauth.NewJWKS(ctx, jwtauth.Config{JWKSURL: dead.URL, Issuer: testIssuer, Audience: testAudience, PublicURL: publicURL, ReplayCache: replay})
	require.NoError(t, err)
	t.Cleanup(v.Close)
	store := newSQLiteStore(t)
	var (
		mu   sync.Mutex
		deps []string
	)
	logs := &lockedBuffer{}
	srv, err := httpapi.New(httpapi.Config{PublicURL: publicURL}, httpapi.Deps{
		Memories: app.NewMemoryService(app.MemoryDeps{Memories: store, Apps: store, Access: store}), Verifier: v,
		Ready:  []httpapi.Check{{Name: "jwks", Required: true, Probe: v.Ready}},
		Logger: slog.New(slog.NewJSONHandler(logs, nil)),
		OnUnavailable: func(dep string) {
			mu.Lock()
			defer mu.Unlock()
			deps = append(deps, dep)
		},
	})
	require.NoError(t, err)
	e := &env{t: t, iss: iss, server: srv}

	rec := e.user("acme", "alice").do(http.MethodGet, "/api/v1/memories", nil)
	requireProblem(t, rec, http.StatusServiceUnavailable)
	require.NotEmpty(t, rec.Header().Get("Retry-After"))
	require.Empty(t, rec.Header().Values("WWW-Authenticate"), "the token was not judged")
	mu.Lock()
	require.Equal(t, []string{"jwks"}, deps, "the 503 is counted under its dependency")
	mu.Unlock()
	require.Contains(t, logs.String(), `"dependency":"jwks"`)

	ready := decode[struct {
		Status string `json:"status"`
	}](t, e.serve(newRequest(t, http.MethodGet, "/readyz", nil)), http.StatusServiceUnavailable)
	require.Equal(t, "not_ready", ready.Status)
}
