package main

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/archive"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// killedCheckpoint loads batches with their positions and fails the one
// after the first n, as a killed migration would.
type killedCheckpoint struct {
	ports.MigrationCheckpoint
	n int
}

func (k *killedCheckpoint) LoadAt(ctx context.Context, t ports.ArchiveTable, rows []ports.ArchiveRow, o ports.LoadOptions, pos ports.CopyPosition) (ports.LoadResult, error) {
	if k.n == 0 {
		return ports.LoadResult{}, errors.New("killed")
	}
	k.n--
	return k.MigrationCheckpoint.LoadAt(ctx, t, rows, o, pos)
}

var tableLine = regexp.MustCompile(`(?m)^  (\w+)\s+(\d+) rows \((\d+) copied now, (\d+) there already`)

// TestMigrateDataResumesAfterTheCheckpoint kills a migration in the middle
// of the history table and resumes it: the resumed run reads only the
// rows after the checkpoint (it copies them all now and finds none there
// already), and the target ends equal to the source, verified, unmarked,
// without positions.
func TestMigrateDataResumesAfterTheCheckpoint(t *testing.T) {
	for _, direction := range []string{"sqlite-to-postgres", "postgres-to-sqlite"} {
		t.Run(direction, func(t *testing.T) {
			ctx := context.Background()
			data := seedSQLite(t, 30)
			from, to := data, migrateSchema(t)
			if direction == "postgres-to-sqlite" {
				from, to = to, t.TempDir()
				_, errOut, err := engramCmd(t, "migrate-data", "--from", data, "--to", from)
				require.NoError(t, err, errOut)
			}
			src, err := openLocation(ctx, from, func(string) string { return "" })
			require.NoError(t, err)
			defer src.Close()
			total := digestTotal(t, src.Source)

			// 90 memories in 9 batches, then 4 batches of history.
			dst, err := openLocation(ctx, to, func(string) string { return "" })
			require.NoError(t, err)
			require.NoError(t, dst.Migration.BeginMigration(ctx, describeLocation(from), time.Now()))
			_, err = archive.Copy(ctx, src.Source, dst.Sink, archive.CopyOptions{BatchSize: 10,
				Checkpoint: &killedCheckpoint{MigrationCheckpoint: dst.Checkpoint, n: 13}})
			require.ErrorContains(t, err, "killed")
			copied := digestTotal(t, dst.Source)
			require.Equal(t, int64(130), copied)
			require.NoError(t, dst.Close())

			out, errOut, err := engramCmd(t, "migrate-data", "--from", from, "--to", to, "--batch", "10")
			require.NoError(t, err, errOut)
			require.Contains(t, errOut, "resuming")
			require.Contains(t, out, "every table of every org verified")
			var rows, now, already int64
			for _, m := range tableLine.FindAllStringSubmatch(out, -1) {
				r, _ := strconv.ParseInt(m[2], 10, 64)
				n, _ := strconv.ParseInt(m[3], 10, 64)
				a, _ := strconv.ParseInt(m[4], 10, 64)
				rows, now, already = rows+r, now+n, already+a
			}
			require.Equal(t, total, rows, out)
			require.Zero(t, already, "the rows before the checkpoint are not read again: %s", out)
			require.Equal(t, total-copied, now, out)

			flag := map[bool]string{true: "--postgres-url", false: "--data-dir"}
			require.Equal(t, exportSums(t, flag[isPostgresURL(from)], from), exportSums(t, flag[isPostgresURL(to)], to))
			dst, err = openLocation(ctx, to, func(string) string { return "" })
			require.NoError(t, err)
			defer dst.Close()
			_, _, marked, err := dst.Migration.MigrationInProgress(ctx)
			require.NoError(t, err)
			require.False(t, marked)
			pos, err := dst.Checkpoint.CopyPositions(ctx)
			require.NoError(t, err)
			require.Empty(t, pos, "a finished migration keeps no position")
		})
	}
}

func digestTotal(t *testing.T, src ports.ArchiveSource) int64 {
	t.Helper()
	d, err := archive.Digests(context.Background(), src)
	require.NoError(t, err)
	var n int64
	for _, byOrg := range d {
		for _, dg := range byOrg {
			n += dg.Rows
		}
	}
	return n
}

// TestMigrateDataMismatchClearsTheCheckpoint writes a row into the source
// before the checkpoint while a migration is interrupted: the resumed run
// does not read it, so its verification fails; it must then clear the
// checkpoint, or every later run would resume past the missing row and
// fail the same way. The next run reads everything and finishes.
func TestMigrateDataMismatchClearsTheCheckpoint(t *testing.T) {
	ctx := context.Background()
	data, target := seedSQLite(t, 30), t.TempDir()
	src, err := openLocation(ctx, data, func(string) string { return "" })
	require.NoError(t, err)
	dst, err := openLocation(ctx, target, func(string) string { return "" })
	require.NoError(t, err)
	require.NoError(t, dst.Migration.BeginMigration(ctx, describeLocation(data), time.Now()))
	_, err = archive.Copy(ctx, src.Source, dst.Sink, archive.CopyOptions{BatchSize: 10,
		Checkpoint: &killedCheckpoint{MigrationCheckpoint: dst.Checkpoint, n: 5}})
	require.ErrorContains(t, err, "killed")
	require.NoError(t, dst.Close())

	// The lowest id sorts before every seeded memory, behind the checkpoint
	// (NewMemoryID never goes back in time, so it is set).
	tn := domain.Tenant{OrgID: "acme", UserID: "alice"}
	m, err := domain.NewMemory(tn, "notes", "written during the migration", nil, nil, time.Now())
	require.NoError(t, err)
	m.ID = "00000000-0000-7000-8000-000000000001"
	_, err = src.Memories.CreateBatch(ctx, tn, []domain.Memory{m})
	require.NoError(t, err)
	require.NoError(t, src.Close())

	out, errOut, err := engramCmd(t, "migrate-data", "--from", data, "--to", target, "--batch", "10")
	require.ErrorContains(t, err, "differ", out+errOut)
	require.Contains(t, out, `MISMATCH memories org "acme"`)
	_, errOut, err = engramCmd(t, "migrate-data", "--from", data, "--to", target, "--batch", "10")
	require.NoError(t, err, errOut)
	require.Contains(t, errOut, "no checkpoint: from the first row")
	require.Equal(t, exportSums(t, "--data-dir", data), exportSums(t, "--data-dir", target))
}

// cancelOnWrite cancels the command's context at the first progress line
// written after the copy started, as Ctrl-C in the middle would.
type cancelOnWrite struct {
	cancel context.CancelFunc
	buf    []byte
}

func (c *cancelOnWrite) Write(p []byte) (int, error) {
	c.buf = append(c.buf, p...)
	if regexp.MustCompile(`memories`).Match(c.buf) {
		c.cancel()
	}
	return len(p), nil
}

// TestMigrateDataInterruptedSaysSo: Ctrl-C in the middle of a copy into
// PostgreSQL is reported as an interruption that a re-run resumes, not as
// "postgres unavailable" (the cancelled statement's error), and the re-run
// finishes it.
func TestMigrateDataInterruptedSaysSo(t *testing.T) {
	data := seedSQLite(t, 30)
	to := migrateSchema(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &cancelOnWrite{cancel: cancel}
	err := run(ctx, []string{"migrate-data", "--from", data, "--to", to, "--batch", "1"}, &bytes.Buffer{}, w)
	require.Error(t, err)
	require.ErrorContains(t, err, "migrate-data: interrupted, the target stays marked unfinished; run the same command again to resume")
	require.NotContains(t, err.Error(), "unavailable")
	_, errOut, err := engramCmd(t, "migrate-data", "--from", data, "--to", to)
	require.NoError(t, err, errOut)
	require.Contains(t, errOut, "resuming")
}
