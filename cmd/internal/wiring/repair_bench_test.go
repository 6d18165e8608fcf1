package wiring

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/cmd/internal/config"
	"github.com/engram-memory/engram/domain"
)

// BenchmarkDriftRepairPass measures one pass of the continuous drift
// repair (Indexer.KeepRepaired runs one every 5 s while serving) over a
// store holding n memories (default 100,000; ENGRAM_BENCH_REPAIR_N) spread
// over orgs orgs (default 1,000; ENGRAM_BENCH_REPAIR_ORGS), text index in
// step: the steady-state cost, one drift step per org finding nothing. The
// seeding and the first pass (which indexes everything) are not timed.
//
//	go test -run '^$' -bench DriftRepairPass -benchtime 5x ./cmd/internal/wiring/
func BenchmarkDriftRepairPass(b *testing.B) {
	n, orgs := benchEnvInt("ENGRAM_BENCH_REPAIR_N", 100_000), benchEnvInt("ENGRAM_BENCH_REPAIR_ORGS", 1_000)
	b.Run("sqlite", func(b *testing.B) {
		benchRepair(b, map[string]string{"ENGRAM_DATA_DIR": b.TempDir()}, n, orgs)
	})
	b.Run("postgres", func(b *testing.B) {
		benchRepair(b, map[string]string{"ENGRAM_DATA_DIR": b.TempDir(), "ENGRAM_POSTGRES_URL": benchSchema(b)}, n, orgs)
	})
}

func benchEnvInt(key string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(key)); err == nil && v > 0 {
		return v
	}
	return def
}

func benchRepair(b *testing.B, env map[string]string, n, orgs int) {
	ctx := context.Background()
	cfg, err := config.Load(nil, func(k string) string { return env[k] })
	require.NoError(b, err)
	st, err := OpenStore(ctx, cfg, quiet)
	require.NoError(b, err)
	b.Cleanup(func() { _ = st.Close() })
	per := max(n/orgs, 1)
	for o := range orgs {
		t := domain.Tenant{OrgID: domain.OrgID(fmt.Sprintf("bench-org-%04d", o)), UserID: "u"}
		ms := make([]domain.Memory, per)
		for i := range ms {
			m, err := domain.NewMemory(t, "bench", fmt.Sprintf("org %d memory %d: the user prefers topic %d in the morning", o, i, (o*per+i)%97), nil, nil, time.Now())
			require.NoError(b, err)
			ms[i] = m
		}
		_, err := st.Memories.CreateBatch(ctx, t, ms)
		require.NoError(b, err)
	}
	x := app.NewIndexer(app.IndexerDeps{Memories: st.Memories, Scanner: st.Scanner, Text: st.Text, Drift: st.Drift})
	first, err := x.Repair(ctx)
	require.NoError(b, err)
	b.Logf("%s: %d memories in %d orgs; the first pass re-synced %d", st.Name, per*orgs, orgs, first)
	b.ResetTimer()
	for range b.N {
		got, err := x.Repair(ctx)
		require.NoError(b, err)
		require.Zero(b, got, "a store and index in step have no drift")
	}
}
