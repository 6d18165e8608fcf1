package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/archive"
	"github.com/engram-memory/engram/cmd/internal/config"
	"github.com/engram-memory/engram/cmd/internal/wiring"
	"github.com/engram-memory/engram/ports"
)

// failingSink stops after n batches, as a killed migration would.
type failingSink struct {
	ports.ArchiveSink
	n int
}

func (f *failingSink) Load(ctx context.Context, t ports.ArchiveTable, rows []ports.ArchiveRow, o ports.LoadOptions) (ports.LoadResult, error) {
	if f.n == 0 {
		return ports.LoadResult{}, errors.New("killed")
	}
	f.n--
	return f.ArchiveSink.Load(ctx, t, rows, o)
}

func exportSums(t *testing.T, flag, loc string) map[string]memberSum {
	t.Helper()
	a := archivePath(t)
	_, _, err := engramCmd(t, "export", flag, loc, "-o", a)
	require.NoError(t, err)
	return memberSums(readManifest(t, a))
}

func TestMigrateDataSQLiteToPostgres(t *testing.T) {
	pgURL := migrateSchema(t)
	data := seedSQLite(t, 30)
	out, errOut, err := engramCmd(t, "migrate-data", "--from", data, "--to", pgURL, "--batch", "7")
	require.NoError(t, err, errOut)
	require.Contains(t, out, "every table of every org verified")
	require.Contains(t, errOut, "migrate-data: memories 90/90 rows (100%)")
	require.Equal(t, exportSums(t, "--data-dir", data), exportSums(t, "--postgres-url", pgURL))

	_, _, err = engramCmd(t, "migrate-data", "--from", data, "--to", pgURL)
	require.ErrorContains(t, err, "the target is not empty")
}

// TestMigrateDataResumesAndRollsBack interrupts a migration, shows engramd
// refusing the half-filled target, resumes it, then rolls another back.
func TestMigrateDataResumesAndRollsBack(t *testing.T) {
	ctx := context.Background()
	data := seedSQLite(t, 30)
	target := t.TempDir()
	open := func(dir string) wiring.ArchiveBackend {
		be, err := openLocation(ctx, dir, func(string) string { return "" })
		require.NoError(t, err)
		return be
	}
	interrupt := func(dst string) {
		src, tgt := open(data), open(dst)
		defer src.Close()
		defer tgt.Close()
		require.NoError(t, tgt.Migration.BeginMigration(ctx, describeLocation(data), time.Now()))
		_, err := archive.Copy(ctx, src.Source, &failingSink{ArchiveSink: tgt.Sink, n: 5}, archive.CopyOptions{BatchSize: 10})
		require.ErrorContains(t, err, "killed")
	}
	interrupt(target)

	cfg, err := config.Load([]string{"--data-dir", target}, func(string) string { return "" })
	require.NoError(t, err)
	b, err := wiring.OpenStore(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	err = wiring.RefuseUnfinishedMigration(ctx, b)
	require.NoError(t, b.Close())
	require.ErrorContains(t, err, "unfinished `engram migrate-data`")

	_, errOut, err := engramCmd(t, "migrate-data", "--from", data, "--to", target)
	require.NoError(t, err)
	require.Contains(t, errOut, "resuming")
	require.Equal(t, exportSums(t, "--data-dir", data), exportSums(t, "--data-dir", target))

	other := t.TempDir()
	interrupt(other)
	_, _, err = engramCmd(t, "migrate-data", "--rollback", "--to", other)
	require.NoError(t, err)
	for table, s := range exportSums(t, "--data-dir", other) {
		require.Zero(t, s.Rows, table)
	}
	_, _, err = engramCmd(t, "migrate-data", "--rollback", "--to", target)
	require.ErrorContains(t, err, "no unfinished migration", "a finished target is never emptied")
}
