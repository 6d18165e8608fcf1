package ports

import (
	"context"
	"time"

	"github.com/engram-memory/engram/domain"
)

// EntityStore keeps a tenant's entities, the links from memories to the
// entities they name, and the co-occurrence edges between entities (two
// entities named by the same memory; the weight is how many memories name
// both).
//
// Tenancy: every method is scoped to t (org and user). An entity or memory
// of another tenant is invisible: GetEntities leaves it out, methods that
// name one entity answer domain.ErrNotFound, and LinkMemory never resolves
// a mention to it. On PostgreSQL row-level security binds the org a second
// time.
//
// Lifetime: an entity exists while at least one memory links to it.
// LinkMemory creates the entities a memory names that no key resolves to,
// and deletes the entities it leaves with no memory (with their aliases);
// so does unlinking through erasure. Renames and merges are kept while
// the entity lives.
//
// Names are matched by key (domain.EntityKey). Each key belongs to at most
// one entity of a tenant: an entity's name and aliases. A write is visible
// to every read once it has returned. Writes of one tenant are serialised
// by the store (no lost edge weight under concurrent LinkMemory calls).
type EntityStore interface {
	// LinkMemory makes mentions the set of entities memory id names,
	// replacing the set it named before: links are added and removed,
	// entity memory counts and co-occurrence weights move by one per
	// added or removed pair, and entities left with no memory are deleted.
	// A nil or empty mentions unlinks the memory (deleted, erased or
	// paused memories). Mentions are normalised first
	// (domain.NormalizeMentions); a mention whose key resolves to an
	// existing entity links to it, and upgrades its type when that type
	// is domain.EntityOther. It does not check that the memory exists;
	// calling it twice with the same mentions changes nothing
	// (idempotent). now stamps created and updated entities.
	LinkMemory(ctx context.Context, t domain.Tenant, id domain.MemoryID, mentions []domain.Mention, now time.Time) error

	// GetEntities returns the entities of ids that exist for t, with
	// their aliases (every alias but Name, sorted), in no particular
	// order; unknown ids are left out.
	GetEntities(ctx context.Context, t domain.Tenant, ids []domain.EntityID) ([]domain.Entity, error)

	// ListEntities pages t's entities, most linked first, then by id
	// descending. q.Search matches the start of the key of the name or
	// of any alias, or the start of any word in it; q.Type filters. The
	// query must have passed Validate; a page is exact under inserts of
	// entities with fewer memories than the cursor.
	ListEntities(ctx context.Context, t domain.Tenant, q domain.EntityQuery) (domain.EntityPage, error)

	// ResolveEntities returns the entities that one of keys (each a
	// domain.EntityKey) names exactly, through the name or an alias; each
	// entity at most once.
	ResolveEntities(ctx context.Context, t domain.Tenant, keys []string) ([]domain.Entity, error)

	// EntityMemories returns the ids of the memories linked to any of
	// ids, newest first (ids are time ordered), at most limit (≥ 1).
	EntityMemories(ctx context.Context, t domain.Tenant, ids []domain.EntityID, limit int) ([]domain.MemoryID, error)

	// MemoryEntities returns, for each of ids that links to entities,
	// the entities it links to (sorted by id).
	MemoryEntities(ctx context.Context, t domain.Tenant, ids []domain.MemoryID) (map[domain.MemoryID][]domain.EntityID, error)

	// Neighbours returns, for each of ids, its co-occurrence edges
	// (From is that id), heaviest first, then by To ascending, at most
	// perEntity (≥ 1) per id.
	Neighbours(ctx context.Context, t domain.Tenant, ids []domain.EntityID, perEntity int) ([]domain.Relation, error)

	// RenameEntity gives the entity a new name, keeping the old one as an
	// alias. A name whose key already names another entity of t is
	// domain.ErrConflict (merge them instead); an invalid name wraps
	// domain.ErrInvalid; an unknown id is domain.ErrNotFound.
	RenameEntity(ctx context.Context, t domain.Tenant, id domain.EntityID, name string, now time.Time) (domain.Entity, error)

	// MergeEntities folds every entity of from into into, atomically: their
	// names and aliases become into's aliases, their memories link to
	// into, their edges are recomputed as into's (a memory naming two of
	// them counts once), and they are deleted. into keeps its name and
	// type (its type is taken from the first of from when it was
	// domain.EntityOther). An unknown id is domain.ErrNotFound and changes
	// nothing; into among from, or from empty, wraps domain.ErrInvalid.
	MergeEntities(ctx context.Context, t domain.Tenant, into domain.EntityID, from []domain.EntityID, now time.Time) (domain.Entity, error)

	// DeleteEntity deletes the entity with its aliases, links and edges
	// (the memories stay). An unknown id is domain.ErrNotFound. A later
	// LinkMemory of a memory that names it creates it anew.
	DeleteEntity(ctx context.Context, t domain.Tenant, id domain.EntityID) error
}
