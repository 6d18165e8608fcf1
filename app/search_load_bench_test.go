package app_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
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
//
// Each iteration starts both ways, alternating which goes first (the
// two-pass start first in even iterations, or in odd ones with
// ENGRAM_BENCH_READY_ORDER=one-first), so -benchtime 2x runs each both
// first and second. Seeding 1M memories takes longer than the starts:
// ENGRAM_BENCH_READY_DB names a store file kept between runs, seeded on the
// first run (a "<file>.seeded" file beside it records how many memories it
// holds, written only once the text index is complete) and used as it is by
// the runs after. Each start's time is also printed to stderr as it ends: a
// start at 1M takes minutes, and a run cut short should still say what it
// measured. Each start runs under the pprof label start=two-pass or
// start=one-pass (inherited by its workers), so one -cpuprofile of the run
// splits by -tagfocus.
func BenchmarkTimeToReady(b *testing.B) {
	n := 20_000
	if v, err := strconv.Atoi(os.Getenv("ENGRAM_BENCH_READY_N")); err == nil && v > 0 {
		n = v
	}
	ctx := context.Background()
	path := os.Getenv("ENGRAM_BENCH_READY_DB")
	if path == "" {
		path = filepath.Join(b.TempDir(), "engram.db")
	}
	st, err := sqlitestore.Open(ctx, sqlitestore.Config{Path: path})
	require.NoError(b, err)
	defer st.Close()
	emb, err := localembed.New(localembed.Options{})
	require.NoError(b, err)
	text := st.TextIndex()
	marker := path + ".seeded"
	if raw, err := os.ReadFile(marker); err == nil {
		held, err := strconv.Atoi(strings.TrimSpace(string(raw)))
		require.NoError(b, err, marker)
		require.Equal(b, n, held, "%s holds a store seeded with another ENGRAM_BENCH_READY_N", path)
	} else {
		seedTimeToReady(b, st, n)
		seed := app.NewIndexer(app.IndexerDeps{Memories: st, Scanner: st, Text: text})
		_, err = seed.Reindex(ctx, app.ReindexOptions{Text: true})
		require.NoError(b, err)
		require.NoError(b, os.WriteFile(marker, []byte(strconv.Itoa(n)+"\n"), 0o600))
	}

	newIndexer := func() *app.Indexer {
		ix := app.NewIndexer(app.IndexerDeps{Memories: st, Scanner: st, Text: text, Drift: text, Vectors: inproc.NewVectorIndex(), Embedder: emb})
		require.NoError(b, ix.Bind(ctx))
		return ix
	}
	flip := 0
	if os.Getenv("ENGRAM_BENCH_READY_ORDER") == "one-first" {
		flip = 1
	}
	var twoPass, onePass time.Duration
	iters := 0
	for b.Loop() {
		for k := range 2 {
			ix := newIndexer()
			start := time.Now()
			if (iters+k+flip)%2 == 0 {
				pprof.Do(ctx, pprof.Labels("start", "two-pass"), func(ctx context.Context) {
					loaded, err := ix.Reindex(ctx, app.ReindexOptions{Vectors: true})
					require.NoError(b, err)
					require.Equal(b, n, loaded)
					_, err = ix.Repair(ctx)
					require.NoError(b, err)
				})
				took := time.Since(start)
				twoPass += took
				fmt.Fprintf(os.Stderr, "time to ready, %d memories: two passes %.1f s (iteration %d, start %d)\n", n, took.Seconds(), iters, k+1)
			} else {
				pprof.Do(ctx, pprof.Labels("start", "one-pass"), func(ctx context.Context) {
					res, err := ix.Load(ctx, true)
					require.NoError(b, err)
					require.NoError(b, res.RepairErr)
					require.Equal(b, n, res.Vectors)
				})
				took := time.Since(start)
				onePass += took
				fmt.Fprintf(os.Stderr, "time to ready, %d memories: one pass %.1f s (iteration %d, start %d)\n", n, took.Seconds(), iters, k+1)
			}
		}
		iters++
	}
	b.ReportMetric(twoPass.Seconds()/float64(iters), "two-pass-s")
	b.ReportMetric(onePass.Seconds()/float64(iters), "one-pass-s")
	b.ReportMetric(float64(n), "memories")
}

// seedTimeToReady writes n memories over 10 orgs and 100 users, in batches
// of 10,000 per tenant group.
func seedTimeToReady(b *testing.B, st *sqlitestore.Store, n int) {
	ctx := context.Background()
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
}
