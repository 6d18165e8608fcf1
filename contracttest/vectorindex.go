package contracttest

import (
	"context"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// VectorSuiteDim is the dimension the vector suite binds; small so that any
// backend handles it, large enough for distinct directions.
const VectorSuiteDim = 16

// vecSpace is the space every subtest binds first.
var vecSpace = ports.VectorSpace{Model: "contract-test-model", Dimension: VectorSuiteDim}

var (
	vecAlice   = domain.Tenant{OrgID: "org-a", UserID: "alice"}
	vecBob     = domain.Tenant{OrgID: "org-a", UserID: "bob"}
	vecMallory = domain.Tenant{OrgID: "org-b", UserID: "alice"}
)

// axis returns the unit vector along dimension i, tilted slightly towards
// dimension j so that nearby axes have a defined order.
func axis(i, j int, tilt float64) []float32 {
	v := make([]float32, VectorSuiteDim)
	v[i] = float32(math.Sqrt(1 - tilt*tilt))
	v[j] += float32(tilt)
	return v
}

func vdoc(id domain.MemoryID, v []float32) ports.VectorDoc {
	return ports.VectorDoc{ID: id, Vector: v, AppID: "app-one", Categories: []string{"misc"},
		Metadata: domain.Metadata{"kind": "fact"}, CreatedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func newID() domain.MemoryID { return domain.NewMemoryID(time.Now()) }

func hitIDs(hs []ports.Hit) []domain.MemoryID {
	out := make([]domain.MemoryID, len(hs))
	for i, h := range hs {
		out[i] = h.ID
	}
	return out
}

// RunVectorIndex checks a ports.VectorIndex. newIndex is called once per
// subtest and returns an empty, unbound index isolated from every other (its
// own instance, collection or namespace), cleaned up with t.Cleanup.
func RunVectorIndex(t *testing.T, newIndex func(t *testing.T) ports.VectorIndex) {
	bound := func(t *testing.T) ports.VectorIndex {
		x := newIndex(t)
		require.NoError(t, x.Bind(context.Background(), vecSpace))
		return x
	}
	ctx := context.Background()

	t.Run("Bind/SameSpaceAgainIsFine", func(t *testing.T) {
		t.Parallel()
		x := bound(t)
		require.NoError(t, x.Bind(ctx, vecSpace))
	})

	t.Run("Bind/OtherModelOrDimensionNamesReindex", func(t *testing.T) {
		t.Parallel()
		x := bound(t)
		require.NoError(t, x.Upsert(ctx, vecAlice, []ports.VectorDoc{vdoc(newID(), axis(0, 1, 0))}))
		for _, s := range []ports.VectorSpace{{Model: "other-model", Dimension: VectorSuiteDim}, {Model: vecSpace.Model, Dimension: 32}} {
			err := x.Bind(ctx, s)
			require.ErrorIs(t, err, domain.ErrConflict, "%+v", s)
			require.Contains(t, err.Error(), "engram reindex")
		}
	})

	t.Run("Upsert/WrongDimensionIsInvalid", func(t *testing.T) {
		t.Parallel()
		x := bound(t)
		err := x.Upsert(ctx, vecAlice, []ports.VectorDoc{vdoc(newID(), make([]float32, VectorSuiteDim+1))})
		require.ErrorIs(t, err, domain.ErrInvalid)
		_, err = x.Search(ctx, vecAlice, make([]float32, 3), 5, domain.SearchFilter{})
		require.ErrorIs(t, err, domain.ErrInvalid)
	})

	t.Run("Search/NearestFirst", func(t *testing.T) {
		t.Parallel()
		x := bound(t)
		ids := make([]domain.MemoryID, 6)
		docs := make([]ports.VectorDoc, 6)
		for i := range ids {
			ids[i] = newID()
			// doc i leans from axis 0 by an increasing angle
			docs[i] = vdoc(ids[i], axis(0, i+1, 0.1+0.15*float64(i)))
		}
		require.NoError(t, x.Upsert(ctx, vecAlice, docs))
		hs, err := x.Search(ctx, vecAlice, axis(0, 1, 0), 4, domain.SearchFilter{})
		require.NoError(t, err)
		require.Equal(t, ids[:4], hitIDs(hs))
		for i := 1; i < len(hs); i++ {
			require.Greater(t, hs[i-1].Score, hs[i].Score)
		}
		require.InDelta(t, math.Sqrt(1-0.01), hs[0].Score, 1e-3, "score is the cosine")
		all, err := x.Search(ctx, vecAlice, axis(0, 1, 0), 100, domain.SearchFilter{})
		require.NoError(t, err)
		require.Equal(t, ids, hitIDs(all), "k above the count returns everything")
	})

	t.Run("Search/KOutOfRangeIsInvalid", func(t *testing.T) {
		t.Parallel()
		x := bound(t)
		for _, k := range []int{0, -1, ports.MaxIndexK + 1} {
			_, err := x.Search(ctx, vecAlice, axis(0, 1, 0), k, domain.SearchFilter{})
			require.ErrorIs(t, err, domain.ErrInvalid, "k=%d", k)
		}
	})

	t.Run("Search/EmptyTenantFindsNothing", func(t *testing.T) {
		t.Parallel()
		x := bound(t)
		hs, err := x.Search(ctx, vecAlice, axis(0, 1, 0), 10, domain.SearchFilter{})
		require.NoError(t, err)
		require.Empty(t, hs)
	})

	t.Run("Upsert/ReplacesByID", func(t *testing.T) {
		t.Parallel()
		x := bound(t)
		id := newID()
		require.NoError(t, x.Upsert(ctx, vecAlice, []ports.VectorDoc{vdoc(id, axis(0, 1, 0))}))
		require.NoError(t, x.Upsert(ctx, vecAlice, []ports.VectorDoc{vdoc(id, axis(5, 1, 0))}))
		hs, err := x.Search(ctx, vecAlice, axis(5, 1, 0), 10, domain.SearchFilter{})
		require.NoError(t, err)
		require.Len(t, hs, 1)
		require.Equal(t, id, hs[0].ID)
		require.InDelta(t, 1, hs[0].Score, 1e-4, "the new vector replaced the old one")
	})

	t.Run("Delete/Vanishes", func(t *testing.T) {
		t.Parallel()
		x := bound(t)
		keep, gone := newID(), newID()
		require.NoError(t, x.Upsert(ctx, vecAlice, []ports.VectorDoc{vdoc(keep, axis(0, 1, 0.2)), vdoc(gone, axis(0, 1, 0))}))
		require.NoError(t, x.Delete(ctx, vecAlice, []domain.MemoryID{gone}))
		require.NoError(t, x.Delete(ctx, vecAlice, []domain.MemoryID{gone, newID()}), "deleting twice or unknown ids is fine")
		hs, err := x.Search(ctx, vecAlice, axis(0, 1, 0), 10, domain.SearchFilter{})
		require.NoError(t, err)
		require.Equal(t, []domain.MemoryID{keep}, hitIDs(hs))
	})

	t.Run("Tenancy/IdenticalVectorsNeverCross", func(t *testing.T) {
		t.Parallel()
		x := bound(t)
		mine := newID()
		require.NoError(t, x.Upsert(ctx, vecAlice, []ports.VectorDoc{vdoc(mine, axis(3, 4, 0))}))
		require.NoError(t, x.Upsert(ctx, vecBob, []ports.VectorDoc{vdoc(newID(), axis(3, 4, 0))}))
		require.NoError(t, x.Upsert(ctx, vecMallory, []ports.VectorDoc{vdoc(newID(), axis(3, 4, 0))}))
		hs, err := x.Search(ctx, vecAlice, axis(3, 4, 0), 10, domain.SearchFilter{})
		require.NoError(t, err)
		require.Equal(t, []domain.MemoryID{mine}, hitIDs(hs))
		// Deleting through another tenant does nothing to alice's entry.
		require.NoError(t, x.Delete(ctx, vecMallory, []domain.MemoryID{mine}))
		require.NoError(t, x.Delete(ctx, vecBob, []domain.MemoryID{mine}))
		hs, err = x.Search(ctx, vecAlice, axis(3, 4, 0), 10, domain.SearchFilter{})
		require.NoError(t, err)
		require.Equal(t, []domain.MemoryID{mine}, hitIDs(hs))
	})

	t.Run("Search/Filters", func(t *testing.T) { runVectorFilters(t, bound) })
	t.Run("Concurrency/UpsertsAndSearches", func(t *testing.T) {
		t.Parallel()
		x := bound(t)
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Go(func() {
				for i := range 25 {
					require.NoError(t, x.Upsert(ctx, vecAlice, []ports.VectorDoc{vdoc(newID(), axis((w+i)%VectorSuiteDim, (w+i+1)%VectorSuiteDim, 0.3))}))
					_, err := x.Search(ctx, vecAlice, axis(w, w+1, 0), 5, domain.SearchFilter{})
					require.NoError(t, err)
				}
			})
		}
		wg.Wait()
		hs, err := x.Search(ctx, vecAlice, axis(0, 1, 0), ports.MaxIndexK, domain.SearchFilter{})
		require.NoError(t, err)
		require.Len(t, hs, 100, "every acknowledged upsert is searchable")
	})
}
