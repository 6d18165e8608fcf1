package ports

import (
	"context"
	"time"
)

// DataMigration marks a store as the target of an unfinished `engram
// migrate-data`, so that engramd refuses to serve half a copy. It is an
// operator path, outside any tenant.
//
// BeginMigration records that source (a description, never a secret) is
// being copied in since at; recording again replaces the mark.
// MigrationInProgress returns the mark, ok false when there is none.
// EndMigration clears it (a no-op without one).
//
// RollbackMigration deletes every row of every archived table, with the
// store's own text index, and clears the mark, all in one transaction:
// after it the store is as empty as before the migration began. Without a
// mark it deletes nothing and wraps domain.ErrConflict, so that it can
// never empty a store that was not a migration's target. Backend failures
// wrap domain.ErrUnavailable.
type DataMigration interface {
	BeginMigration(ctx context.Context, source string, at time.Time) error
	MigrationInProgress(ctx context.Context) (source string, since time.Time, ok bool, err error)
	EndMigration(ctx context.Context) error
	RollbackMigration(ctx context.Context) error
}

// CopyPosition is how far an `engram migrate-data` copy got in one table:
// every row of Table before Org in org order, and every row of Org up to
// and including the Dup-th row whose key (the table's ArchiveTable.Key
// columns) equals Key, in the order ArchiveSnapshot.Scan reads them, has
// been loaded into the target. Keys of the history tables repeat (their
// order within one key is the source's own sequence, which is not
// archived), hence Dup; for the others it is 1. Copied counts the table's
// rows loaded so far, for progress. Key may hold a user id: the position
// lives only while its migration is unfinished.
type CopyPosition struct {
	Table  string
	Org    string
	Key    []string
	Dup    int64
	Copied int64
}

// MigrationCheckpoint is a DataMigration target that records a copy's
// position with every batch, so that a resumed copy starts after it rather
// than reading the source from its first row again.
//
// LoadAt is ArchiveSink.Load that also records pos as its table's position,
// in the batch's own transaction: a position is never ahead of the rows
// committed. (When the batch is refused and loaded again row by row to
// name the row at fault, the position follows in a transaction of its
// own: a crash between the two leaves it one batch behind, which a resumed
// copy loads again and skips.) A dry run records nothing.
//
// CopyPositions returns the recorded positions by table. BeginMigration,
// EndMigration and RollbackMigration clear them all.
type MigrationCheckpoint interface {
	LoadAt(ctx context.Context, table ArchiveTable, rows []ArchiveRow, opts LoadOptions, pos CopyPosition) (LoadResult, error)
	CopyPositions(ctx context.Context) (map[string]CopyPosition, error)
}
