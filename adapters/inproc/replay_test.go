package inproc_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/contracttest"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

func TestReplayCacheContract(t *testing.T) {
	t.Parallel()
	contracttest.RunReplayCache(t, func(t *testing.T) ports.ReplayCache {
		c := inproc.NewReplayCache(inproc.ReplayOptions{SweepEvery: 50 * time.Millisecond})
		t.Cleanup(func() { require.NoError(t, c.Close()) })
		return c
	})
}

func TestReplayCacheFullFailsClosedUntilKeysExpire(t *testing.T) {
	t.Parallel()
	c := inproc.NewReplayCache(inproc.ReplayOptions{MaxKeys: 3, SweepEvery: time.Hour})
	t.Cleanup(func() { require.NoError(t, c.Close()) })
	ctx := context.Background()
	short := time.Now().Add(time.Second)
	for _, k := range []string{"a", "b"} {
		fresh, err := c.Remember(ctx, k, short)
		require.NoError(t, err)
		require.True(t, fresh)
	}
	fresh, err := c.Remember(ctx, "c", time.Now().Add(time.Hour))
	require.NoError(t, err)
	require.True(t, fresh)

	_, err = c.Remember(ctx, "d", time.Now().Add(time.Hour))
	require.ErrorIs(t, err, domain.ErrUnavailable, "full of unexpired keys: refuse, do not evict")
	var ue *domain.UnavailableError
	require.ErrorAs(t, err, &ue)
	require.Positive(t, ue.RetryAfter)
	fresh, err = c.Remember(ctx, "a", time.Now().Add(time.Hour))
	require.NoError(t, err)
	require.False(t, fresh, "the refusal kept every remembered key")

	time.Sleep(1200 * time.Millisecond)
	fresh, err = c.Remember(ctx, "d", time.Now().Add(time.Hour))
	require.NoError(t, err, "expired keys make room")
	require.True(t, fresh)
	fresh, err = c.Remember(ctx, "c", time.Now().Add(time.Hour))
	require.NoError(t, err)
	require.False(t, fresh, "the unexpired key survived the sweep")
}

func TestReplayCacheSweeperFreesExpiredKeys(t *testing.T) {
	t.Parallel()
	c := inproc.NewReplayCache(inproc.ReplayOptions{SweepEvery: 20 * time.Millisecond})
	t.Cleanup(func() { require.NoError(t, c.Close()) })
	for _, k := range []string{"a", "b", "c"} {
		_, err := c.Remember(context.Background(), k, time.Now().Add(time.Second))
		require.NoError(t, err)
	}
	require.Equal(t, 3, c.Len())
	require.Eventually(t, func() bool { return c.Len() == 0 }, 5*time.Second, 10*time.Millisecond)
}
