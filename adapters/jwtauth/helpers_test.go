package jwtauth_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/jwtauth"
)

// memReplay is a real in-memory ports.ReplayCache for these tests.
type memReplay struct {
	mu      sync.Mutex
	entries map[string]time.Time
	err     error // when set, every call fails with it
	now     func() time.Time
}

func newMemReplay(now func() time.Time) *memReplay {
	return &memReplay{entries: map[string]time.Time{}, now: now}
}

func (m *memReplay) Remember(_ context.Context, key string, until time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return false, m.err
	}
	if exp, ok := m.entries[key]; ok && m.now().Before(exp) {
		return false, nil
	}
	m.entries[key] = until
	return true, nil
}

// testClock is a settable clock.
type testClock struct{ ns atomic.Int64 }

func newTestClock(t time.Time) *testClock {
	c := &testClock{}
	c.ns.Store(t.UnixNano())
	return c
}
func (c *testClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *testClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// signingKey is one issuer key: the private half signs test tokens, the
// public half is served in the JWKS.
type signingKey struct {
	kid    string
	alg    string
	priv   crypto.Signer
	method jwt.SigningMethod
}

var (
	keysOnce sync.Once
	rsaKey   *rsa.PrivateKey
	ecKey    *ecdsa.PrivateKey
	edKey    ed25519.PrivateKey
)

// testKeys returns one key per allowed algorithm (RSA generation is slow, so
// they are made once per test binary).
func testKeys(t testing.TB) (rs, es, ed signingKey) {
	keysOnce.Do(func() {
		var err error
		rsaKey, err = rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		ecKey, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		_, edKey, _ = ed25519.GenerateKey(rand.Reader)
	})
	return signingKey{"rs-1", "RS256", rsaKey, jwt.SigningMethodRS256},
		signingKey{"es-1", "ES256", ecKey, jwt.SigningMethodES256},
		signingKey{"ed-1", "EdDSA", edKey, jwt.SigningMethodEdDSA}
}

// jwksServer serves a mutable JWK Set and can be switched off.
type jwksServer struct {
	*httptest.Server
	mu   sync.Mutex
	keys []signingKey
	down bool
	hits atomic.Int64
}

func newJWKSServer(t testing.TB, keys ...signingKey) *jwksServer {
	s := &jwksServer{keys: keys}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.down {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		set := jwkset.JWKSMarshal{}
		for _, k := range s.keys {
			// jwkset writes the JWKs: an implementation independent of
			// the adapter's own JWK code.
			jwk, err := jwkset.NewJWKFromKey(k.priv.Public(), jwkset.JWKOptions{
				Metadata: jwkset.JWKMetadataOptions{KID: k.kid, ALG: jwkset.ALG(k.alg), USE: jwkset.UseSig},
			})
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			set.Keys = append(set.Keys, jwk.Marshal())
		}
		_ = json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) setDown(down bool) { s.mu.Lock(); s.down = down; s.mu.Unlock() }
func (s *jwksServer) removeKey(kid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = slices.DeleteFunc(s.keys, func(k signingKey) bool { return k.kid == kid })
}
func (s *jwksServer) addKey(k signingKey) {
	s.mu.Lock()
	s.keys = append(s.keys, k)
	s.mu.Unlock()
}

const (
	testIssuer   = "https://idp.example.test/"
	testAudience = "engram-api"
	testOrigin   = "http://127.0.0.1:8765"
)

// baseClaims are valid access-token claims at now.
func baseClaims(now time.Time) jwt.MapClaims {
	return jwt.MapClaims{
		"iss":       testIssuer,
		"aud":       testAudience,
		"sub":       "user-1",
		"org_id":    "org-1",
		"scope":     "memories:read memories:write",
		"client_id": "cli",
		"jti":       "tok-1",
		"iat":       now.Unix(),
		"exp":       now.Add(time.Hour).Unix(),
	}
}

// sign makes a token with k; header entries in hdr override the defaults
// (a nil value deletes the header).
func sign(t testing.TB, k signingKey, claims jwt.MapClaims, hdr map[string]any) string {
	t.Helper()
	tok := jwt.NewWithClaims(k.method, claims)
	tok.Header["kid"] = k.kid
	for h, v := range hdr {
		if v == nil {
			delete(tok.Header, h)
		} else {
			tok.Header[h] = v
		}
	}
	s, err := tok.SignedString(k.priv)
	require.NoError(t, err)
	return s
}

// newJWKSVerifier starts a verifier on srv with a test clock and replay cache.
func newJWKSVerifier(t testing.TB, srv *jwksServer, clock *testClock, mutate func(*jwtauth.Config)) (*jwtauth.Verifier, *memReplay) {
	t.Helper()
	replay := newMemReplay(clock.Now)
	cfg := jwtauth.Config{
		JWKSURL: srv.URL, Issuer: testIssuer, Audience: testAudience, PublicURL: testOrigin,
		ReplayCache: replay, Clock: clock, UnknownKIDInterval: time.Millisecond,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	v, err := jwtauth.NewJWKS(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(v.Close)
	return v, replay
}

// athOf is the DPoP ath value for an access token.
func athOf(token string) string {
	s := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(s[:])
}
