package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

// TestRepairHealsDriftLeftByACrash writes through the store alone, as if the
// process died between each commit and its index write, then repairs.
func TestRepairHealsDriftLeftByACrash(t *testing.T) {
	ctx := context.Background()
	e := newSearchEnv(t)
	tn := sAlice.Tenant()
	updated := e.add(t, sAlice, "Favourite tea is oolong")
	deleted := e.add(t, sAlice, "Owns a red kayak")

	missing, err := domain.NewMemory(tn, "app", "Learning to play the theremin", nil, nil, time.Now())
	require.NoError(t, err)
	_, _, err = e.store.Create(ctx, tn, missing)
	require.NoError(t, err)
	_, err = e.store.Update(ctx, tn, updated.ID, "app", func(m *domain.Memory) error {
		m.Text = "Favourite tea is sencha"
		return nil
	})
	require.NoError(t, err)
	require.NoError(t, e.store.Delete(ctx, tn, []domain.MemoryID{deleted.ID}, "app"))

	drift, err := e.store.TextIndex().Drift(ctx, tn.OrgID, 100)
	require.NoError(t, err)
	require.Len(t, drift, 3, "missing, stale and no-longer-active entries")

	n, err := e.indexer.Repair(ctx)
	require.NoError(t, err)
	require.Equal(t, 3, n)
	drift, err = e.store.TextIndex().Drift(ctx, tn.OrgID, 100)
	require.NoError(t, err)
	require.Empty(t, drift)

	lex := func(q string) []domain.MemoryID {
		return resultIDs(e.find(t, sAlice, app.SearchRequest{Query: q, Mode: domain.SearchLexical}))
	}
	require.Equal(t, []domain.MemoryID{missing.ID}, lex("theremin"))
	require.Equal(t, []domain.MemoryID{updated.ID}, lex("sencha"))
	require.Empty(t, lex("oolong"))
	require.Empty(t, lex("kayak"))
	require.Equal(t, missing.ID, e.find(t, sAlice, app.SearchRequest{Query: "theremin", Mode: domain.SearchVector}).Results[0].Memory.ID,
		"repaired memories reach the vector index too")
}
