package app_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/adapters/localembed"
	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

// BenchmarkExperimentSearchOverhead compares a bare hybrid search with the
// same search run under a running experiment (assignment read, variant
// parameters, query log write), on the embedded SQLite profile:
//
//	go test -run '^$' -bench ExperimentSearchOverhead ./app/
func BenchmarkExperimentSearchOverhead(b *testing.B) {
	ctx := context.Background()
	e := newFeedbackEnvTB(b)
	u := user("bench-user")
	for i := range 200 {
		_, _, err := e.mem.Add(ctx, u, app.AddInput{Text: fmt.Sprintf("note %d about tea, bicycles and the city of Lyon %d", i, i*7)})
		require.NoError(b, err)
	}
	// Both variants keep the default limit so the searches do equal work.
	x, err := e.exps.Create(ctx, operator, app.ExperimentInput{Name: "bench", Variants: []domain.Variant{
		{Name: "control", Weight: 1}, {Name: "k30", Weight: 1, Params: domain.SearchParams{RRFK: 30}},
	}})
	require.NoError(b, err)
	_, err = e.exps.Act(ctx, operator, x.ID, domain.ActionStart, "")
	require.NoError(b, err)
	req := app.SearchRequest{Query: "tea in Lyon"}
	b.Run("bare", func(b *testing.B) {
		for range b.N {
			if _, err := e.search.Search(ctx, u, req, ""); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("experiment", func(b *testing.B) {
		for range b.N {
			if _, err := e.xs.Search(ctx, u, req, ""); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// benchEnv is the embedded profile with the feedback loop, for benchmarks.
type benchEnv struct {
	mem    *app.MemoryService
	search *app.SearchService
	exps   *app.ExperimentService
	xs     *app.ExperimentSearch
}

func newFeedbackEnvTB(b *testing.B) *benchEnv {
	ctx := context.Background()
	st, err := sqlitestore.Open(ctx, sqlitestore.Config{Path: filepath.Join(b.TempDir(), "engram.db")})
	require.NoError(b, err)
	b.Cleanup(func() { _ = st.Close() })
	vectors := inproc.NewVectorIndex()
	embed, err := localembed.New(localembed.Options{})
	require.NoError(b, err)
	indexer := app.NewIndexer(app.IndexerDeps{Memories: st, Scanner: st, Text: st.TextIndex(), Vectors: vectors, Embedder: embed})
	require.NoError(b, indexer.Bind(ctx))
	e := &benchEnv{mem: app.NewMemoryService(app.MemoryDeps{Memories: st, Apps: st, Access: st, Observers: []app.ChangeObserver{indexer}})}
	b.Cleanup(e.mem.Close)
	e.search = app.NewSearchService(app.SearchDeps{Memories: st, Text: st.TextIndex(), Vectors: vectors, Embedder: embed, Reads: e.mem})
	fb := app.NewFeedbackService(app.FeedbackDeps{Feedback: st, Queries: st, Experiments: st})
	e.exps = app.NewExperimentService(app.ExperimentDeps{Experiments: st, Feedback: st, Queries: st})
	e.xs = app.NewExperimentSearch(e.search, e.exps, fb)
	return e
}
