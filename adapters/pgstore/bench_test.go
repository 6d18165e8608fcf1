package pgstore_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
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
			_, appURL := testSchema(b)
			ctx := context.Background()
			// One connection, so one server backend whose CPU time /proc shows.
			s, err := pgstore.Open(ctx, pgstore.Config{URL: appURL, MaxOpenConns: 1, Options: pgstore.Options{Batch: mode.mode}})
			require.NoError(b, err)
			defer s.Close()
			var pid int
			require.NoError(b, s.DB().QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&pid))
			const n = 10_000
			var elapsed, cpu time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				// A fresh user per batch: every row is new, none deduplicated.
				ten := domain.Tenant{OrgID: "bench-org", UserID: domain.UserID(fmt.Sprintf("u%d", i))}
				ms := make([]domain.Memory, n)
				for j := range ms {
					ms[j] = benchMemory(b, ten, j)
				}
				b.StartTimer()
				start, cpu0 := time.Now(), cpuTime(pid)
				created, err := s.CreateBatch(ctx, ten, ms)
				elapsed += time.Since(start)
				cpu += cpuTime(pid) - cpu0
				if err != nil || created != n {
					b.Fatalf("created %d of %d: %v", created, n, err)
				}
			}
			b.ReportMetric(float64(b.N*n)/elapsed.Seconds(), "memories/s")
			if cpu > 0 {
				// On a shared machine wall time mostly measures the queue for
				// the cores; CPU time (server backend + this process) says
				// what the batch costs when they are free.
				b.ReportMetric(float64(b.N*n)/cpu.Seconds(), "memories/cpu-s")
			}
		})
	}
}

// cpuTime is the user+system CPU time of this process plus that of the
// PostgreSQL backend pid when it runs on this machine (Linux /proc); a
// remote server contributes nothing and the metric is left out.
func cpuTime(pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the parenthesised command name; utime and stime are the
	// 12th and 13th of those, in clock ticks (USER_HZ, 100 on Linux).
	f := strings.Fields(string(raw)[strings.LastIndexByte(string(raw), ')')+1:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ut+st)*10*time.Millisecond + time.Duration(ru.Utime.Nano()+ru.Stime.Nano())
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
