package sqlitestore_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/sqlitestore"
)

// BenchmarkOutboxCost measures what the index outbox adds to writes, side
// by side in one run: two stores, one with the fleet profile's two external
// indexes registered (every change writes two outbox rows) and one without;
// each iteration writes to both, alternating which goes first, so load on
// the machine hits both alike. It reports the median single-write latency
// and the batch ingest rate of each, and the outbox's overhead in percent.
func BenchmarkOutboxCost(b *testing.B) {
	ctx := context.Background()
	open := func(b *testing.B, outbox bool) *sqlitestore.Store {
		s := openTemp(b)
		if outbox {
			require.NoError(b, s.Outbox().Register(ctx, "qdrant"))
			require.NoError(b, s.Outbox().Register(ctx, "elasticsearch"))
		}
		return s
	}
	b.Run("write", func(b *testing.B) {
		plain, boxed := open(b, false), open(b, true)
		ms := benchMemories(b, 0, b.N)
		var without, with []time.Duration
		b.ResetTimer()
		for i := range b.N {
			for k := range 2 {
				s, lat := plain, &without
				if (i+k)%2 == 1 {
					s, lat = boxed, &with
				}
				start := time.Now()
				if _, _, err := s.Create(ctx, benchTenant, ms[i]); err != nil {
					b.Fatal(err)
				}
				*lat = append(*lat, time.Since(start))
			}
		}
		b.StopTimer()
		p50 := func(d []time.Duration) float64 { slices.Sort(d); return float64(d[len(d)/2].Microseconds()) }
		reportOverhead(b, "µs/write", p50(without), p50(with), false)
	})
	b.Run("batch1k", func(b *testing.B) {
		const batch = 1000
		plain, boxed := open(b, false), open(b, true)
		var without, with time.Duration
		for i := range b.N {
			b.StopTimer()
			ms := benchMemories(b, i*batch, batch)
			b.StartTimer()
			for k := range 2 {
				s, total := plain, &without
				if (i+k)%2 == 1 {
					s, total = boxed, &with
				}
				start := time.Now()
				n, err := s.CreateBatch(ctx, benchTenant, ms)
				*total += time.Since(start)
				if err != nil || n != batch {
					b.Fatalf("created %d of %d: %v", n, batch, err)
				}
			}
		}
		rate := func(d time.Duration) float64 { return float64(batch*b.N) / d.Seconds() }
		reportOverhead(b, "memories/s", rate(without), rate(with), true)
	})
}

// reportOverhead reports both figures and the outbox's cost in percent
// (of latency, or of throughput when higherIsBetter).
func reportOverhead(b *testing.B, unit string, without, with float64, higherIsBetter bool) {
	b.ReportMetric(without, "without-"+unit)
	b.ReportMetric(with, "with-"+unit)
	cost := (with/without - 1) * 100
	if higherIsBetter {
		cost = (1 - with/without) * 100
	}
	b.ReportMetric(cost, "outbox-cost-%")
}
