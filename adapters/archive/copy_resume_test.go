package archive_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/archive"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// crashingCheckpoint loads batches with their positions into a real store
// and fails the one after the first n, as a killed migration would.
type crashingCheckpoint struct {
	ports.MigrationCheckpoint
	n int
}

func (c *crashingCheckpoint) LoadAt(ctx context.Context, t ports.ArchiveTable, rows []ports.ArchiveRow, o ports.LoadOptions, pos ports.CopyPosition) (ports.LoadResult, error) {
	if c.n == 0 {
		return ports.LoadResult{}, errCrash
	}
	c.n--
	return c.MigrationCheckpoint.LoadAt(ctx, t, rows, o, pos)
}

// countingSource counts the rows its store hands out, whether scanned
// whole or from a position (seek false hides ArchiveSeeker: a source that
// cannot start after a position).
type countingSource struct {
	ports.ArchiveSource
	seek bool
	rows int64
}

type countingSnapshot struct {
	sn ports.ArchiveSnapshot
	c  *countingSource
}

type seekingSnapshot struct{ countingSnapshot }

func (c *countingSource) ArchiveSnapshot(ctx context.Context, fn func(ports.ArchiveSnapshot) error) error {
	return c.ArchiveSource.ArchiveSnapshot(ctx, func(sn ports.ArchiveSnapshot) error {
		cs := countingSnapshot{sn: sn, c: c}
		if c.seek {
			return fn(seekingSnapshot{cs})
		}
		return fn(cs)
	})
}

func (c countingSnapshot) count(fn func(ports.ArchiveRow) error) func(ports.ArchiveRow) error {
	return func(r ports.ArchiveRow) error { c.c.rows++; return fn(r) }
}

func (c countingSnapshot) Scan(ctx context.Context, t ports.ArchiveTable, scope ports.ArchiveScope, fn func(ports.ArchiveRow) error) error {
	return c.sn.Scan(ctx, t, scope, c.count(fn))
}

func (c seekingSnapshot) ScanAfter(ctx context.Context, t ports.ArchiveTable, pos ports.CopyPosition, fn func(ports.ArchiveRow) error) error {
	return c.sn.(ports.ArchiveSeeker).ScanAfter(ctx, t, pos, c.count(fn))
}

func digestRows(t *testing.T, src ports.ArchiveSource) (map[string]map[string]archive.Digest, int64) {
	t.Helper()
	d, err := archive.Digests(context.Background(), src)
	require.NoError(t, err)
	var n int64
	for _, byOrg := range d {
		for _, dg := range byOrg {
			n += dg.Rows
		}
	}
	return d, n
}

// TestCopyResumesAfterItsCheckpoint interrupts a copy after every possible
// number of batches (so that an interruption falls inside each table, and
// between two history rows of one memory), resumes it, and checks that the
// resumed copy read only the rows after the checkpoint and that the target
// equals the source.
func TestCopyResumesAfterItsCheckpoint(t *testing.T) {
	ctx := context.Background()
	src := openStore(t)
	seed(t, src, alice, 10)
	seed(t, src, domain.Tenant{OrgID: "globex", UserID: "carol"}, 6)
	want, total := digestRows(t, src)
	for n := 1; ; n++ {
		dst := openStore(t)
		require.NoError(t, dst.BeginMigration(ctx, "test", time.Now()))
		_, err := archive.Copy(ctx, src, dst, archive.CopyOptions{BatchSize: 3, Checkpoint: &crashingCheckpoint{MigrationCheckpoint: dst, n: n}})
		if err == nil {
			require.Greater(t, n, 10, "the copy has more batches than that")
			break
		}
		require.ErrorIs(t, err, errCrash)
		_, copied := digestRows(t, dst)
		cs := &countingSource{ArchiveSource: src, seek: true}
		reports, err := archive.Copy(ctx, cs, dst, archive.CopyOptions{BatchSize: 3, Checkpoint: dst})
		require.NoError(t, err)
		got, _ := digestRows(t, dst)
		require.Empty(t, archive.Compare(want, got), "after %d batches", n)
		// Copy reads each table twice (a count for progress, then the copy).
		require.Equal(t, 2*(total-copied), cs.rows, "after %d batches: only the rows after the checkpoint are read", n)
		var reported int64
		for _, r := range reports {
			reported += r.Rows
		}
		require.Equal(t, total, reported, "every row is reported, read now or before")
	}
}

// TestCopyResumesFromASourceThatCannotSeek reads such a source whole and
// skips to the position itself.
func TestCopyResumesFromASourceThatCannotSeek(t *testing.T) {
	ctx := context.Background()
	src, dst := openStore(t), openStore(t)
	seed(t, src, alice, 10)
	want, total := digestRows(t, src)
	require.NoError(t, dst.BeginMigration(ctx, "test", time.Now()))
	_, err := archive.Copy(ctx, src, dst, archive.CopyOptions{BatchSize: 3, Checkpoint: &crashingCheckpoint{MigrationCheckpoint: dst, n: 5}})
	require.ErrorIs(t, err, errCrash)
	_, copied := digestRows(t, dst)
	cs := &countingSource{ArchiveSource: src}
	reports, err := archive.Copy(ctx, cs, dst, archive.CopyOptions{BatchSize: 3, Checkpoint: dst})
	require.NoError(t, err)
	got, _ := digestRows(t, dst)
	require.Empty(t, archive.Compare(want, got))
	require.Equal(t, 2*total, cs.rows)
	var inserted int
	for _, r := range reports {
		inserted += r.Inserted + r.Skipped
	}
	require.Equal(t, int(total-copied), inserted, "rows before the position are not loaded again")
}
