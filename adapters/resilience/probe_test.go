package resilience_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/resilience"
	"github.com/engram-memory/engram/domain"
)

// With the default policy an open breaker lets a trial through within 1 s
// (after 250 ms),
// and a readiness probe is that trial: the breaker and /readyz agree, and
// the backend's return closes the breaker without waiting for user traffic.
func TestProbeAgreesWithTheBreakerAndClosesItWithin1s(t *testing.T) {
	var ev events
	p := resilience.NewPolicy("postgres", ev.options(resilience.Options{Retries: -1, FailureThreshold: 2}))
	ctx := context.Background()
	var up atomic.Bool
	var pings atomic.Int64
	ping := func(context.Context) error {
		pings.Add(1)
		if up.Load() {
			return nil
		}
		return &domain.UnavailableError{Dependency: "postgres", Err: errors.New("connection refused")}
	}
	for range 2 {
		require.ErrorIs(t, p.Probe(ctx, ping), domain.ErrUnavailable)
	}
	require.Equal(t, resilience.Open, p.State())
	opened := time.Now()

	// Open: the probe says "down" without touching the backend.
	before := pings.Load()
	err := p.Probe(ctx, ping)
	var ue *domain.UnavailableError
	require.ErrorAs(t, err, &ue)
	require.Equal(t, 1, ue.RetryAfter, "the default wait is at most 1 s")
	require.Equal(t, before, pings.Load())

	up.Store(true)
	require.Eventually(t, func() bool { return p.Probe(ctx, ping) == nil }, 5*time.Second, 20*time.Millisecond)
	require.Equal(t, resilience.Closed, p.State())
	// Generous for a loaded machine; the configured wait is 250 ms.
	require.Less(t, time.Since(opened), 3*time.Second, "half-open after the default 250 ms, not 5 s")
}
