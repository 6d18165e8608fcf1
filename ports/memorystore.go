package ports

import (
	"context"

	"github.com/engram-memory/engram/domain"
)

// MemoryStore is the system of record for memories and their history.
//
// Tenancy: every method takes the tenant explicitly. A memory of another org,
// or of another user of the same org, is indistinguishable from one that does
// not exist: reads, writes and erasure answer an error wrapping
// domain.ErrNotFound and change nothing.
//
// Validation: writes call domain.Memory.Normalize; invalid input answers an
// error wrapping domain.ErrInvalid (a *domain.ValidationError naming the
// field) and writes nothing.
//
// Atomicity: each method is all-or-nothing, including the bulk ones. Writes
// are visible to every later call as soon as the method returns. Concurrent
// writers never lose an acknowledged write. One exception, chosen by
// configuration: a store that routes List, History and Stats to read
// replicas may answer them from a copy that lags (by at most its
// configured bound) unless the context asks for a position
// (WithReadAfter, from CommitPositions) or for the primary
// (WithPrimaryReads).
//
// Failures of the backend wrap domain.ErrUnavailable.
type MemoryStore interface {
	// Create stores m, which must belong to t, and records an add history
	// entry. When an active memory of the same tenant has the same content
	// hash, nothing is written and that memory is returned with created=false.
	// A memory with m.ID already present wraps domain.ErrAlreadyExists.
	Create(ctx context.Context, t domain.Tenant, m domain.Memory) (stored domain.Memory, created bool, err error)

	// CreateBatch stores many memories of one tenant in one transaction, each
	// with its add history entry, skipping exact duplicates of active memories
	// (within the batch too). It returns how many rows it created. Any invalid
	// memory fails the whole batch.
	CreateBatch(ctx context.Context, t domain.Tenant, ms []domain.Memory) (created int, err error)

	// Get returns a memory in any state, deleted included. An erased memory is
	// domain.ErrNotFound.
	Get(ctx context.Context, t domain.Tenant, id domain.MemoryID) (domain.Memory, error)

	// Update loads the memory, lets fn change Text, Metadata and Categories,
	// validates, and writes it with an update history entry, all under a row
	// lock so concurrent updates serialise. ID, tenant, app, state and
	// CreatedAt cannot be changed by fn. An error from fn aborts with nothing
	// written and is returned as is. If the new text duplicates another active
	// memory of the tenant the update wraps domain.ErrConflict. Updating a
	// deleted memory wraps domain.ErrConflict. An update that changes nothing
	// writes nothing and returns the memory.
	Update(ctx context.Context, t domain.Tenant, id domain.MemoryID, actor domain.AppID, fn func(*domain.Memory) error) (domain.Memory, error)

	// SetState moves every listed memory to state (active, paused or
	// archived), recording a state history entry for each one that changes.
	// If any id is missing (or deleted) nothing changes and the error wraps
	// domain.ErrNotFound. Reactivating a memory whose text duplicates another
	// active memory wraps domain.ErrConflict.
	SetState(ctx context.Context, t domain.Tenant, ids []domain.MemoryID, state domain.State, actor domain.AppID) ([]domain.Memory, error)

	// Delete soft-deletes every listed memory: state deleted, hidden from List
	// unless asked for, history kept, a delete entry recorded. Deleting an
	// already deleted memory is a no-op. If any id is missing nothing changes
	// and the error wraps domain.ErrNotFound.
	Delete(ctx context.Context, t domain.Tenant, ids []domain.MemoryID, actor domain.AppID) error

	// Erase removes a memory's content for good: text, metadata and categories
	// are cleared from the row and from every history entry, an erase entry
	// is recorded, and Get answers domain.ErrNotFound from then on. History
	// still lists the entries, without content. Erasing twice is
	// domain.ErrNotFound.
	Erase(ctx context.Context, t domain.Tenant, id domain.MemoryID, actor domain.AppID) error

	// List returns one page, ordered by id descending (newest first), after
	// q.Cursor. Keyset pagination: rows inserted while a client pages never
	// make it see a row twice or miss a row that existed when it started.
	List(ctx context.Context, t domain.Tenant, q domain.ListQuery) (domain.Page, error)

	// History returns a memory's changes, oldest first. Unknown ids wrap
	// domain.ErrNotFound; an erased memory's history is returned without
	// content.
	History(ctx context.Context, t domain.Tenant, id domain.MemoryID) ([]domain.MemoryChange, error)

	// Stats counts the tenant's memories (erased ones excluded) by state and
	// by app, and its apps.
	Stats(ctx context.Context, t domain.Tenant) (domain.Stats, error)
}
