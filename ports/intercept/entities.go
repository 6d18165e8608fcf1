package intercept

import (
	"context"
	"time"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// WrapEntities decorates the entity store. Reads are retried; LinkMemory is
// idempotent by contract (the same mentions change nothing) and is retried
// too; renames, merges and deletes are not.
func WrapEntities(next ports.EntityStore, dep string, ic Interceptor) ports.EntityStore {
	if next == nil {
		return nil
	}
	return entities{base{dep, ic}, next}
}

type entities struct {
	base
	next ports.EntityStore
}

func (e entities) LinkMemory(ctx context.Context, t domain.Tenant, id domain.MemoryID, ms []domain.Mention, now time.Time) error {
	return e.do(ctx, "link_memory", read, func(ctx context.Context) error { return e.next.LinkMemory(ctx, t, id, ms, now) })
}

func (e entities) GetEntities(ctx context.Context, t domain.Tenant, ids []domain.EntityID) (out []domain.Entity, err error) {
	err = e.do(ctx, "get_entities", read, func(ctx context.Context) (x error) { out, x = e.next.GetEntities(ctx, t, ids); return })
	return out, err
}

func (e entities) ListEntities(ctx context.Context, t domain.Tenant, q domain.EntityQuery) (out domain.EntityPage, err error) {
	err = e.do(ctx, "list_entities", read, func(ctx context.Context) (x error) { out, x = e.next.ListEntities(ctx, t, q); return })
	return out, err
}

func (e entities) ResolveEntities(ctx context.Context, t domain.Tenant, keys []string) (out []domain.Entity, err error) {
	err = e.do(ctx, "resolve_entities", read, func(ctx context.Context) (x error) { out, x = e.next.ResolveEntities(ctx, t, keys); return })
	return out, err
}

func (e entities) EntityMemories(ctx context.Context, t domain.Tenant, ids []domain.EntityID, limit int) (out []domain.MemoryID, err error) {
	err = e.do(ctx, "entity_memories", read, func(ctx context.Context) (x error) { out, x = e.next.EntityMemories(ctx, t, ids, limit); return })
	return out, err
}

func (e entities) MemoryEntities(ctx context.Context, t domain.Tenant, ids []domain.MemoryID) (out map[domain.MemoryID][]domain.EntityID, err error) {
	err = e.do(ctx, "memory_entities", read, func(ctx context.Context) (x error) { out, x = e.next.MemoryEntities(ctx, t, ids); return })
	return out, err
}

func (e entities) Neighbours(ctx context.Context, t domain.Tenant, ids []domain.EntityID, per int) (out []domain.Relation, err error) {
	err = e.do(ctx, "neighbours", read, func(ctx context.Context) (x error) { out, x = e.next.Neighbours(ctx, t, ids, per); return })
	return out, err
}

func (e entities) RenameEntity(ctx context.Context, t domain.Tenant, id domain.EntityID, name string, now time.Time) (out domain.Entity, err error) {
	err = e.do(ctx, "rename_entity", write, func(ctx context.Context) (x error) { out, x = e.next.RenameEntity(ctx, t, id, name, now); return })
	return out, err
}

func (e entities) MergeEntities(ctx context.Context, t domain.Tenant, into domain.EntityID, from []domain.EntityID, now time.Time) (out domain.Entity, err error) {
	err = e.do(ctx, "merge_entities", write, func(ctx context.Context) (x error) { out, x = e.next.MergeEntities(ctx, t, into, from, now); return })
	return out, err
}

func (e entities) DeleteEntity(ctx context.Context, t domain.Tenant, id domain.EntityID) error {
	return e.do(ctx, "delete_entity", write, func(ctx context.Context) error { return e.next.DeleteEntity(ctx, t, id) })
}
