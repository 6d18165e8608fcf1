package app_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

func newRateService(t *testing.T, lims app.RateLimits) *app.RateLimitService {
	l := inproc.NewRateLimiter(inproc.RateLimiterOptions{})
	t.Cleanup(func() { _ = l.Close() })
	s, err := app.NewRateLimitService(app.RateLimitDeps{Limiter: l, Limits: lims})
	require.NoError(t, err)
	return s
}

func headerMap(hs []app.RateHeader) map[string]string {
	m := make(map[string]string, len(hs))
	for _, h := range hs {
		m[h.Name] = h.Value
	}
	return m
}

func TestRateLimitHeadersAndRefusal(t *testing.T) {
	s := newRateService(t, app.RateLimits{
		Reads:  ports.RateLimit{Burst: 100, Period: time.Minute},
		Writes: ports.RateLimit{Burst: 3, Period: time.Minute},
		Search: ports.RateLimit{Burst: 10, Period: time.Minute},
	})
	ctx := context.Background()
	p := domain.Principal{OrgID: "acme", UserID: "alice"}
	before := time.Now()
	res, err := s.Check(ctx, p, app.ClassWrites)
	require.NoError(t, err)
	h := headerMap(res.Headers)
	require.Equal(t, `"writes";q=3;w=60`, h["RateLimit-Policy"])
	// One of 3 tokens taken; it comes back in 20s.
	require.Equal(t, `"writes";r=2;t=20`, h["RateLimit"])
	require.Equal(t, "3", h["X-RateLimit-Limit"])
	require.Equal(t, "2", h["X-RateLimit-Remaining"])
	reset, err := strconv.ParseInt(h["X-RateLimit-Reset"], 10, 64)
	require.NoError(t, err)
	require.InDelta(t, before.Add(20*time.Second).Unix(), reset, 1)
	require.NotContains(t, h, "Retry-After")

	for range 2 {
		_, err = s.Check(ctx, p, app.ClassWrites)
		require.NoError(t, err)
	}
	res, err = s.Check(ctx, p, app.ClassWrites)
	require.ErrorIs(t, err, domain.ErrRateLimited)
	var rl *app.RateLimitedError
	require.True(t, errors.As(err, &rl))
	require.Equal(t, app.ClassWrites, rl.Class)
	require.Equal(t, 20, rl.RetryAfterSeconds())
	h = headerMap(res.Headers)
	require.Equal(t, "20", h["Retry-After"])
	require.Equal(t, `"writes";r=0;t=60`, h["RateLimit"])

	// Other classes and other principals have their own buckets.
	_, err = s.Check(ctx, p, app.ClassReads)
	require.NoError(t, err)
	_, err = s.Check(ctx, p, app.ClassSearch)
	require.NoError(t, err)
	_, err = s.Check(ctx, domain.Principal{OrgID: "acme", UserID: "bob"}, app.ClassWrites)
	require.NoError(t, err)

	_, err = s.Check(ctx, p, "admin")
	require.ErrorIs(t, err, domain.ErrInvalid)
}

func TestRateKeyDoesNotCollide(t *testing.T) {
	a := app.RateKey(domain.Principal{OrgID: "a:b", UserID: "c"}, app.ClassReads)
	b := app.RateKey(domain.Principal{OrgID: "a", UserID: "b:c"}, app.ClassReads)
	require.NotEqual(t, a, b)
	require.NotEqual(t, app.RateKey(domain.Principal{OrgID: "a", UserID: "b"}, app.ClassReads),
		app.RateKey(domain.Principal{OrgID: "a", UserID: "b"}, app.ClassWrites))
}

func TestRateLimitsValidate(t *testing.T) {
	l := app.DefaultRateLimits
	require.NoError(t, l.Validate())
	l.Search.Period = 0
	err := l.Validate()
	require.ErrorIs(t, err, domain.ErrInvalid)
	require.Contains(t, err.Error(), "search")
	_, err = app.NewRateLimitService(app.RateLimitDeps{Limiter: inproc.NewRateLimiter(inproc.RateLimiterOptions{}), Limits: l})
	require.ErrorIs(t, err, domain.ErrInvalid)
}

// A refusal that still stands is answered without the limiter: a flood
// over budget costs the shared limiter (Valkey) one call per refill or per
// second, not one per request; the answers are the limiter's; and once
// the bucket has a token again the limiter is asked and admits.
func TestStandingRefusalIsAnsweredWithoutTheLimiter(t *testing.T) {
	clock := &keyClock{t: time.Now()}
	l := inproc.NewRateLimiter(inproc.RateLimiterOptions{Clock: clock})
	t.Cleanup(func() { _ = l.Close() })
	// One token every 2 s: a refusal stands for up to 2 s, the memo 1 s.
	s, err := app.NewRateLimitService(app.RateLimitDeps{Limiter: l, Clock: clock, Limits: app.RateLimits{
		Reads: ports.RateLimit{Burst: 30, Period: time.Minute}, Writes: ports.RateLimit{Burst: 2, Period: 4 * time.Second},
		Search: ports.RateLimit{Burst: 10, Period: time.Minute},
	}})
	require.NoError(t, err)
	ctx := context.Background()
	alice, bob := domain.Principal{OrgID: "acme", UserID: "alice"}, domain.Principal{OrgID: "acme", UserID: "bob"}
	for range 2 {
		_, err = s.Check(ctx, alice, app.ClassWrites)
		require.NoError(t, err)
	}
	var refused *app.RateLimitedError
	for i := range 100 {
		res, err := s.Check(ctx, alice, app.ClassWrites)
		require.ErrorAs(t, err, &refused, "check %d", i)
		require.Equal(t, 2*time.Second, refused.RetryAfter)
		require.Equal(t, "2", headerMap(res.Headers)["Retry-After"])
	}
	require.EqualValues(t, 3, s.LimiterCalls(), "100 refusals in a row cost the limiter one call")

	// Another bucket is asked as always.
	_, err = s.Check(ctx, bob, app.ClassWrites)
	require.NoError(t, err)
	require.EqualValues(t, 4, s.LimiterCalls())

	// After the memo (1 s) the limiter is asked again; it still refuses,
	// with the time left.
	clock.add(1500 * time.Millisecond)
	_, err = s.Check(ctx, alice, app.ClassWrites)
	require.ErrorAs(t, err, &refused)
	require.Equal(t, 500*time.Millisecond, refused.RetryAfter)
	require.EqualValues(t, 5, s.LimiterCalls())
	// Once the bucket has a token again the limiter admits.
	clock.add(500 * time.Millisecond)
	_, err = s.Check(ctx, alice, app.ClassWrites)
	require.NoError(t, err)
	require.EqualValues(t, 6, s.LimiterCalls())
}
