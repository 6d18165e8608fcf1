package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"
)

// TestProtectedResourceIsThePublicURL: with ENGRAM_AUTH_AUDIENCE=engram (not
// a URL), the RFC 9728 metadata still names the public URL as the resource,
// as clients require, and a token for that URL is accepted beside one for
// the configured audience (issue 11).
func TestProtectedResourceIsThePublicURL(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{
			"kty": "OKP", "crv": "Ed25519", "x": base64.RawURLEncoding.EncodeToString(pub), "kid": "k1", "alg": "EdDSA", "use": "sig",
		}}})
	}))
	t.Cleanup(jwks.Close)
	const public = "https://memory.example.test"
	base, _, _ := startEngramd(t, map[string]string{
		"ENGRAM_AUTH_JWKS_URL": jwks.URL, "ENGRAM_AUTH_ISSUER": "https://idp.example.test",
		"ENGRAM_AUTH_AUDIENCE": "engram", "ENGRAM_PUBLIC_URL": public,
	})
	status, body := do(t, http.MethodGet, base+"/.well-known/oauth-protected-resource", "", "")
	require.Equal(t, http.StatusOK, status, body)
	var md map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &md))
	require.Equal(t, public, md["resource"])

	token := func(aud string) string {
		now := time.Now()
		tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{
			"iss": "https://idp.example.test", "aud": aud, "sub": "alice", "org_id": "acme",
			"scope": "memories:read", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		})
		tok.Header["kid"] = "k1"
		s, err := tok.SignedString(priv)
		require.NoError(t, err)
		return s
	}
	for aud, want := range map[string]int{"engram": http.StatusOK, public: http.StatusOK, "https://other.example": http.StatusUnauthorized} {
		status, body := do(t, http.MethodGet, base+"/api/v1/memories", token(aud), "")
		require.Equal(t, want, status, "aud %s: %s", aud, body)
	}
}

// TestKeyRotatedRightAfterStartWorksAtOnce: engramd starts trusting the
// identity provider's one key; seconds later the provider publishes a new
// one and signs with it. The first token naming the new kid triggers a
// refresh and is accepted: the start-up fetch does not use up the
// rate-limited unknown-kid refresh (issue 11; docs/security.md).
func TestKeyRotatedRightAfterStartWorksAtOnce(t *testing.T) {
	type key struct {
		kid  string
		priv ed25519.PrivateKey
	}
	var (
		mu   sync.Mutex
		keys []key
	)
	newKey := func(kid string) key {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		require.NoError(t, err)
		return key{kid, priv}
	}
	keys = append(keys, newKey("k1"))
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		var set []map[string]string
		for _, k := range keys {
			set = append(set, map[string]string{
				"kty": "OKP", "crv": "Ed25519", "kid": k.kid, "alg": "EdDSA", "use": "sig",
				"x": base64.RawURLEncoding.EncodeToString(k.priv.Public().(ed25519.PublicKey)),
			})
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": set})
	}))
	t.Cleanup(jwks.Close)
	base, _, _ := startEngramd(t, map[string]string{
		"ENGRAM_AUTH_JWKS_URL": jwks.URL, "ENGRAM_AUTH_ISSUER": "https://idp.example.test", "ENGRAM_AUTH_AUDIENCE": "engram",
	})
	rotated := newKey("k2")
	mu.Lock()
	keys = append(keys, rotated)
	mu.Unlock()
	now := time.Now()
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{
		"iss": "https://idp.example.test", "aud": "engram", "sub": "alice", "org_id": "acme",
		"scope": "memories:read", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	})
	tok.Header["kid"] = rotated.kid
	signed, err := tok.SignedString(rotated.priv)
	require.NoError(t, err)
	status, body := do(t, http.MethodGet, base+"/api/v1/memories", signed, "")
	require.Equal(t, http.StatusOK, status, body)
}
