package jwtauth_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/jwtauth"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

func bearer(tok string) ports.Credentials { return ports.Credentials{Scheme: "Bearer", Token: tok} }

func TestJWKSUnknownKIDTriggersRefresh(t *testing.T) {
	_, es, _ := testKeys(t)
	srv := newJWKSServer(t, es)
	clock := newTestClock(time.Now())
	v, _ := newJWKSVerifier(t, srv, clock, nil)

	_, fresh, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	rotated := signingKey{"ed-rotated", "EdDSA", fresh, jwt.SigningMethodEdDSA}
	tok := sign(t, rotated, baseClaims(clock.Now()), nil)

	_, err = v.Verify(context.Background(), bearer(tok))
	var ae *domain.AuthError
	require.ErrorAs(t, err, &ae, "a kid the IdP does not publish is refused")
	require.Contains(t, ae.Description, "unknown")

	srv.addKey(rotated)
	time.Sleep(5 * time.Millisecond) // past UnknownKIDInterval
	p, err := v.Verify(context.Background(), bearer(tok))
	require.NoError(t, err, "a newly published kid is fetched on first sight")
	require.Equal(t, domain.OrgID("org-1"), p.OrgID)
}

func TestJWKSUnknownKIDRefreshIsRateLimited(t *testing.T) {
	_, es, ed := testKeys(t)
	srv := newJWKSServer(t, es)
	clock := newTestClock(time.Now())
	v, _ := newJWKSVerifier(t, srv, clock, func(c *jwtauth.Config) { c.UnknownKIDInterval = time.Hour })
	before := srv.hits.Load()
	for range 50 {
		bogus := signingKey{"made-up", "EdDSA", ed.priv, jwt.SigningMethodEdDSA}
		_, err := v.Verify(context.Background(), bearer(sign(t, bogus, baseClaims(clock.Now()), nil)))
		require.ErrorIs(t, err, domain.ErrUnauthenticated)
	}
	require.LessOrEqual(t, srv.hits.Load()-before, int64(1), "50 unknown kids cost at most one JWKS fetch")
}

func TestJWKSDownAtStartIsUnavailableThenRecovers(t *testing.T) {
	_, es, _ := testKeys(t)
	srv := newJWKSServer(t, es)
	srv.setDown(true)
	clock := newTestClock(time.Now())
	v, _ := newJWKSVerifier(t, srv, clock, func(c *jwtauth.Config) { c.RetryMax = 20 * time.Millisecond })

	require.ErrorIs(t, v.Ready(context.Background()), domain.ErrUnavailable)
	tok := sign(t, es, baseClaims(clock.Now()), nil)
	_, err := v.Verify(context.Background(), bearer(tok))
	require.ErrorIs(t, err, domain.ErrUnavailable, "no keys yet: cannot decide, never accept")
	require.NotErrorIs(t, err, domain.ErrUnauthenticated)

	srv.setDown(false)
	require.Eventually(t, func() bool { return v.Ready(context.Background()) == nil }, 5*time.Second, 10*time.Millisecond)
	_, err = v.Verify(context.Background(), bearer(tok))
	require.NoError(t, err)
}

func TestJWKSOutageAfterLoadKeepsKeys(t *testing.T) {
	_, es, _ := testKeys(t)
	srv := newJWKSServer(t, es)
	clock := newTestClock(time.Now())
	v, _ := newJWKSVerifier(t, srv, clock, func(c *jwtauth.Config) { c.RefreshInterval = 5 * time.Millisecond })
	require.NoError(t, v.Ready(context.Background()))
	srv.setDown(true)
	hits := srv.hits.Load()
	require.Eventually(t, func() bool { return srv.hits.Load() > hits+2 }, 5*time.Second, 5*time.Millisecond)
	_, err := v.Verify(context.Background(), bearer(sign(t, es, baseClaims(clock.Now()), nil)))
	require.NoError(t, err, "a failed refresh does not drop the keys already loaded")
	require.NoError(t, v.Ready(context.Background()))
}

func TestNewJWKSConfigErrors(t *testing.T) {
	replay := newMemReplay(time.Now)
	for name, cfg := range map[string]jwtauth.Config{
		"no replay cache": {JWKSURL: "http://x", Issuer: "i", Audience: "a"},
		"no issuer":       {JWKSURL: "http://x", Audience: "a", ReplayCache: replay},
		"no audience":     {JWKSURL: "http://x", Issuer: "i", ReplayCache: replay},
		"leeway too big":  {JWKSURL: "http://x", Issuer: "i", Audience: "a", ReplayCache: replay, Leeway: 2 * time.Minute},
		"bad public url":  {JWKSURL: "http://x", Issuer: "i", Audience: "a", ReplayCache: replay, PublicURL: "127.0.0.1:8765"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := jwtauth.NewJWKS(context.Background(), cfg)
			require.Error(t, err)
		})
	}
}

func TestTokenCacheHonoursKeyRemovalWithinTTL(t *testing.T) {
	_, es, ed := testKeys(t)
	srv := newJWKSServer(t, es, ed)
	clock := newTestClock(time.Now())
	v, _ := newJWKSVerifier(t, srv, clock, func(c *jwtauth.Config) {
		c.RefreshInterval = 5 * time.Millisecond
		c.TokenCacheTTL = time.Minute
	})
	tok := sign(t, ed, baseClaims(clock.Now()), nil)
	_, err := v.Verify(context.Background(), bearer(tok))
	require.NoError(t, err)

	srv.removeKey(ed.kid) // the IdP revokes the key
	hits := srv.hits.Load()
	require.Eventually(t, func() bool { return srv.hits.Load() > hits+1 }, 5*time.Second, 5*time.Millisecond)
	_, err = v.Verify(context.Background(), bearer(tok))
	require.NoError(t, err, "within TokenCacheTTL the cached verification stands")

	clock.Advance(61 * time.Second)
	_, err = v.Verify(context.Background(), bearer(tok))
	var ae *domain.AuthError
	require.ErrorAs(t, err, &ae, "after TokenCacheTTL the token is re-verified against the current keys")
	require.Contains(t, ae.Description, "unknown")
}

// TestJWKSVerifyDuringRefreshes runs verifications on every core while the
// key set is replaced underneath them; -race checks the sharing.
func TestJWKSVerifyDuringRefreshes(t *testing.T) {
	rs, es, ed := testKeys(t)
	srv := newJWKSServer(t, rs, es, ed)
	clock := newTestClock(time.Now())
	v, _ := newJWKSVerifier(t, srv, clock, func(c *jwtauth.Config) {
		c.RefreshInterval = time.Millisecond
		c.TokenCacheSize = -1 // every call goes to the key set
	})
	toks := []string{sign(t, rs, baseClaims(clock.Now()), nil), sign(t, es, baseClaims(clock.Now()), nil), sign(t, ed, baseClaims(clock.Now()), nil)}
	target := srv.hits.Load() + 5
	deadline := time.Now().Add(10 * time.Second)
	errs := make(chan error, 64)
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Go(func() {
			// Verify until the set has been replaced several times.
			for i := 0; srv.hits.Load() < target && time.Now().Before(deadline); i++ {
				if _, err := v.Verify(context.Background(), bearer(toks[(g+i)%3])); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.GreaterOrEqual(t, srv.hits.Load(), target, "the set was refreshed while verifying")
}

func TestJWKSHangingAtStartDoesNotBlockStart(t *testing.T) {
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(hang.Close)
	t.Cleanup(func() { close(release) })
	start := time.Now()
	v, err := jwtauth.NewJWKS(context.Background(), jwtauth.Config{
		JWKSURL: hang.URL, Issuer: testIssuer, Audience: testAudience,
		ReplayCache: newMemReplay(time.Now), HTTPTimeout: 100 * time.Millisecond,
	})
	require.NoError(t, err)
	t.Cleanup(v.Close)
	require.Less(t, time.Since(start), 2*time.Second, "start waits at most HTTPTimeout for the IdP")
	require.ErrorIs(t, v.Ready(context.Background()), domain.ErrUnavailable)
}

// TestJWKSKeyRotatedRightAfterStartIsAccepted is issue 11's case: with the
// default rate limit, a key published seconds after the process started is
// accepted on first sight; the start-up fetch does not use up the
// unknown-kid refresh.
func TestJWKSKeyRotatedRightAfterStartIsAccepted(t *testing.T) {
	_, es, _ := testKeys(t)
	srv := newJWKSServer(t, es)
	clock := newTestClock(time.Now())
	v, _ := newJWKSVerifier(t, srv, clock, func(c *jwtauth.Config) { c.UnknownKIDInterval = jwtauth.DefaultUnknownKIDInterval })
	_, fresh, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	rotated := signingKey{"ed-rotated", "EdDSA", fresh, jwt.SigningMethodEdDSA}
	srv.addKey(rotated)

	p, err := v.Verify(context.Background(), bearer(sign(t, rotated, baseClaims(clock.Now()), nil)))
	require.NoError(t, err, "a key rotated in right after start works at once")
	require.Equal(t, domain.OrgID("org-1"), p.OrgID)

	// Still rate limited: the next unknown kid within the interval costs no fetch.
	before := srv.hits.Load()
	bogus := signingKey{"made-up", "EdDSA", fresh, jwt.SigningMethodEdDSA}
	_, err = v.Verify(context.Background(), bearer(sign(t, bogus, baseClaims(clock.Now()), nil)))
	require.ErrorIs(t, err, domain.ErrUnauthenticated)
	require.Equal(t, before, srv.hits.Load())
}
