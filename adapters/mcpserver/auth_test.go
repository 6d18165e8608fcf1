package mcpserver_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/adapters/jwtauth"
)

func TestMalformedCredentialsAreChallenged(t *testing.T) {
	h := newHarness(t)
	tok := h.token("alice")
	bound := h.mint(jwtauth.Claims{Subject: "alice", OrgID: org, JKT: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"})
	cases := []struct {
		name, authz, dpop string
		wantScheme        string
		wantCode          string
	}{
		{"unsupported scheme", "Basic YWxpY2U6c2VjcmV0", "", "Bearer", "invalid_request"},
		{"scheme without token", "Bearer", "", "Bearer", "invalid_request"},
		{"token with spaces", "Bearer a b", "", "Bearer", "invalid_request"},
		{"bound token without proof", "DPoP " + bound, "", "DPoP", "invalid_request"},
		{"bound token with a garbage proof", "DPoP " + bound, "not.a.proof", "DPoP", "invalid_dpop_proof"},
		{"unbound token under the DPoP scheme", "DPoP " + tok, "not.a.proof", "DPoP", "invalid_token"},
		{"bound token as Bearer", "Bearer " + bound, "", "Bearer", "invalid_token"},
		{"unbound token as Bearer with a DPoP header", "Bearer " + tok, "not.a.proof", "Bearer", "invalid_request"}, // RFC 9449 §7.2
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var extra []string
			if c.dpop != "" {
				extra = []string{"DPoP", c.dpop}
			}
			resp := h.post("/mcp", c.authz, "", initializeBody, extra...)
			want := http.StatusUnauthorized
			if c.wantCode == "invalid_request" {
				want = http.StatusBadRequest // RFC 6750 §3.1
			}
			require.Equal(t, want, resp.StatusCode)
			challenge := resp.Header.Get("WWW-Authenticate")
			require.Regexp(t, "^"+c.wantScheme+" ", challenge)
			require.Contains(t, challenge, `error="`+c.wantCode+`"`)
			require.Contains(t, challenge, `resource_metadata="`+h.public+`/.well-known/oauth-protected-resource"`)
			if c.wantScheme == "DPoP" {
				require.Contains(t, challenge, `algs="ES256 EdDSA RS256"`)
			}
		})
	}
}

func TestVerifierUnavailableIs503(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	jwksURL := down.URL + "/jwks.json"
	down.Close() // the identity provider is unreachable
	replay := inproc.NewReplayCache(inproc.ReplayOptions{})
	t.Cleanup(func() { _ = replay.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)

	h := newHarness(t, func(su *setup) {
		v, err := jwtauth.NewJWKS(ctx, jwtauth.Config{
			JWKSURL: jwksURL, Issuer: "https://idp.example.com", Audience: su.Config.PublicURL,
			PublicURL: su.Config.PublicURL, ReplayCache: replay,
		})
		require.NoError(t, err)
		t.Cleanup(v.Close)
		su.Deps.Verifier = v
	})
	resp := h.post("/mcp", "Bearer "+h.token("alice"), "", initializeBody)
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	require.NotEmpty(t, resp.Header.Get("Retry-After"))
}
