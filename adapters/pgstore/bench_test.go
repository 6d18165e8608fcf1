package pgstore_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/pgstore"
	"github.com/engram-memory/engram/domain"
)

// Benchmarks run against the real PostgreSQL from ENGRAM_TEST_POSTGRES_URL,
// through the non-owner login role with row-level security on, as in
// production:
//
//	go test -run '^$' -bench . -benchtime 2s ./adapters/pgstore/

func benchMemory(b *testing.B, ten domain.Tenant, i int) domain.Memory {
	m, err := domain.NewMemory(ten, "bench",
		fmt.Sprintf("memory %d: the user prefers window seats on long flights and green tea over coffee", i),
		domain.Metadata{"source": "bench", "n": i}, []string{"travel", "food"}, time.Now())
	require.NoError(b, err)
	return m
}

func BenchmarkCreate(b *testing.B) {
	s := newStore(b, pgstore.Options{})
	ctx := context.Background()
	ten := domain.Tenant{OrgID: "bench-org", UserID: "u1"}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if _, _, err := s.Create(ctx, ten, benchMemory(b, ten, i)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "memories/s")
}

func BenchmarkCreateBatch10k(b *testing.B) {
	for _, mode := range []struct {
		name string
		mode pgstore.BatchMode
	}{{"copy", pgstore.BatchCopy}, {"insert", pgstore.BatchInsert}} {
		b.Run(mode.name, func(b *testing.B) {
			s := newStore(b, pgstore.Options{Batch: mode.mode})
			ctx := context.Background()
			const n = 10_000
			var elapsed time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				// A fresh user per batch: every row is new, none deduplicated.
				ten := domain.Tenant{OrgID: "bench-org", UserID: domain.UserID(fmt.Sprintf("u%d", i))}
				ms := make([]domain.Memory, n)
				for j := range ms {
					ms[j] = benchMemory(b, ten, j)
				}
				b.StartTimer()
				start := time.Now()
				created, err := s.CreateBatch(ctx, ten, ms)
				elapsed += time.Since(start)
				if err != nil || created != n {
					b.Fatalf("created %d of %d: %v", created, n, err)
				}
			}
			b.ReportMetric(float64(b.N*n)/elapsed.Seconds(), "memories/s")
		})
	}
}

// reportLatency adds p50 and p99 of the per-call durations in ms.
func reportLatency(b *testing.B, d []time.Duration) {
	slices.Sort(d)
	b.ReportMetric(float64(d[len(d)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(d[len(d)*99/100].Microseconds())/1000, "p99-ms")
}

func seed(b *testing.B, s *pgstore.Store, ten domain.Tenant, n int) []domain.Memory {
	ms := make([]domain.Memory, n)
	for i := range ms {
		ms[i] = benchMemory(b, ten, i)
	}
	created, err := s.CreateBatch(context.Background(), ten, ms)
	require.NoError(b, err)
	require.Equal(b, n, created)
	return ms
}

func BenchmarkGet(b *testing.B) {
	s := newStore(b, pgstore.Options{})
	ctx := context.Background()
	ten := domain.Tenant{OrgID: "bench-org", UserID: "u1"}
	ms := seed(b, s, ten, 10_000)
	seed(b, s, domain.Tenant{OrgID: "other-org", UserID: "u1"}, 10_000)
	d := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if _, err := s.Get(ctx, ten, ms[i%len(ms)].ID); err != nil {
			b.Fatal(err)
		}
		d = append(d, time.Since(start))
	}
	reportLatency(b, d)
}

func BenchmarkListPage50(b *testing.B) {
	s := newStore(b, pgstore.Options{})
	ctx := context.Background()
	ten := domain.Tenant{OrgID: "bench-org", UserID: "u1"}
	seed(b, s, ten, 10_000)
	d := make([]time.Duration, 0, b.N)
	q := domain.ListQuery{Limit: 50}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		page, err := s.List(ctx, ten, q)
		if err != nil || len(page.Items) != 50 {
			b.Fatalf("%d items: %v", len(page.Items), err)
		}
		d = append(d, time.Since(start))
		// Walk forward through the pages and wrap, so deeper cursors count too.
		q.Cursor = page.NextCursor
		if i%100 == 99 {
			q.Cursor = ""
		}
	}
	reportLatency(b, d)
}
