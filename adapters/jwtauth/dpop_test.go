package jwtauth_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/jwtauth"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

const memURL = testOrigin + "/api/v1/memories"

// dpopFixture is a verifier, a client key and a token bound to it.
type dpopFixture struct {
	v      *jwtauth.Verifier
	replay *memReplay
	clock  *testClock
	prover *jwtauth.DPoPProver
	key    crypto.Signer
	token  string
	issuer signingKey
}

func newDPoPFixture(t testing.TB, clientKey crypto.Signer) *dpopFixture {
	t.Helper()
	_, _, ed := testKeys(t)
	clock := newTestClock(time.Now())
	v, replay := newJWKSVerifier(t, newJWKSServer(t, ed), clock, nil)
	prover, err := jwtauth.NewDPoPProver(clientKey)
	require.NoError(t, err)
	claims := baseClaims(clock.Now())
	claims["cnf"] = map[string]any{"jkt": prover.JKT()}
	return &dpopFixture{v: v, replay: replay, clock: clock, prover: prover, key: clientKey, token: sign(t, ed, claims, nil), issuer: ed}
}

func (f *dpopFixture) creds(proof, method, url string) ports.Credentials {
	return ports.Credentials{Scheme: "DPoP", Token: f.token, DPoPProof: proof, Method: method, URL: url}
}

func (f *dpopFixture) proof(t *testing.T, method, url string) string {
	t.Helper()
	p, err := f.prover.ProofAt(method, url, f.token, f.clock.Now())
	require.NoError(t, err)
	return p
}

// rawProof signs arbitrary proof header and claims with key.
func rawProof(t *testing.T, method jwt.SigningMethod, key any, hdr map[string]any, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	tok.Header = map[string]any{"alg": method.Alg()}
	for k, v := range hdr {
		tok.Header[k] = v
	}
	s, err := tok.SignedString(key)
	require.NoError(t, err)
	return s
}

func newECKey(t testing.TB) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return k
}

func TestDPoPAcceptsEveryAllowedProofAlgorithm(t *testing.T) {
	rs, _, _ := testKeys(t)
	_, edPriv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	for name, key := range map[string]crypto.Signer{"ES256": newECKey(t), "EdDSA": edPriv, "RS256": rs.priv} {
		t.Run(name, func(t *testing.T) {
			f := newDPoPFixture(t, key)
			p, err := f.v.Verify(context.Background(), f.creds(f.proof(t, "GET", memURL), "GET", memURL))
			require.NoError(t, err)
			require.Equal(t, f.prover.JKT(), p.KeyJKT)
			require.Equal(t, domain.OrgID("org-1"), p.OrgID)
		})
	}
}

func TestDPoPURLNormalisation(t *testing.T) {
	f := newDPoPFixture(t, newECKey(t))
	// The client signed an equivalent spelling of the URL the server sees.
	proof, err := f.prover.ProofAt("POST", "HTTP://127.0.0.1:8765/api/v1/./memories?x=1#frag", f.token, f.clock.Now())
	require.NoError(t, err)
	_, err = f.v.Verify(context.Background(), f.creds(proof, "POST", "/api/v1/memories"))
	require.NoError(t, err, "a path-only request URL is resolved against PublicURL")

	for in, want := range map[string]string{
		"https://Example.COM:443/a/../b?q": "https://example.com/b",
		"http://example.com:80":            "http://example.com/",
		"http://[::1]:8765/x":              "http://[::1]:8765/x",
		"http://[::1]:80/x":                "http://[::1]/x",
		"http://h/%7Euser/a%2fb":           "http://h/~user/a%2Fb", // '/' is reserved: %2F is not a separator
		"http://h/x/a%5cb/%2e%2E/c":        "http://h/x/c",
		"http://h/x/a%5cb":                 "http://h/x/a%5Cb",
		"http://h/%41%2D%5F%7E%20":         "http://h/A-_~%20",
	} {
		got, err := jwtauth.NormalizeHTU(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, bad := range []string{"/relative", "ftp://h/x", "http://user:pw@h/x", "http:///x", "::"} {
		_, err := jwtauth.NormalizeHTU(bad)
		require.Error(t, err, bad)
	}
}

func TestDPoPRefusals(t *testing.T) {
	f := newDPoPFixture(t, newECKey(t))
	now := f.clock.Now()
	other := newECKey(t)
	otherProver, err := jwtauth.NewDPoPProver(other)
	require.NoError(t, err)
	ecJWK := func(k *ecdsa.PrivateKey) map[string]any {
		b, err := k.PublicKey.Bytes()
		require.NoError(t, err)
		return map[string]any{"kty": "EC", "crv": "P-256",
			"x": base64.RawURLEncoding.EncodeToString(b[1:33]), "y": base64.RawURLEncoding.EncodeToString(b[33:])}
	}
	ath := athOf
	goodClaims := func() jwt.MapClaims {
		return jwt.MapClaims{"jti": "j-" + time.Now().String(), "htm": "GET", "htu": memURL, "iat": now.Unix(), "ath": ath(f.token)}
	}
	hdr := func(extra map[string]any) map[string]any {
		h := map[string]any{"typ": "dpop+jwt", "jwk": ecJWK(f.key.(*ecdsa.PrivateKey))}
		for k, v := range extra {
			if v == nil {
				delete(h, k)
			} else {
				h[k] = v
			}
		}
		return h
	}
	mod := func(mut func(jwt.MapClaims)) jwt.MapClaims { c := goodClaims(); mut(c); return c }
	withD := ecJWK(f.key.(*ecdsa.PrivateKey))
	withD["d"] = "AAAA"
	otherProof, err := otherProver.ProofAt("GET", memURL, f.token, now)
	require.NoError(t, err)
	unboundClaims := baseClaims(now)
	unbound := sign(t, f.issuer, unboundClaims, nil)
	ecKey := f.key.(*ecdsa.PrivateKey)

	cases := []struct {
		name  string
		creds ports.Credentials
		code  string
		desc  string
	}{
		{"htm mismatch", f.creds(f.proof(t, "POST", memURL), "GET", memURL), "invalid_dpop_proof", "htm"},
		{"htu other path", f.creds(f.proof(t, "GET", testOrigin+"/api/v1/apps"), "GET", memURL), "invalid_dpop_proof", "htu"},
		{"htu other origin", f.creds(f.proof(t, "GET", "http://evil.test:8765/api/v1/memories"), "GET", memURL), "invalid_dpop_proof", "htu"},
		{"ath mismatch", f.creds(rawProof(t, jwt.SigningMethodES256, ecKey, hdr(nil), mod(func(c jwt.MapClaims) { c["ath"] = ath("other") })), "GET", memURL), "invalid_dpop_proof", "ath"},
		{"ath missing", f.creds(rawProof(t, jwt.SigningMethodES256, ecKey, hdr(nil), mod(func(c jwt.MapClaims) { delete(c, "ath") })), "GET", memURL), "invalid_dpop_proof", "ath"},
		{"thumbprint mismatch", f.creds(otherProof, "GET", memURL), "invalid_dpop_proof", "cnf.jkt"},
		{"jwk not the signing key", f.creds(rawProof(t, jwt.SigningMethodES256, other, hdr(nil), goodClaims()), "GET", memURL), "invalid_dpop_proof", "signature"},
		{"typ missing", f.creds(rawProof(t, jwt.SigningMethodES256, ecKey, hdr(map[string]any{"typ": nil}), goodClaims()), "GET", memURL), "invalid_dpop_proof", ""},
		{"typ JWT", f.creds(rawProof(t, jwt.SigningMethodES256, ecKey, hdr(map[string]any{"typ": "JWT"}), goodClaims()), "GET", memURL), "invalid_dpop_proof", ""},
		{"HS256 proof", f.creds(rawProof(t, jwt.SigningMethodHS256, []byte("k"), hdr(nil), goodClaims()), "GET", memURL), "invalid_dpop_proof", ""},
		{"jwk with private d", f.creds(rawProof(t, jwt.SigningMethodES256, ecKey, hdr(map[string]any{"jwk": withD}), goodClaims()), "GET", memURL), "invalid_dpop_proof", ""},
		{"ES256 alg with an Ed25519 jwk", f.creds(rawProof(t, jwt.SigningMethodES256, ecKey, hdr(map[string]any{"jwk": map[string]any{"kty": "OKP", "crv": "Ed25519", "x": base64.RawURLEncoding.EncodeToString(make([]byte, 32))}}), goodClaims()), "GET", memURL), "invalid_dpop_proof", ""},
		{"jwk missing", f.creds(rawProof(t, jwt.SigningMethodES256, ecKey, hdr(map[string]any{"jwk": nil}), goodClaims()), "GET", memURL), "invalid_dpop_proof", ""},
		{"jwk a string", f.creds(rawProof(t, jwt.SigningMethodES256, ecKey, hdr(map[string]any{"jwk": "EC"}), goodClaims()), "GET", memURL), "invalid_dpop_proof", ""},
		{"crit header", f.creds(rawProof(t, jwt.SigningMethodES256, ecKey, hdr(map[string]any{"crit": []string{"x"}}), goodClaims()), "GET", memURL), "invalid_dpop_proof", ""},
		{"iat too old", f.creds(rawProof(t, jwt.SigningMethodES256, ecKey, hdr(nil), mod(func(c jwt.MapClaims) { c["iat"] = now.Add(-5 * time.Minute).Unix() })), "GET", memURL), "invalid_dpop_proof", "iat"},
		{"iat in future", f.creds(rawProof(t, jwt.SigningMethodES256, ecKey, hdr(nil), mod(func(c jwt.MapClaims) { c["iat"] = now.Add(5 * time.Minute).Unix() })), "GET", memURL), "invalid_dpop_proof", "iat"},
		{"iat missing", f.creds(rawProof(t, jwt.SigningMethodES256, ecKey, hdr(nil), mod(func(c jwt.MapClaims) { delete(c, "iat") })), "GET", memURL), "invalid_dpop_proof", "iat"},
		{"jti missing", f.creds(rawProof(t, jwt.SigningMethodES256, ecKey, hdr(nil), mod(func(c jwt.MapClaims) { delete(c, "jti") })), "GET", memURL), "invalid_dpop_proof", "jti"},
		{"two proofs", f.creds(f.proof(t, "GET", memURL)+","+f.proof(t, "GET", memURL), "GET", memURL), "invalid_dpop_proof", ""},
		{"no proof", f.creds("", "GET", memURL), "invalid_request", "missing"},
		{"unbound token with DPoP", ports.Credentials{Scheme: "DPoP", Token: unbound, DPoPProof: f.proof(t, "GET", memURL), Method: "GET", URL: memURL}, "invalid_token", "not DPoP-bound"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.v.Verify(context.Background(), tc.creds)
			var ae *domain.AuthError
			require.ErrorAs(t, err, &ae)
			require.ErrorIs(t, err, domain.ErrUnauthenticated)
			require.Equal(t, "DPoP", ae.Scheme)
			require.Equal(t, tc.code, ae.Code, ae.Description)
			require.Contains(t, ae.Description, tc.desc)
		})
	}
}

func TestDPoPReplay(t *testing.T) {
	f := newDPoPFixture(t, newECKey(t))
	proof := f.proof(t, "GET", memURL)

	// A proof refused for another reason does not burn its jti.
	_, err := f.v.Verify(context.Background(), f.creds(proof, "DELETE", memURL))
	require.ErrorIs(t, err, domain.ErrUnauthenticated)

	_, err = f.v.Verify(context.Background(), f.creds(proof, "GET", memURL))
	require.NoError(t, err)
	_, err = f.v.Verify(context.Background(), f.creds(proof, "GET", memURL))
	var ae *domain.AuthError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, "invalid_dpop_proof", ae.Code)
	require.Contains(t, ae.Description, "already used")

	// Replay entries outlive the window in which the proof is acceptable.
	for key, until := range f.replay.entries {
		require.Contains(t, key, f.prover.JKT())
		require.True(t, until.After(f.clock.Now().Add(jwtauth.DefaultProofMaxAge+jwtauth.DefaultLeeway)))
	}
}

func TestDPoPConcurrentReplayAcceptsOnce(t *testing.T) {
	f := newDPoPFixture(t, newECKey(t))
	proof := f.proof(t, "GET", memURL)
	var ok atomic.Int32
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if _, err := f.v.Verify(context.Background(), f.creds(proof, "GET", memURL)); err == nil {
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	require.Equal(t, int32(1), ok.Load())
}

func TestDPoPReplayCacheDownFailsClosed(t *testing.T) {
	f := newDPoPFixture(t, newECKey(t))
	f.replay.err = errors.New("connection refused") // not even wrapped
	_, err := f.v.Verify(context.Background(), f.creds(f.proof(t, "GET", memURL), "GET", memURL))
	require.ErrorIs(t, err, domain.ErrUnavailable)
	require.NotErrorIs(t, err, domain.ErrUnauthenticated)
}
