package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

// Issue 18: recency is a ranking of its own, off by default, and a date a
// query names lifts the memories observed within it.
func TestSearchTimeRankings(t *testing.T) {
	e := newSearchEnv(t)
	at := func(s string) *time.Time {
		v, err := time.Parse(time.RFC3339, s)
		require.NoError(t, err)
		return &v
	}
	add := func(text, observed string) domain.MemoryID {
		m, _, err := e.mem.Add(context.Background(), sAlice, app.AddInput{Text: text, ObservedAt: at(observed)})
		require.NoError(t, err)
		return m.ID
	}
	// Equally relevant to "coffee with Sam": only observed_at tells them apart.
	old := add("had coffee with Sam at the harbour", "2023-02-10T09:00:00Z")
	mid := add("had coffee with Sam at the station", "2024-05-03T09:00:00Z")
	recent := add("had coffee with Sam at the museum", "2025-09-01T09:00:00Z")
	ids := func(req app.SearchRequest) []domain.MemoryID {
		req.Limit = 3
		var out []domain.MemoryID
		for _, h := range e.find(t, sAlice, req).Results {
			out = append(out, h.Memory.ID)
		}
		return out
	}
	plain := ids(app.SearchRequest{Query: "coffee with Sam"})
	require.ElementsMatch(t, []domain.MemoryID{old, mid, recent}, plain)

	w := domain.DefaultWeights
	w.Recency = 10
	require.Equal(t, []domain.MemoryID{recent, mid, old}, ids(app.SearchRequest{Query: "coffee with Sam", Weights: &w}), "newest first")

	for _, q := range []string{"coffee with Sam in May 2024", "coffee with Sam on 2024-05-03"} {
		require.Equal(t, mid, ids(app.SearchRequest{Query: q})[0], q)
	}
	require.Equal(t, old, ids(app.SearchRequest{Query: "coffee with Sam in 2023"})[0])
}
