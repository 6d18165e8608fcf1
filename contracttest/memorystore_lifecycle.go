package contracttest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

func lifecycleCases() []memoryCase {
	return []memoryCase{
		{"History/RecordsEveryChangeInOrder", testHistoryInOrder},
		{"History/NotFound", func(t *testing.T, s ports.MemoryStore) {
			_, err := s.History(ctxFor(t), newTenant(t), domain.NewMemoryID(time.Now()))
			requireKind(t, err, domain.ErrNotFound)
		}},
		{"Delete/HidesFromListKeepsHistory", testDeleteHides},
		{"Delete/TwiceIsNoOp", testDeleteTwice},
		{"Delete/AllOrNothing", testDeleteAllOrNothing},
		{"Erase/RemovesTextFromRowAndHistory", testErase},
		{"Erase/DeletedMemory", testEraseDeleted},
		{"SetState/ChangesAndRecords", testSetState},
		{"SetState/AllOrNothing", testSetStateAllOrNothing},
		{"SetState/ReactivatingDuplicateConflicts", testSetStateDuplicate},
		{"SetState/OnlyActivePausedArchived", testSetStateRefusesOtherStates},
		{"Stats/CountsByStateAndApp", testStats},
	}
}

func testHistoryInOrder(t *testing.T, s ports.MemoryStore) {
	tn := newTenant(t)
	m := mustCreate(t, s, memOf(t, tn, "writer", "first text"))
	ctx := ctxFor(t)
	_, err := s.Update(ctx, tn, m.ID, "editor", func(m *domain.Memory) error { m.Text = "second text"; return nil })
	require.NoError(t, err)
	_, err = s.SetState(ctx, tn, []domain.MemoryID{m.ID}, domain.StatePaused, "pauser")
	require.NoError(t, err)
	_, err = s.SetState(ctx, tn, []domain.MemoryID{m.ID}, domain.StateActive, "resumer")
	require.NoError(t, err)
	_, err = s.Update(ctx, tn, m.ID, "tagger", func(m *domain.Memory) error {
		m.Metadata = domain.Metadata{"k": "v"}
		m.Categories = []string{"c"}
		return nil
	})
	require.NoError(t, err)
	require.NoError(t, s.Delete(ctx, tn, []domain.MemoryID{m.ID}, "deleter"))

	hist, err := s.History(ctx, tn, m.ID)
	require.NoError(t, err)
	kinds := make([]domain.ChangeKind, len(hist))
	actors := make([]domain.AppID, len(hist))
	for i, h := range hist {
		kinds[i], actors[i] = h.Kind, h.ActorApp
		require.Equal(t, m.ID, h.MemoryID)
		require.False(t, h.ChangedAt.IsZero())
		if i > 0 {
			require.Greater(t, h.Seq, hist[i-1].Seq, "Seq must increase")
			require.False(t, h.ChangedAt.Before(hist[i-1].ChangedAt), "ChangedAt must not go back")
		}
	}
	require.Equal(t, []domain.ChangeKind{domain.ChangeAdd, domain.ChangeUpdate, domain.ChangeState, domain.ChangeState, domain.ChangeUpdate, domain.ChangeDelete}, kinds)
	require.Equal(t, []domain.AppID{"writer", "editor", "pauser", "resumer", "tagger", "deleter"}, actors)

	require.Nil(t, hist[0].Old)
	require.NotNil(t, hist[0].New)
	require.Equal(t, "first text", hist[0].New.Text)
	require.Equal(t, domain.StateActive, hist[0].New.State)

	require.Equal(t, "first text", hist[1].Old.Text)
	require.Equal(t, "second text", hist[1].New.Text)

	require.Equal(t, domain.StateActive, hist[2].Old.State)
	require.Equal(t, domain.StatePaused, hist[2].New.State)
	require.Equal(t, domain.StatePaused, hist[3].Old.State)
	require.Equal(t, domain.StateActive, hist[3].New.State)

	require.Empty(t, hist[4].Old.Metadata)
	require.Equal(t, domain.Metadata{"k": "v"}, hist[4].New.Metadata)
	require.Equal(t, []string{"c"}, hist[4].New.Categories)
	require.Equal(t, "second text", hist[4].New.Text)

	require.Equal(t, domain.StateActive, hist[5].Old.State)
	require.Equal(t, domain.StateDeleted, hist[5].New.State)
	require.Equal(t, "second text", hist[5].Old.Text)
}

func testDeleteHides(t *testing.T, s ports.MemoryStore) {
	tn := newTenant(t)
	ms := createTexts(t, s, tn, "app", "keep me", "delete me", "delete me too")
	del := []domain.MemoryID{ms[1].ID, ms[2].ID}
	require.NoError(t, s.Delete(ctxFor(t), tn, del, "remover"))

	require.Equal(t, []domain.MemoryID{ms[0].ID}, idsOf(listAll(t, s, tn, domain.ListQuery{})))
	require.Equal(t, newestFirst(ms[1:]), idsOf(listAll(t, s, tn, domain.ListQuery{States: []domain.State{domain.StateDeleted}})))
	got, err := s.Get(ctxFor(t), tn, ms[1].ID)
	require.NoError(t, err)
	require.Equal(t, domain.StateDeleted, got.State)
	require.Equal(t, "delete me", got.Text)
	hist, err := s.History(ctxFor(t), tn, ms[1].ID)
	require.NoError(t, err)
	require.Len(t, hist, 2)
	require.Equal(t, domain.ChangeDelete, hist[1].Kind)
	require.Equal(t, domain.AppID("remover"), hist[1].ActorApp)
}

func testDeleteTwice(t *testing.T, s ports.MemoryStore) {
	tn := newTenant(t)
	m := mustCreate(t, s, memOf(t, tn, "app", "short-lived"))
	require.NoError(t, s.Delete(ctxFor(t), tn, []domain.MemoryID{m.ID}, "app"))
	first, err := s.Get(ctxFor(t), tn, m.ID)
	require.NoError(t, err)
	require.NoError(t, s.Delete(ctxFor(t), tn, []domain.MemoryID{m.ID}, "app"))
	hist, err := s.History(ctxFor(t), tn, m.ID)
	require.NoError(t, err)
	require.Len(t, hist, 2, "a second delete must record nothing")
	again, err := s.Get(ctxFor(t), tn, m.ID)
	require.NoError(t, err)
	requireSameMemory(t, first, again)
}

func testDeleteAllOrNothing(t *testing.T, s ports.MemoryStore) {
	tn := newTenant(t)
	ms := createTexts(t, s, tn, "app", "a", "b")
	err := s.Delete(ctxFor(t), tn, []domain.MemoryID{ms[0].ID, domain.NewMemoryID(time.Now()), ms[1].ID}, "app")
	requireKind(t, err, domain.ErrNotFound)
	require.Len(t, listAll(t, s, tn, domain.ListQuery{}), 2)
	for _, m := range ms {
		hist, err := s.History(ctxFor(t), tn, m.ID)
		require.NoError(t, err)
		require.Len(t, hist, 1)
	}
}

// requireErased checks every way an erased memory could still show.
func requireErased(t *testing.T, s ports.MemoryStore, tn domain.Tenant, id domain.MemoryID, secrets ...string) {
	t.Helper()
	ctx := ctxFor(t)
	_, err := s.Get(ctx, tn, id)
	requireKind(t, err, domain.ErrNotFound, "Get after erase")
	for _, m := range listAll(t, s, tn, domain.ListQuery{States: allStates()}) {
		require.NotEqual(t, id, m.ID, "List shows an erased memory")
	}
	hist, err := s.History(ctx, tn, id)
	require.NoError(t, err)
	require.NotEmpty(t, hist)
	require.Equal(t, domain.ChangeErase, hist[len(hist)-1].Kind)
	for _, h := range hist {
		require.Nil(t, h.Old, "history entry %d (%s) keeps old content", h.Seq, h.Kind)
		require.Nil(t, h.New, "history entry %d (%s) keeps new content", h.Seq, h.Kind)
	}
	for _, secret := range secrets {
		require.Empty(t, listAll(t, s, tn, domain.ListQuery{States: allStates(), TextContains: secret}))
	}
	requireKind(t, s.Erase(ctx, tn, id, "app"), domain.ErrNotFound, "second erase")
	_, err = s.Update(ctx, tn, id, "app", func(m *domain.Memory) error { m.Text = "revived"; return nil })
	requireKind(t, err, domain.ErrNotFound, "Update after erase")
	_, err = s.SetState(ctx, tn, []domain.MemoryID{id}, domain.StateActive, "app")
	requireKind(t, err, domain.ErrNotFound, "SetState after erase")
	requireKind(t, s.Delete(ctx, tn, []domain.MemoryID{id}, "app"), domain.ErrNotFound, "Delete after erase")
}

func testErase(t *testing.T, s ports.MemoryStore) {
	tn := newTenant(t)
	m, err := domain.NewMemory(tn, "app", "my passport number is X123", domain.Metadata{"doc": "passport"}, []string{"identity"}, time.Now())
	require.NoError(t, err)
	m = mustCreate(t, s, m)
	keep := mustCreate(t, s, memOf(t, tn, "app", "an unrelated memory"))
	_, err = s.Update(ctxFor(t), tn, m.ID, "app", func(m *domain.Memory) error { m.Text = "my passport number is Y456"; return nil })
	require.NoError(t, err)
	require.NoError(t, s.Erase(ctxFor(t), tn, m.ID, "eraser"))

	requireErased(t, s, tn, m.ID, "passport", "X123", "Y456")
	hist, err := s.History(ctxFor(t), tn, m.ID)
	require.NoError(t, err)
	require.Equal(t, []domain.ChangeKind{domain.ChangeAdd, domain.ChangeUpdate, domain.ChangeErase}, []domain.ChangeKind{hist[0].Kind, hist[1].Kind, hist[2].Kind})
	require.Equal(t, domain.AppID("eraser"), hist[2].ActorApp)
	require.Len(t, hist, 3)

	st, err := s.Stats(ctxFor(t), tn)
	require.NoError(t, err)
	require.Equal(t, 1, st.Total)
	got, err := s.Get(ctxFor(t), tn, keep.ID)
	require.NoError(t, err)
	requireSameMemory(t, keep, got)
	// The erased text no longer blocks a new memory with the same text.
	mustCreate(t, s, memOf(t, tn, "app", "my passport number is Y456"))
}

func testEraseDeleted(t *testing.T, s ports.MemoryStore) {
	tn := newTenant(t)
	m := mustCreate(t, s, memOf(t, tn, "app", "deleted, then forgotten"))
	require.NoError(t, s.Delete(ctxFor(t), tn, []domain.MemoryID{m.ID}, "app"))
	require.NoError(t, s.Erase(ctxFor(t), tn, m.ID, "app"))
	requireErased(t, s, tn, m.ID, "forgotten")
}

func testSetState(t *testing.T, s ports.MemoryStore) {
	tn := newTenant(t)
	ms := createTexts(t, s, tn, "app", "a", "b", "c")
	ids := []domain.MemoryID{ms[0].ID, ms[1].ID}
	got, err := s.SetState(ctxFor(t), tn, ids, domain.StatePaused, "switcher")
	require.NoError(t, err)
	require.Len(t, got, 2)
	for _, m := range got {
		require.Equal(t, domain.StatePaused, m.State)
		require.Contains(t, ids, m.ID)
	}
	// Setting the same state again changes nothing and records nothing;
	// the third memory moves.
	_, err = s.SetState(ctxFor(t), tn, []domain.MemoryID{ms[0].ID, ms[2].ID}, domain.StatePaused, "switcher")
	require.NoError(t, err)
	for i, want := range []int{2, 2, 2} {
		hist, err := s.History(ctxFor(t), tn, ms[i].ID)
		require.NoError(t, err)
		require.Len(t, hist, want, "memory %d", i)
		require.Equal(t, domain.ChangeState, hist[1].Kind)
		require.Equal(t, domain.AppID("switcher"), hist[1].ActorApp)
	}
	_, err = s.SetState(ctxFor(t), tn, []domain.MemoryID{ms[1].ID}, domain.StateArchived, "app")
	require.NoError(t, err)

	require.Empty(t, listAll(t, s, tn, domain.ListQuery{States: []domain.State{domain.StateActive}}))
	require.Equal(t, []domain.MemoryID{ms[2].ID, ms[0].ID}, idsOf(listAll(t, s, tn, domain.ListQuery{States: []domain.State{domain.StatePaused}})))
	require.Equal(t, []domain.MemoryID{ms[1].ID}, idsOf(listAll(t, s, tn, domain.ListQuery{States: []domain.State{domain.StateArchived}})))
	// The default list shows every state but deleted.
	require.Equal(t, newestFirst(ms), idsOf(listAll(t, s, tn, domain.ListQuery{})))
}

func testSetStateAllOrNothing(t *testing.T, s ports.MemoryStore) {
	tn := newTenant(t)
	ms := createTexts(t, s, tn, "app", "a", "b", "gone")
	require.NoError(t, s.Delete(ctxFor(t), tn, []domain.MemoryID{ms[2].ID}, "app"))
	for _, bad := range []domain.MemoryID{domain.NewMemoryID(time.Now()), ms[2].ID} {
		_, err := s.SetState(ctxFor(t), tn, []domain.MemoryID{ms[0].ID, bad, ms[1].ID}, domain.StateArchived, "app")
		requireKind(t, err, domain.ErrNotFound)
	}
	for _, m := range ms[:2] {
		got, err := s.Get(ctxFor(t), tn, m.ID)
		require.NoError(t, err)
		requireSameMemory(t, m, got)
		hist, err := s.History(ctxFor(t), tn, m.ID)
		require.NoError(t, err)
		require.Len(t, hist, 1)
	}
}

func testSetStateDuplicate(t *testing.T, s ports.MemoryStore) {
	tn := newTenant(t)
	old := mustCreate(t, s, memOf(t, tn, "app", "works at ACME"))
	_, err := s.SetState(ctxFor(t), tn, []domain.MemoryID{old.ID}, domain.StateArchived, "app")
	require.NoError(t, err)
	fresh := mustCreate(t, s, memOf(t, tn, "app", "works at ACME"))
	other := mustCreate(t, s, memOf(t, tn, "app", "unrelated"))
	_, err = s.SetState(ctxFor(t), tn, []domain.MemoryID{other.ID}, domain.StatePaused, "app")
	require.NoError(t, err)

	_, err = s.SetState(ctxFor(t), tn, []domain.MemoryID{other.ID, old.ID}, domain.StateActive, "app")
	requireKind(t, err, domain.ErrConflict)
	for id, want := range map[domain.MemoryID]domain.State{old.ID: domain.StateArchived, fresh.ID: domain.StateActive, other.ID: domain.StatePaused} {
		got, err := s.Get(ctxFor(t), tn, id)
		require.NoError(t, err)
		require.Equal(t, want, got.State, "the failed call must change nothing")
	}
}

// testSetStateRefusesOtherStates: deletion has its own method (and history
// kind), so SetState refuses deleted, and anything unknown, as invalid.
func testSetStateRefusesOtherStates(t *testing.T, s ports.MemoryStore) {
	tn := newTenant(t)
	m := mustCreate(t, s, memOf(t, tn, "app", "stays active"))
	for _, st := range []domain.State{domain.StateDeleted, "gone", ""} {
		_, err := s.SetState(ctxFor(t), tn, []domain.MemoryID{m.ID}, st, "app")
		requireKind(t, err, domain.ErrInvalid, "state %q", st)
	}
	requireUnchanged(t, s, m)
}

func testStats(t *testing.T, s ports.MemoryStore) {
	tn := newTenant(t)
	a := createTexts(t, s, tn, "alpha", "a1", "a2", "a3", "a4")
	b := createTexts(t, s, tn, "beta", "b1", "b2")
	ctx := ctxFor(t)
	_, err := s.SetState(ctx, tn, []domain.MemoryID{a[1].ID}, domain.StatePaused, "alpha")
	require.NoError(t, err)
	_, err = s.SetState(ctx, tn, []domain.MemoryID{b[0].ID}, domain.StateArchived, "beta")
	require.NoError(t, err)
	require.NoError(t, s.Delete(ctx, tn, []domain.MemoryID{a[2].ID}, "alpha"))
	require.NoError(t, s.Erase(ctx, tn, a[3].ID, "alpha"))
	mustCreate(t, s, memOf(t, newTenant(t), "alpha", "someone else's"))

	st, err := s.Stats(ctx, tn)
	require.NoError(t, err)
	require.Equal(t, 5, st.Total)
	require.Equal(t, 2, st.ByState[domain.StateActive])
	require.Equal(t, 1, st.ByState[domain.StatePaused])
	require.Equal(t, 1, st.ByState[domain.StateArchived])
	require.Equal(t, 1, st.ByState[domain.StateDeleted])
	require.Equal(t, 3, st.ByApp["alpha"])
	require.Equal(t, 2, st.ByApp["beta"])
	require.Len(t, st.ByApp, 2)

	empty, err := s.Stats(ctx, newTenant(t))
	require.NoError(t, err)
	require.Zero(t, empty.Total)
}
