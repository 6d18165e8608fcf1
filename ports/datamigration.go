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
