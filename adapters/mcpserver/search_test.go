package mcpserver_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/adapters/localembed"
	"github.com/engram-memory/engram/app"
)

// withSearch wires the embedded profile's real search: SQLite FTS5, the
// in-process vector index and the local embedder, kept current by the
// indexer observing every write.
func withSearch(t testing.TB) func(*setup) {
	return func(su *setup) {
		ctx := context.Background()
		st := su.Store
		vectors := inproc.NewVectorIndex()
		embed, err := localembed.New(localembed.Options{})
		require.NoError(t, err)
		indexer := app.NewIndexer(app.IndexerDeps{Memories: st, Scanner: st, Text: st.TextIndex(), Vectors: vectors, Embedder: embed})
		require.NoError(t, indexer.Bind(ctx))
		mem := app.NewMemoryService(app.MemoryDeps{Memories: st, Apps: st, Access: st, Observers: []app.ChangeObserver{indexer}})
		t.Cleanup(mem.Close)
		su.Deps.Memories = mem
		su.Deps.Searcher = app.NewSearchService(app.SearchDeps{Memories: st, Text: st.TextIndex(), Vectors: vectors, Embedder: embed, Reads: mem})
	}
}

func TestSearchMemoryRanksWithTheSearchService(t *testing.T) {
	h := newHarness(t, withSearch(t))
	cs := h.connect("/mcp", h.token("alice"), "test")
	veg := callOK[addJSON](t, cs, "add_memories", map[string]any{"text": "Alice is vegetarian and avoids fish"})
	callOK[addJSON](t, cs, "add_memories", map[string]any{"text": "Alice works as a nurse in Lyon"})
	typo := callOK[addJSON](t, cs, "add_memories", map[string]any{"text": "Favourite restaurant: Le Potager, a vegeterian bistro"})

	// Neither memory contains the query as a substring: the fallback would
	// find nothing, hybrid search finds both.
	res := callOK[searchJSON](t, cs, "search_memory", map[string]any{"query": "vegetarian restaurants", "limit": 2})
	require.Len(t, res.Results, 2)
	ids := []string{res.Results[0].ID, res.Results[1].ID}
	require.ElementsMatch(t, []string{veg.Memory.ID, typo.Memory.ID}, ids)
	require.NotEmpty(t, res.QueryID)

	bob := h.connect("/mcp", h.token("bob"), "test")
	require.Empty(t, callOK[searchJSON](t, bob, "search_memory", map[string]any{"query": "vegetarian"}).Results)
}

func TestFallbackSearchMatchesWords(t *testing.T) {
	h := newHarness(t)
	cs := h.connect("/mcp", h.token("alice"), "test")
	a := callOK[addJSON](t, cs, "add_memories", map[string]any{"text": "Drinks green tea every afternoon"})
	callOK[addJSON](t, cs, "add_memories", map[string]any{"text": "Owns a green bicycle"})
	res := callOK[searchJSON](t, cs, "search_memory", map[string]any{"query": "afternoon green tea habit"})
	require.Len(t, res.Results, 2)
	require.Equal(t, a.Memory.ID, res.Results[0].ID, "more matching words rank first")
	require.Greater(t, res.Results[0].Score, res.Results[1].Score)
}
