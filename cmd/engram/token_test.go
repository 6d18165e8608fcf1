package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/jwtauth"
	"github.com/engram-memory/engram/cmd/internal/config"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// tokenReplay is a real in-memory ports.ReplayCache for these tests.
type tokenReplay struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (r *tokenReplay) Remember(_ context.Context, key string, _ time.Time) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen[key] {
		return false, nil
	}
	r.seen[key] = true
	return true, nil
}

// clearEngramEnv makes the test independent of the caller's ENGRAM_* settings.
func clearEngramEnv(t *testing.T) {
	for _, k := range []string{"ENGRAM_AUTH_JWKS_URL", "ENGRAM_AUTH_ISSUER", "ENGRAM_AUTH_AUDIENCE", "ENGRAM_PUBLIC_URL", "ENGRAM_ADDR", "ENGRAM_DATA_DIR", "ENGRAM_TLS_CERT", "ENGRAM_TLS_KEY"} {
		t.Setenv(k, "")
	}
}

// engramdVerifier builds the verifier the way engramd's zero-config wiring
// does: same config resolution, same key file.
func engramdVerifier(t *testing.T, dataDir string) *jwtauth.Verifier {
	t.Helper()
	cfg, err := config.Load([]string{"--data-dir", dataDir}, os.Getenv)
	require.NoError(t, err)
	key, created, err := jwtauth.LoadOrCreateLocalKey(cfg.DataDir)
	require.NoError(t, err)
	require.False(t, created, "engram token already created the key engramd uses")
	v, err := jwtauth.NewLocal(key, jwtauth.Config{
		Issuer: cfg.Issuer, Audience: cfg.Audience, PublicURL: cfg.PublicURL,
		ReplayCache: &tokenReplay{seen: map[string]bool{}},
	})
	require.NoError(t, err)
	return v
}

func runTokenCmd(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), append([]string{"token"}, args...), &out, &errOut)
	return strings.TrimSpace(out.String()), errOut.String(), err
}

func TestTokenMintsWhatEngramdAccepts(t *testing.T) {
	clearEngramEnv(t)
	dir := filepath.Join(t.TempDir(), "data")
	tok, stderr, err := runTokenCmd(t, "--user", "alice", "--org", "acme", "--scopes", "memories:read stats:read", "--client", "cursor", "--data-dir", dir)
	require.NoError(t, err)
	require.Contains(t, stderr, "created a new local signing key")
	require.Equal(t, 3, strings.Count(tok, ".")+1, "stdout is exactly one JWT")

	p, err := engramdVerifier(t, dir).Verify(context.Background(), ports.Credentials{Scheme: "Bearer", Token: tok})
	require.NoError(t, err)
	require.Equal(t, domain.Principal{
		OrgID: "acme", UserID: "alice", ClientID: "cursor", TokenID: p.TokenID,
		Scopes: []domain.Scope{domain.ScopeMemoriesRead, domain.ScopeStatsRead},
	}, p)
}

func TestTokenBoundToDPoPKey(t *testing.T) {
	clearEngramEnv(t)
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	pub, err := key.PublicKey.Bytes()
	require.NoError(t, err)
	d, err := key.Bytes()
	require.NoError(t, err)
	enc := base64.RawURLEncoding.EncodeToString
	jwk, err := json.Marshal(map[string]string{"kty": "EC", "crv": "P-256", "x": enc(pub[1:33]), "y": enc(pub[33:]), "d": enc(d)})
	require.NoError(t, err)
	jwkFile := filepath.Join(dir, "client.jwk")
	require.NoError(t, os.WriteFile(jwkFile, jwk, 0o600))

	tok, _, err := runTokenCmd(t, "--user", "bob", "--dpop-jwk", jwkFile, "--data-dir", dir)
	require.NoError(t, err)
	v := engramdVerifier(t, dir)

	prover, err := jwtauth.NewDPoPProver(key)
	require.NoError(t, err)
	url := "http://127.0.0.1:8765/api/v1/memories"
	proof, err := prover.Proof("GET", url, tok)
	require.NoError(t, err)
	p, err := v.Verify(context.Background(), ports.Credentials{Scheme: "DPoP", Token: tok, DPoPProof: proof, Method: "GET", URL: url})
	require.NoError(t, err)
	require.Equal(t, prover.JKT(), p.KeyJKT)
	require.Equal(t, domain.OrgID(jwtauth.LocalOrg), p.OrgID)

	_, err = v.Verify(context.Background(), ports.Credentials{Scheme: "Bearer", Token: tok})
	require.ErrorIs(t, err, domain.ErrUnauthenticated, "a bound token is useless without the key")
}

func TestTokenRefusals(t *testing.T) {
	clearEngramEnv(t)
	dir := t.TempDir()
	badJWK := filepath.Join(dir, "bad.jwk")
	require.NoError(t, os.WriteFile(badJWK, []byte(`{"kty":"oct","k":"c2VjcmV0"}`), 0o600))
	for name, args := range map[string][]string{
		"no user":       {"--data-dir", dir},
		"bad ttl":       {"--user", "u", "--ttl", "-1h", "--data-dir", dir},
		"no scopes":     {"--user", "u", "--scopes", " ", "--data-dir", dir},
		"bad org":       {"--user", "u", "--org", "a b", "--data-dir", dir},
		"symmetric jwk": {"--user", "u", "--dpop-jwk", badJWK, "--data-dir", dir},
		"missing jwk":   {"--user", "u", "--dpop-jwk", filepath.Join(dir, "none"), "--data-dir", dir},
		"stray arg":     {"--user", "u", "extra", "--data-dir", dir},
	} {
		t.Run(name, func(t *testing.T) {
			out, _, err := runTokenCmd(t, args...)
			require.Error(t, err)
			require.Empty(t, out)
		})
	}
	t.Run("JWKS configured", func(t *testing.T) {
		t.Setenv("ENGRAM_AUTH_JWKS_URL", "https://idp.example.test/jwks")
		t.Setenv("ENGRAM_AUTH_ISSUER", "https://idp.example.test/")
		t.Setenv("ENGRAM_AUTH_AUDIENCE", "engram")
		_, _, err := runTokenCmd(t, "--user", "u", "--data-dir", dir)
		require.ErrorContains(t, err, "identity provider")
	})
}
