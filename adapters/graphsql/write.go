package graphsql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/engram-memory/engram/domain"
)

// LinkMemory implements ports.EntityStore.LinkMemory inside tx.
func (d Dialect) LinkMemory(ctx context.Context, tx Querier, t domain.Tenant, mem domain.MemoryID, mentions []domain.Mention, now time.Time) error {
	if !domain.ValidID(string(mem)) {
		return domain.Invalid("memory_id", "%q is not a memory id", mem)
	}
	if err := d.lock(ctx, tx, t); err != nil {
		return err
	}
	mentions = domain.NormalizeMentions(mentions)
	old, err := d.entityIDs(ctx, tx, `SELECT entity_id FROM entity_links WHERE org_id = ? AND user_id = ? AND memory_id = ?`,
		tenantArgs(t, string(mem))...)
	if err != nil {
		return err
	}
	var stamp = d.Time(now)
	var next []domain.EntityID
	for _, m := range mentions {
		id, err := d.resolveOrCreate(ctx, tx, t, m, stamp)
		if err != nil {
			return err
		}
		if !slices.Contains(next, id) {
			next = append(next, id)
		}
	}
	removed := minus(old, next)
	added := minus(next, old)
	for _, id := range removed {
		if _, err := tx.ExecContext(ctx, d.q(`DELETE FROM entity_links WHERE org_id = ? AND user_id = ? AND entity_id = ? AND memory_id = ?`),
			tenantArgs(t, string(id), string(mem))...); err != nil {
			return err
		}
		if err := d.count(ctx, tx, t, id, -1, stamp); err != nil {
			return err
		}
	}
	for _, id := range added {
		if _, err := tx.ExecContext(ctx, d.q(`INSERT INTO entity_links (org_id, user_id, entity_id, memory_id) VALUES (?, ?, ?, ?)`),
			tenantArgs(t, string(id), string(mem))...); err != nil {
			return err
		}
		if err := d.count(ctx, tx, t, id, +1, stamp); err != nil {
			return err
		}
	}
	// Pairs that lost this memory (one side removed) and pairs that gained
	// it (one side added); a pair of two kept entities is unchanged.
	if err := d.pairs(ctx, tx, t, removed, old, -1); err != nil {
		return err
	}
	if err := d.pairs(ctx, tx, t, added, next, +1); err != nil {
		return err
	}
	if len(removed) > 0 {
		if err := d.dropEmptyEdges(ctx, tx, t, old); err != nil {
			return err
		}
	}
	for _, id := range removed {
		if err := d.dropIfOrphan(ctx, tx, t, id); err != nil {
			return err
		}
	}
	return nil
}

func minus(a, b []domain.EntityID) []domain.EntityID {
	var out []domain.EntityID
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// resolveOrCreate finds the entity m's key names, upgrading an "other" to
// m's type, or creates it.
func (d Dialect) resolveOrCreate(ctx context.Context, tx Querier, t domain.Tenant, m domain.Mention, now any) (domain.EntityID, error) {
	key := domain.EntityKey(m.Name)
	var id domain.EntityID
	var typ string
	err := tx.QueryRowContext(ctx, d.q(`SELECT a.entity_id, e.type FROM entity_aliases a JOIN entities e
		ON e.org_id = a.org_id AND e.user_id = a.user_id AND e.id = a.entity_id
		WHERE a.org_id = ? AND a.user_id = ? AND a.alias_key = ?`), tenantArgs(t, key)...).Scan(&id, &typ)
	switch {
	case err == nil:
		if typ == string(domain.EntityOther) && m.Type != domain.EntityOther {
			_, err = tx.ExecContext(ctx, d.q(`UPDATE entities SET type = ?, updated_at = ? WHERE org_id = ? AND user_id = ? AND id = ?`),
				string(m.Type), now, string(t.OrgID), string(t.UserID), string(id))
		}
		return id, err
	case !errors.Is(err, sql.ErrNoRows):
		return "", err
	}
	id = domain.EntityID(domain.NewID(time.Now()))
	if _, err := tx.ExecContext(ctx, d.q(`INSERT INTO entities (org_id, user_id, id, name, type, memories, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, 0, ?, ?)`), tenantArgs(t, string(id), m.Name, string(m.Type), now, now)...); err != nil {
		return "", err
	}
	_, err = tx.ExecContext(ctx, d.q(`INSERT INTO entity_aliases (org_id, user_id, alias_key, entity_id, alias) VALUES (?, ?, ?, ?, ?)`),
		tenantArgs(t, key, string(id), m.Name)...)
	return id, err
}

func (d Dialect) count(ctx context.Context, tx Querier, t domain.Tenant, id domain.EntityID, by int, now any) error {
	_, err := tx.ExecContext(ctx, d.q(`UPDATE entities SET memories = memories + ?, updated_at = ? WHERE org_id = ? AND user_id = ? AND id = ?`),
		by, now, string(t.OrgID), string(t.UserID), string(id))
	return err
}

// pairs moves by the weight of every pair {a, b} with a in changed and b in
// set, both directions, each unordered pair once.
func (d Dialect) pairs(ctx context.Context, tx Querier, t domain.Tenant, changed, set []domain.EntityID, by int) error {
	upsert := d.q(`INSERT INTO entity_edges (org_id, user_id, from_id, to_id, weight) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (org_id, user_id, from_id, to_id) DO UPDATE SET weight = entity_edges.weight + ?`)
	for _, a := range changed {
		for _, b := range set {
			if a == b || slices.Contains(changed, b) && b < a {
				continue
			}
			for _, e := range [][2]domain.EntityID{{a, b}, {b, a}} {
				if _, err := tx.ExecContext(ctx, upsert, tenantArgs(t, string(e[0]), string(e[1]), by, by)...); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (d Dialect) dropEmptyEdges(ctx context.Context, tx Querier, t domain.Tenant, from []domain.EntityID) error {
	args := tenantArgs(t)
	for _, id := range from {
		args = append(args, string(id))
	}
	_, err := tx.ExecContext(ctx, d.q(`DELETE FROM entity_edges WHERE org_id = ? AND user_id = ? AND from_id IN (`+list(len(from))+`) AND weight <= 0`), args...)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, d.q(`DELETE FROM entity_edges WHERE org_id = ? AND user_id = ? AND to_id IN (`+list(len(from))+`) AND weight <= 0`), args...)
	return err
}

// dropIfOrphan deletes an entity no memory links to any more.
func (d Dialect) dropIfOrphan(ctx context.Context, tx Querier, t domain.Tenant, id domain.EntityID) error {
	res, err := tx.ExecContext(ctx, d.q(`DELETE FROM entities WHERE org_id = ? AND user_id = ? AND id = ? AND memories <= 0`),
		tenantArgs(t, string(id))...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	return d.dropRest(ctx, tx, t, id)
}

// dropRest deletes an entity's aliases, links and edges.
func (d Dialect) dropRest(ctx context.Context, tx Querier, t domain.Tenant, id domain.EntityID) error {
	for _, q := range []string{
		`DELETE FROM entity_aliases WHERE org_id = ? AND user_id = ? AND entity_id = ?`,
		`DELETE FROM entity_links WHERE org_id = ? AND user_id = ? AND entity_id = ?`,
		`DELETE FROM entity_edges WHERE org_id = ? AND user_id = ? AND from_id = ?`,
		`DELETE FROM entity_edges WHERE org_id = ? AND user_id = ? AND to_id = ?`,
	} {
		if _, err := tx.ExecContext(ctx, d.q(q), tenantArgs(t, string(id))...); err != nil {
			return err
		}
	}
	return nil
}

// DeleteEntity implements ports.EntityStore.DeleteEntity inside tx.
func (d Dialect) DeleteEntity(ctx context.Context, tx Querier, t domain.Tenant, id domain.EntityID) error {
	if !domain.ValidEntityID(string(id)) {
		return fmt.Errorf("entity %s: %w", id, domain.ErrNotFound)
	}
	if err := d.lock(ctx, tx, t); err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, d.q(`DELETE FROM entities WHERE org_id = ? AND user_id = ? AND id = ?`), tenantArgs(t, string(id))...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("entity %s: %w", id, domain.ErrNotFound)
	}
	return d.dropRest(ctx, tx, t, id)
}

// RenameEntity implements ports.EntityStore.RenameEntity inside tx.
func (d Dialect) RenameEntity(ctx context.Context, tx Querier, t domain.Tenant, id domain.EntityID, name string, now time.Time) (domain.Entity, error) {
	if err := domain.ValidateEntityName("name", name); err != nil {
		return domain.Entity{}, err
	}
	if err := d.lock(ctx, tx, t); err != nil {
		return domain.Entity{}, err
	}
	if _, err := d.getOne(ctx, tx, t, id); err != nil {
		return domain.Entity{}, err
	}
	key := domain.EntityKey(name)
	var owner domain.EntityID
	err := tx.QueryRowContext(ctx, d.q(`SELECT entity_id FROM entity_aliases WHERE org_id = ? AND user_id = ? AND alias_key = ?`),
		tenantArgs(t, key)...).Scan(&owner)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		_, err = tx.ExecContext(ctx, d.q(`INSERT INTO entity_aliases (org_id, user_id, alias_key, entity_id, alias) VALUES (?, ?, ?, ?, ?)`),
			tenantArgs(t, key, string(id), name)...)
	case err != nil:
	case owner != id:
		return domain.Entity{}, fmt.Errorf("%w: %q already names another entity (%s); merge them instead", domain.ErrConflict, name, owner)
	default:
		_, err = tx.ExecContext(ctx, d.q(`UPDATE entity_aliases SET alias = ? WHERE org_id = ? AND user_id = ? AND alias_key = ?`),
			name, string(t.OrgID), string(t.UserID), key)
	}
	if err != nil {
		return domain.Entity{}, err
	}
	if _, err := tx.ExecContext(ctx, d.q(`UPDATE entities SET name = ?, updated_at = ? WHERE org_id = ? AND user_id = ? AND id = ?`),
		name, d.Time(now), string(t.OrgID), string(t.UserID), string(id)); err != nil {
		return domain.Entity{}, err
	}
	return d.getOne(ctx, tx, t, id)
}
