package contracttest

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// RetentionBackend is a system of record with expiring memories and
// per-org retention (issue 16).
type RetentionBackend interface {
	ports.MemoryStore
	ports.AccessLog
	ports.FeedbackStore
	ports.QueryLog
	ports.SubjectStore
	ports.RetentionStore
}

// RunRetention checks memory expiry in every read of ports.MemoryStore and
// ports.RetentionStore against stores made by newStore, one isolated store
// per parallel subtest.
func RunRetention(t *testing.T, newStore func(t *testing.T) RetentionBackend) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, RetentionBackend)
	}{
		{"Expiry/NoReadReturnsAnExpiredMemory", testExpiredHidden},
		{"Expiry/ExpiredListedThenErased", testExpiredListed},
		{"Expiry/DuplicateOfExpiredIsANewMemory", testExpiredDuplicate},
		{"Expiry/BatchDuplicateOfExpiredIsANewMemory", testExpiredDuplicateBatch},
		{"Expiry/UpdateToAnExpiredMemorysText", testExpiredDuplicateUpdate},
		{"Expiry/UpdateSetsAndClears", testExpiryUpdate},
		{"Retention/SetAndGet", testRetentionSettings},
		{"Retention/PurgeByAge", testRetentionPurge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

// expiring creates a memory of tn with text expiring at at (zero: never).
func expiring(t *testing.T, s RetentionBackend, tn domain.Tenant, text string, at time.Time) domain.Memory {
	t.Helper()
	m, err := domain.NewMemory(tn, "app", text, nil, nil, time.Now())
	require.NoError(t, err)
	m.ExpiresAt = at
	stored, created, err := s.Create(ctxFor(t), tn, m)
	require.NoError(t, err)
	require.True(t, created)
	return stored
}

func testExpiredHidden(t *testing.T, s RetentionBackend) {
	ctx := ctxFor(t)
	tn := domain.Tenant{OrgID: "org-a", UserID: "alice"}
	now := time.Now().UTC()
	gone := expiring(t, s, tn, "expired a second ago", now.Add(-time.Second))
	later := expiring(t, s, tn, "expires in an hour", now.Add(time.Hour).Truncate(time.Microsecond))
	never := expiring(t, s, tn, "never expires", time.Time{})

	_, err := s.Get(ctx, tn, gone.ID)
	require.ErrorIs(t, err, domain.ErrNotFound, "Get")
	got, err := s.Get(ctx, tn, later.ID)
	require.NoError(t, err)
	require.True(t, later.ExpiresAt.Equal(got.ExpiresAt), "expiry round-trips: %v vs %v", later.ExpiresAt, got.ExpiresAt)
	got, err = s.Get(ctx, tn, never.ID)
	require.NoError(t, err)
	require.True(t, got.ExpiresAt.IsZero())

	page, err := s.List(ctx, tn, domain.ListQuery{Limit: 10})
	require.NoError(t, err)
	require.Equal(t, []domain.MemoryID{never.ID, later.ID}, ids(page.Items), "List")
	// Search hydrates its hits through List by id: the expired one is dropped.
	page, err = s.List(ctx, tn, domain.ListQuery{IDs: []domain.MemoryID{gone.ID, later.ID}, States: []domain.State{domain.StateActive}, Limit: 10})
	require.NoError(t, err)
	require.Equal(t, []domain.MemoryID{later.ID}, ids(page.Items), "List by id")
	st, err := s.Stats(ctx, tn)
	require.NoError(t, err)
	require.Equal(t, 2, st.Total, "Stats")
	_, err = s.History(ctx, tn, gone.ID)
	require.ErrorIs(t, err, domain.ErrNotFound, "History")
	_, err = s.Update(ctx, tn, gone.ID, "app", func(m *domain.Memory) error { m.Text = "revived"; return nil })
	require.ErrorIs(t, err, domain.ErrNotFound, "Update")
	_, err = s.SetState(ctx, tn, []domain.MemoryID{gone.ID}, domain.StatePaused, "app")
	require.ErrorIs(t, err, domain.ErrNotFound, "SetState")
	require.ErrorIs(t, s.Delete(ctx, tn, []domain.MemoryID{gone.ID}, "app"), domain.ErrNotFound, "Delete")
}

func ids(ms []domain.Memory) []domain.MemoryID {
	out := make([]domain.MemoryID, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

func testExpiredListed(t *testing.T, s RetentionBackend) {
	ctx := ctxFor(t)
	alice := domain.Tenant{OrgID: "org-a", UserID: "alice"}
	bob := domain.Tenant{OrgID: "org-a", UserID: "bob"}
	other := domain.Tenant{OrgID: "org-b", UserID: "alice"}
	now := time.Now().UTC()
	a := expiring(t, s, alice, "alice's old one", now.Add(-2*time.Minute))
	b := expiring(t, s, bob, "bob's old one", now.Add(-time.Minute))
	expiring(t, s, alice, "alice's future one", now.Add(time.Hour))
	expiring(t, s, other, "another org's old one", now.Add(-time.Minute))
	_, err := s.Update(ctx, alice, a.ID, "app", func(m *domain.Memory) error { return nil })
	require.ErrorIs(t, err, domain.ErrNotFound)

	refs, err := s.ExpiredMemories(ctx, "org-a", now, 10)
	require.NoError(t, err)
	require.Equal(t, []ports.MemoryRef{{Tenant: alice, ID: a.ID}, {Tenant: bob, ID: b.ID}}, refs, "oldest expiry first, one org only")
	refs, err = s.ExpiredMemories(ctx, "org-a", now, 1)
	require.NoError(t, err)
	require.Len(t, refs, 1, "limit")

	counts, err := s.EraseMemories(ctx, domain.Subject{OrgID: "org-a", UserID: "alice"}, []domain.MemoryID{a.ID})
	require.NoError(t, err)
	require.EqualValues(t, 1, counts[domain.StoreMemories])
	require.EqualValues(t, 1, counts[domain.StoreHistory], "its history goes with it")
	refs, err = s.ExpiredMemories(ctx, "org-a", now, 10)
	require.NoError(t, err)
	require.Equal(t, []ports.MemoryRef{{Tenant: bob, ID: b.ID}}, refs)
	orgs, err := s.SweepOrgs(ctx)
	require.NoError(t, err)
	require.Subset(t, orgs, []domain.OrgID{"org-a", "org-b"})
}

func testExpiredDuplicate(t *testing.T, s RetentionBackend) {
	ctx := ctxFor(t)
	tn := domain.Tenant{OrgID: "org-a", UserID: "alice"}
	old := expiring(t, s, tn, "I like tea", time.Now().Add(-time.Second))
	fresh := expiring(t, s, tn, "I like tea", time.Time{}) // requires created
	require.NotEqual(t, old.ID, fresh.ID)
	_, err := s.Get(ctx, tn, fresh.ID)
	require.NoError(t, err)
	refs, err := s.ExpiredMemories(ctx, "org-a", time.Now(), 10)
	require.NoError(t, err)
	require.Empty(t, refs, "the expired duplicate was erased in its place")
}

// A batch holding an expired memory's text creates it anew: the expired
// one no longer exists for any reader, so it must not make the batch skip
// the text as a duplicate.
func testExpiredDuplicateBatch(t *testing.T, s RetentionBackend) {
	ctx := ctxFor(t)
	tn := domain.Tenant{OrgID: "org-a", UserID: "alice"}
	old := expiring(t, s, tn, "I like tea", time.Now().Add(-time.Second))
	fresh, err := domain.NewMemory(tn, "app", "I like tea", nil, nil, time.Now())
	require.NoError(t, err)
	other, err := domain.NewMemory(tn, "app", "I like cake", nil, nil, time.Now())
	require.NoError(t, err)
	n, err := s.CreateBatch(ctx, tn, []domain.Memory{fresh, other})
	require.NoError(t, err)
	require.Equal(t, 2, n, "the expired duplicate does not stand in for the new memory")
	got, err := s.Get(ctx, tn, fresh.ID)
	require.NoError(t, err)
	require.Equal(t, "I like tea", got.Text)
	_, err = s.Get(ctx, tn, old.ID)
	requireKind(t, err, domain.ErrNotFound)
}

// Changing a memory's text to an expired memory's text is no conflict.
func testExpiredDuplicateUpdate(t *testing.T, s RetentionBackend) {
	ctx := ctxFor(t)
	tn := domain.Tenant{OrgID: "org-a", UserID: "alice"}
	expiring(t, s, tn, "I like tea", time.Now().Add(-time.Second))
	m := expiring(t, s, tn, "I like coffee", time.Time{})
	got, err := s.Update(ctx, tn, m.ID, "app", func(m *domain.Memory) error { m.Text = "I like tea"; return nil })
	require.NoError(t, err, "the expired duplicate no longer exists for any reader")
	require.Equal(t, "I like tea", got.Text)
	live := expiring(t, s, tn, "I like juice", time.Time{})
	_, err = s.Update(ctx, tn, live.ID, "app", func(x *domain.Memory) error { x.Text = "I like tea"; return nil })
	requireKind(t, err, domain.ErrConflict)
}

func testExpiryUpdate(t *testing.T, s RetentionBackend) {
	ctx := ctxFor(t)
	tn := domain.Tenant{OrgID: "org-a", UserID: "alice"}
	m := expiring(t, s, tn, "short-lived", time.Time{})
	at := time.Now().Add(time.Hour).UTC().Truncate(time.Microsecond)
	got, err := s.Update(ctx, tn, m.ID, "app", func(m *domain.Memory) error { m.ExpiresAt = at; return nil })
	require.NoError(t, err)
	require.True(t, at.Equal(got.ExpiresAt))
	read, err := s.Get(ctx, tn, m.ID)
	require.NoError(t, err)
	require.True(t, at.Equal(read.ExpiresAt), "an update of the expiry alone is written")
	_, err = s.Update(ctx, tn, m.ID, "app", func(m *domain.Memory) error { m.ExpiresAt = time.Time{}; return nil })
	require.NoError(t, err)
	read, err = s.Get(ctx, tn, m.ID)
	require.NoError(t, err)
	require.True(t, read.ExpiresAt.IsZero(), "cleared")
	// Expiring it now through an update hides it at once.
	_, err = s.Update(ctx, tn, m.ID, "app", func(m *domain.Memory) error { m.ExpiresAt = time.Now().Add(-time.Millisecond); return nil })
	require.NoError(t, err)
	_, err = s.Get(ctx, tn, m.ID)
	require.ErrorIs(t, err, domain.ErrNotFound)
}

func testRetentionSettings(t *testing.T, s RetentionBackend) {
	ctx := ctxFor(t)
	r, err := s.GetRetention(ctx, "org-a")
	require.NoError(t, err)
	require.Zero(t, r.AccessLog+r.QueryLog+r.Feedback)
	require.Empty(t, r.AppTTL)
	want := domain.Retention{
		AccessLog: 30 * 24 * time.Hour, QueryLog: 7 * 24 * time.Hour, Feedback: 90 * 24 * time.Hour,
		AppTTL: map[domain.AppID]time.Duration{"cursor": time.Hour},
	}
	require.NoError(t, s.SetRetention(ctx, "org-a", want))
	got, err := s.GetRetention(ctx, "org-a")
	require.NoError(t, err)
	require.Equal(t, want.AccessLog, got.AccessLog)
	require.Equal(t, want.QueryLog, got.QueryLog)
	require.Equal(t, want.Feedback, got.Feedback)
	require.Equal(t, want.AppTTL, got.AppTTL)
	require.False(t, got.UpdatedAt.IsZero())
	other, err := s.GetRetention(ctx, "org-b")
	require.NoError(t, err)
	require.Empty(t, other.AppTTL, "another org's policy is its own")

	err = s.SetRetention(ctx, "org-a", domain.Retention{QueryLog: time.Millisecond})
	require.ErrorIs(t, err, domain.ErrInvalid)
	var ve *domain.ValidationError
	require.True(t, errors.As(err, &ve))
	require.Equal(t, "query_log", ve.Field)
	got, err = s.GetRetention(ctx, "org-a")
	require.NoError(t, err)
	require.Equal(t, want.QueryLog, got.QueryLog, "nothing half-written")
}

func testRetentionPurge(t *testing.T, s RetentionBackend) {
	ctx := ctxFor(t)
	tn := domain.Tenant{OrgID: "org-a", UserID: "alice"}
	other := domain.Tenant{OrgID: "org-b", UserID: "alice"}
	old, recent := baseTime, baseTime.Add(48*time.Hour)
	for _, x := range []domain.Tenant{tn, other} {
		ms := createTexts(t, s, x, "app", "read long ago", "read lately")
		require.NoError(t, s.RecordAccess(ctx, x, []domain.Access{
			{MemoryID: ms[0].ID, AppID: "app", Kind: domain.AccessGet, AccessedAt: old},
			{MemoryID: ms[1].ID, AppID: "app", Kind: domain.AccessGet, AccessedAt: recent},
		}))
		for _, at := range []time.Time{old, recent} {
			q := queryLog(x, at)
			require.NoError(t, s.LogQuery(ctx, x, q))
			require.NoError(t, s.AppendFeedback(ctx, x.OrgID, []domain.FeedbackEvent{fbEvent(x, q.ID, domain.OutcomeAccepted, at)}))
		}
	}
	cut := baseTime.Add(24 * time.Hour)
	counts, err := s.PurgeRetained(ctx, "org-a", cut, cut, time.Time{})
	require.NoError(t, err)
	require.Equal(t, map[string]int64{domain.StoreAccessLog: 1, domain.StoreQueryLog: 1}, counts, "a zero cutoff keeps feedback")
	acc, _, err := s.ListAccess(ctx, tn, "app", 10, "")
	require.NoError(t, err)
	require.Len(t, acc, 1)
	qs, _, err := s.ListQueries(ctx, "org-a", time.Time{}, 10, "")
	require.NoError(t, err)
	require.Len(t, qs, 1)
	counts, err = s.PurgeRetained(ctx, "org-a", time.Time{}, time.Time{}, cut)
	require.NoError(t, err)
	require.EqualValues(t, 1, counts[domain.StoreFeedback])
	page, err := s.ListFeedback(ctx, "org-a", domain.FeedbackFilter{}, 10, "")
	require.NoError(t, err)
	require.Len(t, page.Events, 1)

	acc, _, err = s.ListAccess(ctx, other, "app", 10, "")
	require.NoError(t, err)
	require.Len(t, acc, 2, "another org keeps its access log")
	qs, _, err = s.ListQueries(ctx, "org-b", time.Time{}, 10, "")
	require.NoError(t, err)
	require.Len(t, qs, 2, "and its query log")
}
