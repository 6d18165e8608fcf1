package app_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/adapters/localembed"
	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

// BenchmarkTimeToReady measures a serving process's start on SQLite: load
// the in-process vector index from the store and heal the text index, the
// old way (a vector pass, then a drift pass over the store) and the one-pass
// way (Indexer.Load), side by side on one store of ENGRAM_BENCH_READY_N
// memories (default 20,000) with an up-to-date text index.
func BenchmarkTimeToReady(b *testing.B) {
	n := 20_000
	if v, err := strconv.Atoi(os.Getenv("ENGRAM_BENCH_READY_N")); err == nil && v > 0 {
		n = v
	}
	ctx := context.Background()
	st, err := sqlitestore.Open(ctx, sqlitestore.Config{Path: filepath.Join(b.TempDir(), "engram.db")})
	require.NoError(b, err)
	defer st.Close()
	emb, err := localembed.New(localembed.Options{})
	require.NoError(b, err)
	for start := 0; start < n; start += 10_000 {
		ms := make([]domain.Memory, 0, 10_000)
		for i := start; i < min(n, start+10_000); i++ {
			ten := domain.Tenant{OrgID: domain.OrgID(fmt.Sprintf("org-%d", i%10)), UserID: domain.UserID(fmt.Sprintf("u%d", i%100))}
			m, err := domain.NewMemory(ten, "bench", fmt.Sprintf("memory %d: prefers topic %d in the morning and tea %d", i, i%97, i%13), nil, nil, time.Now())
			require.NoError(b, err)
			ms = append(ms, m)
		}
		byTenant := map[domain.Tenant][]domain.Memory{}
		for _, m := range ms {
			byTenant[m.Tenant()] = append(byTenant[m.Tenant()], m)
		}
		for t, group := range byTenant {
			_, err := st.CreateBatch(ctx, t, group)
			require.NoError(b, err)
		}
	}
	text := st.TextIndex()
	seed := app.NewIndexer(app.IndexerDeps{Memories: st, Scanner: st, Text: text})
	_, err = seed.Reindex(ctx, app.ReindexOptions{Text: true})
	require.NoError(b, err)

	newIndexer := func() *app.Indexer {
		ix := app.NewIndexer(app.IndexerDeps{Memories: st, Scanner: st, Text: text, Drift: text, Vectors: inproc.NewVectorIndex(), Embedder: emb})
		require.NoError(b, ix.Bind(ctx))
		return ix
	}
	var twoPass, onePass time.Duration
	b.ResetTimer()
	for i := range b.N {
		for k := range 2 {
			ix := newIndexer()
			start := time.Now()
			if (i+k)%2 == 0 {
				loaded, err := ix.Reindex(ctx, app.ReindexOptions{Vectors: true})
				require.NoError(b, err)
				require.Equal(b, n, loaded)
				_, err = ix.Repair(ctx)
				require.NoError(b, err)
				twoPass += time.Since(start)
			} else {
				res, err := ix.Load(ctx, true)
				require.NoError(b, err)
				require.NoError(b, res.RepairErr)
				require.Equal(b, n, res.Vectors)
				onePass += time.Since(start)
			}
		}
	}
	b.ReportMetric(twoPass.Seconds()/float64(b.N), "two-pass-s")
	b.ReportMetric(onePass.Seconds()/float64(b.N), "one-pass-s")
	b.ReportMetric(float64(n), "memories")
}
