package contracttest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
)

// testStatsFollowWrites checks that every count of Stats follows the
// writes that move a memory between counts: a batch and a single create,
// an edit of the categories, a state change, a delete, an erase, accesses
// (repeated and to an erased memory) and another tenant's memories. Stores
// keep these counts as cached aggregates maintained by their writes; a
// write path that forgets one shows here.
func testStatsFollowWrites(t *testing.T, s AccessLogStore) {
	ctx := ctxFor(t)
	tn, other := newTenant(t), newTenant(t)
	day1 := time.Date(2026, 1, 2, 23, 30, 0, 0, time.UTC)
	day2 := time.Date(2026, 3, 4, 0, 15, 0, 0, time.UTC)
	mk := func(tn domain.Tenant, app domain.AppID, text string, cats []string, at time.Time) domain.Memory {
		m, err := domain.NewMemory(tn, app, text, nil, cats, at)
		require.NoError(t, err)
		return m
	}
	batch := []domain.Memory{mk(tn, "alpha", "one", []string{"x", "y"}, day1), mk(tn, "alpha", "two", []string{"x"}, day1)}
	_, err := s.CreateBatch(ctx, tn, batch)
	require.NoError(t, err)
	m3 := mustCreate(t, s, mk(tn, "beta", "three", nil, day2))
	m4 := mustCreate(t, s, mk(tn, "beta", "four", []string{"y"}, day2))
	mustCreate(t, s, mk(other, "alpha", "elsewhere", []string{"x"}, day1))

	st, err := s.Stats(ctx, tn)
	require.NoError(t, err)
	require.Equal(t, 4, st.Total)
	require.Equal(t, map[string]int{"x": 2, "y": 2}, st.ByCategory)
	require.Equal(t, map[string]int{"2026-01-02": 2, "2026-03-04": 2}, st.ByDay)

	_, err = s.Update(ctx, tn, batch[1].ID, "alpha", func(m *domain.Memory) error {
		m.Text, m.Categories = "two, edited", []string{"z"}
		return nil
	})
	require.NoError(t, err)
	_, err = s.Update(ctx, tn, m4.ID, "beta", func(m *domain.Memory) error { m.Text = "four, edited"; return nil })
	require.NoError(t, err)
	_, err = s.SetState(ctx, tn, []domain.MemoryID{batch[0].ID}, domain.StatePaused, "alpha")
	require.NoError(t, err)
	require.NoError(t, s.Delete(ctx, tn, []domain.MemoryID{m3.ID}, "beta"))
	now := time.Now()
	require.NoError(t, s.RecordAccess(ctx, tn, []domain.Access{
		access(batch[0], "reader", domain.AccessGet, now), access(m3, "reader", domain.AccessGet, now),
		access(batch[1], "reader", domain.AccessSearch, now), access(batch[1], "other-reader", domain.AccessGet, now),
	}))
	require.NoError(t, s.RecordAccess(ctx, tn, []domain.Access{access(batch[0], "reader", domain.AccessSearch, now.Add(time.Second))}))
	require.NoError(t, s.Erase(ctx, tn, batch[1].ID, "alpha"))
	require.NoError(t, s.RecordAccess(ctx, tn, []domain.Access{access(batch[1], "reader", domain.AccessGet, now)}))

	st, err = s.Stats(ctx, tn)
	require.NoError(t, err)
	require.Equal(t, 3, st.Total)
	require.Equal(t, map[domain.State]int{domain.StatePaused: 1, domain.StateDeleted: 1, domain.StateActive: 1}, st.ByState)
	require.Equal(t, map[domain.AppID]int{"alpha": 1, "beta": 2}, st.ByApp)
	require.Equal(t, map[string]int{"x": 1, "y": 2}, st.ByCategory, "z left with the erased memory")
	require.Equal(t, map[string]int{"2026-01-02": 1, "2026-03-04": 2}, st.ByDay)
	require.Equal(t, map[domain.AppID]int{"reader": 2}, st.Accessed, "one per memory read; the erased memory's accesses are gone")

	// MemoryAccess: each app's latest read of one memory, newest first;
	// none for an erased memory or from another tenant.
	acc, err := s.MemoryAccess(ctx, tn, batch[0].ID, 10)
	require.NoError(t, err)
	require.Len(t, acc, 1)
	require.Equal(t, domain.AppID("reader"), acc[0].AppID)
	require.Equal(t, domain.AccessSearch, acc[0].Kind, "the latest access replaced the first")
	acc, err = s.MemoryAccess(ctx, tn, batch[1].ID, 10)
	require.NoError(t, err)
	require.Empty(t, acc)
	acc, err = s.MemoryAccess(ctx, other, batch[0].ID, 10)
	require.NoError(t, err)
	require.Empty(t, acc)
	_, err = s.MemoryAccess(ctx, tn, batch[0].ID, domain.MaxListLimit+1)
	requireKind(t, err, domain.ErrInvalid)

	st, err = s.Stats(ctx, other)
	require.NoError(t, err)
	require.Equal(t, 1, st.Total)
	require.Equal(t, map[string]int{"x": 1}, st.ByCategory)
	require.Empty(t, st.Accessed)
}
