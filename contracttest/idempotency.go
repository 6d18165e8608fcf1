package contracttest

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// RunIdempotencyStore checks a ports.IdempotencyStore. newStore is called
// once per subtest and returns a store isolated from every other (its own
// key prefix or instance), cleaned up with t.Cleanup.
func RunIdempotencyStore(t *testing.T, newStore func(t *testing.T) ports.IdempotencyStore) {
	const lock, day = time.Minute, 24 * time.Hour
	ctx := context.Background()
	resp := ports.IdempotentResponse{
		Status: 201,
		Header: map[string]string{"Content-Type": "application/json", "Location": "/api/v1/memories/m1"},
		Body:   []byte("{\"id\":\"m1\"}\x00\xff binary-safe"),
	}

	t.Run("Begin/FirstClaimsThenHeld", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		rec, claimed, err := s.Begin(ctx, "org/u1", "k1", "fp-1", lock)
		require.NoError(t, err)
		require.True(t, claimed)
		require.Equal(t, "fp-1", rec.Fingerprint)
		for _, fp := range []string{"fp-1", "fp-other"} {
			rec, claimed, err = s.Begin(ctx, "org/u1", "k1", fp, lock)
			require.NoError(t, err)
			require.False(t, claimed, "a held key is not claimed twice")
			require.False(t, rec.Done, "the first request still runs")
			require.Equal(t, "fp-1", rec.Fingerprint, "the held record names the first request")
		}
	})

	t.Run("Finish/LaterBeginsGetTheFirstAnswer", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		rec, claimed, err := s.Begin(ctx, "org/u1", "k1", "fp-1", lock)
		require.NoError(t, err)
		require.True(t, claimed)
		rec.Response = resp
		require.NoError(t, s.Finish(ctx, "org/u1", "k1", rec, day))
		got, claimed, err := s.Begin(ctx, "org/u1", "k1", "fp-1", lock)
		require.NoError(t, err)
		require.False(t, claimed)
		require.True(t, got.Done)
		require.Equal(t, "fp-1", got.Fingerprint)
		require.Equal(t, resp, got.Response)
	})

	t.Run("Tenancy/ScopesAreIndependent", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		for _, sk := range [][2]string{{"org/u1", "k"}, {"org/u2", "k"}, {"other/u1", "k"}, {"org/u1", "k:x"}, {"org/u1:k", "x"}} {
			_, claimed, err := s.Begin(ctx, sk[0], sk[1], "fp", lock)
			require.NoError(t, err)
			require.True(t, claimed, "scope %q key %q collides with another", sk[0], sk[1])
		}
	})

	t.Run("Abandon/FreesTheKey", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		_, claimed, err := s.Begin(ctx, "org/u1", "k1", "fp-1", lock)
		require.NoError(t, err)
		require.True(t, claimed)
		require.NoError(t, s.Abandon(ctx, "org/u1", "k1"))
		_, claimed, err = s.Begin(ctx, "org/u1", "k1", "fp-2", lock)
		require.NoError(t, err)
		require.True(t, claimed, "an abandoned key runs anew")
		require.NoError(t, s.Abandon(ctx, "org/u1", "never-used"), "abandoning a free key is a no-op")
	})

	t.Run("Expiry/ClaimAndRecordExpire", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		_, claimed, err := s.Begin(ctx, "org/u1", "crashed", "fp", 100*time.Millisecond)
		require.NoError(t, err)
		require.True(t, claimed)
		rec, claimed, err := s.Begin(ctx, "org/u1", "done", "fp", lock)
		require.NoError(t, err)
		require.True(t, claimed)
		rec.Response = resp
		require.NoError(t, s.Finish(ctx, "org/u1", "done", rec, 100*time.Millisecond))
		time.Sleep(300 * time.Millisecond)
		for _, k := range []string{"crashed", "done"} {
			_, claimed, err = s.Begin(ctx, "org/u1", k, "fp", lock)
			require.NoError(t, err)
			require.True(t, claimed, "%s: an expired record frees its key", k)
		}
	})

	t.Run("Begin/HeldClaimSaysHowLongItLasts", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		_, claimed, err := s.Begin(ctx, "org/u1", "k1", "fp-1", lock)
		require.NoError(t, err)
		require.True(t, claimed)
		held, claimed, err := s.Begin(ctx, "org/u1", "k1", "fp-1", lock)
		require.NoError(t, err)
		require.False(t, claimed)
		require.Greater(t, held.LockedFor, time.Duration(0))
		require.LessOrEqual(t, held.LockedFor, lock)
	})

	t.Run("Renew/KeepsARunningClaim", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		const short = 400 * time.Millisecond
		_, claimed, err := s.Begin(ctx, "org/u1", "k1", "fp-1", short)
		require.NoError(t, err)
		require.True(t, claimed)
		// Renewed past several short locks, the claim holds.
		for range 4 {
			time.Sleep(short / 4)
			ok, err := s.Renew(ctx, "org/u1", "k1", "fp-1", short)
			require.NoError(t, err)
			require.True(t, ok)
		}
		ok, err := s.Renew(ctx, "org/u1", "k1", "fp-1", lock)
		require.NoError(t, err)
		require.True(t, ok)
		held, claimed, err := s.Begin(ctx, "org/u1", "k1", "fp-1", short)
		require.NoError(t, err)
		require.False(t, claimed, "a renewed claim is still held")
		require.Greater(t, held.LockedFor, short, "renewed to the new lock")

		// Not renewed, a claim lapses within its lock (its owner died).
		_, claimed, err = s.Begin(ctx, "org/u1", "lapses", "fp-1", 100*time.Millisecond)
		require.NoError(t, err)
		require.True(t, claimed)
		time.Sleep(300 * time.Millisecond)
		_, claimed, err = s.Begin(ctx, "org/u1", "lapses", "fp-1", lock)
		require.NoError(t, err)
		require.True(t, claimed, "a claim nobody renews frees its key")
	})

	t.Run("Renew/OnlyARunningClaimOfTheSameRequest", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		ok, err := s.Renew(ctx, "org/u1", "free", "fp-1", lock)
		require.NoError(t, err)
		require.False(t, ok, "a free key is not claimed by renewing it")
		_, claimed, err := s.Begin(ctx, "org/u1", "free", "fp-2", lock)
		require.NoError(t, err)
		require.True(t, claimed)
		ok, err = s.Renew(ctx, "org/u1", "free", "fp-1", lock)
		require.NoError(t, err)
		require.False(t, ok, "another request's claim")

		rec, claimed, err := s.Begin(ctx, "org/u1", "done", "fp-1", lock)
		require.NoError(t, err)
		require.True(t, claimed)
		rec.Response = resp
		require.NoError(t, s.Finish(ctx, "org/u1", "done", rec, day))
		ok, err = s.Renew(ctx, "org/u1", "done", "fp-1", time.Millisecond)
		require.NoError(t, err)
		require.False(t, ok, "a finished record is not a claim")
		time.Sleep(20 * time.Millisecond)
		got, claimed, err := s.Begin(ctx, "org/u1", "done", "fp-1", lock)
		require.NoError(t, err)
		require.False(t, claimed)
		require.True(t, got.Done, "the finished answer kept its own lifetime")
		_, err = s.Renew(ctx, "org/u1", "done", "fp-1", 0)
		require.ErrorIs(t, err, domain.ErrInvalid)
	})

	t.Run("Begin/ConcurrentExactlyOneClaims", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		var wins atomic.Int32
		var wg sync.WaitGroup
		for range 32 {
			wg.Go(func() {
				_, claimed, err := s.Begin(ctx, "org/u1", "race", "fp", lock)
				require.NoError(t, err)
				if claimed {
					wins.Add(1)
				}
			})
		}
		wg.Wait()
		require.EqualValues(t, 1, wins.Load())
	})

	t.Run("Invalid/ArgumentsRefused", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		_, _, err := s.Begin(ctx, "", "k", "fp", lock)
		require.ErrorIs(t, err, domain.ErrInvalid)
		_, _, err = s.Begin(ctx, "org/u1", "", "fp", lock)
		require.ErrorIs(t, err, domain.ErrInvalid)
		_, _, err = s.Begin(ctx, "org/u1", "k", "", lock)
		require.ErrorIs(t, err, domain.ErrInvalid)
		_, _, err = s.Begin(ctx, "org/u1", "k", "fp", 0)
		require.ErrorIs(t, err, domain.ErrInvalid)
		require.ErrorIs(t, s.Finish(ctx, "org/u1", "k", ports.IdempotencyRecord{Fingerprint: "fp"}, 0), domain.ErrInvalid)
		require.ErrorIs(t, s.Finish(ctx, "org/u1", "k", ports.IdempotencyRecord{}, day), domain.ErrInvalid)
		require.ErrorIs(t, s.Abandon(ctx, "", "k"), domain.ErrInvalid)
		_, claimed, err := s.Begin(ctx, "org/u1", "k", "fp", lock)
		require.NoError(t, err)
		require.True(t, claimed, "refused calls stored nothing")
	})
}

// RunIdempotencyQuota checks the per-user quota of a ports.IdempotencyStore.
// newStore returns a store whose quota lets one scope hold at least 2 and
// fewer than 40 finished records with a 1 KiB response (a count of keys or
// a number of bytes: the adapter's unit), isolated and cleaned up like
// RunIdempotencyStore's.
func RunIdempotencyQuota(t *testing.T, newStore func(t *testing.T) ports.IdempotencyStore) {
	ctx := context.Background()
	body := make([]byte, 1024)
	// fill claims and finishes keys k0, k1, ... of scope until Begin is
	// refused, and returns the refusal and how many keys were taken.
	fill := func(t *testing.T, s ports.IdempotencyStore, scope string, ttl time.Duration) (int, error) {
		t.Helper()
		for i := range 40 {
			k := "k" + strconv.Itoa(i)
			rec, claimed, err := s.Begin(ctx, scope, k, "fp", time.Minute)
			if err != nil {
				require.GreaterOrEqual(t, i, 2, "the quota refused the third key already")
				return i, err
			}
			require.True(t, claimed)
			rec.Response = ports.IdempotentResponse{Status: 201, Body: body}
			require.NoError(t, s.Finish(ctx, scope, k, rec, ttl))
		}
		t.Fatal("40 records of 1 KiB were all taken under the quota")
		return 0, nil
	}

	t.Run("Quota/PerUserRefusedOthersUnaffected", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		n, err := fill(t, s, "org/u1", 24*time.Hour)
		require.ErrorIs(t, err, domain.ErrRateLimited, "the user over the quota is refused as rate limited (429)")
		require.NotErrorIs(t, err, domain.ErrUnavailable, "the refusal is the user's, not an outage")
		_, claimed, err := s.Begin(ctx, "org/u2", "k0", "fp", time.Minute)
		require.NoError(t, err, "another user is not affected")
		require.True(t, claimed)
		rec, claimed, err := s.Begin(ctx, "org/u1", "k0", "fp", time.Minute)
		require.NoError(t, err, "a key the user holds still answers")
		require.False(t, claimed)
		require.True(t, rec.Done)
		require.NoError(t, s.Abandon(ctx, "org/u1", "k"+strconv.Itoa(n-1)))
		_, claimed, err = s.Begin(ctx, "org/u1", "new", "fp", time.Minute)
		require.NoError(t, err, "a deleted record frees its share")
		require.True(t, claimed)
	})

	t.Run("Quota/ExpiredRecordsFreeTheirShare", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		_, err := fill(t, s, "org/u1", 400*time.Millisecond)
		require.ErrorIs(t, err, domain.ErrRateLimited)
		time.Sleep(700 * time.Millisecond)
		_, claimed, err := s.Begin(ctx, "org/u1", "new", "fp", time.Minute)
		require.NoError(t, err, "expired records count no more")
		require.True(t, claimed)
	})
}
