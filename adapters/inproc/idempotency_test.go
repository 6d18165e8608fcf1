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

func TestIdempotencyStoreContract(t *testing.T) {
	contracttest.RunIdempotencyStore(t, func(t *testing.T) ports.IdempotencyStore {
		s := inproc.NewIdempotencyStore(inproc.IdempotencyOptions{SweepEvery: 50 * time.Millisecond})
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

// A full store refuses new keys instead of forgetting held ones, which
// would let a retry write twice.
func TestIdempotencyStoreFullRefusesNewKeys(t *testing.T) {
	s := inproc.NewIdempotencyStore(inproc.IdempotencyOptions{MaxKeys: 2})
	defer s.Close()
	ctx := context.Background()
	for _, k := range []string{"a", "b"} {
		_, claimed, err := s.Begin(ctx, "o/u", k, "fp", time.Minute)
		require.NoError(t, err)
		require.True(t, claimed)
	}
	_, _, err := s.Begin(ctx, "o/u", "c", "fp", time.Minute)
	require.ErrorIs(t, err, domain.ErrUnavailable)
	rec, claimed, err := s.Begin(ctx, "o/u", "a", "fp", time.Minute)
	require.NoError(t, err)
	require.False(t, claimed)
	require.Equal(t, "fp", rec.Fingerprint)
}
