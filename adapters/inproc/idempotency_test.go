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

func TestIdempotencyQuotaContract(t *testing.T) {
	contracttest.RunIdempotencyQuota(t, func(t *testing.T) ports.IdempotencyStore {
		s := inproc.NewIdempotencyStore(inproc.IdempotencyOptions{MaxKeysPerScope: 5, SweepEvery: 50 * time.Millisecond})
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

// One user's keys cannot fill the store every user shares: past its quota
// that user gets ErrRateLimited (429) while another user still claims keys,
// and a key the user abandons or that expires frees its slot.
func TestIdempotencyStoreQuotaPerScope(t *testing.T) {
	s := inproc.NewIdempotencyStore(inproc.IdempotencyOptions{MaxKeys: 100, MaxKeysPerScope: 3})
	defer s.Close()
	ctx := context.Background()
	for _, k := range []string{"a", "b", "c"} {
		_, claimed, err := s.Begin(ctx, "acme/alice", k, "fp", time.Minute)
		require.NoError(t, err)
		require.True(t, claimed)
	}
	_, _, err := s.Begin(ctx, "acme/alice", "d", "fp", time.Minute)
	require.ErrorIs(t, err, domain.ErrRateLimited)
	require.NotErrorIs(t, err, domain.ErrUnavailable)
	_, claimed, err := s.Begin(ctx, "acme/bob", "a", "fp", time.Minute)
	require.NoError(t, err)
	require.True(t, claimed, "another user is not affected")
	_, claimed, err = s.Begin(ctx, "acme/alice", "a", "fp", time.Minute)
	require.NoError(t, err)
	require.False(t, claimed, "a held key still answers")

	require.NoError(t, s.Abandon(ctx, "acme/alice", "a"))
	_, claimed, err = s.Begin(ctx, "acme/alice", "d", "fp", time.Minute)
	require.NoError(t, err)
	require.True(t, claimed, "an abandoned key freed its slot")
	require.NoError(t, s.Finish(ctx, "acme/alice", "d", ports.IdempotencyRecord{Fingerprint: "fp"}, time.Millisecond))
	time.Sleep(5 * time.Millisecond) // the finished record expires
	_, claimed, err = s.Begin(ctx, "acme/alice", "e", "fp", time.Minute)
	require.NoError(t, err)
	require.True(t, claimed, "an expired key freed its slot")
}
