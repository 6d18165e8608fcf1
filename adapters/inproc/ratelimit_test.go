package inproc_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/contracttest"
	"github.com/engram-memory/engram/ports"
)

func TestRateLimiterContract(t *testing.T) {
	t.Parallel()
	contracttest.RunRateLimiter(t, func(t *testing.T) ports.RateLimiter {
		l := inproc.NewRateLimiter(inproc.RateLimiterOptions{SweepEvery: 50 * time.Millisecond})
		t.Cleanup(func() { require.NoError(t, l.Close()) })
		return l
	})
}

func TestRateLimiterBoundedAndSwept(t *testing.T) {
	t.Parallel()
	l := inproc.NewRateLimiter(inproc.RateLimiterOptions{MaxKeys: 2, SweepEvery: 20 * time.Millisecond})
	t.Cleanup(func() { require.NoError(t, l.Close()) })
	ctx := context.Background()
	lim := ports.RateLimit{Burst: 1, Period: 2 * time.Second}
	for _, k := range []string{"a", "b", "c"} {
		d, err := l.Allow(ctx, k, lim, 1)
		require.NoError(t, err)
		require.True(t, d.Allowed)
	}
	require.Equal(t, 2, l.Len(), "the least recently used bucket went at the cap")
	// Refilled buckets are equal to new ones; the sweeper drops them.
	require.Eventually(t, func() bool { return l.Len() == 0 }, 6*time.Second, 10*time.Millisecond)
}

func BenchmarkRateLimiterAllow(b *testing.B) {
	l := inproc.NewRateLimiter(inproc.RateLimiterOptions{})
	b.Cleanup(func() { _ = l.Close() })
	lim := ports.RateLimit{Burst: 1 << 30, Period: time.Second}
	ctx := context.Background()
	for b.Loop() {
		if _, err := l.Allow(ctx, "bench", lim, 1); err != nil {
			b.Fatal(err)
		}
	}
}
