package pgstore

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

var (
	_ ports.IndexDrift = (*TextIndex)(nil)
	_ ports.PageDrift  = (*TextIndex)(nil)
)

type driftRow struct {
	User string `db:"user_id"`
	ID   string `db:"id"`
}

func (x *TextIndex) driftRefs(ctx context.Context, org domain.OrgID, what, q string, args ...any) ([]ports.MemoryRef, error) {
	var rows []driftRow
	err := x.s.inTx(ctx, org, true, func(tx *sqlx.Tx) error { return tx.SelectContext(ctx, &rows, q, args...) })
	if err != nil {
		return nil, fmt.Errorf("pgstore: text index %s: %w", what, mapErr(err))
	}
	out := make([]ports.MemoryRef, len(rows))
	for i, r := range rows {
		out[i] = ports.MemoryRef{Tenant: domain.Tenant{OrgID: org, UserID: domain.UserID(r.User)}, ID: domain.MemoryID(r.ID)}
	}
	return out, nil
}

// Stale implements ports.PageDrift: the page's memories, as arrays, probed
// in memory_search's primary key, in one statement inside the org's RLS
// scope. Start-up (app.Indexer.Load) calls it on each page it loads into
// the in-process vectors, so the store is read once, not twice.
func (x *TextIndex) Stale(ctx context.Context, org domain.OrgID, page []domain.Memory) ([]ports.MemoryRef, error) {
	if len(page) == 0 {
		return nil, nil
	}
	users, ids, hashes := make([]string, len(page)), make([]string, len(page)), make([]string, len(page))
	for i, m := range page {
		users[i], ids[i], hashes[i] = string(m.UserID), string(m.ID), m.ContentHash
	}
	return x.driftRefs(ctx, org, "stale", `
		SELECT k.user_id, k.id FROM unnest($2::text[], $3::text[], $4::text[]) AS k(user_id, id, content_hash)
		WHERE NOT EXISTS (SELECT 1 FROM memory_search s
			WHERE s.org_id = $1 AND s.user_id = k.user_id AND s.memory_id = k.id::uuid AND s.content_hash = k.content_hash)`,
		org, pq.Array(users), pq.Array(ids), pq.Array(hashes))
}

// Orphans implements ports.PageDrift: Drift's second half.
func (x *TextIndex) Orphans(ctx context.Context, org domain.OrgID, limit int) ([]ports.MemoryRef, error) {
	return x.driftRefs(ctx, org, "orphans", `
		SELECT s.user_id, s.memory_id::text AS id FROM memory_search s
		WHERE s.org_id = $1 AND NOT EXISTS (
			SELECT 1 FROM memories m
			WHERE m.id = s.memory_id AND m.org_id = s.org_id AND m.user_id = s.user_id AND m.state = 'active' AND m.erased_at IS NULL)
		LIMIT $2`, org, limit)
}

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

// docHash is the content hash an index entry keeps, compared with the
// memory's to find drift: the store's own (keyed when the text is sealed),
// as the indexer passes it.
func docHash(d ports.TextDoc) string {
	if d.Hash != "" {
		return d.Hash
	}
	return domain.ContentHash(d.Text)
}
