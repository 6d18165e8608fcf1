package ports

import (
	"context"

	"github.com/engram-memory/engram/domain"
)

// MemoryScanner walks the system of record for index rebuilds (`engram
// reindex`, and loading the in-process vector index at start). It is an
// operator path: it crosses tenants, one org at a time, and is never reached
// from a request.
//
// Orgs lists every org that has ever stored a memory, in ascending order.
// ScanActive returns up to limit active memories of org (every user of it)
// with id > after, ordered by id ascending; an empty result means the scan
// is complete. Memories written during a scan may or may not be seen; the
// index maintainer covers them. A memory whose data key was destroyed (its
// subject's erasure has run and will delete the row) is skipped, not an
// error: one erased user must not stop an index load for every tenant. Backend failures wrap domain.ErrUnavailable.
type MemoryScanner interface {
	Orgs(ctx context.Context) ([]domain.OrgID, error)
	ScanActive(ctx context.Context, org domain.OrgID, after domain.MemoryID, limit int) ([]domain.Memory, error)
}

// MemoryRef names one memory of one tenant.
type MemoryRef struct {
	Tenant domain.Tenant
	ID     domain.MemoryID
}

// IndexDrift is implemented by text indexes that live in the store's own
// database (SQLite FTS5, Postgres full-text), where the difference between
// store and index can be computed instead of recorded: that difference is
// the pending work after a crash between a store commit and its index write,
// or after writers that bypass the indexer (CreateBatch seeds, `engram
// import` while serving).
//
// A memory drifted when its index entry disagrees with the store: active
// but missing, indexed with other text, or indexed but no longer active (or
// erased). Drift walks an org in steps, in ascending key order, a key being
// (user id, memory id) as the store orders them: each step reads the next
// limit memories and the next limit index entries with a key after after
// (both sides, so a step costs the same however little drifted), and
// returns the drifted memories among the keys up to DriftStep.Next, the
// last key it covered. The next step starts after Next; the zero MemoryRef
// starts a pass, and the step that reaches the end of the org says Done.
// A pass visits every key once, so its cost is linear in the org, and no
// statement reads more than 2×limit rows. Memories written during a pass
// behind its cursor wait for the next pass. Backend failures wrap
// domain.ErrUnavailable.
type IndexDrift interface {
	Drift(ctx context.Context, org domain.OrgID, after MemoryRef, limit int) (DriftStep, error)
}

// DriftStep is one step of an IndexDrift pass over an org.
type DriftStep struct {
	// Refs are the drifted memories among the keys the step covered, in
	// key order: at most limit active memories and limit index entries.
	Refs []MemoryRef
	// Next is the last key the step covered: the next step's after.
	Next MemoryRef
	// Done says no key follows Next: the pass over the org is complete.
	Done bool
}

// PageDrift splits IndexDrift for a caller that already reads every active
// memory (the start-up load of the in-process vector index), so that start
// reads the store once, not twice: Stale checks a page of active memories
// against the index (missing or indexed with other text), Orphans lists up
// to limit entries of org whose memory is no longer active. Together they
// find what Drift finds.
type PageDrift interface {
	Stale(ctx context.Context, org domain.OrgID, page []domain.Memory) ([]MemoryRef, error)
	Orphans(ctx context.Context, org domain.OrgID, limit int) ([]MemoryRef, error)
}
