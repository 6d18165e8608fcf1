package contracttest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// RunRateLimiter checks a ports.RateLimiter. newLimiter is called once per
// subtest and returns a limiter isolated from every other, cleaned up with
// t.Cleanup.
func RunRateLimiter(t *testing.T, newLimiter func(t *testing.T) ports.RateLimiter) {
	t.Run("Allow/FullBucketAdmitsBurstThenRefuses", func(t *testing.T) {
		t.Parallel()
		l := newLimiter(t)
		ctx := context.Background()
		lim := ports.RateLimit{Burst: 5, Period: time.Minute}
		for i := range 5 {
			d, err := l.Allow(ctx, "k", lim, 1)
			require.NoError(t, err)
			require.True(t, d.Allowed, "call %d of a fresh bucket of 5", i+1)
			require.Equal(t, 5, d.Limit)
			require.Equal(t, 4-i, d.Remaining)
			require.Zero(t, d.RetryAfter)
			// One token comes back every 12s; after i+1 takes the bucket is
			// full again (i+1)*12s later, give or take the elapsed time.
			require.InDelta(t, float64(time.Duration(i+1)*12*time.Second), float64(d.Reset), float64(2*time.Second))
		}
		d, err := l.Allow(ctx, "k", lim, 1)
		require.NoError(t, err)
		require.False(t, d.Allowed, "sixth call is refused")
		require.Zero(t, d.Remaining)
		require.Greater(t, d.RetryAfter, 10*time.Second)
		require.LessOrEqual(t, d.RetryAfter, 12*time.Second)
		require.InDelta(t, float64(time.Minute), float64(d.Reset), float64(2*time.Second))
	})

	t.Run("Allow/ConcurrentCallsAdmitExactlyBurst", func(t *testing.T) {
		t.Parallel()
		l := newLimiter(t)
		ctx := context.Background()
		lim := ports.RateLimit{Burst: 10, Period: time.Hour}
		var allowed, fails atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range 100 {
			wg.Go(func() {
				<-start
				d, err := l.Allow(ctx, "hot", lim, 1)
				if err != nil {
					fails.Add(1)
					return
				}
				if d.Allowed {
					allowed.Add(1)
				}
			})
		}
		close(start)
		wg.Wait()
		require.Zero(t, fails.Load())
		require.EqualValues(t, 10, allowed.Load(), "a bucket of 10 hit by 100 concurrent calls admits exactly 10")
	})

	t.Run("Allow/RefillsOverTime", func(t *testing.T) {
		t.Parallel()
		l := newLimiter(t)
		ctx := context.Background()
		// One token a second: wide margins for a loaded test machine.
		lim := ports.RateLimit{Burst: 2, Period: 2 * time.Second}
		for range 2 {
			d, err := l.Allow(ctx, "r", lim, 1)
			require.NoError(t, err)
			require.True(t, d.Allowed)
		}
		d, err := l.Allow(ctx, "r", lim, 1)
		require.NoError(t, err)
		require.False(t, d.Allowed)
		require.Greater(t, d.RetryAfter, time.Duration(0))
		time.Sleep(d.RetryAfter + 30*time.Millisecond)
		d, err = l.Allow(ctx, "r", lim, 1)
		require.NoError(t, err)
		require.True(t, d.Allowed, "after RetryAfter one token is back")
		d, err = l.Allow(ctx, "r", lim, 1)
		require.NoError(t, err)
		require.False(t, d.Allowed, "only one token came back")
		time.Sleep(2200 * time.Millisecond)
		d, err = l.Allow(ctx, "r", lim, 1)
		require.NoError(t, err)
		require.True(t, d.Allowed)
		require.Equal(t, 1, d.Remaining, "refill stops at the burst")
	})

	t.Run("Allow/CostTakesSeveralTokens", func(t *testing.T) {
		t.Parallel()
		l := newLimiter(t)
		ctx := context.Background()
		lim := ports.RateLimit{Burst: 10, Period: time.Hour}
		d, err := l.Allow(ctx, "c", lim, 7)
		require.NoError(t, err)
		require.True(t, d.Allowed)
		require.Equal(t, 3, d.Remaining)
		d, err = l.Allow(ctx, "c", lim, 4)
		require.NoError(t, err)
		require.False(t, d.Allowed, "4 > 3 remaining")
		require.Equal(t, 3, d.Remaining, "a refused call takes nothing")
		d, err = l.Allow(ctx, "c", lim, 3)
		require.NoError(t, err)
		require.True(t, d.Allowed)
		require.Zero(t, d.Remaining)
	})

	t.Run("Allow/KeysAreIndependent", func(t *testing.T) {
		t.Parallel()
		l := newLimiter(t)
		ctx := context.Background()
		lim := ports.RateLimit{Burst: 1, Period: time.Hour}
		for _, k := range []string{"a", "b", "a:b", "A"} {
			d, err := l.Allow(ctx, k, lim, 1)
			require.NoError(t, err)
			require.True(t, d.Allowed, "bucket %q is shared with another key", k)
		}
		d, err := l.Allow(ctx, "a", lim, 1)
		require.NoError(t, err)
		require.False(t, d.Allowed)
	})

	t.Run("Allow/InvalidArguments", func(t *testing.T) {
		t.Parallel()
		l := newLimiter(t)
		ctx := context.Background()
		ok := ports.RateLimit{Burst: 3, Period: time.Second}
		for name, call := range map[string]func() error{
			"empty key":   func() error { _, err := l.Allow(ctx, "", ok, 1); return err },
			"zero burst":  func() error { _, err := l.Allow(ctx, "k", ports.RateLimit{Period: time.Second}, 1); return err },
			"zero period": func() error { _, err := l.Allow(ctx, "k", ports.RateLimit{Burst: 3}, 1); return err },
			"zero cost":   func() error { _, err := l.Allow(ctx, "k", ok, 0); return err },
			"cost > burst": func() error {
				_, err := l.Allow(ctx, "k", ok, 4)
				return err
			},
		} {
			require.ErrorIs(t, call(), domain.ErrInvalid, name)
		}
	})
}
