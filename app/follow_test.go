package app_test

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/adapters/localembed"
	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// countingEmbedder counts the texts it embeds: indexing a memory twice
// would embed it twice.
type countingEmbedder struct {
	ports.Embedder
	n atomic.Int64
}

func (c *countingEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	c.n.Add(int64(len(texts)))
	return c.Embedder.Embed(ctx, texts)
}

// TestChangeFollowerIndexesOtherWritersOnceAndOwnWritesNotAgain: two stores
// on one SQLite file stand for two processes. Process A follows the feed;
// what B writes reaches A's in-process vector index through Poll, and what
// A writes is indexed once, at the write, not again from the feed.
func TestChangeFollowerIndexesOtherWritersOnceAndOwnWritesNotAgain(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "engram.db")
	a, err := sqlitestore.Open(ctx, sqlitestore.Config{Path: path})
	require.NoError(t, err)
	defer a.Close()
	b, err := sqlitestore.Open(ctx, sqlitestore.Config{Path: path})
	require.NoError(t, err)
	defer b.Close()
	feed, err := a.Feed(ctx)
	require.NoError(t, err)
	defer feed.Close()

	local, err := localembed.New(localembed.Options{})
	require.NoError(t, err)
	emb := &countingEmbedder{Embedder: local}
	vectors := inproc.NewVectorIndex()
	ix := app.NewIndexer(app.IndexerDeps{Memories: a, Scanner: a, Text: a.TextIndex(), Vectors: vectors, Embedder: emb})
	require.NoError(t, ix.Bind(ctx))
	head, err := feed.Head(ctx)
	require.NoError(t, err)
	f := app.NewChangeFollower(feed, ix, head, nil)
	memA := app.NewMemoryService(app.MemoryDeps{Memories: a, Apps: a, Access: a, Observers: []app.ChangeObserver{f}})
	defer memA.Close()
	memB := app.NewMemoryService(app.MemoryDeps{Memories: b, Apps: b, Access: b})
	defer memB.Close()
	search := app.NewSearchService(app.SearchDeps{Memories: a, Vectors: vectors, Embedder: emb})
	p := domain.Principal{OrgID: "org", UserID: "user", Scopes: domain.DefaultUserScopes, ClientID: "test"}

	own, _, err := memA.Add(ctx, p, app.AddInput{Text: "the red bicycle has a flat tyre"})
	require.NoError(t, err)
	embedded := emb.n.Load()
	n, err := f.Poll(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "A's own write is not indexed again from the feed")
	require.Equal(t, embedded, emb.n.Load())

	theirs, _, err := memB.Add(ctx, p, app.AddInput{Text: "grandmother's lemon cake recipe"})
	require.NoError(t, err)
	res, err := search.Search(ctx, p, app.SearchRequest{Query: "lemon cake", Mode: domain.SearchVector}, "test")
	require.NoError(t, err)
	for _, h := range res.Results {
		require.NotEqual(t, theirs.ID, h.Memory.ID, "not indexed before Poll")
	}
	n, err = f.Poll(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	res, err = search.Search(ctx, p, app.SearchRequest{Query: "lemon cake", Mode: domain.SearchVector}, "test")
	require.NoError(t, err)
	require.NotEmpty(t, res.Results)
	require.Equal(t, theirs.ID, res.Results[0].Memory.ID)

	// B deletes A's memory: A's index drops it.
	require.NoError(t, memB.Delete(ctx, p, []domain.MemoryID{own.ID}, "test"))
	_, err = f.Poll(ctx)
	require.NoError(t, err)
	res, err = search.Search(ctx, p, app.SearchRequest{Query: "red bicycle tyre", Mode: domain.SearchVector}, "test")
	require.NoError(t, err)
	for _, h := range res.Results {
		require.NotEqual(t, own.ID, h.Memory.ID)
	}
	n, err = f.Poll(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "an idle feed yields nothing")
}
