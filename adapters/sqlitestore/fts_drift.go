package sqlitestore

import (
	"context"
	"fmt"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

var _ ports.IndexDrift = (*TextIndex)(nil)

// Drift compares memories with search_docs inside the one database file.
func (x *TextIndex) Drift(ctx context.Context, org domain.OrgID, limit int) ([]ports.MemoryRef, error) {
	rows, err := x.query(ctx, `
		SELECT m.user_id, m.id FROM memories m
		WHERE m.org_id = ?1 AND m.state = 'active' AND m.erased = 0 AND NOT EXISTS (
			SELECT 1 FROM search_docs d
			WHERE d.org_id = m.org_id AND d.user_id = m.user_id AND d.memory_id = m.id AND d.content_hash = m.content_hash)
		UNION ALL
		SELECT d.user_id, d.memory_id FROM search_docs d
		WHERE d.org_id = ?1 AND NOT EXISTS (
			SELECT 1 FROM memories m
			WHERE m.id = d.memory_id AND m.org_id = d.org_id AND m.user_id = d.user_id AND m.state = 'active' AND m.erased = 0)
		LIMIT ?2`, org, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: text index drift: %w", mapErr(err))
	}
	defer rows.Close()
	var out []ports.MemoryRef
	for rows.Next() {
		var user, id string
		if err := rows.Scan(&user, &id); err != nil {
			return nil, fmt.Errorf("sqlitestore: text index drift: %w", mapErr(err))
		}
		out = append(out, ports.MemoryRef{Tenant: domain.Tenant{OrgID: org, UserID: domain.UserID(user)}, ID: domain.MemoryID(id)})
	}
	return out, mapErr(rows.Err())
}
