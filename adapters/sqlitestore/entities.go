package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/engram-memory/engram/adapters/graphsql"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

var _ ports.EntityStore = (*Store)(nil)

// graph is the shared entity SQL (adapters/graphsql) in SQLite's dialect:
// ? placeholders, times as Unix nanoseconds, no lock (one writer).
var graph = graphsql.Dialect{Time: func(t time.Time) any { return toNanos(t) }}

// entityErr keeps an error that already names its kind and maps the rest.
func entityErr(op string, err error) error {
	if err == nil {
		return nil
	}
	for _, k := range []error{domain.ErrNotFound, domain.ErrInvalid, domain.ErrConflict, domain.ErrAlreadyExists} {
		if errors.Is(err, k) {
			return fmt.Errorf("sqlitestore: %s: %w", op, err)
		}
	}
	return fmt.Errorf("sqlitestore: %s: %w", op, mapErr(err))
}

// readGraph runs fn in a read transaction, so its several statements see
// one snapshot.
func (s *Store) readGraph(ctx context.Context, fn func(q graphsql.Querier) error) error {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	return fn(tx)
}

// LinkMemory implements ports.EntityStore.
func (s *Store) LinkMemory(ctx context.Context, t domain.Tenant, id domain.MemoryID, ms []domain.Mention, now time.Time) error {
	err := s.write(ctx, func(tx *sql.Tx) error { return graph.LinkMemory(ctx, tx, t, id, ms, now) })
	return entityErr("link memory "+string(id), err)
}

// GetEntities implements ports.EntityStore.
func (s *Store) GetEntities(ctx context.Context, t domain.Tenant, ids []domain.EntityID) (out []domain.Entity, err error) {
	err = s.readGraph(ctx, func(q graphsql.Querier) error { out, err = graph.GetEntities(ctx, q, t, ids); return err })
	return out, entityErr("get entities", err)
}

// ListEntities implements ports.EntityStore.
func (s *Store) ListEntities(ctx context.Context, t domain.Tenant, eq domain.EntityQuery) (page domain.EntityPage, err error) {
	err = s.readGraph(ctx, func(q graphsql.Querier) error { page, err = graph.ListEntities(ctx, q, t, eq); return err })
	return page, entityErr("list entities", err)
}

// ResolveEntities implements ports.EntityStore.
func (s *Store) ResolveEntities(ctx context.Context, t domain.Tenant, keys []string) (out []domain.Entity, err error) {
	err = s.readGraph(ctx, func(q graphsql.Querier) error { out, err = graph.ResolveEntities(ctx, q, t, keys); return err })
	return out, entityErr("resolve entities", err)
}

// EntityMemories implements ports.EntityStore.
func (s *Store) EntityMemories(ctx context.Context, t domain.Tenant, ids []domain.EntityID, limit int) ([]domain.MemoryID, error) {
	out, err := graph.EntityMemories(ctx, s.r, t, ids, limit)
	return out, entityErr("entity memories", err)
}

// MemoryEntities implements ports.EntityStore.
func (s *Store) MemoryEntities(ctx context.Context, t domain.Tenant, ids []domain.MemoryID) (map[domain.MemoryID][]domain.EntityID, error) {
	out, err := graph.MemoryEntities(ctx, s.r, t, ids)
	return out, entityErr("memory entities", err)
}

// Neighbours implements ports.EntityStore.
func (s *Store) Neighbours(ctx context.Context, t domain.Tenant, ids []domain.EntityID, perEntity int) (out []domain.Relation, err error) {
	err = s.readGraph(ctx, func(q graphsql.Querier) error { out, err = graph.Neighbours(ctx, q, t, ids, perEntity); return err })
	return out, entityErr("neighbours", err)
}

// RenameEntity implements ports.EntityStore.
func (s *Store) RenameEntity(ctx context.Context, t domain.Tenant, id domain.EntityID, name string, now time.Time) (e domain.Entity, err error) {
	err = s.write(ctx, func(tx *sql.Tx) error { e, err = graph.RenameEntity(ctx, tx, t, id, name, now); return err })
	return e, entityErr("rename entity "+string(id), err)
}

// MergeEntities implements ports.EntityStore.
func (s *Store) MergeEntities(ctx context.Context, t domain.Tenant, into domain.EntityID, from []domain.EntityID, now time.Time) (e domain.Entity, err error) {
	err = s.write(ctx, func(tx *sql.Tx) error { e, err = graph.MergeEntities(ctx, tx, t, into, from, now); return err })
	return e, entityErr("merge into entity "+string(into), err)
}

// DeleteEntity implements ports.EntityStore.
func (s *Store) DeleteEntity(ctx context.Context, t domain.Tenant, id domain.EntityID) error {
	err := s.write(ctx, func(tx *sql.Tx) error { return graph.DeleteEntity(ctx, tx, t, id) })
	return entityErr("delete entity "+string(id), err)
}
