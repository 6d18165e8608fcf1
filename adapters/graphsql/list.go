package graphsql

import (
	"context"
	"strings"

	"github.com/engram-memory/engram/domain"
)

// likeEscape escapes LIKE's wildcards with a backslash.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// ListEntities implements ports.EntityStore.ListEntities over q. It reads
// one row more than the page to know whether another page follows.
func (d Dialect) ListEntities(ctx context.Context, q Querier, t domain.Tenant, eq domain.EntityQuery) (domain.EntityPage, error) {
	where := `org_id = ? AND user_id = ?`
	args := tenantArgs(t)
	if eq.Type != "" {
		where += ` AND type = ?`
		args = append(args, string(eq.Type))
	}
	if eq.Search != "" {
		key := domain.EntityKey(eq.Search)
		if key == "" {
			return domain.EntityPage{Items: []domain.Entity{}}, nil
		}
		k := likeEscape(key)
		where += ` AND EXISTS (SELECT 1 FROM entity_aliases a WHERE a.org_id = entities.org_id AND a.user_id = entities.user_id
			AND a.entity_id = entities.id AND (a.alias_key LIKE ? ESCAPE '\' OR a.alias_key LIKE ? ESCAPE '\'))`
		args = append(args, k+"%", "% "+k+"%")
	}
	if eq.After != nil {
		where += ` AND (memories < ? OR memories = ? AND id < ?)`
		args = append(args, eq.After.Memories, eq.After.Memories, string(eq.After.ID))
	}
	ids, err := d.entityIDs(ctx, q, `SELECT id FROM entities WHERE `+where+` ORDER BY memories DESC, id DESC LIMIT ?`,
		append(args, eq.Limit+1)...)
	if err != nil {
		return domain.EntityPage{}, err
	}
	more := len(ids) > eq.Limit
	if more {
		ids = ids[:eq.Limit]
	}
	es, err := d.GetEntities(ctx, q, t, ids)
	if err != nil {
		return domain.EntityPage{}, err
	}
	byID := make(map[domain.EntityID]domain.Entity, len(es))
	for _, e := range es {
		byID[e.ID] = e
	}
	page := domain.EntityPage{Items: make([]domain.Entity, 0, len(ids))}
	for _, id := range ids {
		if e, ok := byID[id]; ok {
			page.Items = append(page.Items, e)
		}
	}
	if more && len(page.Items) > 0 {
		last := page.Items[len(page.Items)-1]
		page.Next = &domain.EntityCursor{Memories: last.Memories, ID: last.ID}
	}
	return page, nil
}
