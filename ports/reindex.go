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
// index maintainer covers them. Backend failures wrap domain.ErrUnavailable.
type MemoryScanner interface {
	Orgs(ctx context.Context) ([]domain.OrgID, error)
	ScanActive(ctx context.Context, org domain.OrgID, after domain.MemoryID, limit int) ([]domain.Memory, error)
}
