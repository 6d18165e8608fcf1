package sqlitestore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

var _ ports.IndexDrift = (*TextIndex)(nil)

// driftStepSQL is one step of a drift pass (ports.IndexDrift): the next ?4
// memories and the next ?4 search_docs entries after the cursor (?2, ?3) in
// (user_id, id) order, each an ordered range of an index (memories_tenant_id,
// search_docs_tenant_memory), so a step reads at most 2×?4 rows wherever it
// starts; the step covers keys up to the lower of the two sides' last key
// when a side filled its ?4 (otherwise to the org's end). The active
// memories among them without an entry of the same content hash, and the
// entries without an active memory, are the drift; the 'next' row is the
// last key covered.
const driftStepSQL = `
	WITH mk AS MATERIALIZED (
		SELECT m.user_id, m.id, m.content_hash, m.state = 'active' AND m.erased = 0 AS live
		FROM memories m WHERE m.org_id = ?1 AND (m.user_id, m.id) > (?2, ?3)
		ORDER BY m.user_id, m.id LIMIT ?4
	), sk AS MATERIALIZED (
		SELECT d.user_id, d.memory_id AS id FROM search_docs d
		WHERE d.org_id = ?1 AND (d.user_id, d.memory_id) > (?2, ?3)
		ORDER BY d.user_id, d.memory_id LIMIT ?4
	), stop AS MATERIALIZED (
		SELECT e.user_id, e.id FROM (
			SELECT * FROM (SELECT user_id, id FROM mk WHERE (SELECT count(*) FROM mk) = ?4 ORDER BY user_id DESC, id DESC LIMIT 1)
			UNION ALL
			SELECT * FROM (SELECT user_id, id FROM sk WHERE (SELECT count(*) FROM sk) = ?4 ORDER BY user_id DESC, id DESC LIMIT 1)
		) e ORDER BY e.user_id, e.id LIMIT 1
	)
	SELECT 'drift' AS kind, k.user_id, k.id FROM mk k
	WHERE k.live AND NOT EXISTS (
		SELECT 1 FROM search_docs d
		WHERE d.org_id = ?1 AND d.user_id = k.user_id AND d.memory_id = k.id AND d.content_hash = k.content_hash)
	AND NOT EXISTS (SELECT 1 FROM stop e WHERE (k.user_id, k.id) > (e.user_id, e.id))
	UNION ALL
	SELECT 'drift', k.user_id, k.id FROM sk k
	WHERE NOT EXISTS (
		SELECT 1 FROM memories m
		WHERE m.id = k.id AND m.org_id = ?1 AND m.user_id = k.user_id AND m.state = 'active' AND m.erased = 0)
	AND NOT EXISTS (SELECT 1 FROM stop e WHERE (k.user_id, k.id) > (e.user_id, e.id))
	UNION ALL
	SELECT 'next', user_id, id FROM stop
	ORDER BY 2, 3, 1`

// Drift implements ports.IndexDrift: one step of a keyset walk over the
// org, memories against search_docs, inside the one database file.
func (x *TextIndex) Drift(ctx context.Context, org domain.OrgID, after ports.MemoryRef, limit int) (ports.DriftStep, error) {
	if limit <= 0 {
		return ports.DriftStep{}, domain.Invalid("limit", "must be positive, got %d", limit)
	}
	rows, err := x.query(ctx, driftStepSQL, org, string(after.Tenant.UserID), string(after.ID), limit)
	if err != nil {
		return ports.DriftStep{}, fmt.Errorf("sqlitestore: text index drift: %w", mapErr(err))
	}
	defer rows.Close()
	step := ports.DriftStep{Done: true}
	for rows.Next() {
		var kind, user, id string
		if err := rows.Scan(&kind, &user, &id); err != nil {
			return ports.DriftStep{}, fmt.Errorf("sqlitestore: text index drift: %w", mapErr(err))
		}
		ref := ports.MemoryRef{Tenant: domain.Tenant{OrgID: org, UserID: domain.UserID(user)}, ID: domain.MemoryID(id)}
		if kind == "next" {
			step.Next, step.Done = ref, false
			continue
		}
		step.Refs = append(step.Refs, ref)
	}
	if err := rows.Err(); err != nil {
		return ports.DriftStep{}, fmt.Errorf("sqlitestore: text index drift: %w", mapErr(err))
	}
	return step, nil
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
