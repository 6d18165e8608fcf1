package sqlitestore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/domain"
)

var benchTenant = domain.Tenant{OrgID: "bench-org", UserID: "bench-user"}

// benchMemories builds n distinct, realistic memories (about 60 bytes of
// text, two metadata keys, one category) outside the timed region.
func benchMemories(b *testing.B, start, n int) []domain.Memory {
	b.Helper()
	out := make([]domain.Memory, n)
	now := time.Now()
	for i := range out {
		k := start + i
		m, err := domain.NewMemory(benchTenant, "bench",
			fmt.Sprintf("benchmark memory %d: the user prefers topic %d in the morning", k, k%97),
			domain.Metadata{"source": "bench", "i": k}, []string{"bench"}, now)
		require.NoError(b, err)
		out[i] = m
	}
	return out
}

func fill(b *testing.B, s *sqlitestore.Store, n int) []domain.Memory {
	b.Helper()
	ms := benchMemories(b, 0, n)
	created, err := s.CreateBatch(context.Background(), benchTenant, ms)
	require.NoError(b, err)
	require.Equal(b, n, created)
	return ms
}

func BenchmarkCreate(b *testing.B) {
	s := openTemp(b)
	ms := benchMemories(b, 0, b.N)
	ctx := context.Background()
	lat := make([]time.Duration, b.N)
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		if _, _, err := s.Create(ctx, benchTenant, ms[i]); err != nil {
			b.Fatal(err)
		}
		lat[i] = time.Since(start)
	}
	b.StopTimer()
	reportPercentiles(b, lat)
}

// BenchmarkCreateBatch10k ingests 10,000 memories per op in one CreateBatch
// (one transaction, multi-row inserts, history included) into a growing
// table, and reports the ingest rate.
func BenchmarkCreateBatch10k(b *testing.B) {
	const batch = 10_000
	s := openTemp(b)
	ctx := context.Background()
	var elapsed, cpu time.Duration
	for i := range b.N {
		b.StopTimer()
		ms := benchMemories(b, i*batch, batch)
		b.StartTimer()
		start, cpu0 := time.Now(), processCPU(b)
		n, err := s.CreateBatch(ctx, benchTenant, ms)
		elapsed += time.Since(start)
		cpu += processCPU(b) - cpu0
		if err != nil || n != batch {
			b.Fatalf("created %d of %d: %v", n, batch, err)
		}
	}
	b.ReportMetric(float64(batch*b.N)/elapsed.Seconds(), "memories/s")
	// CPU time per memory does not depend on what else runs on the machine,
	// unlike the wall-clock rate above.
	b.ReportMetric(float64(cpu.Microseconds())/float64(batch*b.N), "cpu-µs/memory")
}

// BenchmarkGet reads random ids of a 10k-row store and reports measured
// latency percentiles alongside ns/op.
func BenchmarkGet(b *testing.B) {
	s := openTemp(b)
	ms := fill(b, s, 10_000)
	ctx := context.Background()
	lat := make([]time.Duration, b.N)
	rng := rand.New(rand.NewPCG(1, 2))
	b.ResetTimer()
	for i := range b.N {
		id := ms[rng.IntN(len(ms))].ID
		start := time.Now()
		if _, err := s.Get(ctx, benchTenant, id); err != nil {
			b.Fatal(err)
		}
		lat[i] = time.Since(start)
	}
	b.StopTimer()
	reportPercentiles(b, lat)
}

// BenchmarkListPage50 pages through a 10k-row store 50 at a time, following
// cursors, restarting at the top when it reaches the end.
func BenchmarkListPage50(b *testing.B) {
	s := openTemp(b)
	fill(b, s, 10_000)
	ctx := context.Background()
	lat := make([]time.Duration, b.N)
	q := domain.ListQuery{Limit: 50}
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		page, err := s.List(ctx, benchTenant, q)
		lat[i] = time.Since(start)
		if err != nil || len(page.Items) != 50 {
			b.Fatalf("page of %d: %v", len(page.Items), err)
		}
		q.Cursor = page.NextCursor
	}
	b.StopTimer()
	reportPercentiles(b, lat)
}

// processCPU is the user+system CPU time this process has used so far.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[int(p*float64(len(lat)-1))].Nanoseconds()) / 1e6
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

// BenchmarkListMetadataFilter lists 50 rows of a 10k-row store with a
// metadata filter, its values plaintext (SQL filters) or sealed (every
// sealed row is a candidate, opened and evaluated in Go): dense matches
// every row, sparse one row in the middle, so its page reads all 10k.
func BenchmarkListMetadataFilter(b *testing.B) {
	for _, sealed := range []bool{false, true} {
		s := openTemp(b)
		if sealed {
			s = openEncrypted(b, b.TempDir())
		}
		fill(b, s, 10_000)
		for _, c := range []struct {
			name string
			md   domain.Metadata
			want int
		}{{"dense", domain.Metadata{"source": "bench"}, 50}, {"sparse", domain.Metadata{"i": 5000.0}, 1}} {
			b.Run(fmt.Sprintf("sealed=%v/%s", sealed, c.name), func(b *testing.B) {
				ctx := context.Background()
				lat := make([]time.Duration, b.N)
				q := domain.ListQuery{Limit: 50, Metadata: c.md}
				b.ResetTimer()
				for i := range b.N {
					start := time.Now()
					page, err := s.List(ctx, benchTenant, q)
					lat[i] = time.Since(start)
					if err != nil || len(page.Items) != c.want {
						b.Fatalf("page of %d: %v", len(page.Items), err)
					}
				}
				b.StopTimer()
				reportPercentiles(b, lat)
			})
		}
	}
}
