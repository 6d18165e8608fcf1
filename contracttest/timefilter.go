package contracttest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// RunTextTimeFilter checks that a text index kept beside its store applies
// search's time bounds (issue 18: observed_after, observed_before, as_of)
// from the memories' rows: the index's own entries carry no such times.
// s and x share one database; the entries indexed are the stored memories.
func RunTextTimeFilter(t *testing.T, s ports.MemoryStore, x ports.TextIndex) {
	tn := newTenant(t)
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		require.NoError(t, err)
		return v
	}
	berlin := memOf(t, tn, "app", "Alice lives in Berlin")
	berlin.ObservedAt, berlin.ValidTo = at("2023-03-01T00:00:00Z"), at("2024-05-01T00:00:00Z")
	lisbon := memOf(t, tn, "app", "Alice lives in Lisbon")
	lisbon.ObservedAt, lisbon.ValidFrom = at("2024-05-01T00:00:00Z"), at("2024-05-01T00:00:00Z")
	var docs []ports.TextDoc
	for _, m := range []domain.Memory{berlin, lisbon} {
		m = mustCreate(t, s, m)
		docs = append(docs, ports.TextDoc{ID: m.ID, Text: m.Text, AppID: m.AppID, CreatedAt: m.CreatedAt})
	}
	require.NoError(t, x.Index(ctxFor(t), tn, docs))
	ids := func(f domain.SearchFilter) []domain.MemoryID {
		hits, err := x.Search(ctxFor(t), tn, "Alice lives", 10, f)
		require.NoError(t, err)
		var out []domain.MemoryID
		for _, h := range hits {
			out = append(out, h.ID)
		}
		return out
	}
	require.ElementsMatch(t, []domain.MemoryID{berlin.ID, lisbon.ID}, ids(domain.SearchFilter{}))
	require.Equal(t, []domain.MemoryID{berlin.ID}, ids(domain.SearchFilter{AsOf: at("2023-12-01T00:00:00Z")}))
	require.Equal(t, []domain.MemoryID{lisbon.ID}, ids(domain.SearchFilter{AsOf: at("2024-07-01T00:00:00Z")}))
	require.Empty(t, ids(domain.SearchFilter{AsOf: at("2022-01-01T00:00:00Z")}))
	require.Equal(t, []domain.MemoryID{lisbon.ID}, ids(domain.SearchFilter{ObservedAfter: at("2024-01-01T00:00:00Z")}))
	require.Equal(t, []domain.MemoryID{berlin.ID}, ids(domain.SearchFilter{ObservedBefore: at("2024-01-01T00:00:00Z")}))
	// Another tenant's filtered search finds nothing of these.
	hits, err := x.Search(ctxFor(t), newTenant(t), "Alice lives", 10, domain.SearchFilter{AsOf: at("2024-07-01T00:00:00Z")})
	require.NoError(t, err)
	require.Empty(t, hits)
}
