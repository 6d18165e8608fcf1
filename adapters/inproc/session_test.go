package inproc_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/contracttest"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

func TestSessionStoreContract(t *testing.T) {
	t.Parallel()
	contracttest.RunSessionStore(t, sessionStoreFor)
}

func sessionStoreFor(t *testing.T, s contracttest.SessionSetup) ports.SessionStore {
	st := inproc.NewSessionStore(inproc.SessionOptions{TTL: s.TTL, MaxEvents: s.MaxEvents, HalfLife: s.HalfLife, MaxBytesPerUser: s.MaxBytesPerUser, SweepEvery: 50 * time.Millisecond, Keys: s.Keys})
	t.Cleanup(func() { require.NoError(t, st.Close()) })
	return st
}

func TestSealedSessionStoreContract(t *testing.T) {
	t.Parallel()
	contracttest.RunSealedSessionStore(t, sessionStoreFor, func(t *testing.T, s ports.SessionStore) string {
		return inproc.Held(s.(*inproc.SessionStore))
	})
}

func TestSessionStoreEvictsLeastRecentlyWrittenSession(t *testing.T) {
	t.Parallel()
	st := inproc.NewSessionStore(inproc.SessionOptions{MaxSessions: 3})
	t.Cleanup(func() { require.NoError(t, st.Close()) })
	ctx := context.Background()
	tn := domain.Tenant{OrgID: "o", UserID: "u"}
	add := func(sid domain.SessionID) {
		e, err := domain.NewSessionEvent(domain.RoleUser, "hi", nil, time.Now())
		require.NoError(t, err)
		_, err = st.Append(ctx, tn, sid, e)
		require.NoError(t, err)
	}
	add("s1")
	add("s2")
	add("s3")
	add("s1") // s2 is now the least recently written
	add("s4")
	require.Equal(t, 3, st.Len())
	for sid, want := range map[domain.SessionID]int{"s1": 2, "s2": 0, "s3": 1, "s4": 1} {
		got, err := st.Recent(ctx, tn, sid, 10)
		require.NoError(t, err)
		require.Len(t, got, want, sid)
	}
}

func TestSessionStoreSweeperFreesExpiredSessions(t *testing.T) {
	t.Parallel()
	st := inproc.NewSessionStore(inproc.SessionOptions{TTL: time.Second, SweepEvery: 20 * time.Millisecond})
	t.Cleanup(func() { require.NoError(t, st.Close()) })
	ctx := context.Background()
	for _, sid := range []domain.SessionID{"a", "b", "c"} {
		e, err := domain.NewSessionEvent(domain.RoleUser, "hi", nil, time.Now())
		require.NoError(t, err)
		_, err = st.Append(ctx, domain.Tenant{OrgID: "o", UserID: "u"}, sid, e)
		require.NoError(t, err)
	}
	require.Equal(t, 3, st.Len())
	// Nothing reads the sessions: only the sweeper can free them.
	require.Eventually(t, func() bool { return st.Len() == 0 }, 5*time.Second, 10*time.Millisecond)
}

func TestSessionStoreReturnsCopies(t *testing.T) {
	t.Parallel()
	st := inproc.NewSessionStore(inproc.SessionOptions{})
	t.Cleanup(func() { require.NoError(t, st.Close()) })
	ctx := context.Background()
	tn := domain.Tenant{OrgID: "o", UserID: "u"}
	e, err := domain.NewSessionEvent(domain.RoleUser, "hi", domain.Metadata{"k": map[string]any{"x": "y"}}, time.Now())
	require.NoError(t, err)
	_, err = st.Append(ctx, tn, "s", e)
	require.NoError(t, err)
	got, err := st.Recent(ctx, tn, "s", 1)
	require.NoError(t, err)
	got[0].Metadata["k"].(map[string]any)["x"] = "changed"
	again, err := st.Recent(ctx, tn, "s", 1)
	require.NoError(t, err)
	require.Equal(t, "y", again[0].Metadata["k"].(map[string]any)["x"])
}

func TestSessionStoreBoundedByBytes(t *testing.T) {
	t.Parallel()
	st := inproc.NewSessionStore(inproc.SessionOptions{MaxBytes: 20_000})
	t.Cleanup(func() { require.NoError(t, st.Close()) })
	ctx := context.Background()
	tn := domain.Tenant{OrgID: "o", UserID: "u"}
	add := func(sid domain.SessionID, size int) {
		e, err := domain.NewSessionEvent(domain.RoleUser, strings.Repeat("x", size), domain.Metadata{"k": "v"}, time.Now())
		require.NoError(t, err)
		_, err = st.Append(ctx, tn, sid, e)
		require.NoError(t, err)
		require.LessOrEqual(t, st.Bytes(), 20_000)
	}
	for _, sid := range []domain.SessionID{"a", "b", "c"} {
		add(sid, 4_000)
	}
	require.Equal(t, 3, st.Len())
	add("d", 9_000) // 21k: a, the least recently written, must go
	require.Equal(t, 3, st.Len())
	got, err := st.Recent(ctx, tn, "a", 10)
	require.NoError(t, err)
	require.Empty(t, got)

	// One session alone over the budget keeps its newest events.
	for range 10 {
		add("big", 5_000)
	}
	got, err = st.Recent(ctx, tn, "big", 100)
	require.NoError(t, err)
	require.Len(t, got, 3, "3 events of ~5 KB fit in 20 KB, 4 do not")
	require.Equal(t, 1, st.Len(), "every other session was evicted first")

	require.NoError(t, st.End(ctx, tn, "big"))
	require.Zero(t, st.Bytes(), "accounting returns to zero")
}

// One user's flood neither evicts another user's sessions nor fills the
// store: past the per-user caps that user gets ErrRateLimited (429).
func TestSessionQuotaPerUser(t *testing.T) {
	s := inproc.NewSessionStore(inproc.SessionOptions{MaxSessions: 10, MaxSessionsPerUser: 3, MaxBytesPerUser: 4096})
	defer s.Close()
	ctx := context.Background()
	alice, bob := domain.Tenant{OrgID: "acme", UserID: "alice"}, domain.Tenant{OrgID: "acme", UserID: "bob"}
	ev := func(text string) domain.SessionEvent {
		e, err := domain.NewSessionEvent(domain.RoleUser, text, nil, time.Now())
		require.NoError(t, err)
		return e
	}
	_, err := s.Append(ctx, bob, "b1", ev("bob's context"))
	require.NoError(t, err)
	for i := range 3 {
		_, err := s.Append(ctx, alice, domain.SessionID(fmt.Sprintf("a%d", i)), ev("hello"))
		require.NoError(t, err)
	}
	_, err = s.Append(ctx, alice, "a3", ev("one too many"))
	require.ErrorIs(t, err, domain.ErrRateLimited)
	_, err = s.Append(ctx, alice, "a0", ev(strings.Repeat("x", 5000)))
	require.ErrorIs(t, err, domain.ErrRateLimited, "the per-user byte quota")
	_, err = s.Append(ctx, alice, "a0", ev("still room for a short one"))
	require.NoError(t, err)
	got, err := s.Recent(ctx, bob, "b1", 10)
	require.NoError(t, err)
	require.Len(t, got, 1, "bob's session survived alice's flood")
	require.NoError(t, s.End(ctx, alice, "a1"))
	_, err = s.Append(ctx, alice, "a3", ev("a freed slot"))
	require.NoError(t, err)
}
