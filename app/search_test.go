package app_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/adapters/localembed"
	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// searchEnv is the embedded profile, for real: SQLite store and FTS5,
// in-process vector index, local embedder, the indexer observing writes.
type searchEnv struct {
	store   *sqlitestore.Store
	vectors *inproc.VectorIndex
	embed   *localembed.Embedder
	indexer *app.Indexer
	mem     *app.MemoryService
	search  *app.SearchService
}

var (
	sAlice = domain.Principal{OrgID: "org-1", UserID: "alice", Scopes: domain.DefaultUserScopes, ClientID: "cursor"}
	sBob   = domain.Principal{OrgID: "org-1", UserID: "bob", Scopes: domain.DefaultUserScopes, ClientID: "cursor"}
)

func newSearchEnv(t testing.TB) *searchEnv {
	t.Helper()
	return newSearchEnvWith(t, sqlitestore.Config{Path: filepath.Join(t.TempDir(), "engram.db")})
}

func newSearchEnvWith(t testing.TB, cfg sqlitestore.Config) *searchEnv {
	t.Helper()
	ctx := context.Background()
	st, err := sqlitestore.Open(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	e := &searchEnv{store: st, vectors: inproc.NewVectorIndex()}
	e.embed, err = localembed.New(localembed.Options{})
	require.NoError(t, err)
	e.indexer = app.NewIndexer(app.IndexerDeps{Memories: st, Scanner: st, Text: st.TextIndex(), Vectors: e.vectors, Embedder: e.embed})
	require.NoError(t, e.indexer.Bind(ctx))
	e.mem = app.NewMemoryService(app.MemoryDeps{Memories: st, Apps: st, Access: st, Observers: []app.ChangeObserver{e.indexer}})
	e.search = app.NewSearchService(app.SearchDeps{Memories: st, Text: st.TextIndex(), Vectors: e.vectors, Embedder: e.embed, Reads: e.mem})
	return e
}

func (e *searchEnv) add(t *testing.T, p domain.Principal, text string, cats ...string) domain.Memory {
	t.Helper()
	m, created, err := e.mem.Add(context.Background(), p, app.AddInput{Text: text, Categories: cats})
	require.NoError(t, err)
	require.True(t, created)
	return m
}

func (e *searchEnv) find(t *testing.T, p domain.Principal, req app.SearchRequest) app.SearchResult {
	t.Helper()
	res, err := e.search.Search(context.Background(), p, req, "")
	require.NoError(t, err)
	return res
}

func resultIDs(r app.SearchResult) []domain.MemoryID {
	out := make([]domain.MemoryID, len(r.Results))
	for i, h := range r.Results {
		out[i] = h.Memory.ID
	}
	return out
}

func TestSearchHybridFusesBothRankings(t *testing.T) {
	e := newSearchEnv(t)
	veg := e.add(t, sAlice, "Alice is vegetarian and avoids fish")
	e.add(t, sAlice, "Alice works as a nurse in Lyon")
	e.add(t, sAlice, "Her brother Tom plays the cello")
	typo := e.add(t, sAlice, "Favourite restaurant: Le Potager, a vegeterian bistro")

	res := e.find(t, sAlice, app.SearchRequest{Query: "vegetarian"})
	require.NotEmpty(t, res.QueryID)
	require.Equal(t, domain.SearchHybrid, res.Mode)
	require.Empty(t, res.Degraded)
	got := resultIDs(res)
	require.Contains(t, got[:2], veg.ID)
	require.Contains(t, got[:2], typo.ID, "the misspelt memory is found by the character n-grams of the vector side")
	for _, h := range res.Results {
		require.True(t, h.LexicalRank > 0 || h.VectorRank > 0)
		require.Greater(t, h.Score, 0.0)
		require.LessOrEqual(t, h.Score, 1.0)
	}
	var typoHit app.SearchHit
	for _, h := range res.Results {
		if h.Memory.ID == typo.ID {
			typoHit = h
		}
	}
	require.Positive(t, typoHit.VectorRank)

	lex := e.find(t, sAlice, app.SearchRequest{Query: "vegetarian", Mode: domain.SearchLexical})
	for _, h := range lex.Results {
		require.Zero(t, h.VectorRank)
		require.Positive(t, h.LexicalRank)
	}
	require.NotContains(t, resultIDs(lex), typo.ID, "BM25 alone misses the typo")
	vec := e.find(t, sAlice, app.SearchRequest{Query: "vegetarian", Mode: domain.SearchVector})
	for _, h := range vec.Results {
		require.Zero(t, h.LexicalRank)
	}
	require.NotEqual(t, res.QueryID, vec.QueryID)
}

func TestSearchOnlyActiveAndFollowsUpdates(t *testing.T) {
	ctx := context.Background()
	e := newSearchEnv(t)
	m := e.add(t, sAlice, "The garage door code is 4711")
	paused := e.add(t, sAlice, "The garage is rented until May")
	deleted := e.add(t, sAlice, "Old garage key was lost")
	erased := e.add(t, sAlice, "Secret garage stash behind the boiler")
	_, err := e.mem.SetState(ctx, sAlice, []domain.MemoryID{paused.ID}, domain.StatePaused, "")
	require.NoError(t, err)
	require.NoError(t, e.mem.Delete(ctx, sAlice, []domain.MemoryID{deleted.ID}, ""))
	require.NoError(t, e.mem.Erase(ctx, sAlice, erased.ID, ""))

	for _, mode := range []domain.SearchMode{domain.SearchHybrid, domain.SearchLexical, domain.SearchVector} {
		res := e.find(t, sAlice, app.SearchRequest{Query: "garage", Mode: mode})
		require.Equal(t, []domain.MemoryID{m.ID}, resultIDs(res), mode)
	}
	require.Equal(t, 1, e.vectors.Len(sAlice.Tenant()), "non-active memories left the vector index")

	text := "The gate code is 0815"
	_, err = e.mem.Update(ctx, sAlice, m.ID, app.UpdateInput{Text: &text}, "")
	require.NoError(t, err)
	for _, mode := range []domain.SearchMode{domain.SearchLexical, domain.SearchVector} {
		res := e.find(t, sAlice, app.SearchRequest{Query: "0815 gate", Mode: mode})
		require.Equal(t, m.ID, res.Results[0].Memory.ID, "updated memory is re-indexed (%s)", mode)
		require.Equal(t, text, res.Results[0].Memory.Text)
	}
	require.Empty(t, resultIDs(e.find(t, sAlice, app.SearchRequest{Query: "4711", Mode: domain.SearchLexical})))

	_, err = e.mem.SetState(ctx, sAlice, []domain.MemoryID{paused.ID}, domain.StateActive, "")
	require.NoError(t, err)
	require.Contains(t, resultIDs(e.find(t, sAlice, app.SearchRequest{Query: "rented until May"})), paused.ID, "reactivated memory is indexed again")
}

func TestSearchNeverCrossesUsers(t *testing.T) {
	e := newSearchEnv(t)
	mine := e.add(t, sAlice, "My passport number is X1234567")
	e.add(t, sBob, "My passport number is X1234567")
	e.add(t, domain.Principal{OrgID: "org-2", UserID: "alice", Scopes: domain.DefaultUserScopes}, "My passport number is X1234567")
	for _, mode := range []domain.SearchMode{domain.SearchHybrid, domain.SearchLexical, domain.SearchVector} {
		res := e.find(t, sAlice, app.SearchRequest{Query: "passport number", Mode: mode, Limit: 100})
		require.Equal(t, []domain.MemoryID{mine.ID}, resultIDs(res), mode)
	}
}

func TestSearchFiltersMinScoreAndAccessLog(t *testing.T) {
	ctx := context.Background()
	e := newSearchEnv(t)
	a := e.add(t, sAlice, "Loves Italian food, especially risotto", "food")
	b, _, err := e.mem.Add(ctx, sAlice, app.AddInput{Text: "Italian lessons on Thursdays", App: "claude"})
	require.NoError(t, err)

	res := e.find(t, sAlice, app.SearchRequest{Query: "italian", Filter: domain.SearchFilter{Categories: []string{"food"}}})
	require.Equal(t, []domain.MemoryID{a.ID}, resultIDs(res))
	res = e.find(t, sAlice, app.SearchRequest{Query: "italian", Filter: domain.SearchFilter{App: "claude"}})
	require.Equal(t, []domain.MemoryID{b.ID}, resultIDs(res))

	all := e.find(t, sAlice, app.SearchRequest{Query: "italian"})
	require.Len(t, all.Results, 2)
	high := e.find(t, sAlice, app.SearchRequest{Query: "italian", MinScore: all.Results[0].Score})
	require.Len(t, high.Results, 1, "min_score drops the lower result")

	res, err = e.search.Search(ctx, sAlice, app.SearchRequest{Query: "risotto", Mode: domain.SearchLexical}, "my-agent")
	require.NoError(t, err)
	require.Equal(t, []domain.MemoryID{a.ID}, resultIDs(res))
	acc, _, err := e.mem.AppAccessed(ctx, sAlice, "my-agent", 10, "")
	require.NoError(t, err)
	require.Len(t, acc, 1, "every returned memory, and only those, is recorded as read")
	require.Equal(t, a.ID, acc[0].MemoryID)
	require.Equal(t, domain.AccessSearch, acc[0].Kind)
}

func TestSearchDiversitySpreadsNearDuplicates(t *testing.T) {
	e := newSearchEnv(t)
	d1 := e.add(t, sAlice, "Bob likes green tea in the morning")
	d2 := e.add(t, sAlice, "Bob likes green tea in the morning, usually sencha")
	other := e.add(t, sAlice, "Bob drinks tea with his mother on Sundays")
	plain := e.find(t, sAlice, app.SearchRequest{Query: "bob green tea morning", Limit: 3})
	require.ElementsMatch(t, []domain.MemoryID{d1.ID, d2.ID}, resultIDs(plain)[:2])
	div := e.find(t, sAlice, app.SearchRequest{Query: "bob green tea morning", Limit: 3, Diversity: 0.7})
	require.Equal(t, other.ID, resultIDs(div)[1], "the near duplicate is pushed below a different memory")
}

func TestSearchValidates(t *testing.T) {
	ctx := context.Background()
	e := newSearchEnv(t)
	for _, req := range []app.SearchRequest{
		{Query: ""}, {Query: "  "}, {Query: "x", Limit: 101}, {Query: "x", Limit: -1}, {Query: "x", Mode: "semantic"},
		{Query: "x", Weights: &domain.Weights{Lexical: 11, Vector: 1}}, {Query: "x", Diversity: 1.5}, {Query: "x", MinScore: -1},
		{Query: "x", Filter: domain.SearchFilter{App: "Not An App"}},
	} {
		_, err := e.search.Search(ctx, sAlice, req, "")
		require.ErrorIs(t, err, domain.ErrInvalid, "%+v", req)
	}
	_, err := e.search.Search(ctx, domain.Principal{OrgID: "o", UserID: "u", Scopes: []domain.Scope{domain.ScopeMemoriesWrite}}, app.SearchRequest{Query: "x"}, "")
	require.ErrorIs(t, err, domain.ErrForbidden)
}

func TestReindexRebuildsVectorIndexFromStore(t *testing.T) {
	ctx := context.Background()
	e := newSearchEnv(t)
	want := e.add(t, sAlice, "Allergic to penicillin")
	e.add(t, sBob, "Allergic to pollen")
	fresh := inproc.NewVectorIndex()
	ix := app.NewIndexer(app.IndexerDeps{Memories: e.store, Scanner: e.store, Vectors: fresh, Embedder: e.embed})
	var progress int
	n, err := ix.Reindex(ctx, app.ReindexOptions{Vectors: true, Progress: func(k int) { progress = k }})
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.Equal(t, 2, progress)
	s := app.NewSearchService(app.SearchDeps{Memories: e.store, Vectors: fresh, Embedder: e.embed})
	res, err := s.Search(ctx, sAlice, app.SearchRequest{Query: "penicillin allergy"}, "")
	require.NoError(t, err)
	require.Equal(t, []domain.MemoryID{want.ID}, resultIDs(res))
	_, err = s.Search(ctx, sAlice, app.SearchRequest{Query: "x", Mode: domain.SearchLexical}, "")
	require.ErrorIs(t, err, domain.ErrInvalid, "no text index configured")

	other, err := localembed.New(localembed.Options{Dimension: 128})
	require.NoError(t, err)
	bad := app.NewIndexer(app.IndexerDeps{Memories: e.store, Scanner: e.store, Vectors: fresh, Embedder: other})
	_, err = bad.Reindex(ctx, app.ReindexOptions{Vectors: true})
	require.ErrorIs(t, err, domain.ErrConflict)
	require.Contains(t, err.Error(), "engram reindex")
	var _ ports.MemoryScanner = e.store
}

func TestSearchZeroWeightSkipsThatRanking(t *testing.T) {
	e := newSearchEnv(t)
	e.add(t, sAlice, "Plays chess on Tuesdays")
	e.add(t, sAlice, "Chess club meets at the library")
	res := e.find(t, sAlice, app.SearchRequest{Query: "chess", Weights: &domain.Weights{Lexical: 0, Vector: 1}})
	require.NotEmpty(t, res.Results)
	for _, h := range res.Results {
		require.Zero(t, h.LexicalRank, "the lexical ranking did not run")
		require.Positive(t, h.VectorRank)
	}
	require.InDelta(t, 1, res.Results[0].Score, 1e-9, "normalised over the vector ranking alone")
}

func TestVectorTrustFor(t *testing.T) {
	require.Equal(t, app.LocalVectorTrust, app.VectorTrustFor("local-hash-v1-384"))
	require.Equal(t, 1.0, app.VectorTrustFor("text-embedding-3-small"))
}
