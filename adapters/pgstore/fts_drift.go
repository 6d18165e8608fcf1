package pgstore

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

var _ ports.IndexDrift = (*TextIndex)(nil)

// Drift compares memories with memory_search inside the org's RLS scope.
func (x *TextIndex) Drift(ctx context.Context, org domain.OrgID, limit int) ([]ports.MemoryRef, error) {
	var rows []struct {
		User string `db:"user_id"`
		ID   string `db:"id"`
	}
	err := x.s.inTx(ctx, org, true, func(tx *sqlx.Tx) error {
		return tx.SelectContext(ctx, &rows, `
			(SELECT m.user_id, m.id::text AS id FROM memories m
			 WHERE m.org_id = $1 AND m.state = 'active' AND m.erased_at IS NULL AND NOT EXISTS (
				SELECT 1 FROM memory_search s
				WHERE s.org_id = m.org_id AND s.user_id = m.user_id AND s.memory_id = m.id AND s.content_hash = m.content_hash))
			UNION ALL
			(SELECT s.user_id, s.memory_id::text AS id FROM memory_search s
			 WHERE s.org_id = $1 AND NOT EXISTS (
				SELECT 1 FROM memories m
				WHERE m.id = s.memory_id AND m.org_id = s.org_id AND m.user_id = s.user_id AND m.state = 'active' AND m.erased_at IS NULL))
			LIMIT $2`, org, limit)
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: text index drift: %w", mapErr(err))
	}
	out := make([]ports.MemoryRef, len(rows))
	for i, r := range rows {
		out[i] = ports.MemoryRef{Tenant: domain.Tenant{OrgID: org, UserID: domain.UserID(r.User)}, ID: domain.MemoryID(r.ID)}
	}
	return out, nil
}
