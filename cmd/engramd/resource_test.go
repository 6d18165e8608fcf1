package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
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
