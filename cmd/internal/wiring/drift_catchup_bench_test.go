package wiring

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/cmd/internal/config"
	"github.com/engram-memory/engram/domain"
)

// BenchmarkDriftCatchUp measures how long the text-index drift repair
// (Indexer.Repair, what KeepRepaired runs) takes to catch up on n memories
// (default 20,000; ENGRAM_BENCH_CATCHUP_N) of one org and users users
// (default 10; ENGRAM_BENCH_CATCHUP_USERS) written straight into the store
// (CreateBatch, as seeds and `engram import` do), none of them indexed.
// Each iteration seeds a fresh store, untimed; run it with -benchtime 1x.
// A repair that fails (on PostgreSQL a statement past the 5 s statement
// timeout) is logged with its time and reported as failed=1. The pass
// after it, finding nothing, is logged too (untimed by the benchmark).
//
//	ENGRAM_BENCH_CATCHUP_N=100000 go test -run '^$' -bench DriftCatchUp -benchtime 1x ./cmd/internal/wiring/
func BenchmarkDriftCatchUp(b *testing.B) {
	n, users := benchEnvInt("ENGRAM_BENCH_CATCHUP_N", 20_000), benchEnvInt("ENGRAM_BENCH_CATCHUP_USERS", 10)
	b.Run("sqlite", func(b *testing.B) {
		benchCatchUp(b, func() map[string]string { return map[string]string{"ENGRAM_DATA_DIR": b.TempDir()} }, n, users)
	})
	b.Run("postgres", func(b *testing.B) {
		benchCatchUp(b, func() map[string]string {
			return map[string]string{"ENGRAM_DATA_DIR": b.TempDir(), "ENGRAM_POSTGRES_URL": benchSchema(b)}
		}, n, users)
	})
}

func benchCatchUp(b *testing.B, newEnv func() map[string]string, n, users int) {
	ctx := context.Background()
	failed := 0
	for range b.N {
		b.StopTimer()
		env := newEnv()
		cfg, err := config.Load(nil, func(k string) string { return env[k] })
		require.NoError(b, err)
		st, err := OpenStore(ctx, cfg, quiet)
		require.NoError(b, err)
		for done := 0; done < n; {
			t := domain.Tenant{OrgID: "bench-org", UserID: domain.UserID(fmt.Sprintf("user-%03d", (done/1000)%users))}
			ms := make([]domain.Memory, 0, 1000)
			for ; len(ms) < 1000 && done < n; done++ {
				m, err := domain.NewMemory(t, "bench", fmt.Sprintf("memory %d: the user prefers topic %d in the morning", done, done%97), nil, nil, time.Now())
				require.NoError(b, err)
				ms = append(ms, m)
			}
			_, err := st.Memories.CreateBatch(ctx, t, ms)
			require.NoError(b, err)
		}
		x := app.NewIndexer(app.IndexerDeps{Memories: st.Memories, Scanner: st.Scanner, Text: st.Text, Drift: st.Drift})
		b.StartTimer()
		start := time.Now()
		got, err := x.Repair(ctx)
		took := time.Since(start)
		b.StopTimer()
		if err != nil {
			failed++
			b.Logf("%s: repair failed after %s with %d of %d re-synced: %v", st.Name, took.Round(time.Millisecond), got, n, err)
		} else {
			require.Equal(b, n, got, "every memory re-synced once")
			b.Logf("%s: %d memories (%d users) caught up in %s", st.Name, n, users, took.Round(time.Millisecond))
		}
		// The steady state after it: a pass that finds nothing, what every
		// full repair pass costs this org from then on.
		start = time.Now()
		got, err = x.Repair(ctx)
		b.Logf("%s: then a pass finding nothing took %s (re-synced %d, err %v)", st.Name, time.Since(start).Round(time.Millisecond), got, err)
		require.NoError(b, st.Close())
	}
	b.ReportMetric(float64(failed), "failed")
}
