package httpapi_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/httpapi"
	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/adapters/jwtauth"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

// TestZeroConfigLocalKey: in zero-config mode the server trusts only the
// Ed25519 key in its data directory; tokens `engram token` mints from it
// work as Bearer and, bound to a key, as DPoP, and a token from any other
// key does not.
func TestZeroConfigLocalKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	key, created, err := jwtauth.LoadOrCreateLocalKey(dir)
	require.NoError(t, err)
	require.True(t, created)
	replay := inproc.NewReplayCache(inproc.ReplayOptions{})
	t.Cleanup(func() { _ = replay.Close() })
	v, err := jwtauth.NewLocal(key, jwtauth.Config{PublicURL: publicURL, ReplayCache: replay})
	require.NoError(t, err)
	t.Cleanup(v.Close)
	store := newSQLiteStore(t)
	srv, err := httpapi.New(httpapi.Config{PublicURL: publicURL}, httpapi.Deps{
		Memories: app.NewMemoryService(app.MemoryDeps{Memories: store, Apps: store, Access: store}), Verifier: v,
	})
	require.NoError(t, err)
	e := &env{t: t, server: srv}

	tok, err := key.Mint(jwtauth.Claims{Subject: "me", OrgID: jwtauth.LocalOrg, ClientID: "curl"})
	require.NoError(t, err)
	local := caller{e: e, token: tok}
	m := local.add("zero config works")
	require.Equal(t, "curl", m.App)

	prover, err := jwtauth.NewDPoPProver(ed25519Key(t))
	require.NoError(t, err)
	bound, err := key.Mint(jwtauth.Claims{Subject: "me", OrgID: jwtauth.LocalOrg, JKT: prover.JKT()})
	require.NoError(t, err)
	got := decode[memoryJSON](t, caller{e: e, token: bound, prover: prover}.do(http.MethodGet, "/api/v1/memories/"+m.ID, nil), http.StatusOK)
	require.Equal(t, m.ID, got.ID)

	// A key minted elsewhere (another data directory) is not trusted.
	other, _, err := jwtauth.LoadOrCreateLocalKey(t.TempDir())
	require.NoError(t, err)
	forged, err := other.Mint(jwtauth.Claims{Subject: "me", OrgID: jwtauth.LocalOrg})
	require.NoError(t, err)
	rec := caller{e: e, token: forged}.do(http.MethodGet, "/api/v1/memories", nil)
	requireProblem(t, rec, http.StatusUnauthorized)
	requireChallenge(t, rec, "Bearer", "invalid_token")

	// Scopes minted narrow stay narrow.
	ro, err := key.Mint(jwtauth.Claims{Subject: "me", OrgID: jwtauth.LocalOrg, Scopes: []domain.Scope{domain.ScopeMemoriesRead}})
	require.NoError(t, err)
	requireProblem(t, caller{e: e, token: ro}.do(http.MethodPost, "/api/v1/memories", map[string]any{"text": "x"}), http.StatusForbidden)
}

func ed25519Key(t testing.TB) ed25519.PrivateKey {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	return priv
}
