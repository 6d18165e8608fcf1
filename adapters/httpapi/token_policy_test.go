package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"
)

// TestTokenPolicy covers issue 11's token gaps through the router: a token
// typed as a DPoP proof in any spelling is not an access token, cnf without
// a thumbprint is invalid rather than unbound, and the Bearer scheme with a
// DPoP header is a malformed request (RFC 9449 §7.2: 400 invalid_request).
func TestTokenPolicy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	signTyp := func(c jwt.MapClaims, typ string) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
		tok.Header["kid"] = testKID
		tok.Header["typ"] = typ
		s, err := tok.SignedString(e.iss.priv)
		require.NoError(t, err)
		return s
	}
	get := func(authz, dpop string) *http.Request {
		req := newRequest(t, http.MethodGet, "/api/v1/memories", nil)
		req.Header.Set("Authorization", authz)
		if dpop != "" {
			req.Header.Set("DPoP", dpop)
		}
		return req
	}
	for _, typ := range []string{"dpop+jwt", "DPoP+JWT", "application/dpop+jwt", "Application/DPoP+JWT"} {
		rec := e.serve(get("Bearer "+signTyp(claims("acme", "alice"), typ), ""))
		p := requireProblem(t, rec, http.StatusUnauthorized)
		require.Equal(t, "a DPoP proof is not an access token", p.Detail, typ)
		requireChallenge(t, rec, "Bearer", "invalid_token")
	}
	// An external issuer's plain JWT is accepted unless
	// ENGRAM_AUTH_REQUIRE_AT_JWT asks for at+jwt (jwtauth tests cover that).
	require.Equal(t, http.StatusOK, e.serve(get("Bearer "+signTyp(claims("acme", "alice"), "JWT"), "")).Code)
	require.Equal(t, http.StatusOK, e.serve(get("Bearer "+signTyp(claims("acme", "alice"), "application/at+jwt"), "")).Code)

	c := claims("acme", "alice")
	c["cnf"] = map[string]string{"jkt": ""}
	for _, scheme := range []string{"Bearer", "DPoP"} {
		rec := e.serve(get(scheme+" "+e.iss.sign(t, c), "x.y.z"))
		p := requireProblem(t, rec, http.StatusUnauthorized)
		require.Equal(t, "token cnf claim has no jkt", p.Detail, scheme)
	}

	bound := e.dpopUser("acme", "alice")
	proof, err := bound.prover.Proof(http.MethodGet, publicURL+"/api/v1/memories", e.user("acme", "alice").token)
	require.NoError(t, err)
	rec := e.serve(get("Bearer "+e.user("acme", "alice").token, proof))
	p := requireProblem(t, rec, http.StatusBadRequest)
	require.Contains(t, p.Detail, "DPoP proof header was sent with the Bearer scheme")
	requireChallenge(t, rec, "Bearer", "invalid_request")
}
