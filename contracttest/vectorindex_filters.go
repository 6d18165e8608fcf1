package contracttest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// filterFixture is four memories that differ in one filterable field each
// from the base one, all with nearly the same vector.
type filterFixture struct {
	base, otherApp, otherCat, otherMeta, older domain.MemoryID
	t0                                         time.Time
}

func (f filterFixture) all() []domain.MemoryID {
	return []domain.MemoryID{f.base, f.otherApp, f.otherCat, f.otherMeta, f.older}
}

func newFilterFixture() (filterFixture, []ports.VectorDoc) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	f := filterFixture{base: newID(), otherApp: newID(), otherCat: newID(), otherMeta: newID(), older: newID(), t0: t0}
	mk := func(id domain.MemoryID, tilt float64) ports.VectorDoc {
		return ports.VectorDoc{ID: id, Vector: axis(2, 3, tilt), AppID: "cursor", Categories: []string{"food", "travel"},
			Metadata: domain.Metadata{"kind": "pref", "n": float64(2), "pinned": true}, CreatedAt: t0}
	}
	docs := []ports.VectorDoc{mk(f.base, 0), mk(f.otherApp, 0.05), mk(f.otherCat, 0.1), mk(f.otherMeta, 0.15), mk(f.older, 0.2)}
	docs[1].AppID = "claude"
	docs[2].Categories = []string{"food"}
	docs[3].Metadata = domain.Metadata{"kind": "fact", "n": float64(3), "pinned": false}
	docs[4].CreatedAt = t0.Add(-48 * time.Hour)
	return f, docs
}

// filterCases lists each filter and the fixture members it must return.
func filterCases(f filterFixture) []struct {
	name   string
	filter domain.SearchFilter
	want   []domain.MemoryID
} {
	return []struct {
		name   string
		filter domain.SearchFilter
		want   []domain.MemoryID
	}{
		{"app", domain.SearchFilter{App: "claude"}, []domain.MemoryID{f.otherApp}},
		{"every category", domain.SearchFilter{Categories: []string{"travel", "food"}}, []domain.MemoryID{f.base, f.otherApp, f.otherMeta, f.older}},
		{"metadata string", domain.SearchFilter{Metadata: domain.Metadata{"kind": "fact"}}, []domain.MemoryID{f.otherMeta}},
		{"metadata number", domain.SearchFilter{Metadata: domain.Metadata{"n": float64(2)}}, []domain.MemoryID{f.base, f.otherApp, f.otherCat, f.older}},
		{"metadata bool", domain.SearchFilter{Metadata: domain.Metadata{"pinned": false}}, []domain.MemoryID{f.otherMeta}},
		{"created after", domain.SearchFilter{CreatedAfter: f.t0.Add(-time.Hour)}, []domain.MemoryID{f.base, f.otherApp, f.otherCat, f.otherMeta}},
		{"created before", domain.SearchFilter{CreatedBefore: f.t0}, []domain.MemoryID{f.older}},
		{"combined", domain.SearchFilter{App: "cursor", Categories: []string{"travel"}, Metadata: domain.Metadata{"kind": "pref"}, CreatedAfter: f.t0},
			[]domain.MemoryID{f.base}},
	}
}

func runVectorFilters(t *testing.T, bound func(t *testing.T) ports.VectorIndex) {
	t.Parallel()
	ctx := context.Background()
	x := bound(t)
	f, docs := newFilterFixture()
	require.NoError(t, x.Upsert(ctx, vecAlice, docs))
	hs, err := x.Search(ctx, vecAlice, axis(2, 3, 0), 10, domain.SearchFilter{})
	require.NoError(t, err)
	require.Equal(t, f.all(), hitIDs(hs))
	for _, c := range filterCases(f) {
		hs, err := x.Search(ctx, vecAlice, axis(2, 3, 0), 10, c.filter)
		require.NoError(t, err, c.name)
		require.Equal(t, c.want, hitIDs(hs), c.name)
	}
}
