package app_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/adapters/localembed"
	"github.com/engram-memory/engram/adapters/pgstore"
	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/contracttest"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// entityStore is what the entity-ranking tests need of a store.
type entityStore interface {
	ports.MemoryStore
	ports.AppStore
	ports.AccessLog
	ports.EntityStore
	ports.MemoryScanner
}

// newEntitySearchEnv is searchEnv with the entity graph: the linker
// observes writes and search has the entity ranking.
func newEntitySearchEnv(t *testing.T, st entityStore, text ports.TextIndex) *searchEnv {
	t.Helper()
	ctx := context.Background()
	e := &searchEnv{vectors: inproc.NewVectorIndex()}
	var err error
	e.embed, err = localembed.New(localembed.Options{})
	require.NoError(t, err)
	e.indexer = app.NewIndexer(app.IndexerDeps{Memories: st, Scanner: st, Text: text, Vectors: e.vectors, Embedder: e.embed})
	require.NoError(t, e.indexer.Bind(ctx))
	linker := &app.EntityLinker{Memories: st, Entities: st}
	e.mem = app.NewMemoryService(app.MemoryDeps{Memories: st, Apps: st, Access: st, Observers: []app.ChangeObserver{e.indexer, linker}})
	e.search = app.NewSearchService(app.SearchDeps{Memories: st, Text: text, Vectors: e.vectors, Embedder: e.embed, Entities: st, Reads: e.mem})
	return e
}

func openEntitySQLite(t *testing.T) (entityStore, ports.TextIndex) {
	st, err := sqlitestore.Open(context.Background(), sqlitestore.Config{Path: filepath.Join(t.TempDir(), "engram.db")})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	return st, st.TextIndex()
}

// openEntityPostgres migrates a fresh schema, dropped at the end.
func openEntityPostgres(t *testing.T) (entityStore, ports.TextIndex) {
	base := contracttest.BackendAddr(t, contracttest.Postgres)
	ctx := context.Background()
	admin, err := sqlx.Open("postgres", base)
	require.NoError(t, err)
	t.Cleanup(func() { _ = admin.Close() })
	var r [6]byte
	_, _ = rand.Read(r[:])
	schema := "engram_entrank_" + hex.EncodeToString(r[:])
	_, err = admin.ExecContext(ctx, `CREATE SCHEMA `+schema)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = admin.ExecContext(context.Background(), `DROP SCHEMA `+schema+` CASCADE`) })
	u, err := url.Parse(base)
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	_, err = pgstore.Migrate(ctx, u.String(), pgstore.Up)
	require.NoError(t, err)
	pg, err := pgstore.Open(ctx, pgstore.Config{URL: u.String(), MaxOpenConns: 4})
	require.NoError(t, err)
	t.Cleanup(func() { _ = pg.Close() })
	return pg, pg.TextIndex(pgstore.TextOptions{})
}

func eachEntityBackend(t *testing.T, fn func(t *testing.T, e *searchEnv, es ports.EntityStore)) {
	for name, open := range map[string]func(*testing.T) (entityStore, ports.TextIndex){
		"SQLite": openEntitySQLite, "PostgreSQL": openEntityPostgres,
	} {
		t.Run(name, func(t *testing.T) {
			st, text := open(t)
			fn(t, newEntitySearchEnv(t, st, text), st)
		})
	}
}

func hitOf(r app.SearchResult, id domain.MemoryID) (app.SearchHit, bool) {
	for _, h := range r.Results {
		if h.Memory.ID == id {
			return h, true
		}
	}
	return app.SearchHit{}, false
}

// TestSearchEntityRankingFindsLinkedMemories: a query that names an entity
// retrieves a memory linked to that entity (through an alias the memory's
// text does not hold) and one linked to its neighbour, neither sharing a
// word with the query.
func TestSearchEntityRankingFindsLinkedMemories(t *testing.T) {
	eachEntityBackend(t, func(t *testing.T, e *searchEnv, es ports.EntityStore) {
		ctx := context.Background()
		tn := sAlice.Tenant()
		e.add(t, sAlice, "Priya Raman said the new clinic opens in spring.")
		e.add(t, sAlice, "Daniel proposed to Priya Raman on a boat on the lake.")
		moved := e.add(t, sAlice, "Daniel moved his pottery studio next to the harbour.")
		lunch := e.add(t, sAlice, "Lunch with Okonkwo at the harbour was lovely.")
		for i := range 8 {
			n := string(rune('a' + i))
			e.add(t, sAlice, "Work was busy again and I stayed late, note "+n)
			e.add(t, sAlice, "We eat pasta where the river bends, note "+n)
		}
		ents, err := es.ResolveEntities(ctx, tn, []string{"okonkwo"})
		require.NoError(t, err)
		require.Len(t, ents, 1)
		_, err = es.RenameEntity(ctx, tn, ents[0].ID, "Chidi", time.Now())
		require.NoError(t, err)

		res := e.find(t, sAlice, app.SearchRequest{Query: "Where does Priya Raman work?", Limit: 5})
		_, ok := hitOf(e.find(t, sAlice, app.SearchRequest{Query: "Where does Priya Raman work?", Limit: 5, Weights: &domain.Weights{Lexical: 1, Vector: 1}}), moved.ID)
		require.False(t, ok, "without the entity ranking the neighbour's memory is out of the top 5")
		h, ok := hitOf(res, moved.ID)
		require.True(t, ok, "a memory of Priya's neighbour Daniel: %v", resultIDs(res))
		require.Zero(t, h.LexicalRank)
		require.Positive(t, h.EntityRank)

		// "Chidi" is now Okonkwo's name; the lunch memory says Okonkwo.
		e.add(t, sAlice, "Chidi asked where the nice restaurant was.")
		res = e.find(t, sAlice, app.SearchRequest{Query: "what did Chidi eat and where?", Limit: 5})
		_, ok = hitOf(e.find(t, sAlice, app.SearchRequest{Query: "what did Chidi eat and where?", Limit: 5, Weights: &domain.Weights{Lexical: 1, Vector: 1}}), lunch.ID)
		require.False(t, ok, "without the entity ranking the lunch is out of the top 5")
		h, ok = hitOf(res, lunch.ID)
		require.True(t, ok, "a memory linked to the named entity by its old name: %v", resultIDs(res))
		require.Zero(t, h.LexicalRank)
		require.Positive(t, h.EntityRank)
		require.Empty(t, res.Degraded)
	})
}

// TestSearchEntityRankingStaysInTenant: bob's entity-linked memories never
// reach alice, even when her query names his entities and both have one
// of that name.
func TestSearchEntityRankingStaysInTenant(t *testing.T) {
	eachEntityBackend(t, func(t *testing.T, e *searchEnv, _ ports.EntityStore) {
		var bobs []domain.MemoryID
		for _, text := range []string{"Daniel proposed to Priya Raman on a boat.", "Daniel moved his pottery studio next to the harbour.", "Priya Raman is a pediatric dentist."} {
			bobs = append(bobs, e.add(t, sBob, text).ID)
		}
		e.add(t, sAlice, "Priya Raman said the new clinic opens in spring.")
		e.add(t, sAlice, "My sister bought a bike.")
		for _, q := range []string{"Where does Priya Raman work?", "What does Daniel do?", "pottery studio harbour"} {
			res := e.find(t, sAlice, app.SearchRequest{Query: q, Limit: 100})
			for _, h := range res.Results {
				require.Equal(t, domain.UserID("alice"), h.Memory.UserID, q)
				require.NotContains(t, bobs, h.Memory.ID, q)
			}
		}
	})
}

// TestSearchWithoutNamedEntityIsUnchanged: a query that names no entity
// of the tenant ranks exactly as search without the entity ranking.
func TestSearchWithoutNamedEntityIsUnchanged(t *testing.T) {
	st, text := openEntitySQLite(t)
	e := newEntitySearchEnv(t, st, text)
	e.add(t, sAlice, "Daniel proposed to Priya Raman on a boat on the lake.")
	e.add(t, sAlice, "I bought fresh bread and cheese at the market.")
	e.add(t, sAlice, "The market was closed on Monday because of the storm.")
	e.add(t, sAlice, "Lisbon was sunny and the pastries were great.")
	for _, q := range []string{"what did i buy at the market", "bread", "closed because of weather?"} {
		with := e.find(t, sAlice, app.SearchRequest{Query: q})
		without := e.find(t, sAlice, app.SearchRequest{Query: q, Weights: &domain.Weights{Lexical: 1, Vector: 1}})
		require.NotEmpty(t, with.Results, q)
		require.Equal(t, len(without.Results), len(with.Results), q)
		for i := range with.Results {
			a, b := with.Results[i], without.Results[i]
			require.Equal(t, b.Memory.ID, a.Memory.ID, q)
			require.Equal(t, b.Score, a.Score, q)
			require.Zero(t, a.EntityRank, q)
		}
	}
	// Naming one changes the ranking's inputs: the entity ranking ran.
	res := e.find(t, sAlice, app.SearchRequest{Query: "Who is Priya Raman engaged to?"})
	require.Positive(t, res.Results[0].EntityRank)
}

// TestTuneFusionGridsTheEntityWeight: engram tune-fusion replays the
// entity ranking and finds that a memory only it lifts needs its weight.
func TestTuneFusionGridsTheEntityWeight(t *testing.T) {
	ctx := context.Background()
	st, text := openEntitySQLite(t)
	e := newEntitySearchEnv(t, st, text)
	s := st.(*sqlitestore.Store)
	xs := app.NewExperimentSearch(e.search, nil, app.NewFeedbackService(app.FeedbackDeps{Feedback: s, Queries: s, Experiments: s}))
	e.add(t, sAlice, "Priya Raman said the new clinic opens in spring.")
	e.add(t, sAlice, "Daniel proposed to Priya Raman on a boat on the lake.")
	moved := e.add(t, sAlice, "Daniel moved his pottery studio next to the harbour.")
	for i := range 8 {
		e.add(t, sAlice, "Work was busy again and I stayed late, note "+string(rune('a'+i)))
	}
	res, err := xs.Search(ctx, sAlice, app.SearchRequest{Query: "Where does Priya Raman work?", Limit: 5}, "")
	require.NoError(t, err)
	_, ok := hitOf(res, moved.ID)
	require.True(t, ok)
	_, err = app.NewFeedbackService(app.FeedbackDeps{Feedback: s, Queries: s, Experiments: s}).Submit(ctx, sAlice,
		[]app.FeedbackInput{{QueryID: res.QueryID, MemoryID: string(moved.ID), Outcome: "accepted"}})
	require.NoError(t, err)

	rep, err := app.NewFusionTuner(e.search, s, s).Tune(ctx, app.TuneInput{Org: sAlice.OrgID, TopK: 5, Ks: []int{60},
		Weights: []float64{1}, EntityWeights: []float64{0, 1.5}, Current: domain.SearchParams{Weights: domain.Weights{Lexical: 1, Vector: 1}}})
	require.NoError(t, err)
	require.Equal(t, 1, rep.Replayed)
	require.Len(t, rep.Points, 2)
	require.Zero(t, rep.Points[0].Hits, "without the entity ranking: out of the top 5")
	require.Equal(t, 1, rep.Points[1].Hits)
	require.Zero(t, rep.Current.Hits)
	require.Equal(t, domain.Weights{Lexical: 1, Vector: 1, Entity: 1.5}, rep.Best.Weights)
}
