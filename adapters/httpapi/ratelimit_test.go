package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/httpapi"
	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/ports"
)

func hourly(n int) ports.RateLimit { return ports.RateLimit{Burst: n, Period: time.Hour} }

func newLimitedEnv(t *testing.T, limits app.RateLimits) *env {
	limiter := inproc.NewRateLimiter(inproc.RateLimiterOptions{})
	t.Cleanup(func() { _ = limiter.Close() })
	return newEnv(t, func(o *envOptions) { o.limiter, o.limits = limiter, limits })
}

// requireRateHeaders checks the headers of one decision of class with quota
// q over an hour and remaining r.
func requireRateHeaders(t *testing.T, rec *httptest.ResponseRecorder, class string, q, r int) {
	t.Helper()
	h := rec.Header()
	require.Equal(t, strconv.Quote(class)+";q="+strconv.Itoa(q)+";w=3600", h.Get("RateLimit-Policy"))
	require.Regexp(t, `^`+strconv.Quote(class)+`;r=`+strconv.Itoa(r)+`;t=\d+$`, h.Get("RateLimit"))
	require.Equal(t, strconv.Itoa(q), h.Get("X-RateLimit-Limit"))
	require.Equal(t, strconv.Itoa(r), h.Get("X-RateLimit-Remaining"))
	reset, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64)
	require.NoError(t, err)
	now := time.Now().Unix()
	require.GreaterOrEqual(t, reset, now-1, "X-RateLimit-Reset is a Unix time")
	require.LessOrEqual(t, reset, now+3601)
}

func TestRateLimitPerUserAndClass(t *testing.T) {
	t.Parallel()
	e := newLimitedEnv(t, app.RateLimits{Reads: hourly(3), Writes: hourly(1), Search: hourly(2)})
	alice, bob := e.user("acme", "alice"), e.user("acme", "bob")
	for i := range 3 {
		rec := alice.do(http.MethodGet, "/api/v1/memories", nil)
		require.Equal(t, http.StatusOK, rec.Code)
		requireRateHeaders(t, rec, "reads", 3, 2-i)
		require.Empty(t, rec.Header().Get("Retry-After"))
	}
	rec := alice.do(http.MethodGet, "/api/v1/memories", nil)
	p := requireProblem(t, rec, http.StatusTooManyRequests)
	require.Equal(t, "urn:engram:problem:rate-limited", p.Type)
	require.Contains(t, p.Detail, "reads")
	requireRateHeaders(t, rec, "reads", 3, 0)
	retry, err := strconv.Atoi(rec.Header().Get("Retry-After"))
	require.NoError(t, err)
	// One token of three per hour comes back in 20 minutes.
	require.InDelta(t, 1200, retry, 5)

	// Another user's bucket is untouched, and a fresh token for the same
	// user does not get a fresh bucket.
	requireRateHeaders(t, bob.do(http.MethodGet, "/api/v1/memories", nil), "reads", 3, 2)
	requireProblem(t, e.user("acme", "alice").do(http.MethodGet, "/api/v1/memories", nil), http.StatusTooManyRequests)
	// The same user id in another org is another principal.
	require.Equal(t, http.StatusOK, e.user("globex", "alice").do(http.MethodGet, "/api/v1/memories", nil).Code)
	// Unauthenticated requests are refused before they cost anyone a token.
	requireProblem(t, e.serve(newRequest(t, http.MethodGet, "/api/v1/memories", nil)), http.StatusUnauthorized)

	// Writes have their own bucket: alice's spent reads do not block them,
	// and spending writes does not block bob's reads or writes.
	rec = alice.do(http.MethodPost, "/api/v1/memories", map[string]any{"text": "one write"})
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	requireRateHeaders(t, rec, "writes", 1, 0)
	rec = alice.do(http.MethodDelete, "/api/v1/memories/01J00000000000000000000000", nil)
	requireProblem(t, rec, http.StatusTooManyRequests)
	requireRateHeaders(t, rec, "writes", 1, 0)
	require.NotEmpty(t, rec.Header().Get("Retry-After"))
	require.Equal(t, http.StatusOK, bob.do(http.MethodGet, "/api/v1/memories", nil).Code)
	require.Equal(t, http.StatusCreated, bob.do(http.MethodPost, "/api/v1/memories", map[string]any{"text": "bob writes"}).Code)
}

func TestRateLimitWritesSpentReadsStillServed(t *testing.T) {
	t.Parallel()
	e := newLimitedEnv(t, app.RateLimits{Reads: hourly(100), Writes: hourly(2), Search: hourly(100)})
	alice := e.user("acme", "alice")
	m := alice.add("first")
	alice.add("second")
	requireProblem(t, alice.do(http.MethodPost, "/api/v1/memories", map[string]any{"text": "third"}), http.StatusTooManyRequests)
	requireProblem(t, alice.do(http.MethodPatch, "/api/v1/memories/"+m.ID, map[string]any{"text": "edited"}), http.StatusTooManyRequests)
	for _, path := range []string{"/api/v1/memories", "/api/v1/memories/" + m.ID, "/api/v1/apps", "/api/v1/stats"} {
		rec := alice.do(http.MethodGet, path, nil)
		require.Equal(t, http.StatusOK, rec.Code, path)
		require.Contains(t, rec.Header().Get("RateLimit-Policy"), `"reads"`, path)
	}
}

// TestRateLimiterDownFailsOpen runs the limiter on a real Valkey that is
// then killed: requests are admitted (no headers: there is nothing true to
// say), with a warning, and limiting resumes when the server is back.
func TestRateLimiterDownFailsOpen(t *testing.T) {
	t.Parallel()
	v := startValkey(t)
	store := v.open()
	e := newEnv(t, func(o *envOptions) {
		o.limiter = store
		o.limits = app.RateLimits{Reads: hourly(2), Writes: hourly(2), Search: hourly(2)}
	})
	alice := e.user("acme", "alice")
	requireRateHeaders(t, alice.do(http.MethodGet, "/api/v1/memories", nil), "reads", 2, 1)

	v.stop()
	for range 5 {
		rec := alice.do(http.MethodGet, "/api/v1/memories", nil)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		require.Empty(t, rec.Header().Get("RateLimit"))
		require.Empty(t, rec.Header().Get("X-RateLimit-Remaining"))
	}
	require.Contains(t, e.logs.String(), "rate limiter unavailable")
	require.Equal(t, int64(5), e.deps.RateLimits.FailOpenCount())

	// The server comes back empty (no persistence): a fresh bucket, and
	// limiting works again through the same client.
	v.start()
	require.Eventually(t, func() bool {
		return alice.do(http.MethodGet, "/api/v1/memories", nil).Header().Get("RateLimit") != ""
	}, 10*time.Second, 100*time.Millisecond)
	require.Equal(t, http.StatusOK, alice.do(http.MethodGet, "/api/v1/memories", nil).Code)
	requireProblem(t, alice.do(http.MethodGet, "/api/v1/memories", nil), http.StatusTooManyRequests)
}

func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for name, cfg := range map[string]httpapi.Config{
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

// TestRateLimitSearchClass: GET /memories?q= and POST /search draw from the
// search bucket, not the reads one, so spending searches leaves listing
// (the same route without q) served.
func TestRateLimitSearchClass(t *testing.T) {
	t.Parallel()
	limiter := inproc.NewRateLimiter(inproc.RateLimiterOptions{})
	t.Cleanup(func() { _ = limiter.Close() })
	e := newEnv(t, func(o *envOptions) {
		o.limiter, o.search = limiter, true
		o.limits = app.RateLimits{Reads: hourly(10), Writes: hourly(10), Search: hourly(2)}
	})
	alice := e.user("acme", "alice")
	alice.add("green tea")
	rec := alice.do(http.MethodGet, "/api/v1/memories?q=tea", nil)
	require.Equal(t, http.StatusOK, rec.Code)
	requireRateHeaders(t, rec, "search", 2, 1)
	rec = alice.do(http.MethodPost, "/api/v1/search", map[string]any{"query": "tea"})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	requireRateHeaders(t, rec, "search", 2, 0)
	rec = alice.do(http.MethodGet, "/api/v1/memories?q=tea", nil)
	requireProblem(t, rec, http.StatusTooManyRequests)
	requireRateHeaders(t, rec, "search", 2, 0)
	rec = alice.do(http.MethodGet, "/api/v1/memories", nil)
	require.Equal(t, http.StatusOK, rec.Code)
	requireRateHeaders(t, rec, "reads", 10, 9)
}
