package pgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/engram-memory/engram/adapters/graphsql"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

var _ ports.EntityStore = (*Store)(nil)

// graph is the shared entity SQL (adapters/graphsql) in PostgreSQL's
// dialect. Writes of one tenant take a transaction-level advisory lock:
// two memories naming a new "Anna" at once would otherwise both insert
// her key, and weight updates of one edge would conflict.
var graph = graphsql.Dialect{
	Dollar: true,
	Time:   func(t time.Time) any { return t.UTC() },
	Lock:   `SELECT pg_advisory_xact_lock(hashtextextended('engram.graph/' || ?::text || '/' || ?::text, 0))`,
}

// LinkMemory implements ports.EntityStore.
func (s *Store) LinkMemory(ctx context.Context, t domain.Tenant, id domain.MemoryID, ms []domain.Mention, now time.Time) error {
	err := s.inTx(ctx, t.OrgID, false, func(tx *sqlx.Tx) error { return graph.LinkMemory(ctx, tx, t, id, ms, now) })
	if err != nil {
		return fmt.Errorf("pgstore: link memory %s: %w", id, mapErr(err))
	}
	return nil
}

// GetEntities implements ports.EntityStore.
func (s *Store) GetEntities(ctx context.Context, t domain.Tenant, ids []domain.EntityID) (out []domain.Entity, err error) {
	err = s.readTx(ctx, t.OrgID, func(c *sqlx.Conn) error { out, err = graph.GetEntities(ctx, c, t, ids); return err })
	if err != nil {
		return nil, fmt.Errorf("pgstore: get entities: %w", mapErr(err))
	}
	return out, nil
}

// ListEntities implements ports.EntityStore.
func (s *Store) ListEntities(ctx context.Context, t domain.Tenant, eq domain.EntityQuery) (page domain.EntityPage, err error) {
	err = s.readTx(ctx, t.OrgID, func(c *sqlx.Conn) error { page, err = graph.ListEntities(ctx, c, t, eq); return err })
	if err != nil {
		return domain.EntityPage{}, fmt.Errorf("pgstore: list entities: %w", mapErr(err))
	}
	return page, nil
}

// ResolveEntities implements ports.EntityStore.
func (s *Store) ResolveEntities(ctx context.Context, t domain.Tenant, keys []string) (out []domain.Entity, err error) {
	err = s.readTx(ctx, t.OrgID, func(c *sqlx.Conn) error { out, err = graph.ResolveEntities(ctx, c, t, keys); return err })
	if err != nil {
		return nil, fmt.Errorf("pgstore: resolve entities: %w", mapErr(err))
	}
	return out, nil
}

// EntityMemories implements ports.EntityStore.
func (s *Store) EntityMemories(ctx context.Context, t domain.Tenant, ids []domain.EntityID, limit int) (out []domain.MemoryID, err error) {
	err = s.readTx(ctx, t.OrgID, func(c *sqlx.Conn) error { out, err = graph.EntityMemories(ctx, c, t, ids, limit); return err })
	if err != nil {
		return nil, fmt.Errorf("pgstore: entity memories: %w", mapErr(err))
	}
	return out, nil
}

// MemoryEntities implements ports.EntityStore.
func (s *Store) MemoryEntities(ctx context.Context, t domain.Tenant, ids []domain.MemoryID) (out map[domain.MemoryID][]domain.EntityID, err error) {
	err = s.readTx(ctx, t.OrgID, func(c *sqlx.Conn) error { out, err = graph.MemoryEntities(ctx, c, t, ids); return err })
	if err != nil {
		return nil, fmt.Errorf("pgstore: memory entities: %w", mapErr(err))
	}
	return out, nil
}

// Neighbours implements ports.EntityStore.
func (s *Store) Neighbours(ctx context.Context, t domain.Tenant, ids []domain.EntityID, perEntity int) (out []domain.Relation, err error) {
	err = s.readTx(ctx, t.OrgID, func(c *sqlx.Conn) error { out, err = graph.Neighbours(ctx, c, t, ids, perEntity); return err })
	if err != nil {
		return nil, fmt.Errorf("pgstore: neighbours: %w", mapErr(err))
	}
	return out, nil
}

// RenameEntity implements ports.EntityStore.
func (s *Store) RenameEntity(ctx context.Context, t domain.Tenant, id domain.EntityID, name string, now time.Time) (e domain.Entity, err error) {
	err = s.inTx(ctx, t.OrgID, false, func(tx *sqlx.Tx) error { e, err = graph.RenameEntity(ctx, tx, t, id, name, now); return err })
	if err != nil {
		return domain.Entity{}, fmt.Errorf("pgstore: rename entity %s: %w", id, mapErr(err))
	}
	return e, nil
}

// MergeEntities implements ports.EntityStore.
func (s *Store) MergeEntities(ctx context.Context, t domain.Tenant, into domain.EntityID, from []domain.EntityID, now time.Time) (e domain.Entity, err error) {
	err = s.inTx(ctx, t.OrgID, false, func(tx *sqlx.Tx) error { e, err = graph.MergeEntities(ctx, tx, t, into, from, now); return err })
	if err != nil {
		return domain.Entity{}, fmt.Errorf("pgstore: merge into entity %s: %w", into, mapErr(err))
	}
	return e, nil
}

// DeleteEntity implements ports.EntityStore.
func (s *Store) DeleteEntity(ctx context.Context, t domain.Tenant, id domain.EntityID) error {
	err := s.inTx(ctx, t.OrgID, false, func(tx *sqlx.Tx) error { return graph.DeleteEntity(ctx, tx, t, id) })
	if err != nil {
		return fmt.Errorf("pgstore: delete entity %s: %w", id, mapErr(err))
	}
	return nil
}
