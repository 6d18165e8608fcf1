package app_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/adapters/localembed"
	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

// BenchmarkVectorCachePageIn is what one miss costs: a tenant of 1,000
// memories paged into an empty cache (listed from SQLite, embedded again
// with the local embedder, indexed), with the share spent embedding. The
// store keeps no vectors, so a page-in cannot skip the embedder.
//
//	go test -run '^$' -bench VectorCachePageIn -benchtime 5x ./app/
func BenchmarkVectorCachePageIn(b *testing.B) {
	ctx := context.Background()
	st, err := sqlitestore.Open(ctx, sqlitestore.Config{Path: filepath.Join(b.TempDir(), "engram.db")})
	require.NoError(b, err)
	b.Cleanup(func() { _ = st.Close() })
	svc := app.NewMemoryService(app.MemoryDeps{Memories: st, Apps: st, Access: st})
	b.Cleanup(svc.Close)
	p := domain.Principal{OrgID: "acme", UserID: "bench", Scopes: domain.DefaultUserScopes, ClientID: "bench"}
	const n = 1000
	for i := range n {
		_, _, err := svc.Add(ctx, p, app.AddInput{Text: fmt.Sprintf("note %d: likes %s and %s, item %d", i, cacheTopics[i%len(cacheTopics)], cacheTopics[(i*7)%len(cacheTopics)], i*31)})
		require.NoError(b, err)
	}
	emb, err := localembed.New(localembed.Options{})
	require.NoError(b, err)
	q, err := emb.Embed(ctx, []string{"likes tea"})
	require.NoError(b, err)
	var total, embed time.Duration
	pages := 0
	for b.Loop() {
		c := app.NewVectorCache(app.VectorCacheDeps{Index: inproc.NewVectorIndex(), Memories: st, Embedder: emb, MaxBytes: 1 << 30})
		require.NoError(b, app.NewIndexer(app.IndexerDeps{Memories: st, Vectors: c, Embedder: emb}).Bind(ctx))
		hits, err := c.Search(ctx, p.Tenant(), q[0], 10, domain.SearchFilter{})
		require.NoError(b, err)
		require.NotEmpty(b, hits)
		s := c.Stats()
		require.EqualValues(b, n, s.PagedIn)
		total, embed, pages = total+s.PageInTime, embed+s.EmbedTime, pages+1
	}
	b.ReportMetric(float64(total.Microseconds())/float64(pages*n), "µs/memory")
	b.ReportMetric(100*embed.Seconds()/total.Seconds(), "%embedding")
}
