package resilience_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/resilience"
	"github.com/engram-memory/engram/contracttest"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
	"github.com/engram-memory/engram/ports/intercept"
)

// The decorated store must keep every promise of the ports it wraps.
func TestDecoratedStoreKeepsTheContracts(t *testing.T) {
	wrap := func(t *testing.T) intercept.Store {
		// The suite checks behaviour, not speed: under -race on a busy
		// machine its large batches can outlast the default deadline.
		return newStore(openFaulty(t), resilience.NewPolicy("sqlite", resilience.Options{Timeout: time.Minute}))
	}
	t.Run("MemoryStore", func(t *testing.T) {
		contracttest.RunMemoryStore(t, func(t *testing.T) ports.MemoryStore { return wrap(t) })
	})
	t.Run("AppStore", func(t *testing.T) {
		contracttest.RunAppStore(t, func(t *testing.T) ports.AppStore { return wrap(t) })
	})
	t.Run("AccessLog", func(t *testing.T) {
		contracttest.RunAccessLog(t, func(t *testing.T) contracttest.AccessLogStore { return wrap(t) })
	})
}

func TestReadsRetryThroughTransientFailures(t *testing.T) {
	f := openFaulty(t)
	var ev events
	s := newStore(f, resilience.NewPolicy("postgres", ev.options(resilience.Options{BackoffMin: time.Millisecond, BackoffMax: 5 * time.Millisecond})))
	m, _, err := s.Create(context.Background(), tenant, newMemory(t, "the retry test memory"))
	require.NoError(t, err)

	f.calls.Store(0)
	f.failNext.Store(2)
	got, err := s.Get(context.Background(), tenant, m.ID)
	require.NoError(t, err)
	require.Equal(t, m.Text, got.Text)
	require.EqualValues(t, 3, f.calls.Load(), "two failures, then the answer")
	require.EqualValues(t, 2, ev.retries.Load())
}

func TestWritesAreNeverRetried(t *testing.T) {
	f := openFaulty(t)
	var ev events
	s := newStore(f, resilience.NewPolicy("postgres", ev.options(resilience.Options{BackoffMin: time.Millisecond})))
	f.failNext.Store(1)
	_, _, err := s.Create(context.Background(), tenant, newMemory(t, "written at most once"))
	var ue *domain.UnavailableError
	require.ErrorAs(t, err, &ue)
	require.Equal(t, "postgres", ue.Dependency)
	require.GreaterOrEqual(t, ue.RetryAfter, 1)
	require.EqualValues(t, 1, f.calls.Load())
	require.Zero(t, ev.retries.Load())
}

func TestRetriesExhaustedIsUnavailable(t *testing.T) {
	f := openFaulty(t)
	s := newStore(f, resilience.NewPolicy("postgres", resilience.Options{Retries: 2, BackoffMin: time.Millisecond, FailureThreshold: 100}))
	f.down.Store(true)
	_, err := s.Get(context.Background(), tenant, domain.NewMemoryID(time.Now()))
	require.ErrorIs(t, err, domain.ErrUnavailable)
	var ue *domain.UnavailableError
	require.ErrorAs(t, err, &ue)
	require.GreaterOrEqual(t, ue.RetryAfter, 1)
	require.EqualValues(t, 3, f.calls.Load())
}

func TestBreakerOpensRefusesAndRecovers(t *testing.T) {
	f := openFaulty(t)
	var ev events
	p := resilience.NewPolicy("postgres", ev.options(resilience.Options{Retries: -1, FailureThreshold: 3, OpenFor: 300 * time.Millisecond}))
	s := newStore(f, p)
	ctx := context.Background()
	m, _, err := s.Create(ctx, tenant, newMemory(t, "survives the outage"))
	require.NoError(t, err)

	f.down.Store(true)
	for range 3 {
		_, err := s.Get(ctx, tenant, m.ID)
		require.ErrorIs(t, err, domain.ErrUnavailable)
	}
	require.Equal(t, resilience.Open, p.State())
	require.Equal(t, resilience.Open, <-ev.states)

	// Open: the backend is not called, the caller learns when to retry.
	before := f.calls.Load()
	_, err = s.Get(ctx, tenant, m.ID)
	var ue *domain.UnavailableError
	require.ErrorAs(t, err, &ue)
	require.Equal(t, "postgres", ue.Dependency)
	require.Equal(t, 1, ue.RetryAfter, "300 ms left rounds up to 1 s")
	require.Equal(t, before, f.calls.Load())

	// The backend comes back; after OpenFor one trial call closes it.
	f.down.Store(false)
	time.Sleep(350 * time.Millisecond)
	got, err := s.Get(ctx, tenant, m.ID)
	require.NoError(t, err)
	require.Equal(t, m.ID, got.ID)
	require.Equal(t, resilience.HalfOpen, <-ev.states)
	require.Equal(t, resilience.Closed, <-ev.states)
	require.Equal(t, resilience.Closed, p.State())
}

func TestSlowCallsHitTheDeadline(t *testing.T) {
	f := openFaulty(t)
	s := newStore(f, resilience.NewPolicy("postgres", resilience.Options{Timeout: 50 * time.Millisecond, Retries: -1}))
	f.delay.Store(int64(5 * time.Second))
	start := time.Now()
	_, _, err := s.Create(context.Background(), tenant, newMemory(t, "too slow to store"))
	require.Less(t, time.Since(start), 2*time.Second, "the deadline cut the call short")
	var ue *domain.UnavailableError
	require.ErrorAs(t, err, &ue)
	require.Equal(t, 1, ue.RetryAfter)

	f.delay.Store(0)
	_, err = s.Get(context.Background(), tenant, domain.NewMemoryID(time.Now()))
	require.ErrorIs(t, err, domain.ErrNotFound, "nothing was half-written by the abandoned call")
}

func TestDomainAnswersNeitherRetryNorTrip(t *testing.T) {
	f := openFaulty(t)
	var ev events
	p := resilience.NewPolicy("postgres", ev.options(resilience.Options{FailureThreshold: 2}))
	s := newStore(f, p)
	for range 5 {
		_, err := s.Get(context.Background(), tenant, domain.NewMemoryID(time.Now()))
		require.ErrorIs(t, err, domain.ErrNotFound)
		require.False(t, errors.Is(err, domain.ErrUnavailable))
	}
	require.EqualValues(t, 5, f.calls.Load())
	require.Zero(t, ev.retries.Load())
	require.Equal(t, resilience.Closed, p.State())
}

func TestCallerCancellationIsNotAnOutage(t *testing.T) {
	f := openFaulty(t)
	p := resilience.NewPolicy("postgres", resilience.Options{FailureThreshold: 1})
	s := newStore(f, p)
	f.delay.Store(int64(time.Second))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	_, err := s.Get(ctx, tenant, domain.NewMemoryID(time.Now()))
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, resilience.Closed, p.State())
}
