package sqlitestore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
)

// TestCancelledBatchWritesNothing cancels a large CreateBatch while its chunks
// are being written: the transaction must roll back as a whole.
func TestCancelledBatchWritesNothing(t *testing.T) {
	s := openTemp(t)
	tn := domain.Tenant{OrgID: "org", UserID: "user"}
	const n = 20_000
	ms := make([]domain.Memory, n)
	for i := range ms {
		m, err := domain.NewMemory(tn, "bulk", fmt.Sprintf("memory %d", i), nil, nil, time.Now())
		require.NoError(t, err)
		ms[i] = m
	}
	for _, after := range []time.Duration{time.Millisecond, 10 * time.Millisecond, 50 * time.Millisecond} {
		ctx, cancel := context.WithTimeout(context.Background(), after)
		created, err := s.CreateBatch(ctx, tn, ms)
		cancel()
		st, serr := s.Stats(context.Background(), tn)
		require.NoError(t, serr)
		if err == nil {
			// The batch beat the deadline: then all of it is there.
			require.Equal(t, n, created)
			require.Equal(t, n, st.Total)
			return
		}
		require.True(t, errors.Is(err, context.DeadlineExceeded), "got %v", err)
		require.Zero(t, st.Total, "a cancelled batch left %d rows after %s", st.Total, after)
	}
}
