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

// RunReplayCache checks a ports.ReplayCache. newCache is called once per
// subtest and returns a cache isolated from every other (its own key prefix
// or instance), cleaned up with t.Cleanup.
func RunReplayCache(t *testing.T, newCache func(t *testing.T) ports.ReplayCache) {
	t.Run("Remember/FirstFreshThenSeen", func(t *testing.T) {
		t.Parallel()
		c := newCache(t)
		ctx := context.Background()
		until := time.Now().Add(time.Minute)
		fresh, err := c.Remember(ctx, "jti-1", until)
		require.NoError(t, err)
		require.True(t, fresh, "first sighting of a jti is fresh")
		for range 3 {
			fresh, err = c.Remember(ctx, "jti-1", until)
			require.NoError(t, err)
			require.False(t, fresh, "a remembered jti is a replay")
		}
	})

	t.Run("Remember/KeysAreIndependent", func(t *testing.T) {
		t.Parallel()
		c := newCache(t)
		ctx := context.Background()
		until := time.Now().Add(time.Minute)
		for _, k := range []string{"a", "b", "A", "a:b", "a b"} {
			fresh, err := c.Remember(ctx, k, until)
			require.NoError(t, err)
			require.True(t, fresh, "key %q collides with another key", k)
		}
	})

	t.Run("Remember/ExpiredKeyIsFreshAgain", func(t *testing.T) {
		t.Parallel()
		c := newCache(t)
		ctx := context.Background()
		fresh, err := c.Remember(ctx, "short", time.Now().Add(time.Second))
		require.NoError(t, err)
		require.True(t, fresh)
		fresh, err = c.Remember(ctx, "short", time.Now().Add(time.Minute))
		require.NoError(t, err)
		require.False(t, fresh, "still remembered before its expiry")
		time.Sleep(2200 * time.Millisecond)
		// The second call above did not extend the first entry's life: a
		// replay must not refresh the window of the original proof.
		fresh, err = c.Remember(ctx, "short", time.Now().Add(time.Minute))
		require.NoError(t, err)
		require.True(t, fresh, "an expired key is forgotten")
	})

	t.Run("Remember/ConcurrentSameKeyExactlyOneWins", func(t *testing.T) {
		t.Parallel()
		c := newCache(t)
		ctx := context.Background()
		until := time.Now().Add(time.Minute)
		var wins, fails atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range 100 {
			wg.Go(func() {
				<-start
				fresh, err := c.Remember(ctx, "raced-jti", until)
				if err != nil {
					fails.Add(1)
					return
				}
				if fresh {
					wins.Add(1)
				}
			})
		}
		close(start)
		wg.Wait()
		require.Zero(t, fails.Load(), "no call may fail")
		require.EqualValues(t, 1, wins.Load(), "exactly one of 100 racing calls sees the jti fresh")
	})

	t.Run("Remember/InvalidInput", func(t *testing.T) {
		t.Parallel()
		c := newCache(t)
		ctx := context.Background()
		_, err := c.Remember(ctx, "", time.Now().Add(time.Minute))
		require.ErrorIs(t, err, domain.ErrInvalid, "empty key")
		_, err = c.Remember(ctx, "past", time.Now().Add(-time.Second))
		require.ErrorIs(t, err, domain.ErrInvalid, "until in the past")
		fresh, err := c.Remember(ctx, "past", time.Now().Add(time.Minute))
		require.NoError(t, err)
		require.True(t, fresh, "a refused call must not have remembered the key")
	})
}
