package contracttest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// SessionSetup configures the store a subtest asks for. Zero fields mean the
// adapter's defaults.
type SessionSetup struct {
	TTL       time.Duration // session time-to-live after the last write
	MaxEvents int           // per-session cap
	HalfLife  time.Duration // recency decay half-life for Recent
	// MaxBytesPerUser is the quota of one user's session bytes (as the
	// adapter counts them: an event's text and metadata plus a small
	// overhead); an append past it wraps domain.ErrRateLimited.
	MaxBytesPerUser int
	// Keys, when set, lends the store its users' data keys
	// (RunSealedSessionStore): events are stored sealed.
	Keys ports.SessionKeys
}

// RunSessionStore checks a ports.SessionStore. newStore is called once per
// subtest and returns a store isolated from every other (its own key prefix
// or instance) configured as asked, cleaned up with t.Cleanup.
func RunSessionStore(t *testing.T, newStore func(t *testing.T, s SessionSetup) ports.SessionStore) {
	runSessionBasics(t, newStore)
	runSessionTenancy(t, newStore)
	runSessionLifetime(t, newStore)
	runSessionQuota(t, newStore)
	runSessionList(t, newStore)
}

var (
	tenantA  = domain.Tenant{OrgID: "org-a", UserID: "alice"}
	tenantA2 = domain.Tenant{OrgID: "org-a", UserID: "bob"}
	tenantB  = domain.Tenant{OrgID: "org-b", UserID: "alice"}
	// Crafted so that a naive "org:user" key of tenantColon equals that of
	// tenantA's neighbour: org "org-a:alice" user "x" vs org "org-a" user "alice:x".
	tenantColon1 = domain.Tenant{OrgID: "org-a:alice", UserID: "x"}
	tenantColon2 = domain.Tenant{OrgID: "org-a", UserID: "alice:x"}
)

// event builds a valid event created at.
func event(t *testing.T, role domain.Role, text string, at time.Time) domain.SessionEvent {
	t.Helper()
	e, err := domain.NewSessionEvent(role, text, domain.Metadata{"n": 1.0, "tag": text}, at)
	require.NoError(t, err)
	return e
}

// appendN appends n user events one millisecond apart, oldest first, ending
// now, and returns them in that order.
func appendN(t *testing.T, s ports.SessionStore, tn domain.Tenant, sid domain.SessionID, n int) []domain.SessionEvent {
	t.Helper()
	ctx := context.Background()
	base := time.Now().Add(-time.Duration(n) * time.Millisecond)
	out := make([]domain.SessionEvent, n)
	for i := range n {
		stored, err := s.Append(ctx, tn, sid, event(t, domain.RoleUser, fmt.Sprintf("message %d", i), base.Add(time.Duration(i)*time.Millisecond)))
		require.NoError(t, err)
		out[i] = stored
	}
	return out
}

// requireSameEvent compares everything but Score.
func requireSameEvent(t *testing.T, want, got domain.SessionEvent) {
	t.Helper()
	got.Score, want.Score = 0, 0
	require.True(t, want.CreatedAt.Equal(got.CreatedAt), "created_at %s != %s", want.CreatedAt, got.CreatedAt)
	got.CreatedAt = want.CreatedAt
	require.Equal(t, want, got)
}

func runSessionTenancy(t *testing.T, newStore func(t *testing.T, s SessionSetup) ports.SessionStore) {
	t.Run("Tenancy/OtherTenantsSeeNothing", func(t *testing.T) {
		t.Parallel()
		s := newStore(t, SessionSetup{})
		ctx := context.Background()
		evs := appendN(t, s, tenantA, "chat-1", 3)
		for _, other := range []domain.Tenant{tenantA2, tenantB} {
			got, err := s.Recent(ctx, other, "chat-1", 10)
			require.NoError(t, err)
			require.Empty(t, got, "%v sees %v's session", other, tenantA)
			_, err = s.Events(ctx, other, "chat-1", []string{evs[0].ID})
			require.ErrorIs(t, err, domain.ErrNotFound)
			_, err = s.FindMention(ctx, other, "chat-1", "message")
			require.ErrorIs(t, err, domain.ErrNotFound)
			require.ErrorIs(t, s.End(ctx, other, "chat-1"), domain.ErrNotFound)
		}
		got, err := s.Recent(ctx, tenantA, "chat-1", 10)
		require.NoError(t, err)
		require.Len(t, got, 3, "other tenants' calls changed nothing")
	})

	t.Run("Tenancy/SeparatorsInIDsDoNotCollide", func(t *testing.T) {
		t.Parallel()
		s := newStore(t, SessionSetup{})
		ctx := context.Background()
		appendN(t, s, tenantColon1, "chat", 2)
		got, err := s.Recent(ctx, tenantColon2, "chat", 10)
		require.NoError(t, err)
		require.Empty(t, got)
	})

	t.Run("Tenancy/SameUserOtherSessionIsSeparate", func(t *testing.T) {
		t.Parallel()
		s := newStore(t, SessionSetup{})
		ctx := context.Background()
		evs := appendN(t, s, tenantA, "chat-1", 2)
		appendN(t, s, tenantA, "chat-2", 1)
		_, err := s.Events(ctx, tenantA, "chat-2", []string{evs[0].ID})
		require.ErrorIs(t, err, domain.ErrNotFound)
		require.NoError(t, s.End(ctx, tenantA, "chat-2"))
		got, err := s.Recent(ctx, tenantA, "chat-1", 10)
		require.NoError(t, err)
		require.Len(t, got, 2, "ending chat-2 left chat-1 alone")
	})
}

func runSessionLifetime(t *testing.T, newStore func(t *testing.T, s SessionSetup) ports.SessionStore) {
	t.Run("Lifetime/ExpiresAfterTTLWithoutWrites", func(t *testing.T) {
		t.Parallel()
		s := newStore(t, SessionSetup{TTL: time.Second})
		ctx := context.Background()
		evs := appendN(t, s, tenantA, "brief", 2)
		got, err := s.Recent(ctx, tenantA, "brief", 10)
		require.NoError(t, err)
		require.Len(t, got, 2)
		time.Sleep(1500 * time.Millisecond)
		got, err = s.Recent(ctx, tenantA, "brief", 10)
		require.NoError(t, err)
		require.Empty(t, got, "the session expired")
		_, err = s.Events(ctx, tenantA, "brief", []string{evs[0].ID})
		require.ErrorIs(t, err, domain.ErrNotFound)
		require.ErrorIs(t, s.End(ctx, tenantA, "brief"), domain.ErrNotFound)
	})

	t.Run("Lifetime/WriteRefreshesTTL", func(t *testing.T) {
		t.Parallel()
		s := newStore(t, SessionSetup{TTL: 2 * time.Second})
		ctx := context.Background()
		first := appendN(t, s, tenantA, "kept", 1)[0]
		time.Sleep(1200 * time.Millisecond)
		appendN(t, s, tenantA, "kept", 1)
		time.Sleep(1200 * time.Millisecond)
		// 2.4s after the first write, 1.2s after the second: alive, and the
		// first event lives as long as the session.
		got, err := s.Events(ctx, tenantA, "kept", []string{first.ID})
		require.NoError(t, err, "a write refreshes the whole session's TTL")
		requireSameEvent(t, first, got[0])
	})

	t.Run("Lifetime/CapDropsOldestEvents", func(t *testing.T) {
		t.Parallel()
		s := newStore(t, SessionSetup{MaxEvents: 5})
		ctx := context.Background()
		evs := appendN(t, s, tenantA, "capped", 8)
		got, err := s.Recent(ctx, tenantA, "capped", 100)
		require.NoError(t, err)
		require.Len(t, got, 5)
		for i, e := range got {
			requireSameEvent(t, evs[7-i], e)
		}
		_, err = s.Events(ctx, tenantA, "capped", []string{evs[2].ID})
		require.ErrorIs(t, err, domain.ErrNotFound, "the oldest events were dropped")
	})

	t.Run("Lifetime/EndRemovesEverything", func(t *testing.T) {
		t.Parallel()
		s := newStore(t, SessionSetup{})
		ctx := context.Background()
		evs := appendN(t, s, tenantA, "done", 3)
		require.NoError(t, s.End(ctx, tenantA, "done"))
		got, err := s.Recent(ctx, tenantA, "done", 10)
		require.NoError(t, err)
		require.Empty(t, got)
		_, err = s.Events(ctx, tenantA, "done", []string{evs[1].ID})
		require.ErrorIs(t, err, domain.ErrNotFound)
		require.ErrorIs(t, s.End(ctx, tenantA, "done"), domain.ErrNotFound, "ending twice")
		require.ErrorIs(t, s.End(ctx, tenantA, "never"), domain.ErrNotFound)
		// A new write starts a new session under the same id.
		appendN(t, s, tenantA, "done", 1)
		got, err = s.Recent(ctx, tenantA, "done", 10)
		require.NoError(t, err)
		require.Len(t, got, 1)
	})
}

// bigEvent is an event of about 1 KiB (no metadata).
func bigEvent(t *testing.T, i int) domain.SessionEvent {
	t.Helper()
	e, err := domain.NewSessionEvent(domain.RoleUser, fmt.Sprintf("%04d %s", i, strings.Repeat("x", 1000)), nil, time.Now())
	require.NoError(t, err)
	return e
}

// fillQuota appends 1 KiB events to tn's session sid until the quota refuses
// one, and fails if none is refused within limit appends.
func fillQuota(t *testing.T, s ports.SessionStore, tn domain.Tenant, sid domain.SessionID, limit int) error {
	t.Helper()
	for i := range limit {
		_, err := s.Append(context.Background(), tn, sid, bigEvent(t, i))
		if err != nil {
			return err
		}
	}
	t.Fatalf("%d appends of 1 KiB were all taken under the byte quota", limit)
	return nil
}

func runSessionQuota(t *testing.T, newStore func(t *testing.T, s SessionSetup) ports.SessionStore) {
	const quota = 8 << 10

	t.Run("Quota/BytesPerUserRefusedOthersUnaffected", func(t *testing.T) {
		t.Parallel()
		s := newStore(t, SessionSetup{MaxBytesPerUser: quota})
		ctx := context.Background()
		err := fillQuota(t, s, tenantA, "s1", 20)
		require.ErrorIs(t, err, domain.ErrRateLimited, "the user over the quota is refused as rate limited (429)")
		require.NotErrorIs(t, err, domain.ErrUnavailable, "the refusal is the user's, not an outage")
		_, err = s.Append(ctx, tenantA, "s2", bigEvent(t, 99))
		require.ErrorIs(t, err, domain.ErrRateLimited, "the quota is per user, not per session")
		for _, other := range []domain.Tenant{tenantA2, tenantB} {
			appendN(t, s, other, "s1", 3)
			got, err := s.Recent(ctx, other, "s1", 10)
			require.NoError(t, err)
			require.Len(t, got, 3, "%v is not affected by another user's quota", other)
		}
		got, err := s.Recent(ctx, tenantA, "s1", 100)
		require.NoError(t, err)
		require.NotEmpty(t, got, "the refused user keeps what it had")
		require.NoError(t, s.End(ctx, tenantA, "s1"))
		_, err = s.Append(ctx, tenantA, "s2", bigEvent(t, 100))
		require.NoError(t, err, "ending a session frees its bytes")
	})

	t.Run("Quota/ExpiredSessionsFreeTheirBytes", func(t *testing.T) {
		t.Parallel()
		s := newStore(t, SessionSetup{MaxBytesPerUser: quota, TTL: 500 * time.Millisecond})
		require.ErrorIs(t, fillQuota(t, s, tenantA, "s1", 20), domain.ErrRateLimited)
		time.Sleep(900 * time.Millisecond)
		_, err := s.Append(context.Background(), tenantA, "s2", bigEvent(t, 100))
		require.NoError(t, err, "an expired session's bytes count no more")
	})

	t.Run("Quota/TrimmedEventsFreeTheirBytes", func(t *testing.T) {
		t.Parallel()
		// Three events of 1 KiB fit in 4 KiB; a fourth would not, but the
		// cap drops the oldest, so a long session stays under the quota.
		s := newStore(t, SessionSetup{MaxBytesPerUser: 4 << 10, MaxEvents: 3})
		ctx := context.Background()
		for i := range 10 {
			_, err := s.Append(ctx, tenantA, "long", bigEvent(t, i))
			require.NoError(t, err, "append %d: events the cap drops give their bytes back", i)
		}
		_, err := s.Append(ctx, tenantA, "other", bigEvent(t, 10))
		require.ErrorIs(t, err, domain.ErrRateLimited, "the three kept events still count")
	})
}
