package graphsql

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/engram-memory/engram/domain"
)

// MergeEntities implements ports.EntityStore.MergeEntities inside tx.
func (d Dialect) MergeEntities(ctx context.Context, tx Querier, t domain.Tenant, into domain.EntityID, from []domain.EntityID, now time.Time) (domain.Entity, error) {
	if len(from) == 0 {
		return domain.Entity{}, domain.Invalid("from", "must name at least one entity to merge")
	}
	if slices.Contains(from, into) {
		return domain.Entity{}, domain.Invalid("from", "must not name the entity merged into")
	}
	from = slices.Compact(slices.Sorted(slices.Values(from)))
	if len(from) > domain.MaxEntityAliases {
		return domain.Entity{}, domain.Invalid("from", "at most %d entities per merge", domain.MaxEntityAliases)
	}
	if err := d.lock(ctx, tx, t); err != nil {
		return domain.Entity{}, err
	}
	all, err := d.GetEntities(ctx, tx, t, append([]domain.EntityID{into}, from...))
	if err != nil {
		return domain.Entity{}, err
	}
	if len(all) != len(from)+1 {
		return domain.Entity{}, fmt.Errorf("merge: %w: an entity of the merge does not exist", domain.ErrNotFound)
	}
	typ := domain.EntityOther
	for _, e := range all {
		if e.ID == into {
			typ = e.Type
		}
	}
	if typ == domain.EntityOther {
		for _, id := range from {
			for _, e := range all {
				if e.ID == id && e.Type != domain.EntityOther && typ == domain.EntityOther {
					typ = e.Type
				}
			}
		}
	}
	fargs := tenantArgs(t)
	for _, id := range from {
		fargs = append(fargs, string(id))
	}
	in := `(` + list(len(from)) + `)`
	steps := []struct {
		sql  string
		args []any
	}{
		{`UPDATE entity_aliases SET entity_id = ? WHERE org_id = ? AND user_id = ? AND entity_id IN ` + in, append([]any{string(into)}, fargs...)},
		{`INSERT INTO entity_links (org_id, user_id, entity_id, memory_id)
			SELECT org_id, user_id, CAST(? AS ` + d.idType() + `), memory_id FROM entity_links WHERE org_id = ? AND user_id = ? AND entity_id IN ` + in + `
			ON CONFLICT (org_id, user_id, entity_id, memory_id) DO NOTHING`, append([]any{string(into)}, fargs...)},
		{`DELETE FROM entity_links WHERE org_id = ? AND user_id = ? AND entity_id IN ` + in, fargs},
		{`DELETE FROM entity_edges WHERE org_id = ? AND user_id = ? AND from_id IN ` + in, fargs},
		{`DELETE FROM entity_edges WHERE org_id = ? AND user_id = ? AND to_id IN ` + in, fargs},
		{`DELETE FROM entities WHERE org_id = ? AND user_id = ? AND id IN ` + in, fargs},
		{`DELETE FROM entity_edges WHERE org_id = ? AND user_id = ? AND (from_id = ? OR to_id = ?)`, tenantArgs(t, string(into), string(into))},
		// into's edges, recomputed from the links: a memory naming two of
		// the merged entities counts once.
		{`INSERT INTO entity_edges (org_id, user_id, from_id, to_id, weight)
			SELECT l1.org_id, l1.user_id, l1.entity_id, l2.entity_id, COUNT(*) FROM entity_links l1
			JOIN entity_links l2 ON l2.org_id = l1.org_id AND l2.user_id = l1.user_id AND l2.memory_id = l1.memory_id
			WHERE l1.org_id = ? AND l1.user_id = ? AND l1.entity_id = ? AND l2.entity_id <> l1.entity_id
			GROUP BY l1.org_id, l1.user_id, l1.entity_id, l2.entity_id`, tenantArgs(t, string(into))},
		{`INSERT INTO entity_edges (org_id, user_id, from_id, to_id, weight)
			SELECT org_id, user_id, to_id, from_id, weight FROM entity_edges WHERE org_id = ? AND user_id = ? AND from_id = ?`, tenantArgs(t, string(into))},
		{`UPDATE entities SET type = ?, updated_at = ?, memories = (SELECT COUNT(*) FROM entity_links l
			WHERE l.org_id = entities.org_id AND l.user_id = entities.user_id AND l.entity_id = entities.id)
			WHERE org_id = ? AND user_id = ? AND id = ?`, []any{string(typ), d.Time(now), string(t.OrgID), string(t.UserID), string(into)}},
	}
	for _, st := range steps {
		if _, err := tx.ExecContext(ctx, d.q(st.sql), st.args...); err != nil {
			return domain.Entity{}, err
		}
	}
	return d.getOne(ctx, tx, t, into)
}
