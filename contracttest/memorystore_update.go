package contracttest

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

func updateCases() []memoryCase {
	return []memoryCase{
		{"Update/ChangesContent", testUpdateChanges},
		{"Update/ImmutableFieldsKept", testUpdateImmutable},
		{"Update/FnErrorAbortsAsIs", testUpdateFnError},
		{"Update/FnMutatingInPlaceKeepsOldValues", testUpdateFnMutatesInPlace},
		{"Update/InvalidWritesNothing", testUpdateInvalid},
		{"Update/NoChangeWritesNothing", testUpdateNoChange},
		{"Update/DuplicateTextConflict", testUpdateDuplicate},
		{"Update/DeletedConflicts", testUpdateDeleted},
		{"Update/NotFound", func(t *testing.T, s ports.MemoryStore) {
			_, err := s.Update(ctxFor(t), newTenant(t), domain.NewMemoryID(time.Now()), "app", func(*domain.Memory) error { return nil })
			requireKind(t, err, domain.ErrNotFound)
		}},
	}
}

func testUpdateChanges(t *testing.T, s ports.MemoryStore) {
	tn := newTenant(t)
	m := mustCreate(t, s, memOf(t, tn, "app", "old text"))
	time.Sleep(2 * time.Millisecond) // so UpdatedAt can visibly move
	got, err := s.Update(ctxFor(t), tn, m.ID, "editor", func(x *domain.Memory) error {
		require.Equal(t, "old text", x.Text, "fn must see the stored memory")
		x.Text = "new text ✓"
		x.Metadata = domain.Metadata{"n": 7, "ok": true}
		x.Categories = []string{"Travel", "travel", "food"}
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, "new text ✓", got.Text)
	if sealer, ok := s.(interface{ SealsAtRest() bool }); ok && sealer.SealsAtRest() {
		require.NotEqual(t, domain.ContentHash("new text ✓"), got.ContentHash, "sealed text has a keyed hash")
		require.Regexp(t, `^[0-9a-f]{64}$`, got.ContentHash)
	} else {
		require.Equal(t, domain.ContentHash("new text ✓"), got.ContentHash)
	}
	require.Equal(t, domain.Metadata{"n": 7.0, "ok": true}, got.Metadata)
	require.Equal(t, []string{"travel", "food"}, got.Categories)
	requireSameTime(t, m.CreatedAt, got.CreatedAt, "CreatedAt")
	require.True(t, got.UpdatedAt.After(m.UpdatedAt), "UpdatedAt must move forward")

	stored, err := s.Get(ctxFor(t), tn, m.ID)
	require.NoError(t, err)
	requireSameMemory(t, got, stored)
	// The new text deduplicates, the old one no longer does.
	_, created, err := s.Create(ctxFor(t), tn, memOf(t, tn, "app", "new text ✓"))
	require.NoError(t, err)
	require.False(t, created)
	mustCreate(t, s, memOf(t, tn, "app", "old text"))
}

func testUpdateImmutable(t *testing.T, s ports.MemoryStore) {
	tn := newTenant(t)
	m := mustCreate(t, s, memOf(t, tn, "app", "fixed identity"))
	other := newTenant(t)
	ret, err := s.Update(ctxFor(t), tn, m.ID, "app", func(x *domain.Memory) error {
		x.ID = domain.NewMemoryID(time.Now())
		x.OrgID, x.UserID = other.OrgID, other.UserID
		x.AppID = "hijacked"
		x.State = domain.StateArchived
		x.CreatedAt = time.Unix(0, 0)
		x.Text = "changed text"
		return nil
	})
	// Refusing (ErrInvalid) or ignoring the immutable fields are both
	// acceptable; changing them is not.
	if err != nil {
		requireKind(t, err, domain.ErrInvalid)
	}
	returned := ret
	got, err := s.Get(ctxFor(t), tn, m.ID)
	require.NoError(t, err)
	require.Equal(t, m.ID, got.ID)
	require.Equal(t, tn, got.Tenant())
	require.Equal(t, m.AppID, got.AppID)
	require.Equal(t, domain.StateActive, got.State)
	requireSameTime(t, m.CreatedAt, got.CreatedAt, "CreatedAt")
	require.Empty(t, listAll(t, s, other, domain.ListQuery{States: allStates()}))
	require.Len(t, listAll(t, s, tn, domain.ListQuery{States: allStates()}), 1)
	if err == nil {
		// What Update returns is what it stored.
		requireSameMemory(t, got, returned)
	}
}

// testUpdateFnMutatesInPlace: fn may change the slices and maps it is handed
// in place; the history's old values must still be the stored ones.
func testUpdateFnMutatesInPlace(t *testing.T, s ports.MemoryStore) {
	tn := newTenant(t)
	m, err := domain.NewMemory(tn, "app", "in place", domain.Metadata{"k": "v", "n": map[string]any{"deep": "x"}}, []string{"one", "two"}, time.Now())
	require.NoError(t, err)
	m = mustCreate(t, s, m)
	got, err := s.Update(ctxFor(t), tn, m.ID, "app", func(x *domain.Memory) error {
		x.Categories[0] = "changed"
		x.Metadata["k"] = "changed"
		x.Metadata["n"].(map[string]any)["deep"] = "changed"
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, []string{"changed", "two"}, got.Categories)
	hist, err := s.History(ctxFor(t), tn, m.ID)
	require.NoError(t, err)
	require.Len(t, hist, 2)
	require.Equal(t, []string{"one", "two"}, hist[1].Old.Categories)
	require.Equal(t, domain.Metadata{"k": "v", "n": map[string]any{"deep": "x"}}, hist[1].Old.Metadata)
	require.Equal(t, domain.Metadata{"k": "changed", "n": map[string]any{"deep": "changed"}}, hist[1].New.Metadata)
}

func testUpdateFnError(t *testing.T, s ports.MemoryStore) {
	tn := newTenant(t)
	m := mustCreate(t, s, memOf(t, tn, "app", "unchanged"))
	sentinel := errors.New("caller says no")
	_, err := s.Update(ctxFor(t), tn, m.ID, "app", func(x *domain.Memory) error {
		x.Text = "should not be written"
		return sentinel
	})
	require.Equal(t, sentinel, err, "fn's error must be returned as is")
	requireUnchanged(t, s, m)
}

func testUpdateInvalid(t *testing.T, s ports.MemoryStore) {
	tn := newTenant(t)
	m := mustCreate(t, s, memOf(t, tn, "app", "valid"))
	for field, fn := range map[string]func(*domain.Memory){
		"text":          func(x *domain.Memory) { x.Text = "" },
		"metadata":      func(x *domain.Memory) { x.Metadata = domain.Metadata{"": 1} },
		"categories[0]": func(x *domain.Memory) { x.Categories = []string{"#!"} },
	} {
		_, err := s.Update(ctxFor(t), tn, m.ID, "app", func(x *domain.Memory) error { fn(x); return nil })
		requireKind(t, err, domain.ErrInvalid, field)
		var ve *domain.ValidationError
		require.True(t, errors.As(err, &ve))
		require.Equal(t, field, ve.Field)
	}
	requireUnchanged(t, s, m)
}

func testUpdateNoChange(t *testing.T, s ports.MemoryStore) {
	tn := newTenant(t)
	m, err := domain.NewMemory(tn, "app", "same", domain.Metadata{"a": 1}, []string{"x"}, time.Now())
	require.NoError(t, err)
	m = mustCreate(t, s, m)
	got, err := s.Update(ctxFor(t), tn, m.ID, "app", func(x *domain.Memory) error {
		x.Metadata = domain.Metadata{"a": 1.0}
		x.Categories = []string{" X "}
		return nil
	})
	require.NoError(t, err)
	requireSameMemory(t, m, got)
	requireUnchanged(t, s, m)
}

// requireUnchanged asserts m is stored as given with its add entry only.
func requireUnchanged(t *testing.T, s ports.MemoryStore, m domain.Memory) {
	t.Helper()
	got, err := s.Get(ctxFor(t), m.Tenant(), m.ID)
	require.NoError(t, err)
	requireSameMemory(t, m, got)
	hist, err := s.History(ctxFor(t), m.Tenant(), m.ID)
	require.NoError(t, err)
	require.Len(t, hist, 1, "nothing may be recorded")
}

func testUpdateDuplicate(t *testing.T, s ports.MemoryStore) {
	tn := newTenant(t)
	ms := createTexts(t, s, tn, "app", "taken", "mine", "parked")
	_, err := s.Update(ctxFor(t), tn, ms[1].ID, "app", func(x *domain.Memory) error { x.Text = "taken"; return nil })
	requireKind(t, err, domain.ErrConflict)
	requireUnchanged(t, s, ms[1])

	// Only active memories count: the text of a paused one may be reused.
	_, err = s.SetState(ctxFor(t), tn, []domain.MemoryID{ms[2].ID}, domain.StatePaused, "app")
	require.NoError(t, err)
	got, err := s.Update(ctxFor(t), tn, ms[1].ID, "app", func(x *domain.Memory) error { x.Text = "parked"; return nil })
	require.NoError(t, err)
	require.Equal(t, "parked", got.Text)

	// A memory that is not active may not take an active memory's text
	// either: the port promises ErrConflict for any duplicate of an active one.
	_, err = s.Update(ctxFor(t), tn, ms[2].ID, "app", func(x *domain.Memory) error { x.Text = "taken"; return nil })
	requireKind(t, err, domain.ErrConflict)
	after, err := s.Get(ctxFor(t), tn, ms[2].ID)
	require.NoError(t, err)
	require.Equal(t, "parked", after.Text)
}

func testUpdateDeleted(t *testing.T, s ports.MemoryStore) {
	tn := newTenant(t)
	m := mustCreate(t, s, memOf(t, tn, "app", "soon deleted"))
	require.NoError(t, s.Delete(ctxFor(t), tn, []domain.MemoryID{m.ID}, "app"))
	_, err := s.Update(ctxFor(t), tn, m.ID, "app", func(x *domain.Memory) error { x.Text = "edited"; return nil })
	requireKind(t, err, domain.ErrConflict)
	got, err := s.Get(ctxFor(t), tn, m.ID)
	require.NoError(t, err)
	require.Equal(t, "soon deleted", got.Text)
}
