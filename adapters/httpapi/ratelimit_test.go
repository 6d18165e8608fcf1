package httpapi_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/httpapi"
	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

func TestRateLimitPerUser(t *testing.T) {
	t.Parallel()
	limiter := inproc.NewRateLimiter(inproc.RateLimiterOptions{})
	t.Cleanup(func() { _ = limiter.Close() })
	e := newEnv(t, func(o *envOptions) {
		o.limiter = limiter
		o.cfg.RateLimits = httpapi.RateLimits{Reads: ports.RateLimit{Burst: 3, Period: time.Hour}, Writes: ports.RateLimit{Burst: 1, Period: time.Hour}}
	})
	alice, bob := e.user("acme", "alice"), e.user("acme", "bob")
	for i := range 3 {
		rec := alice.do(http.MethodGet, "/api/v1/memories", nil)
		require.Equal(t, http.StatusOK, rec.Code)
		require.Equal(t, "3", rec.Header().Get("RateLimit-Limit"))
		require.Equal(t, strconv.Itoa(2-i), rec.Header().Get("RateLimit-Remaining"))
	}
	rec := alice.do(http.MethodGet, "/api/v1/memories", nil)
	p := requireProblem(t, rec, http.StatusTooManyRequests)
	require.Equal(t, "urn:engram:problem:rate-limited", p.Type)
	retry, err := strconv.Atoi(rec.Header().Get("Retry-After"))
	require.NoError(t, err)
	require.Greater(t, retry, 0)

	// Another user's bucket is untouched, and a fresh token for the same
	// user does not get a fresh bucket.
	require.Equal(t, http.StatusOK, bob.do(http.MethodGet, "/api/v1/memories", nil).Code)
	requireProblem(t, e.user("acme", "alice").do(http.MethodGet, "/api/v1/memories", nil), http.StatusTooManyRequests)
	// Unauthenticated requests are refused before they cost anyone a token.
	requireProblem(t, e.serve(newRequest(t, http.MethodGet, "/api/v1/memories", nil)), http.StatusUnauthorized)

	// Writes have their own bucket: alice's spent reads do not block them.
	rec = alice.do(http.MethodPost, "/api/v1/memories", map[string]any{"text": "one write"})
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	require.Equal(t, "1", rec.Header().Get("RateLimit-Limit"))
	requireProblem(t, alice.do(http.MethodPost, "/api/v1/memories", map[string]any{"text": "two writes"}), http.StatusTooManyRequests)
}

func TestUnlimitedClassHasNoHeaders(t *testing.T) {
	t.Parallel()
	limiter := inproc.NewRateLimiter(inproc.RateLimiterOptions{})
	t.Cleanup(func() { _ = limiter.Close() })
	e := newEnv(t, func(o *envOptions) {
		o.limiter = limiter
		o.cfg.RateLimits.Writes = ports.RateLimit{Burst: 1, Period: time.Hour}
	})
	alice := e.user("acme", "alice")
	for range 5 {
		rec := alice.do(http.MethodGet, "/api/v1/memories", nil)
		require.Equal(t, http.StatusOK, rec.Code)
		require.Empty(t, rec.Header().Get("RateLimit-Limit"))
	}
}

// downLimiter is a limiter whose backend is unreachable.
type downLimiter struct{}

func (downLimiter) Allow(context.Context, string, ports.RateLimit, int) (ports.RateDecision, error) {
	return ports.RateDecision{}, &domain.UnavailableError{Dependency: "valkey"}
}

func TestRateLimiterDownFailsOpen(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *envOptions) {
		o.limiter = downLimiter{}
		o.cfg.RateLimits.Reads = ports.RateLimit{Burst: 1, Period: time.Minute}
	})
	require.Equal(t, http.StatusOK, e.user("acme", "alice").do(http.MethodGet, "/api/v1/memories", nil).Code)
	require.Contains(t, e.logs.String(), "rate limiter unavailable")
}

func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for name, cfg := range map[string]httpapi.Config{
		"rate limit":      {PublicURL: publicURL, RateLimits: httpapi.RateLimits{Writes: ports.RateLimit{Burst: -1, Period: time.Second}}},
		"rate period":     {PublicURL: publicURL, RateLimits: httpapi.RateLimits{Reads: ports.RateLimit{Burst: 5}}},
		"public url path": {PublicURL: publicURL + "/api"},
		"no public url":   {},
		"negative body":   {PublicURL: publicURL, BodyLimit: -1},
		"negative ready":  {PublicURL: publicURL, ReadyTimeout: -time.Second},
	} {
		_, err := httpapi.New(cfg, e.deps)
		require.Error(t, err, name)
	}
	noProbe := e.deps
	noProbe.Ready = []httpapi.Check{{Name: "store", Required: true}}
	_, err := httpapi.New(httpapi.Config{PublicURL: publicURL}, noProbe)
	require.ErrorContains(t, err, "probe")
	_, err = httpapi.New(httpapi.Config{PublicURL: publicURL}, httpapi.Deps{Memories: e.deps.Memories})
	require.ErrorContains(t, err, "Verifier")
	_, err = httpapi.New(httpapi.Config{PublicURL: publicURL}, e.deps)
	require.NoError(t, err)
}

func TestPanicIsA500Problem(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.server.Mount("/boom", http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("kaboom") }))
	rec := e.user("acme", "alice").do(http.MethodGet, "/boom", nil)
	p := requireProblem(t, rec, http.StatusInternalServerError)
	require.NotContains(t, p.Detail, "kaboom")
	require.Contains(t, e.logs.String(), "kaboom")
	require.Contains(t, e.logs.String(), `"status":500`)
}
