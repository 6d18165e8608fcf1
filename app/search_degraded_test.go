package app_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/adapters/openaiembed"
	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

// flakyEmbedServer speaks the embeddings protocol while up and answers 503
// while down, like a model server being restarted.
func flakyEmbedServer(t *testing.T, up *atomic.Bool) *openaiembed.Embedder {
	t.Helper()
	local := newSearchEnv(t).embed // the vectors themselves come from the local embedder
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !up.Load() {
			http.Error(w, "restarting", http.StatusServiceUnavailable)
			return
		}
		var req struct {
			Input []string `json:"input"`
		}
		require.NoError(t, jsonDecode(r, &req))
		vs, _ := local.Embed(r.Context(), req.Input)
		type item struct {
			Index     int       `json:"index"`
			Embedding []float32 `json:"embedding"`
		}
		out := struct {
			Data []item `json:"data"`
		}{}
		for i, v := range vs {
			out.Data = append(out.Data, item{Index: i, Embedding: v})
		}
		jsonEncode(w, out)
	}))
	t.Cleanup(ts.Close)
	e, err := openaiembed.New(openaiembed.Config{BaseURL: ts.URL + "/v1", Model: "remote", Dimensions: local.Dimension(),
		MaxRetries: -1, Timeout: time.Second})
	require.NoError(t, err)
	return e
}

func TestSearchDegradesWhenVectorSideIsDown(t *testing.T) {
	ctx := context.Background()
	var up atomic.Bool
	up.Store(true)
	emb := flakyEmbedServer(t, &up)
	st, err := sqlitestore.Open(ctx, sqlitestore.Config{Path: filepath.Join(t.TempDir(), "e.db")})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	vectors := inproc.NewVectorIndex()
	ix := app.NewIndexer(app.IndexerDeps{Memories: st, Text: st.TextIndex(), Vectors: vectors, Embedder: emb})
	require.NoError(t, ix.Bind(ctx))
	mem := app.NewMemoryService(app.MemoryDeps{Memories: st, Apps: st, Access: st, Observers: []app.ChangeObserver{ix}})
	s := app.NewSearchService(app.SearchDeps{Memories: st, Text: st.TextIndex(), Vectors: vectors, Embedder: emb})

	m1, _, err := mem.Add(ctx, sAlice, app.AddInput{Text: "Sailing on Lake Geneva in July"})
	require.NoError(t, err)
	up.Store(false)
	m2, _, err := mem.Add(ctx, sAlice, app.AddInput{Text: "Sailing lessons booked for August"})
	require.NoError(t, err, "an index failure never fails the write")
	require.Equal(t, 1, ix.Pending(), "the vector side of m2 is pending")

	res, err := s.Search(ctx, sAlice, app.SearchRequest{Query: "sailing"}, "")
	require.NoError(t, err)
	require.Equal(t, []string{"vector"}, res.Degraded)
	require.ElementsMatch(t, []domain.MemoryID{m1.ID, m2.ID}, resultIDs(res), "lexical search still finds both")
	_, err = s.Search(ctx, sAlice, app.SearchRequest{Query: "sailing", Mode: domain.SearchVector}, "")
	require.ErrorIs(t, err, domain.ErrUnavailable, "an explicit vector search does not silently change mode")

	up.Store(true)
	require.NoError(t, ix.RetryPending(ctx))
	require.Zero(t, ix.Pending())
	res, err = s.Search(ctx, sAlice, app.SearchRequest{Query: "sailing lessons august", Mode: domain.SearchVector}, "")
	require.NoError(t, err)
	require.Empty(t, res.Degraded)
	require.Equal(t, m2.ID, res.Results[0].Memory.ID, "the retried memory reached the vector index")
}

func TestSearchDegradesWhenLexicalSideIsDown(t *testing.T) {
	ctx := context.Background()
	e := newSearchEnv(t)
	m := e.add(t, sAlice, "Kayaking trip to Norway")
	broken, err := sqlitestore.Open(ctx, sqlitestore.Config{Path: filepath.Join(t.TempDir(), "broken.db")})
	require.NoError(t, err)
	require.NoError(t, broken.Close())
	s := app.NewSearchService(app.SearchDeps{Memories: e.store, Text: broken.TextIndex(), Vectors: e.vectors, Embedder: e.embed})
	res, err := s.Search(ctx, sAlice, app.SearchRequest{Query: "kayaking norway"}, "")
	require.NoError(t, err)
	require.Equal(t, []string{"lexical"}, res.Degraded)
	require.Equal(t, m.ID, res.Results[0].Memory.ID)
	require.Zero(t, res.Results[0].LexicalRank)
	require.InDelta(t, 1, res.Results[0].Score, 1e-9, "scores are normalised over the rankings that ran")
}
