package httpapi_test

import (
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/ports"
)

// countingReplay counts the entries written to the DPoP replay cache.
type countingReplay struct {
	ports.ReplayCache
	mu   sync.Mutex
	keys []string
}

func (c *countingReplay) Remember(ctx context.Context, key string, until time.Time) (bool, error) {
	c.mu.Lock()
	c.keys = append(c.keys, key)
	c.mu.Unlock()
	return c.ReplayCache.Remember(ctx, key, until)
}

func (c *countingReplay) writes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.keys)
}

// A DPoP client over its rate budget is refused before its proof is
// recorded: the replay cache is written only for admitted requests (issue
// 12: it was written before the limiter ran, so a flood of refused
// requests filled it, in Valkey too). A replayed proof is still refused.
func TestReplayCacheWrittenOnlyAfterTheRateLimiter(t *testing.T) {
	t.Parallel()
	replay := &countingReplay{}
	limiter := inproc.NewRateLimiter(inproc.RateLimiterOptions{})
	t.Cleanup(func() { _ = limiter.Close() })
	e := newEnv(t, func(o *envOptions) {
		o.limiter, o.limits = limiter, app.RateLimits{Reads: hourly(2), Writes: hourly(2), Search: hourly(2)}
		o.replay = func(r ports.ReplayCache) ports.ReplayCache { replay.ReplayCache = r; return replay }
	})
	alice := e.dpopUser("acme", "alice")
	for range 2 {
		require.Equal(t, http.StatusOK, alice.do(http.MethodGet, "/api/v1/memories", nil).Code)
	}
	require.Equal(t, 2, replay.writes(), "admitted requests record their proofs")
	for range 20 {
		rec := alice.do(http.MethodGet, "/api/v1/memories", nil)
		requireProblem(t, rec, http.StatusTooManyRequests)
	}
	require.Equal(t, 2, replay.writes(), "refused requests write nothing to the replay cache")

	// Within budget again (writes class), a replayed proof is refused.
	req := alice.request(http.MethodPost, "/api/v1/memories", map[string]any{"text": "once"})
	replayed := req.Clone(context.Background())
	replayed.Body = io.NopCloser(strings.NewReader(`{"text":"twice"}`))
	require.Equal(t, http.StatusCreated, e.serve(req).Code)
	rec := e.serve(replayed)
	requireProblem(t, rec, http.StatusUnauthorized)
	requireChallenge(t, rec, "DPoP", "invalid_dpop_proof")
}

// An address that keeps failing authentication is refused with 429 before
// its credentials are looked at, so a spray of junk tokens or unknown API
// keys stops costing signature checks and store lookups; even a valid
// token from that address waits; other addresses are untouched.
func TestAddressGuardRefusesBeforeAuthentication(t *testing.T) {
	t.Parallel()
	guard, err := app.NewAddressGuard(5, nil, 0)
	require.NoError(t, err)
	e := newEnv(t, func(o *envOptions) { o.guard = guard })
	alice := e.user("acme", "alice")
	from := func(req *http.Request, addr string) *http.Request { req.RemoteAddr = addr; return req }
	junk := func(addr string) *http.Request {
		req := newRequest(t, http.MethodGet, "/api/v1/memories", nil)
		req.Header.Set("Authorization", "Bearer junk."+rand.Text()+".sig")
		return from(req, addr)
	}
	for range 5 {
		requireProblem(t, e.serve(junk("198.51.100.7:40000")), http.StatusUnauthorized)
	}
	rec := e.serve(junk("198.51.100.7:40001"))
	requireProblem(t, rec, http.StatusTooManyRequests)
	require.NotEmpty(t, rec.Header().Get("Retry-After"))
	require.Contains(t, rec.Body.String(), "failed authentications from this address")
	requireProblem(t, e.serve(from(alice.request(http.MethodGet, "/api/v1/memories", nil), "198.51.100.7:40002")), http.StatusTooManyRequests)
	require.Equal(t, http.StatusOK, e.serve(from(alice.request(http.MethodGet, "/api/v1/memories", nil), "198.51.100.8:40000")).Code)
	// Successful authentications never draw from the budget.
	for range 20 {
		require.Equal(t, http.StatusOK, e.serve(from(alice.request(http.MethodGet, "/api/v1/memories", nil), "198.51.100.9:1")).Code)
	}
}
