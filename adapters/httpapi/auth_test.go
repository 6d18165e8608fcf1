package httpapi_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/jwtauth"
	"github.com/engram-memory/engram/domain"
)

// requireChallenge checks a 401/403 problem and its WWW-Authenticate header.
func requireChallenge(t *testing.T, rec interface {
	Header() http.Header
}, scheme, code string) string {
	t.Helper()
	ch := strings.Join(rec.Header().Values("WWW-Authenticate"), ", ")
	require.True(t, strings.HasPrefix(ch, scheme+" "), "challenge %q should use scheme %s", ch, scheme)
	require.Contains(t, ch, `error="`+code+`"`)
	return ch
}

// TestTokenAttacks sends tokens that must all be refused with 401
// invalid_token by the real verifier behind the real router.
func TestTokenAttacks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	good := claims("acme", "alice")
	pubDER, err := x509.MarshalPKIXPublicKey(e.iss.priv.Public())
	require.NoError(t, err)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})

	with := func(edit func(jwt.MapClaims)) string {
		c := jwt.MapClaims{}
		for k, v := range good {
			c[k] = v
		}
		edit(c)
		return e.iss.sign(t, c)
	}
	hs256 := func(key []byte) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, good)
		tok.Header["kid"] = testKID
		s, err := tok.SignedString(key)
		require.NoError(t, err)
		return s
	}
	none := func() string {
		tok := jwt.NewWithClaims(jwt.SigningMethodNone, good)
		tok.Header["kid"] = testKID
		s, err := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
		require.NoError(t, err)
		return s
	}
	otherKey := func() string {
		// Right kid, wrong key: a forger who knows the kid.
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		require.NoError(t, err)
		tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, good)
		tok.Header["kid"] = testKID
		s, err := tok.SignedString(priv)
		require.NoError(t, err)
		return s
	}
	tampered := func() string {
		tok := e.iss.sign(t, good)
		parts := strings.Split(tok, ".")
		// Re-encode a payload naming another org under the old signature.
		c := jwt.MapClaims{}
		for k, v := range good {
			c[k] = v
		}
		c["org_id"] = "evil"
		forged := e.iss.sign(t, c)
		return parts[0] + "." + strings.Split(forged, ".")[1] + "." + parts[2]
	}
	unknownKID := func() string {
		tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, good)
		tok.Header["kid"] = "no-such-key"
		s, err := tok.SignedString(e.iss.priv)
		require.NoError(t, err)
		return s
	}
	now := time.Now()
	cases := map[string]string{
		"alg none":              none(),
		"HS256 with public PEM": hs256(pubPEM),
		"HS256 with public DER": hs256(pubDER),
		"expired":               with(func(c jwt.MapClaims) { c["exp"] = now.Add(-5 * time.Minute).Unix() }),
		"no exp":                with(func(c jwt.MapClaims) { delete(c, "exp") }),
		"not yet valid":         with(func(c jwt.MapClaims) { c["nbf"] = now.Add(5 * time.Minute).Unix() }),
		"wrong issuer":          with(func(c jwt.MapClaims) { c["iss"] = "https://evil.example" }),
		"wrong audience":        with(func(c jwt.MapClaims) { c["aud"] = "someone-else" }),
		"no org_id":             with(func(c jwt.MapClaims) { delete(c, "org_id") }),
		"unknown kid":           unknownKID(),
		"signed by another key": otherKey(),
		"tampered payload":      tampered(),
		"garbage":               "not.a.jwt",
		"DPoP proof as a token": dpopProofAsToken(t),
		"bound token as Bearer": with(func(c jwt.MapClaims) {
			c["cnf"] = map[string]string{"jkt": "x4H5pQq8zZVJt3y0A6Yy3WkZ0Bv2Qp1Xn7r0s9t8u7w"}
		}),
		"empty sub": with(func(c jwt.MapClaims) { c["sub"] = "" }),
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			rec := caller{e: e, token: tok}.do(http.MethodGet, "/api/v1/memories", nil)
			requireProblem(t, rec, http.StatusUnauthorized)
			requireChallenge(t, rec, "Bearer", "invalid_token")
		})
	}
	// The same router accepts the untampered token, so the refusals above
	// are about the attacks, not a broken setup.
	decode[pageJSON](t, caller{e: e, token: e.iss.sign(t, good)}.do(http.MethodGet, "/api/v1/memories", nil), http.StatusOK)
}

func dpopProofAsToken(t *testing.T) string {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	p, err := jwtauth.NewDPoPProver(key)
	require.NoError(t, err)
	proof, err := p.Proof(http.MethodGet, publicURL+"/api/v1/memories", "")
	require.NoError(t, err)
	return proof
}

func TestNoCredentials(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, authz := range []string{"", "Basic YWxpY2U6cHc="} {
		req := newRequest(t, http.MethodGet, "/api/v1/memories", nil)
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		rec := e.serve(req)
		requireProblem(t, rec, http.StatusUnauthorized)
		chs := rec.Header().Values("WWW-Authenticate")
		require.Len(t, chs, 2)
		require.True(t, strings.HasPrefix(chs[0], "Bearer "))
		require.True(t, strings.HasPrefix(chs[1], "DPoP "))
		for _, ch := range chs {
			require.NotContains(t, ch, "error=", "RFC 6750 §3.1: no error code without credentials")
		}
	}
	// A malformed Authorization header is invalid_request: 400 (RFC 6750 §3.1).
	requireProblem(t, caller{e: e, token: "a b"}.do(http.MethodGet, "/api/v1/memories", nil), http.StatusBadRequest)
}

func TestMissingScopeIs403(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	reader := e.user("acme", "alice", domain.ScopeMemoriesRead)
	rec := reader.do(http.MethodPost, "/api/v1/memories", map[string]any{"text": "x"})
	p := requireProblem(t, rec, http.StatusForbidden)
	require.Equal(t, "urn:engram:problem:insufficient-scope", p.Type)
	ch := requireChallenge(t, rec, "Bearer", "insufficient_scope")
	require.Contains(t, ch, `scope="memories:write"`)

	for _, r := range []struct{ method, path, scope string }{
		{http.MethodGet, "/api/v1/apps", "apps:read"},
		{http.MethodPatch, "/api/v1/apps/cursor", "apps:write"},
		{http.MethodGet, "/api/v1/stats", "stats:read"},
		{http.MethodPost, "/api/v1/memories/bulk-delete", "memories:write"},
	} {
		rec := reader.do(r.method, r.path, map[string]any{})
		requireProblem(t, rec, http.StatusForbidden)
		require.Contains(t, requireChallenge(t, rec, "Bearer", "insufficient_scope"), `scope="`+r.scope+`"`)
	}
	decode[pageJSON](t, reader.do(http.MethodGet, "/api/v1/memories", nil), http.StatusOK)

	// A DPoP caller is answered in its own scheme.
	rec = e.dpopUser("acme", "alice", domain.ScopeMemoriesRead).do(http.MethodGet, "/api/v1/stats", nil)
	requireProblem(t, rec, http.StatusForbidden)
	requireChallenge(t, rec, "DPoP", "insufficient_scope")
}
