// Package graphsql is the SQL of ports.EntityStore shared by sqlitestore and
// pgstore: the same tables (migration 0241 of each engine) and the same
// statements, written with ? placeholders and rebound for PostgreSQL. The
// stores own their transactions (and, on PostgreSQL, row-level security);
// this package runs statements inside them. It imports database/sql only,
// never a driver.
package graphsql

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/engram-memory/engram/domain"
)

// Querier is what a transaction or a pool offers; *sql.Tx, *sql.DB and
// sqlx's types satisfy it.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Dialect is what differs between the engines.
type Dialect struct {
	// Dollar rebinds ? to $1, $2, … (PostgreSQL).
	Dollar bool
	// Time turns a time into a parameter (SQLite: Unix nanoseconds).
	Time func(time.Time) any
	// Lock, when set, is run first in every write transaction with the
	// org and user as arguments: it serialises a tenant's graph writes
	// (PostgreSQL: a transaction-level advisory lock). SQLite has one
	// writer and needs none.
	Lock string
}

// idType is the SQL type of entity and memory ids, for casts.
func (d Dialect) idType() string {
	if d.Dollar {
		return "uuid"
	}
	return "TEXT"
}

func (d Dialect) q(s string) string {
	if !d.Dollar {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// list is "?, ?, …" for n parameters.
func list(n int) string {
	if n == 0 {
		return "NULL"
	}
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func tenantArgs(t domain.Tenant, more ...any) []any {
	return append([]any{string(t.OrgID), string(t.UserID)}, more...)
}

func (d Dialect) lock(ctx context.Context, tx Querier, t domain.Tenant) error {
	if d.Lock == "" {
		return nil
	}
	_, err := tx.ExecContext(ctx, d.q(d.Lock), string(t.OrgID), string(t.UserID))
	return err
}

// timeOf reads a time column: SQLite gives Unix nanoseconds, PostgreSQL a
// time.
func timeOf(v any) time.Time {
	switch x := v.(type) {
	case int64:
		return time.Unix(0, x).UTC()
	case time.Time:
		return x.UTC()
	}
	return time.Time{}
}

// GetEntities implements ports.EntityStore.GetEntities over q.
func (d Dialect) GetEntities(ctx context.Context, q Querier, t domain.Tenant, ids []domain.EntityID) ([]domain.Entity, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := tenantArgs(t)
	for _, id := range ids {
		if !domain.ValidEntityID(string(id)) {
			continue // not an id: no row can have it (and PostgreSQL's uuid would refuse it)
		}
		args = append(args, string(id))
	}
	n := len(args) - 2
	if n == 0 {
		return nil, nil
	}
	rows, err := q.QueryContext(ctx, d.q(`SELECT id, name, type, memories, created_at, updated_at FROM entities
		WHERE org_id = ? AND user_id = ? AND id IN (`+list(n)+`)`), args...)
	if err != nil {
		return nil, err
	}
	var out []domain.Entity
	index := map[domain.EntityID]int{}
	for rows.Next() {
		var e domain.Entity
		var typ string
		var created, updated any
		if err := rows.Scan(&e.ID, &e.Name, &typ, &e.Memories, &created, &updated); err != nil {
			rows.Close()
			return nil, err
		}
		e.Type, e.CreatedAt, e.UpdatedAt = domain.EntityType(typ), timeOf(created), timeOf(updated)
		e.Aliases = []string{}
		index[e.ID] = len(out)
		out = append(out, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, nil
	}
	aargs := tenantArgs(t)
	for _, e := range out {
		aargs = append(aargs, string(e.ID))
	}
	rows, err = q.QueryContext(ctx, d.q(`SELECT entity_id, alias FROM entity_aliases
		WHERE org_id = ? AND user_id = ? AND entity_id IN (`+list(len(out))+`) ORDER BY alias`), aargs...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id domain.EntityID
		var alias string
		if err := rows.Scan(&id, &alias); err != nil {
			return nil, err
		}
		if i, ok := index[id]; ok && domain.EntityKey(alias) != domain.EntityKey(out[i].Name) {
			out[i].Aliases = append(out[i].Aliases, alias)
		}
	}
	return out, rows.Err()
}

// getOne returns one entity or an error wrapping domain.ErrNotFound.
func (d Dialect) getOne(ctx context.Context, q Querier, t domain.Tenant, id domain.EntityID) (domain.Entity, error) {
	es, err := d.GetEntities(ctx, q, t, []domain.EntityID{id})
	if err != nil {
		return domain.Entity{}, err
	}
	if len(es) == 0 {
		return domain.Entity{}, fmt.Errorf("entity %s: %w", id, domain.ErrNotFound)
	}
	return es[0], nil
}

// ResolveEntities implements ports.EntityStore.ResolveEntities over q.
func (d Dialect) ResolveEntities(ctx context.Context, q Querier, t domain.Tenant, keys []string) ([]domain.Entity, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	args := tenantArgs(t)
	for _, k := range keys {
		args = append(args, k)
	}
	ids, err := d.entityIDs(ctx, q, `SELECT DISTINCT entity_id FROM entity_aliases
		WHERE org_id = ? AND user_id = ? AND alias_key IN (`+list(len(keys))+`)`, args...)
	if err != nil {
		return nil, err
	}
	return d.GetEntities(ctx, q, t, ids)
}

func (d Dialect) entityIDs(ctx context.Context, q Querier, query string, args ...any) ([]domain.EntityID, error) {
	rows, err := q.QueryContext(ctx, d.q(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []domain.EntityID
	for rows.Next() {
		var id domain.EntityID
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// EntityMemories implements ports.EntityStore.EntityMemories over q.
func (d Dialect) EntityMemories(ctx context.Context, q Querier, t domain.Tenant, ids []domain.EntityID, limit int) ([]domain.MemoryID, error) {
	ids = validIDs(ids)
	if len(ids) == 0 {
		return nil, nil
	}
	args := tenantArgs(t)
	for _, id := range ids {
		args = append(args, string(id))
	}
	rows, err := q.QueryContext(ctx, d.q(`SELECT DISTINCT memory_id FROM entity_links
		WHERE org_id = ? AND user_id = ? AND entity_id IN (`+list(len(ids))+`) ORDER BY memory_id DESC LIMIT ?`), append(args, limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []domain.MemoryID
	for rows.Next() {
		var id domain.MemoryID
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// MemoryEntities implements ports.EntityStore.MemoryEntities over q.
func (d Dialect) MemoryEntities(ctx context.Context, q Querier, t domain.Tenant, ids []domain.MemoryID) (map[domain.MemoryID][]domain.EntityID, error) {
	args := tenantArgs(t)
	for _, id := range ids {
		if domain.ValidID(string(id)) {
			args = append(args, string(id))
		}
	}
	out := map[domain.MemoryID][]domain.EntityID{}
	if len(args) == 2 {
		return out, nil
	}
	rows, err := q.QueryContext(ctx, d.q(`SELECT memory_id, entity_id FROM entity_links
		WHERE org_id = ? AND user_id = ? AND memory_id IN (`+list(len(args)-2)+`) ORDER BY memory_id, entity_id`), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var m domain.MemoryID
		var e domain.EntityID
		if err := rows.Scan(&m, &e); err != nil {
			return nil, err
		}
		out[m] = append(out[m], e)
	}
	return out, rows.Err()
}

// Neighbours implements ports.EntityStore.Neighbours over q: one indexed
// query per id, each reading at most perEntity rows, so a hub's thousands
// of edges cost no more than a leaf's few.
func (d Dialect) Neighbours(ctx context.Context, q Querier, t domain.Tenant, ids []domain.EntityID, perEntity int) ([]domain.Relation, error) {
	var out []domain.Relation
	query := d.q(`SELECT to_id, weight FROM entity_edges WHERE org_id = ? AND user_id = ? AND from_id = ?
		ORDER BY weight DESC, to_id LIMIT ?`)
	for _, id := range validIDs(ids) {
		rows, err := q.QueryContext(ctx, query, string(t.OrgID), string(t.UserID), string(id), perEntity)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			r := domain.Relation{From: id, Predicate: domain.PredicateCoOccurs}
			var w int64
			if err := rows.Scan(&r.To, &w); err != nil {
				rows.Close()
				return nil, err
			}
			r.Weight = float64(w)
			out = append(out, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func validIDs(ids []domain.EntityID) []domain.EntityID {
	out := make([]domain.EntityID, 0, len(ids))
	for _, id := range ids {
		if domain.ValidEntityID(string(id)) {
			out = append(out, id)
		}
	}
	return out
}
