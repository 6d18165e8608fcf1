package resilience

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Many callers whose own deadlines expire mid-call (clients timing out, a
// load generator stopping) are not an outage: the breaker stays closed and
// the next caller is served.
func TestCallerDeadlinesDoNotOpenTheBreaker(t *testing.T) {
	p := NewPolicy("store", Options{Timeout: time.Second, FailureThreshold: 3, Retries: -1})
	slow := func(ctx context.Context) (int, error) {
		select {
		case <-time.After(200 * time.Millisecond):
			return 1, nil
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
			defer cancel()
			_, err := do(ctx, p, "get", false, slow)
			require.ErrorIs(t, err, context.DeadlineExceeded)
		}()
	}
	wg.Wait()
	require.Equal(t, Closed, p.State())
	v, err := do(context.Background(), p, "get", false, slow)
	require.NoError(t, err)
	require.Equal(t, 1, v)
}

// The dependency's own timeouts still count: three in a row open it.
func TestDependencyTimeoutsOpenTheBreaker(t *testing.T) {
	p := NewPolicy("store", Options{Timeout: 10 * time.Millisecond, FailureThreshold: 3, Retries: -1, OpenFor: time.Minute})
	hang := func(ctx context.Context) (int, error) { <-ctx.Done(); return 0, ctx.Err() }
	for range 3 {
		_, _ = do(context.Background(), p, "get", false, hang)
	}
	require.Equal(t, Open, p.State())
}
