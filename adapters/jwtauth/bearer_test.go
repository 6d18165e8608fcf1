package jwtauth_test

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/jwtauth"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

func TestVerifyBearerAcceptsEveryAllowedAlgorithm(t *testing.T) {
	rs, es, ed := testKeys(t)
	clock := newTestClock(time.Now())
	v, _ := newJWKSVerifier(t, newJWKSServer(t, rs, es, ed), clock, nil)
	for _, k := range []signingKey{rs, es, ed} {
		t.Run(k.alg, func(t *testing.T) {
			tok := sign(t, k, baseClaims(clock.Now()), nil)
			p, err := v.Verify(context.Background(), ports.Credentials{Scheme: "Bearer", Token: tok})
			require.NoError(t, err)
			require.Equal(t, domain.Principal{
				OrgID: "org-1", UserID: "user-1", ClientID: "cli", TokenID: "tok-1",
				Scopes: []domain.Scope{domain.ScopeMemoriesRead, domain.ScopeMemoriesWrite},
			}, p)
		})
	}
}

func TestVerifyBearerRefusals(t *testing.T) {
	rs, es, ed := testKeys(t)
	clock := newTestClock(time.Now())
	now := clock.Now()
	v, _ := newJWKSVerifier(t, newJWKSServer(t, rs, es, ed), clock, nil)

	with := func(mut func(jwt.MapClaims)) jwt.MapClaims {
		c := baseClaims(now)
		mut(c)
		return c
	}
	rsaPubPEM := func() []byte {
		der, err := x509.MarshalPKIXPublicKey(rs.priv.Public())
		require.NoError(t, err)
		return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	}
	hmacWith := func(kid string, secret []byte) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, baseClaims(now))
		tok.Header["kid"] = kid
		s, err := tok.SignedString(secret)
		require.NoError(t, err)
		return s
	}
	algNone := func() string {
		tok := jwt.NewWithClaims(jwt.SigningMethodNone, baseClaims(now))
		tok.Header["kid"] = ed.kid
		s, err := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
		require.NoError(t, err)
		return s
	}
	tamperPayload := func(tok string) string {
		parts := strings.Split(tok, ".")
		c := baseClaims(now)
		c["org_id"] = "org-2"
		b, err := json.Marshal(c)
		require.NoError(t, err)
		parts[1] = base64.RawURLEncoding.EncodeToString(b)
		return strings.Join(parts, ".")
	}
	foreign := signingKey{kid: "not-served", alg: "EdDSA", priv: ed.priv, method: jwt.SigningMethodEdDSA}

	cases := []struct {
		name   string
		scheme string
		token  string
		code   string
		desc   string // substring of the description
	}{
		{"alg none", "Bearer", algNone(), "invalid_token", "signature or algorithm"},
		{"HS256 with RSA public key PEM", "Bearer", hmacWith(rs.kid, rsaPubPEM()), "invalid_token", "signature or algorithm"},
		{"HS256 with Ed25519 public key", "Bearer", hmacWith(ed.kid, []byte(ed.priv.Public().(ed25519.PublicKey))), "invalid_token", "signature or algorithm"},
		{"expired", "Bearer", sign(t, es, with(func(c jwt.MapClaims) { c["exp"] = now.Add(-2 * time.Minute).Unix() }), nil), "invalid_token", "expired"},
		{"exp missing", "Bearer", sign(t, es, with(func(c jwt.MapClaims) { delete(c, "exp") }), nil), "invalid_token", "required claim"},
		{"nbf in future", "Bearer", sign(t, es, with(func(c jwt.MapClaims) { c["nbf"] = now.Add(2 * time.Minute).Unix() }), nil), "invalid_token", "not valid yet"},
		{"iat in future", "Bearer", sign(t, es, with(func(c jwt.MapClaims) { c["iat"] = now.Add(2 * time.Minute).Unix() }), nil), "invalid_token", "not valid yet"},
		{"wrong iss", "Bearer", sign(t, es, with(func(c jwt.MapClaims) { c["iss"] = "https://evil.test/" }), nil), "invalid_token", "issuer"},
		{"wrong aud", "Bearer", sign(t, es, with(func(c jwt.MapClaims) { c["aud"] = "other-api" }), nil), "invalid_token", "audience"},
		{"unknown kid", "Bearer", sign(t, foreign, baseClaims(now), nil), "invalid_token", "unknown"},
		{"missing kid", "Bearer", sign(t, ed, baseClaims(now), map[string]any{"kid": nil}), "invalid_token", "no kid"},
		{"crit header", "Bearer", sign(t, ed, baseClaims(now), map[string]any{"crit": []string{"exp"}}), "invalid_token", "crit"},
		{"tampered payload", "Bearer", tamperPayload(sign(t, ed, baseClaims(now), nil)), "invalid_token", "signature"},
		{"RSA kid with ES256 alg", "Bearer", sign(t, signingKey{rs.kid, "ES256", es.priv, jwt.SigningMethodES256}, baseClaims(now), nil), "invalid_token", ""},
		{"proof typ as token", "Bearer", sign(t, ed, baseClaims(now), map[string]any{"typ": "dpop+jwt"}), "invalid_token", "DPoP proof"},
		{"missing org_id", "Bearer", sign(t, ed, with(func(c jwt.MapClaims) { delete(c, "org_id") }), nil), "invalid_token", "org_id"},
		{"org_id wrong type", "Bearer", sign(t, ed, with(func(c jwt.MapClaims) { c["org_id"] = 7 }), nil), "invalid_token", ""},
		{"malformed sub", "Bearer", sign(t, ed, with(func(c jwt.MapClaims) { c["sub"] = "a b" }), nil), "invalid_token", "malformed"},
		{"bound token as Bearer", "Bearer", sign(t, ed, with(func(c jwt.MapClaims) { c["cnf"] = map[string]any{"jkt": "abc"} }), nil), "invalid_token", "DPoP-bound"},
		{"not a JWT", "Bearer", "garbage", "invalid_token", "malformed"},
		{"empty token", "Bearer", "", "invalid_request", ""},
		{"unknown scheme", "Basic", sign(t, ed, baseClaims(now), nil), "invalid_request", "scheme"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), ports.Credentials{Scheme: tc.scheme, Token: tc.token})
			require.ErrorIs(t, err, domain.ErrUnauthenticated)
			var ae *domain.AuthError
			require.True(t, errors.As(err, &ae), "want *domain.AuthError, got %T %v", err, err)
			require.Equal(t, tc.code, ae.Code)
			require.Equal(t, "Bearer", ae.Scheme)
			require.Contains(t, ae.Description, tc.desc)
			require.NotContains(t, ae.Description, `"`, "descriptions go into a quoted header parameter")
		})
	}
}

func TestVerifyBearerLeeway(t *testing.T) {
	_, _, ed := testKeys(t)
	clock := newTestClock(time.Now())
	now := clock.Now()
	v, _ := newJWKSVerifier(t, newJWKSServer(t, ed), clock, func(c *jwtauth.Config) { c.Leeway = 20 * time.Second })
	c := baseClaims(now)
	c["exp"] = now.Add(-10 * time.Second).Unix() // expired, but within leeway
	c["nbf"] = now.Add(10 * time.Second).Unix()
	_, err := v.Verify(context.Background(), ports.Credentials{Scheme: "bearer", Token: sign(t, ed, c, nil)})
	require.NoError(t, err)

	clock.Advance(15 * time.Second) // now 25 s past exp
	_, err = v.Verify(context.Background(), ports.Credentials{Scheme: "Bearer", Token: sign(t, ed, c, nil)})
	require.ErrorIs(t, err, domain.ErrUnauthenticated)
}
