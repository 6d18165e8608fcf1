package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/archive"
	"github.com/engram-memory/engram/cmd/internal/wiring"
	"github.com/engram-memory/engram/domain"
)

// benchN is how many memories the archive benchmarks move
// (ENGRAM_BENCH_ARCHIVE_N, default 100,000): 100 users of one org, each
// memory with its add history entry.
func benchN() int {
	if n, err := strconv.Atoi(os.Getenv("ENGRAM_BENCH_ARCHIVE_N")); err == nil && n > 0 {
		return n
	}
	return 100_000
}

func seedBench(b *testing.B, be wiring.ArchiveBackend, n int) {
	b.Helper()
	ctx := context.Background()
	now := time.Now()
	const users = 100
	for u := range users {
		tn := domain.Tenant{OrgID: "bench", UserID: domain.UserID(fmt.Sprintf("user-%03d", u))}
		var ms []domain.Memory
		for i := u; i < n; i += users {
			m, err := domain.NewMemory(tn, "bench", fmt.Sprintf("memory %d of the archive benchmark: the user likes item %d", i, i*7),
				domain.Metadata{"i": i}, []string{"bench"}, now.Add(time.Duration(i)))
			require.NoError(b, err)
			ms = append(ms, m)
			if len(ms) == 5000 {
				_, err := be.Memories.CreateBatch(ctx, tn, ms)
				require.NoError(b, err)
				ms = ms[:0]
			}
		}
		if len(ms) > 0 {
			_, err := be.Memories.CreateBatch(ctx, tn, ms)
			require.NoError(b, err)
		}
	}
}

// BenchmarkArchive measures export and import rates (memories per second,
// history rows moving alongside) on SQLite and PostgreSQL. Each iteration
// exports the seeded store to a file and imports that file into an empty
// store, writing the store's text index as the import command does.
//
//	go test -run '^$' -bench BenchmarkArchive -benchtime 1x ./cmd/engram/
func BenchmarkArchive(b *testing.B) {
	n := benchN()
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			ctx := context.Background()
			open := func() wiring.ArchiveBackend {
				loc := b.TempDir()
				if backend == "postgres" {
					loc = benchSchema(b)
				}
				be, err := openLocation(ctx, loc, func(string) string { return "" })
				require.NoError(b, err)
				b.Cleanup(func() { _ = be.Close() })
				return be
			}
			src := open()
			seedBench(b, src, n)
			if dir := os.Getenv("ENGRAM_BENCH_ARCHIVE_KEEP"); dir != "" && backend == "sqlite" {
				// Leave a seeded data directory behind for measuring a
				// separate `engram export` process (RSS, docs/benchmarks.md).
				keep, err := openLocation(ctx, dir, func(string) string { return "" })
				require.NoError(b, err)
				_, err = archive.Copy(ctx, src.Source, keep.Sink, archive.CopyOptions{BatchSize: 5000})
				require.NoError(b, err)
				require.NoError(b, keep.Close())
			}
			path := filepath.Join(b.TempDir(), "bench.engram")
			var exportS, importS, importCPU float64
			for b.Loop() {
				f, err := os.Create(path)
				require.NoError(b, err)
				t0 := time.Now()
				_, err = archive.Export(ctx, src.Source, f, archive.ExportOptions{})
				require.NoError(b, err)
				exportS += time.Since(t0).Seconds()
				require.NoError(b, f.Close())
				dst := open()
				t0, c0 := time.Now(), cpuSeconds()
				// As `engram import` and `engram restore` do: the store's
				// own text index is written as the batches land.
				_, err = archive.ImportFile(ctx, dst.Sink, path, archive.ImportOptions{BatchSize: 1000, Changed: dst.Indexer.MemoriesChanged})
				require.NoError(b, err)
				importS += time.Since(t0).Seconds()
				importCPU += cpuSeconds() - c0
			}
			b.ReportMetric(float64(n*b.N)/exportS, "export-memories/s")
			b.ReportMetric(float64(n*b.N)/importS, "import-memories/s")
			// The process's CPU time over the import (user + system, every
			// thread: the checkpointer and the GC included): on a machine
			// shared with other work this is the figure that does not move
			// with the load.
			b.ReportMetric(float64(n*b.N)/importCPU, "import-memories/cpu-s")
			st, _ := os.Stat(path)
			b.ReportMetric(float64(st.Size())/float64(n), "archive-bytes/memory")
		})
	}
}

// benchSchema is migrateSchema for benchmarks.
func benchSchema(b *testing.B) string { return migrateSchemaTB(b) }

// BenchmarkBackupVerify measures `engram backup verify` (checksums and a
// trial restore into a scratch SQLite store) of an archive of
// ENGRAM_BENCH_ARCHIVE_N memories with their history. The archive is made
// once by seeding a SQLite store and exporting it; with
// ENGRAM_BENCH_VERIFY_ARCHIVE set it is kept at that path and reused by the
// next run (seeding a million memories takes minutes).
//
//	ENGRAM_BENCH_ARCHIVE_N=1000000 ENGRAM_BENCH_VERIFY_ARCHIVE=/tmp/1m.engram \
//	  go test -run '^$' -bench BenchmarkBackupVerify -benchtime 1x -timeout 60m ./cmd/engram/
func BenchmarkBackupVerify(b *testing.B) {
	n := benchN()
	ctx := context.Background()
	path := os.Getenv("ENGRAM_BENCH_VERIFY_ARCHIVE")
	if path == "" {
		path = filepath.Join(b.TempDir(), "verify.engram")
	}
	if _, err := os.Stat(path); err != nil {
		be, err := openLocation(ctx, b.TempDir(), func(string) string { return "" })
		require.NoError(b, err)
		seedBench(b, be, n)
		f, err := os.Create(path)
		require.NoError(b, err)
		_, err = archive.Export(ctx, be.Source, f, archive.ExportOptions{Profile: be.Profile})
		require.NoError(b, err)
		require.NoError(b, f.Close())
		require.NoError(b, be.Close())
	}
	var wall, cpu float64
	for b.Loop() {
		t0, c0 := time.Now(), cpuSeconds()
		res := verifyBackup(ctx, path, 0, 0, true, scratchTarget{dir: b.TempDir(), postgres: os.Getenv("ENGRAM_BENCH_VERIFY_POSTGRES")}, time.Now())
		require.True(b, res.OK, "%+v", res)
		wall += time.Since(t0).Seconds()
		cpu += cpuSeconds() - c0
	}
	b.ReportMetric(wall/float64(b.N), "verify-s")
	b.ReportMetric(cpu/float64(b.N), "verify-cpu-s")
}
