package jwtauth_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/jwtauth"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

func newLocalVerifier(t *testing.T, key *jwtauth.LocalKey) *jwtauth.Verifier {
	t.Helper()
	v, err := jwtauth.NewLocal(key, jwtauth.Config{ReplayCache: newMemReplay(time.Now), PublicURL: testOrigin})
	require.NoError(t, err)
	require.NoError(t, v.Ready(context.Background()))
	return v
}

func TestLocalKeyCreateThenLoad(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	k1, created, err := jwtauth.LoadOrCreateLocalKey(dir)
	require.NoError(t, err)
	require.True(t, created)
	info, err := os.Stat(k1.Path())
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())

	k2, created, err := jwtauth.LoadOrCreateLocalKey(dir)
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, k1.KID(), k2.KID())
	require.Equal(t, k1.Public(), k2.Public())

	// A token minted with the reloaded key verifies against the first.
	tok, err := k2.Mint(jwtauth.Claims{Subject: "alice", OrgID: jwtauth.LocalOrg})
	require.NoError(t, err)
	p, err := newLocalVerifier(t, k1).Verify(context.Background(), ports.Credentials{Scheme: "Bearer", Token: tok})
	require.NoError(t, err)
	require.Equal(t, domain.UserID("alice"), p.UserID)
	require.Equal(t, domain.OrgID("local"), p.OrgID)
	require.Equal(t, domain.DefaultUserScopes, p.Scopes)
}

func TestLocalKeyRefusesOpenPermissions(t *testing.T) {
	dir := t.TempDir()
	k, _, err := jwtauth.LoadOrCreateLocalKey(dir)
	require.NoError(t, err)
	require.NoError(t, os.Chmod(k.Path(), 0o644))
	_, _, err = jwtauth.LoadOrCreateLocalKey(dir)
	require.ErrorContains(t, err, "chmod 600")
}

func TestLocalKeyConcurrentCreateAgrees(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	kids := make([]string, 8)
	createdN := make([]bool, 8)
	for i := range kids {
		wg.Go(func() {
			k, created, err := jwtauth.LoadOrCreateLocalKey(dir)
			if err == nil {
				kids[i], createdN[i] = k.KID(), created
			}
		})
	}
	wg.Wait()
	n := 0
	for i := range kids {
		require.Equal(t, kids[0], kids[i])
		require.NotEmpty(t, kids[i])
		if createdN[i] {
			n++
		}
	}
	require.Equal(t, 1, n, "exactly one caller creates the key")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary files left behind")
}

func TestLocalVerifierRefusals(t *testing.T) {
	key, _, err := jwtauth.LoadOrCreateLocalKey(t.TempDir())
	require.NoError(t, err)
	other, _, err := jwtauth.LoadOrCreateLocalKey(t.TempDir())
	require.NoError(t, err)
	v := newLocalVerifier(t, key)

	mint := func(k *jwtauth.LocalKey, c jwtauth.Claims) string {
		tok, err := k.Mint(c)
		require.NoError(t, err)
		return tok
	}
	cases := []struct {
		name, token, desc string
	}{
		{"other local key", mint(other, jwtauth.Claims{Subject: "u", OrgID: "o"}), "unknown"},
		{"expired", mint(key, jwtauth.Claims{Subject: "u", OrgID: "o", TTL: time.Minute, IssuedAt: time.Now().Add(-time.Hour)}), "expired"},
		{"wrong audience", mint(key, jwtauth.Claims{Subject: "u", OrgID: "o", Audience: "elsewhere"}), "audience"},
		{"wrong issuer", mint(key, jwtauth.Claims{Subject: "u", OrgID: "o", Issuer: "someone"}), "issuer"},
		{"bound token as Bearer", mint(key, jwtauth.Claims{Subject: "u", OrgID: "o", JKT: "x"}), "DPoP-bound"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), ports.Credentials{Scheme: "Bearer", Token: tc.token})
			var ae *domain.AuthError
			require.ErrorAs(t, err, &ae)
			require.Equal(t, "invalid_token", ae.Code)
			require.Contains(t, ae.Description, tc.desc)
		})
	}

	_, err = key.Mint(jwtauth.Claims{Subject: "u"})
	require.ErrorIs(t, err, domain.ErrInvalid, "a token without org is never minted")
}

func TestLocalMintCarriesClaims(t *testing.T) {
	key, _, err := jwtauth.LoadOrCreateLocalKey(t.TempDir())
	require.NoError(t, err)
	tok, err := key.Mint(jwtauth.Claims{Subject: "bob", OrgID: "acme", ClientID: "cursor",
		Scopes: []domain.Scope{domain.ScopeStatsRead}})
	require.NoError(t, err)
	p, err := newLocalVerifier(t, key).Verify(context.Background(), ports.Credentials{Scheme: "Bearer", Token: tok})
	require.NoError(t, err)
	require.Equal(t, "cursor", p.ClientID)
	require.Equal(t, []domain.Scope{domain.ScopeStatsRead}, p.Scopes)
	require.NotEmpty(t, p.TokenID)
}
