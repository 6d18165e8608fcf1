package ports

import (
	"context"

	"github.com/engram-memory/engram/domain"
)

// ChangeRef names one committed memory change: its position in the feed,
// its tenant and the memory it touched. It carries no content: a reader
// reloads the memory from the store.
type ChangeRef struct {
	Seq    int64
	Tenant domain.Tenant
	ID     domain.MemoryID
}

// ChangeFeed lists the store's committed memory changes across tenants in
// commit order, so that every process sharing a store can keep what it holds
// in memory (the in-process vector index) in step with writes made by any
// other process. It is a system-wide reader (like MemoryScanner): never
// reachable from a request, and it returns ids only.
//
// Every write that changes a memory (add, update, state change, delete,
// erase, import) appears once, in the same transaction as the write.
type ChangeFeed interface {
	// Head is the Seq of the latest committed change (0 when none): a
	// reader that loads everything from the store starts after it.
	Head(ctx context.Context) (int64, error)
	// Changes returns up to limit changes with Seq > after, in Seq order.
	// It is meant to be polled: an adapter answers cheaply when nothing
	// was committed since the last call. Failures wrap domain.ErrUnavailable.
	Changes(ctx context.Context, after int64, limit int) ([]ChangeRef, error)
}
