package domain_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
)

func TestQueryDateRange(t *testing.T) {
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	for _, c := range []struct {
		q        string
		from, to time.Time
	}{
		{"what did I say on 2024-05-03?", day(2024, 5, 3), day(2024, 5, 4)},
		{"plans for 2024-05", day(2024, 5, 1), day(2024, 6, 1)},
		{"Where was Maya on May 3, 2024", day(2024, 5, 3), day(2024, 5, 4)},
		{"the 3rd of May 2024 trip", day(2024, 5, 3), day(2024, 5, 4)},
		{"what happened in May 2024", day(2024, 5, 1), day(2024, 6, 1)},
		{"trips in Sept 2023 and in 2022", day(2023, 9, 1), day(2023, 10, 1)},
		{"what did Maya do in 2023?", day(2023, 1, 1), day(2024, 1, 1)},
		{"31 December 1999", day(1999, 12, 31), day(2000, 1, 1)},
	} {
		from, to, ok := domain.QueryDateRange(c.q)
		require.True(t, ok, c.q)
		require.Equal(t, c.from, from, c.q)
		require.Equal(t, c.to, to, c.q)
	}
	for _, q := range []string{"may I have 2000 calories", "what tea does Maya like", "April 31, 2024", "room 2024", "in 3000"} {
		_, _, ok := domain.QueryDateRange(q)
		require.False(t, ok, q)
	}
}

func TestAddRankingIsOneMoreRRFList(t *testing.T) {
	a, b, c := domain.MemoryID("a"), domain.MemoryID("b"), domain.MemoryID("c")
	lex := []domain.Ranked{{ID: a, Score: 3}, {ID: b, Score: 2}, {ID: c, Score: 1}}
	fused := domain.Fuse(lex, nil, domain.Fusion{Weights: domain.Weights{Lexical: 1, Vector: 1}})
	require.Equal(t, a, fused[0].ID)
	// c is the newest: a recency ranking of weight 1 lifts it past b, not past a.
	got := domain.AddRanking(fused, []domain.MemoryID{c, b, a}, 1, 1, 0)
	require.Equal(t, []domain.MemoryID{a, c, b}, []domain.MemoryID{got[0].ID, got[1].ID, got[2].ID})
	// Scores are those of a two-list RRF, normalised to [0,1].
	want := domain.Fuse(lex, []domain.Ranked{{ID: c, Score: 3}, {ID: b, Score: 2}, {ID: a, Score: 1}}, domain.Fusion{Weights: domain.Weights{Lexical: 1, Vector: 1}})
	for i := range want {
		require.Equal(t, want[i].ID, got[i].ID)
		require.InDelta(t, want[i].Score, got[i].Score, 1e-12)
	}
	require.Equal(t, fused, domain.AddRanking(fused, []domain.MemoryID{c}, 0, 1, 0), "weight 0 changes nothing")
}
