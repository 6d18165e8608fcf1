package sqlitestore

import (
	"context"
	"encoding/json"
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

var _ ports.PageDrift = (*TextIndex)(nil)

// Stale implements ports.PageDrift: one lookup per memory of the page in
// search_docs' (org, user, memory) index.
func (x *TextIndex) Stale(ctx context.Context, org domain.OrgID, page []domain.Memory) ([]ports.MemoryRef, error) {
	if len(page) == 0 {
		return nil, nil
	}
	keys := make([][3]string, len(page))
	for i, m := range page {
		keys[i] = [3]string{string(m.UserID), string(m.ID), m.ContentHash}
	}
	list, err := json.Marshal(keys)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: text index stale: %w", err)
	}
	return x.refs(ctx, org, "stale", `
		SELECT k.value ->> 0, k.value ->> 1 FROM json_each(?2) k
		WHERE NOT EXISTS (SELECT 1 FROM search_docs d
			WHERE d.org_id = ?1 AND d.user_id = k.value ->> 0 AND d.memory_id = k.value ->> 1 AND d.content_hash = k.value ->> 2)`,
		org, string(list))
}

// Orphans implements ports.PageDrift: Drift's second half.
func (x *TextIndex) Orphans(ctx context.Context, org domain.OrgID, limit int) ([]ports.MemoryRef, error) {
	return x.refs(ctx, org, "orphans", `
		SELECT d.user_id, d.memory_id FROM search_docs d
		WHERE d.org_id = ?1 AND NOT EXISTS (
			SELECT 1 FROM memories m
			WHERE m.id = d.memory_id AND m.org_id = d.org_id AND m.user_id = d.user_id AND m.state = 'active' AND m.erased = 0)
		LIMIT ?2`, org, limit)
}

func (x *TextIndex) refs(ctx context.Context, org domain.OrgID, what, q string, args ...any) ([]ports.MemoryRef, error) {
	rows, err := x.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: text index %s: %w", what, mapErr(err))
	}
	defer rows.Close()
	var out []ports.MemoryRef
	for rows.Next() {
		var user, id string
		if err := rows.Scan(&user, &id); err != nil {
			return nil, fmt.Errorf("sqlitestore: text index %s: %w", what, mapErr(err))
		}
		out = append(out, ports.MemoryRef{Tenant: domain.Tenant{OrgID: org, UserID: domain.UserID(user)}, ID: domain.MemoryID(id)})
	}
	return out, mapErr(rows.Err())
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
