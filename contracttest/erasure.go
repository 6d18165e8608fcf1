package contracttest

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// ErasureBackend is a system of record that keeps erasure jobs and lets
// erasure reach a subject's rows.
type ErasureBackend interface {
	ports.MemoryStore
	ports.FeedbackStore
	ports.QueryLog
	ports.ErasureJobs
	ports.SubjectStore
}

// RunErasure checks ports.ErasureJobs and ports.SubjectStore against
// stores made by newStore, one isolated store per parallel subtest.
func RunErasure(t *testing.T, newStore func(t *testing.T) ErasureBackend) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, ErasureBackend)
	}{
		{"Jobs/StartJoinsUnfinished", testErasureJoin},
		{"Jobs/ConcurrentStartsMakeOneJob", testErasureConcurrentStart},
		{"Jobs/SaveCountsAndFinish", testErasureSave},
		{"Jobs/OtherOrgIsNotFound", testErasureTenancy},
		{"Subject/EraseOneUser", testSubjectEraseUser},
		{"Subject/EraseWholeOrg", testSubjectEraseOrg},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

func newErasure(org domain.OrgID, user domain.UserID, hash string) domain.Erasure {
	now := time.Now().UTC().Truncate(time.Millisecond)
	return domain.Erasure{
		ID: domain.NewErasureID(now), OrgID: org, UserID: user, OrgWide: user == "", SubjectHash: hash,
		RequestedBy: "actor-hash", Status: domain.ErasurePending, CreatedAt: now, UpdatedAt: now,
	}
}

func testErasureJoin(t *testing.T, s ErasureBackend) {
	ctx := ctxFor(t)
	first, joined, err := s.StartErasure(ctx, newErasure("org-a", "alice", "h-alice"))
	require.NoError(t, err)
	require.False(t, joined)
	again, joined, err := s.StartErasure(ctx, newErasure("org-a", "alice", "h-alice"))
	require.NoError(t, err)
	require.True(t, joined)
	require.Equal(t, first.ID, again.ID)
	require.Equal(t, domain.UserID("alice"), again.UserID)

	other, joined, err := s.StartErasure(ctx, newErasure("org-a", "", "h-alice"))
	require.NoError(t, err)
	require.False(t, joined, "an org-wide job is another job")
	require.NotEqual(t, first.ID, other.ID)
}

func testErasureConcurrentStart(t *testing.T, s ErasureBackend) {
	ctx := ctxFor(t)
	ids := make([]domain.ErasureID, 8)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e, _, err := s.StartErasure(ctx, newErasure("org-a", "bob", "h-bob"))
			require.NoError(t, err)
			ids[i] = e.ID
		}()
	}
	wg.Wait()
	for _, id := range ids {
		require.Equal(t, ids[0], id, "every request joins one job")
	}
}

func testErasureSave(t *testing.T, s ErasureBackend) {
	ctx := ctxFor(t)
	e, _, err := s.StartErasure(ctx, newErasure("org-a", "alice", "h-alice"))
	require.NoError(t, err)
	require.NoError(t, s.AddErasureCounts(ctx, "org-a", e.ID, map[string]int64{"memories": 3, "sessions": 1}))
	require.NoError(t, s.AddErasureCounts(ctx, "org-a", e.ID, map[string]int64{"memories": 2}))
	e.Status, e.Attempts, e.LastError = domain.ErasureRunning, 1, "unavailable: valkey"
	require.NoError(t, s.SaveErasure(ctx, e))
	pending, err := s.UnfinishedErasures(ctx, 100)
	require.NoError(t, err)
	require.Len(t, pending, 1)
	require.Equal(t, e.ID, pending[0].ID)
	require.Equal(t, domain.UserID("alice"), pending[0].UserID)

	done := time.Now().UTC().Truncate(time.Millisecond)
	e.Status, e.UserID, e.LastError, e.FinishedAt, e.UpdatedAt = domain.ErasureDone, "", "", done, done
	require.NoError(t, s.SaveErasure(ctx, e))
	got, err := s.GetErasure(ctx, "org-a", e.ID)
	require.NoError(t, err)
	require.Equal(t, domain.ErasureDone, got.Status)
	require.Empty(t, got.UserID)
	require.Equal(t, 1, got.Attempts)
	require.Equal(t, map[string]int64{"memories": 5, "sessions": 1}, got.Counts)
	require.True(t, got.FinishedAt.Equal(done))
	require.Equal(t, "h-alice", got.SubjectHash)
	pending, err = s.UnfinishedErasures(ctx, 100)
	require.NoError(t, err)
	require.Empty(t, pending)

	next, joined, err := s.StartErasure(ctx, newErasure("org-a", "alice", "h-alice"))
	require.NoError(t, err)
	require.False(t, joined, "a done job is not joined")
	require.NotEqual(t, e.ID, next.ID)
}

func testErasureTenancy(t *testing.T, s ErasureBackend) {
	ctx := ctxFor(t)
	e, _, err := s.StartErasure(ctx, newErasure("org-a", "alice", "h-alice"))
	require.NoError(t, err)
	_, err = s.GetErasure(ctx, "org-b", e.ID)
	requireKind(t, err, domain.ErrNotFound)
	other := e
	other.OrgID = "org-b"
	requireKind(t, s.SaveErasure(ctx, other), domain.ErrNotFound)
}

// seedSubjects writes memories (with history), feedback and query logs for
// alice and bob of org-a and alice of org-b.
func seedSubjects(t *testing.T, s ErasureBackend) {
	ctx := ctxFor(t)
	for _, tn := range []domain.Tenant{{OrgID: "org-a", UserID: "alice"}, {OrgID: "org-a", UserID: "bob"}, {OrgID: "org-b", UserID: "alice"}} {
		ms := createTexts(t, s, tn, "app", "one "+string(tn.UserID), "two "+string(tn.UserID), "three "+string(tn.UserID))
		_, err := s.Update(ctx, tn, ms[0].ID, "app", func(m *domain.Memory) error { m.Text = "changed"; return nil })
		require.NoError(t, err)
		q := queryLog(tn, baseTime)
		require.NoError(t, s.LogQuery(ctx, tn, q))
		require.NoError(t, s.AppendFeedback(ctx, tn.OrgID, []domain.FeedbackEvent{fbEvent(tn, q.ID, domain.OutcomeAccepted, baseTime)}))
	}
}

func eraseAll(t *testing.T, s ErasureBackend, subj domain.Subject) map[string]int64 {
	ctx := ctxFor(t)
	total := map[string]int64{}
	for {
		refs, err := s.SubjectMemories(ctx, subj, 2)
		require.NoError(t, err)
		if len(refs) == 0 {
			break
		}
		ids := make([]domain.MemoryID, len(refs))
		for i, r := range refs {
			require.True(t, subj.Covers(r.Tenant), "%v is not the subject's", r)
			ids[i] = r.ID
		}
		counts, err := s.EraseMemories(ctx, subj, ids)
		require.NoError(t, err)
		for k, n := range counts {
			total[k] += n
		}
	}
	counts, err := s.EraseSubjectData(ctx, subj)
	require.NoError(t, err)
	for k, n := range counts {
		total[k] += n
	}
	return total
}

func memoriesLeft(t *testing.T, s ErasureBackend, tn domain.Tenant) int {
	page, err := s.List(ctxFor(t), tn, domain.ListQuery{Limit: 100, States: []domain.State{domain.StateActive, domain.StatePaused, domain.StateArchived, domain.StateDeleted}})
	require.NoError(t, err)
	return len(page.Items)
}

func testSubjectEraseUser(t *testing.T, s ErasureBackend) {
	seedSubjects(t, s)
	ctx := ctxFor(t)
	alice := domain.Subject{OrgID: "org-a", UserID: "alice"}
	got := eraseAll(t, s, alice)
	require.EqualValues(t, 3, got[domain.StoreMemories])
	require.EqualValues(t, 4, got[domain.StoreHistory], "three adds and one update")
	require.EqualValues(t, 1, got[domain.StoreFeedback])
	require.EqualValues(t, 1, got[domain.StoreQueryLog])
	require.Zero(t, memoriesLeft(t, s, alice.Tenant()))
	// another user's ids are never erased, even when named
	bobs, err := s.SubjectMemories(ctx, domain.Subject{OrgID: "org-a", UserID: "bob"}, 10)
	require.NoError(t, err)
	ids := []domain.MemoryID{bobs[0].ID}
	counts, err := s.EraseMemories(ctx, alice, ids)
	require.NoError(t, err)
	require.Zero(t, counts[domain.StoreMemories])
	require.Equal(t, 3, memoriesLeft(t, s, domain.Tenant{OrgID: "org-a", UserID: "bob"}))
	require.Equal(t, 3, memoriesLeft(t, s, domain.Tenant{OrgID: "org-b", UserID: "alice"}))
	again := eraseAll(t, s, alice)
	for k, n := range again {
		require.Zero(t, n, "erasing twice finds no %s", k)
	}
}

func testSubjectEraseOrg(t *testing.T, s ErasureBackend) {
	seedSubjects(t, s)
	got := eraseAll(t, s, domain.Subject{OrgID: "org-a"})
	require.EqualValues(t, 6, got[domain.StoreMemories])
	require.EqualValues(t, 2, got[domain.StoreFeedback])
	require.Zero(t, memoriesLeft(t, s, domain.Tenant{OrgID: "org-a", UserID: "alice"}))
	require.Zero(t, memoriesLeft(t, s, domain.Tenant{OrgID: "org-a", UserID: "bob"}))
	require.Equal(t, 3, memoriesLeft(t, s, domain.Tenant{OrgID: "org-b", UserID: "alice"}))
	page, err := s.ListFeedback(ctxFor(t), "org-b", domain.FeedbackFilter{}, 10, "")
	require.NoError(t, err)
	require.Len(t, page.Events, 1, "org-b's feedback stays")
}
