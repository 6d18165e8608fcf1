package resilience_test

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/adapters/resilience"
	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/contracttest"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

func policy() *resilience.Policy { return resilience.NewPolicy("test", resilience.Options{}) }

// Every decorator keeps its port's contract.
func TestDecoratedPortsKeepTheirContracts(t *testing.T) {
	t.Run("ReplayCache", func(t *testing.T) {
		contracttest.RunReplayCache(t, func(t *testing.T) ports.ReplayCache {
			c := inproc.NewReplayCache(inproc.ReplayOptions{SweepEvery: 50 * time.Millisecond})
			t.Cleanup(func() { _ = c.Close() })
			return newReplayCache(c, policy())
		})
	})
	t.Run("RateLimiter", func(t *testing.T) {
		contracttest.RunRateLimiter(t, func(t *testing.T) ports.RateLimiter {
			l := inproc.NewRateLimiter(inproc.RateLimiterOptions{})
			t.Cleanup(func() { _ = l.Close() })
			return newRateLimiter(l, policy())
		})
	})
	t.Run("SessionStore", func(t *testing.T) {
		contracttest.RunSessionStore(t, func(t *testing.T, s contracttest.SessionSetup) ports.SessionStore {
			st := inproc.NewSessionStore(inproc.SessionOptions{TTL: s.TTL, MaxEvents: s.MaxEvents, HalfLife: s.HalfLife, MaxBytesPerUser: s.MaxBytesPerUser, SweepEvery: 50 * time.Millisecond})
			t.Cleanup(func() { _ = st.Close() })
			return newSessionStore(st, policy())
		})
	})
	t.Run("IdempotencyStore", func(t *testing.T) {
		contracttest.RunIdempotencyStore(t, func(t *testing.T) ports.IdempotencyStore {
			s := inproc.NewIdempotencyStore(inproc.IdempotencyOptions{SweepEvery: 50 * time.Millisecond})
			t.Cleanup(func() { _ = s.Close() })
			return newIdempotencyStore(s, policy())
		})
	})
	t.Run("TextIndex", func(t *testing.T) {
		contracttest.RunTextIndex(t, func(t *testing.T) ports.TextIndex {
			st, err := sqlitestore.Open(context.Background(), sqlitestore.Config{Path: filepath.Join(t.TempDir(), "engram.db")})
			require.NoError(t, err)
			t.Cleanup(func() { _ = st.Close() })
			return newTextIndex(st.TextIndex(), policy())
		})
	})
	t.Run("VectorIndex", func(t *testing.T) {
		contracttest.RunVectorIndex(t, func(t *testing.T) ports.VectorIndex {
			return newVectorIndex(inproc.NewVectorIndex(), policy())
		})
	})
}

// flakyReplay is a real replay cache whose first calls fail after doing
// their work, like a Valkey reply lost on the way back.
type flakyReplay struct {
	ports.ReplayCache
	lose  atomic.Int64
	calls atomic.Int64
}

func (f *flakyReplay) Remember(ctx context.Context, key string, until time.Time) (bool, error) {
	f.calls.Add(1)
	fresh, err := f.ReplayCache.Remember(ctx, key, until)
	if err == nil && f.lose.Add(-1) >= 0 {
		return false, &domain.UnavailableError{Dependency: "valkey", Err: context.DeadlineExceeded}
	}
	return fresh, err
}

// A retried Remember would see its own lost first attempt and call a
// legitimate proof a replay; it is not retried, the caller gets 503.
func TestRememberIsNotRetried(t *testing.T) {
	c := inproc.NewReplayCache(inproc.ReplayOptions{})
	defer c.Close()
	f := &flakyReplay{ReplayCache: c}
	f.lose.Store(1)
	r := newReplayCache(f, resilience.NewPolicy("valkey", resilience.Options{BackoffMin: time.Millisecond}))
	_, err := r.Remember(context.Background(), "jti-1", time.Now().Add(time.Minute))
	var ue *domain.UnavailableError
	require.ErrorAs(t, err, &ue)
	require.Equal(t, "valkey", ue.Dependency)
	require.EqualValues(t, 1, f.calls.Load())
}

// A down limiter answers Unavailable fast, so the API can fail open.
type deadLimiter struct{ calls atomic.Int64 }

func (d *deadLimiter) Allow(context.Context, string, ports.RateLimit, int) (ports.RateDecision, error) {
	d.calls.Add(1)
	return ports.RateDecision{}, &domain.UnavailableError{Dependency: "valkey"}
}

func TestDownLimiterTripsTheBreakerAndAnswersFast(t *testing.T) {
	d := &deadLimiter{}
	l := newRateLimiter(d, resilience.NewPolicy("valkey", resilience.Options{FailureThreshold: 3}))
	for range 10 {
		_, err := l.Allow(context.Background(), "k", ports.RateLimit{Burst: 1, Period: time.Second}, 1)
		require.ErrorIs(t, err, domain.ErrUnavailable)
	}
	require.EqualValues(t, 3, d.calls.Load(), "after the threshold the breaker answers without calling")
}
