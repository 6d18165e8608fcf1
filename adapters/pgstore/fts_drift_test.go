package pgstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/pgstore"
	"github.com/engram-memory/engram/contracttest"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

func TestIndexDriftContract(t *testing.T) {
	contracttest.RunIndexDrift(t, func(t *testing.T) (ports.MemoryStore, contracttest.DriftIndex) {
		s := newStore(t, pgstore.Options{})
		return s, s.TextIndex(pgstore.TextOptions{})
	})
}

func TestTextIndexDrift(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t, pgstore.Options{})
	x := s.TextIndex(pgstore.TextOptions{})
	tn := domain.Tenant{OrgID: "org-d", UserID: "u"}
	doc := func(m domain.Memory) ports.TextDoc {
		return ports.TextDoc{ID: m.ID, Text: m.Text, AppID: m.AppID, CreatedAt: m.CreatedAt}
	}
	mk := func(text string) domain.Memory {
		m, err := domain.NewMemory(tn, "app", text, nil, nil, time.Now())
		require.NoError(t, err)
		_, _, err = s.Create(ctx, tn, m)
		require.NoError(t, err)
		return m
	}
	synced, stale, missing, gone := mk("in step"), mk("old text"), mk("never indexed"), mk("deleted later")
	require.NoError(t, x.Index(ctx, tn, []ports.TextDoc{doc(synced), doc(stale), doc(gone)}))
	_, err := s.Update(ctx, tn, stale.ID, "app", func(m *domain.Memory) error { m.Text = "new text"; return nil })
	require.NoError(t, err)
	require.NoError(t, s.Delete(ctx, tn, []domain.MemoryID{gone.ID}, "app"))

	refs, _ := contracttest.DriftPass(t, x, tn.OrgID, 10)
	var ids []domain.MemoryID
	for _, r := range refs {
		require.Equal(t, tn, r.Tenant)
		ids = append(ids, r.ID)
	}
	require.ElementsMatch(t, []domain.MemoryID{stale.ID, missing.ID, gone.ID}, ids)
	other, _ := contracttest.DriftPass(t, x, "org-other", 10)
	require.Empty(t, other)

	// PageDrift splits the same answer for start-up's single read: Stale
	// over the active memories as the scan pages them, then Orphans.
	var pd ports.PageDrift = x
	page, err := s.ScanActive(ctx, tn.OrgID, "", 100)
	require.NoError(t, err)
	require.Len(t, page, 3)
	staleRefs, err := pd.Stale(ctx, tn.OrgID, page)
	require.NoError(t, err)
	orphans, err := pd.Orphans(ctx, tn.OrgID, 10)
	require.NoError(t, err)
	var split []domain.MemoryID
	for _, r := range append(staleRefs, orphans...) {
		require.Equal(t, tn, r.Tenant)
		split = append(split, r.ID)
	}
	require.ElementsMatch(t, ids, split)
	require.ElementsMatch(t, []domain.MemoryID{gone.ID}, rowIDs(orphans), "orphans: indexed but no longer active")
	none, err := pd.Stale(ctx, "org-other", page)
	require.NoError(t, err)
	require.Len(t, none, 3, "another org's index holds none of them")
}

func rowIDs(refs []ports.MemoryRef) []domain.MemoryID {
	out := make([]domain.MemoryID, len(refs))
	for i, r := range refs {
		out[i] = r.ID
	}
	return out
}
