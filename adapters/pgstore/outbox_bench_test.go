package pgstore_test

import (
	"context"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/pgstore"
	"github.com/engram-memory/engram/domain"
	pgmigrations "github.com/engram-memory/engram/migrations/postgres"
)

// BenchmarkOutboxCost measures what the index outbox adds to writes, side
// by side in one run: three stores written alike, one without external
// indexes registered (none), one with the fleet profile's two registered
// and migration 0101's trigger put back (before: an upserted outbox row per
// index and memory), and one with both registered as the store is now
// (after: one plain row per change appended to index_outbox_pending). Each
// iteration writes to all three, rotating which goes first, so load on the
// machine hits them alike. It reports the median single-write latency and
// the batch ingest rate of each, and each outbox's overhead in percent.
func BenchmarkOutboxCost(b *testing.B) {
	ctx := context.Background()
	ten := domain.Tenant{OrgID: "bench-org", UserID: "u1"}
	open := func(b *testing.B, outbox, before bool) *pgstore.Store {
		ownerURL, appURL := testSchema(b)
		s, err := pgstore.Open(ctx, pgstore.Config{URL: appURL, MaxOpenConns: 8})
		require.NoError(b, err)
		b.Cleanup(func() { _ = s.Close() })
		if outbox {
			require.NoError(b, s.Outbox().Register(ctx, "qdrant"))
			require.NoError(b, s.Outbox().Register(ctx, "elasticsearch"))
		}
		if before {
			db, err := sqlx.Open("postgres", ownerURL)
			require.NoError(b, err)
			defer db.Close()
			_, err = db.ExecContext(ctx, triggerOf0101(b))
			require.NoError(b, err)
		}
		return s
	}
	stores := func(b *testing.B) [3]*pgstore.Store {
		return [3]*pgstore.Store{open(b, false, false), open(b, true, true), open(b, true, false)}
	}
	b.Run("write", func(b *testing.B) {
		ss := stores(b)
		ms := make([]domain.Memory, b.N)
		for i := range ms {
			ms[i] = benchMemory(b, ten, i)
		}
		var lat [3][]time.Duration
		b.ResetTimer()
		for i := range b.N {
			for k := range 3 {
				j := (i + k) % 3
				start := time.Now()
				if _, _, err := ss[j].Create(ctx, ten, ms[i]); err != nil {
					b.Fatal(err)
				}
				lat[j] = append(lat[j], time.Since(start))
			}
		}
		b.StopTimer()
		p50 := func(d []time.Duration) float64 { slices.Sort(d); return float64(d[len(d)/2].Microseconds()) }
		reportOverhead(b, "µs/write", p50(lat[0]), p50(lat[1]), p50(lat[2]), false)
	})
	b.Run("batch1k", func(b *testing.B) {
		const batch = 1000
		ss := stores(b)
		var total [3]time.Duration
		for i := range b.N {
			b.StopTimer()
			ms := make([]domain.Memory, batch)
			for k := range ms {
				ms[k] = benchMemory(b, ten, i*batch+k)
			}
			b.StartTimer()
			for k := range 3 {
				j := (i + k) % 3
				start := time.Now()
				n, err := ss[j].CreateBatch(ctx, ten, ms)
				total[j] += time.Since(start)
				if err != nil || n != batch {
					b.Fatalf("created %d of %d: %v", n, batch, err)
				}
			}
		}
		rate := func(d time.Duration) float64 { return float64(batch*b.N) / d.Seconds() }
		reportOverhead(b, "memories/s", rate(total[0]), rate(total[1]), rate(total[2]), true)
	})
}

// triggerOf0101 is the outbox trigger function of migration 0101, as
// migration 0181's down restores it.
func triggerOf0101(b *testing.B) string {
	down, err := fs.ReadFile(pgmigrations.FS, "0181_outbox_pending.down.sql")
	require.NoError(b, err)
	text := string(down)
	i := strings.Index(text, "CREATE OR REPLACE FUNCTION engram_outbox_record()")
	require.GreaterOrEqual(b, i, 0)
	j := strings.Index(text[i:], "\n$$;")
	require.Positive(b, j)
	return text[i : i+j+len("\n$$;")]
}

// reportOverhead reports the three figures and each outbox's cost in
// percent (of latency, or of throughput when higherIsBetter).
func reportOverhead(b *testing.B, unit string, none, before, after float64, higherIsBetter bool) {
	b.ReportMetric(none, "none-"+unit)
	b.ReportMetric(before, "before-"+unit)
	b.ReportMetric(after, "after-"+unit)
	cost := func(with float64) float64 {
		if higherIsBetter {
			return (1 - with/none) * 100
		}
		return (with/none - 1) * 100
	}
	b.ReportMetric(cost(before), "before-cost-%")
	b.ReportMetric(cost(after), "after-cost-%")
}
