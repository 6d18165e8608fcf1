package main

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/archive"
	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/cmd/internal/wiring"
	"github.com/engram-memory/engram/domain"
)

// TestMeasureMigrateDataResume times, on 100,000 memories (200,000 rows
// with their history) from SQLite into PostgreSQL: a whole migrate-data,
// a resume after 190 of its 200 batches, the verification's two digests,
// and the copy part of a resume without the checkpoint (as before it). A
// measurement for docs/benchmarks.md, not a check: run it with
// ENGRAM_MEASURE_MIGRATE_RESUME=1 and -v.
func TestMeasureMigrateDataResume(t *testing.T) {
	if os.Getenv("ENGRAM_MEASURE_MIGRATE_RESUME") == "" {
		t.Skip("a measurement: set ENGRAM_MEASURE_MIGRATE_RESUME=1 (and ENGRAM_TEST_POSTGRES_URL) to run it")
	}
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlitestore.Open(ctx, sqlitestore.Config{Path: wiring.SQLitePath(dir)})
	require.NoError(t, err)
	tn := domain.Tenant{OrgID: "acme", UserID: "alice"}
	now := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	const n = 100000
	for b := 0; b < n/1000; b++ {
		var ms []domain.Memory
		for i := range 1000 {
			m, err := domain.NewMemory(tn, "notes", fmt.Sprintf("fact %d of batch %d, with a little text to carry", i, b), domain.Metadata{"i": i}, []string{"work"}, now)
			require.NoError(t, err)
			ms = append(ms, m)
		}
		_, err := st.CreateBatch(ctx, tn, ms)
		require.NoError(t, err)
	}
	require.NoError(t, st.Close())
	full := migrateSchema(t)
	t0 := time.Now()
	out, errOut, err := engramCmd(t, "migrate-data", "--from", dir, "--to", full)
	require.NoError(t, err, errOut)
	t.Logf("full: %s\n%s", time.Since(t0), out)

	to := migrateSchema(t)
	src, err := openLocation(ctx, dir, func(string) string { return "" })
	require.NoError(t, err)
	dst, err := openLocation(ctx, to, func(string) string { return "" })
	require.NoError(t, err)
	require.NoError(t, dst.Migration.BeginMigration(ctx, describeLocation(dir), time.Now()))
	t0 = time.Now()
	_, err = archive.Copy(ctx, src.Source, dst.Sink, archive.CopyOptions{BatchSize: 1000, Checkpoint: &killedCheckpoint{MigrationCheckpoint: dst.Checkpoint, n: 190}})
	require.ErrorContains(t, err, "killed")
	t.Logf("interrupted after 190 batches: %s", time.Since(t0))
	src.Close()
	dst.Close()
	t0 = time.Now()
	out, errOut, err = engramCmd(t, "migrate-data", "--from", dir, "--to", to)
	require.NoError(t, err, errOut)
	t.Logf("resume: %s\n%s", time.Since(t0), out)
	src, err = openLocation(ctx, dir, func(string) string { return "" })
	require.NoError(t, err)
	dst, err = openLocation(ctx, to, func(string) string { return "" })
	require.NoError(t, err)
	t0 = time.Now()
	_, err = archive.Digests(ctx, src.Source)
	require.NoError(t, err)
	t.Logf("digest source: %s", time.Since(t0))
	t0 = time.Now()
	_, err = archive.Digests(ctx, dst.Source)
	require.NoError(t, err)
	t.Logf("digest target: %s", time.Since(t0))
	old := migrateSchema(t)
	od, err := openLocation(ctx, old, func(string) string { return "" })
	require.NoError(t, err)
	require.NoError(t, od.Migration.BeginMigration(ctx, describeLocation(dir), time.Now()))
	_, err = archive.Copy(ctx, src.Source, od.Sink, archive.CopyOptions{BatchSize: 1000, Checkpoint: &killedCheckpoint{MigrationCheckpoint: od.Checkpoint, n: 190}})
	require.ErrorContains(t, err, "killed")
	t0 = time.Now()
	_, err = archive.Copy(ctx, src.Source, od.Sink, archive.CopyOptions{BatchSize: 1000})
	require.NoError(t, err)
	t.Logf("copy part of a resume without the checkpoint (as before): %s", time.Since(t0))
}
