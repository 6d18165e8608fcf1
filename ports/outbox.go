package ports

import (
	"context"
	"time"
)

// OutboxRow is one memory whose entry in one external index lags the store.
// It carries ids only: the relay reloads the memory from the store.
type OutboxRow struct {
	MemoryRef
	// Version is the seq of the latest recorded change to the memory; it
	// only grows. A row is acknowledged at the version it was claimed at,
	// so a change recorded meanwhile keeps the row (at its new version).
	Version int64
	// Attempts counts the failed applications of this row so far.
	Attempts int
	// Enqueued is when the oldest change the row stands for was recorded.
	Enqueued time.Time
}

// ParkedRow is a row the relay gave up on after repeated failures.
type ParkedRow struct {
	OutboxRow
	Error    string
	ParkedAt time.Time
}

// OutboxStats is one index's outbox, for /readyz and metrics.
type OutboxStats struct {
	// Backlog counts rows waiting to be applied (parked ones excluded).
	Backlog int
	// Oldest is the enqueue time of the oldest waiting row; zero when none.
	Oldest time.Time
	// Parked counts rows given up on.
	Parked int
}

// IndexOutbox is the durable record of what each external index (Qdrant,
// Elasticsearch) still has to apply. The store writes it itself, in the
// same transaction as every change to a memory (add, update, state change,
// delete, erase, import), one row per (index, memory): several changes to
// one memory before the relay gets to it are one row at the latest version.
// Only registered indexes get rows, so a profile without external indexes
// pays one empty lookup per change.
//
// It is a system-wide port (like MemoryScanner): the relay reads across
// tenants, and it returns ids only, never content.
//
// Claim hands out rows that are due, not parked and not claimed, oldest
// first, and hides them from other claims for lease (a relay that dies
// mid-batch loses its claim when the lease lapses; no row is lost). Ack
// deletes each row if its version is still the claimed one, and otherwise
// releases it, so a change recorded during the application is applied next.
// Fail releases a row for a retry after retryAfter and counts the attempt,
// or parks it with its error when park is set. Release gives rows back
// without counting an attempt (the index was down: not the row's fault).
// A new change to a parked memory re-arms its row.
//
// Failures wrap domain.ErrUnavailable.
type IndexOutbox interface {
	// Register makes the store record changes for index from now on;
	// registering twice is harmless. Changes committed before are not
	// recorded: `engram reindex` fills a newly added index.
	Register(ctx context.Context, index string) error
	Claim(ctx context.Context, index string, limit int, lease time.Duration) ([]OutboxRow, error)
	Ack(ctx context.Context, index string, rows []OutboxRow) error
	Release(ctx context.Context, index string, rows []OutboxRow) error
	Fail(ctx context.Context, index string, row OutboxRow, cause string, retryAfter time.Duration, park bool) error
	Stats(ctx context.Context, index string) (OutboxStats, error)
	// Parked lists up to limit parked rows, oldest first.
	Parked(ctx context.Context, index string, limit int) ([]ParkedRow, error)
	// Requeue re-arms every parked row of index (after the cause was
	// fixed) and reports how many.
	Requeue(ctx context.Context, index string) (int, error)
}
