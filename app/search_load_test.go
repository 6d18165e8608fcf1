package app_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// driftSpy is the store's text index, counting calls of the whole-store
// Drift (the second read of the store Load avoids).
type driftSpy struct {
	*sqlitestore.TextIndex
	drifts atomic.Int64
}

func (d *driftSpy) Drift(ctx context.Context, org domain.OrgID, after ports.MemoryRef, limit int) (ports.DriftStep, error) {
	d.drifts.Add(1)
	return d.TextIndex.Drift(ctx, org, after, limit)
}

// TestLoadHealsTheTextIndexInTheVectorPass: a restart after a crash that
// left the text index behind loads the vectors and heals the text index in
// one read of the store's active memories.
func TestLoadHealsTheTextIndexInTheVectorPass(t *testing.T) {
	ctx := context.Background()
	e := newSearchEnv(t)
	tn := sAlice.Tenant()
	updated := e.add(t, sAlice, "Favourite tea is oolong")
	deleted := e.add(t, sAlice, "Owns a red kayak")
	e.add(t, sAlice, "Reads poetry on Sundays")
	missing, err := domain.NewMemory(tn, "app", "Learning to play the theremin", nil, nil, time.Now())
	require.NoError(t, err)
	_, _, err = e.store.Create(ctx, tn, missing)
	require.NoError(t, err)
	_, err = e.store.Update(ctx, tn, updated.ID, "app", func(m *domain.Memory) error { m.Text = "Favourite tea is sencha"; return nil })
	require.NoError(t, err)
	require.NoError(t, e.store.Delete(ctx, tn, []domain.MemoryID{deleted.ID}, "app"))

	// A restarted process: empty vectors, the same store and text index.
	spy := &driftSpy{TextIndex: e.store.TextIndex()}
	vectors := inproc.NewVectorIndex()
	ix := app.NewIndexer(app.IndexerDeps{Memories: e.store, Scanner: e.store, Text: spy, Drift: spy, Vectors: vectors, Embedder: e.embed})
	require.NoError(t, ix.Bind(ctx))
	res, err := ix.Load(ctx, true)
	require.NoError(t, err)
	require.NoError(t, res.RepairErr)
	require.Equal(t, 3, res.Vectors, "the active memories")
	require.Equal(t, 3, res.Healed, "missing, stale and no-longer-active entries")
	require.Zero(t, spy.drifts.Load(), "the store was read once: no separate drift pass")
	require.Empty(t, driftOf(t, e.store.TextIndex(), tn.OrgID))

	v, err := e.embed.Embed(ctx, []string{"Learning to play the theremin"})
	require.NoError(t, err)
	hits, err := vectors.Search(ctx, tn, v[0], 1, domain.SearchFilter{})
	require.NoError(t, err)
	require.Equal(t, missing.ID, hits[0].ID)
}
