package loadgen

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPercentileNearestRank(t *testing.T) {
	var xs []time.Duration
	for i := 1; i <= 100; i++ {
		xs = append(xs, time.Duration(i))
	}
	require.Equal(t, time.Duration(50), Percentile(xs, 0.5))
	require.Equal(t, time.Duration(95), Percentile(xs, 0.95))
	require.Equal(t, time.Duration(99), Percentile(xs, 0.99))
	require.Equal(t, time.Duration(1), Percentile(xs, 0))
	require.Equal(t, time.Duration(0), Percentile(nil, 0.5))
}

func TestRunCountsCallsAndErrorsAndStopsAtCount(t *testing.T) {
	var calls atomic.Int64
	r := Run(context.Background(), "x", 4, 5*time.Second, 400, func(ctx context.Context, w, i int) error {
		n := calls.Add(1)
		if n%10 == 0 {
			return errors.New("boom")
		}
		return nil
	})
	require.EqualValues(t, 400, calls.Load())
	require.Equal(t, 400, r.Count)
	require.Equal(t, 40, r.Errors)
	require.ErrorContains(t, r.FirstErr, "boom")
	require.Less(t, r.Elapsed, 5*time.Second)
}

func TestRunStopsAtDeadline(t *testing.T) {
	r := Run(context.Background(), "sleep", 2, 100*time.Millisecond, 0, func(ctx context.Context, w, i int) error {
		select {
		case <-time.After(10 * time.Millisecond):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	require.Less(t, r.Elapsed, time.Second)
	require.Zero(t, r.Errors)
	require.Greater(t, r.Count, 5)
	require.GreaterOrEqual(t, r.P50, 10*time.Millisecond)
}
