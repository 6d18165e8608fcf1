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

// driftStepSQL is one step of a drift pass (ports.IndexDrift): the next $4
// memories and the next $4 memory_search entries after the cursor ($2, $3)
// in (user_id, id) order, each an ordered range of an index
// (memories_tenant_key_idx, memory_search's primary key), so a step reads
// at most 2×$4 rows wherever it starts. The step covers keys up to stop,
// the lower of the two sides' last key when a side filled its $4
// (otherwise to the org's end): up to stop each side holds every key of
// its table, so the two are compared with each other (a full join of the
// two ranges), never by probing the tables. An active memory without an
// entry of the same content hash, and an entry without an active memory,
// drifted; the 'next' row is stop.
const driftStepSQL = `
	WITH mk AS MATERIALIZED (
		SELECT m.user_id, m.id, m.content_hash, m.state = 'active' AND m.erased_at IS NULL AS live
		FROM memories m WHERE m.org_id = $1 AND (m.user_id, m.id) > ($2, $3::uuid)
		ORDER BY m.user_id, m.id LIMIT $4
	), sk AS MATERIALIZED (
		SELECT s.user_id, s.memory_id AS id, s.content_hash FROM memory_search s
		WHERE s.org_id = $1 AND (s.user_id, s.memory_id) > ($2, $3::uuid)
		ORDER BY s.user_id, s.memory_id LIMIT $4
	), stop AS MATERIALIZED (
		SELECT e.user_id, e.id FROM (
			(SELECT user_id, id FROM mk WHERE (SELECT count(*) FROM mk) = $4 ORDER BY user_id DESC, id DESC LIMIT 1)
			UNION ALL
			(SELECT user_id, id FROM sk WHERE (SELECT count(*) FROM sk) = $4 ORDER BY user_id DESC, id DESC LIMIT 1)
		) e ORDER BY e.user_id, e.id LIMIT 1
	)
	SELECT r.kind, r.user_id, r.id::text AS id FROM (
		SELECT 'drift' AS kind, coalesce(m.user_id, s.user_id) AS user_id, coalesce(m.id, s.id) AS id
		FROM mk m FULL JOIN sk s ON s.user_id = m.user_id AND s.id = m.id
		WHERE CASE WHEN m.live THEN s.id IS NULL OR s.content_hash <> m.content_hash ELSE s.id IS NOT NULL END
		UNION ALL
		SELECT 'next', user_id, id FROM stop
	) r
	WHERE r.kind = 'next' OR NOT EXISTS (SELECT 1 FROM stop e WHERE (r.user_id, r.id) > (e.user_id, e.id))
	ORDER BY r.user_id, r.id, r.kind`

// driftPlan keeps a step on its two ordered index ranges whatever the
// statistics say. The drift to repair comes from bulk writes (CreateBatch
// seeds, imports), after which the tables' statistics are stale until the
// next (auto)analyze: planned on them, a step estimated a few dozen rows
// after the cursor, read all of them (tens of thousands) by bitmap and
// sorted them. The org-wide anti-join this replaced, planned on such
// statistics, ran past the 5 s statement timeout on every full pass at
// 20,000 memories (docs/benchmarks.md).
const driftPlan = ", set_config('enable_bitmapscan', 'off', true), set_config('enable_seqscan', 'off', true)"

// nilUUID is before every memory id: the cursor of a pass's first step.
const nilUUID = "00000000-0000-0000-0000-000000000000"

// Drift implements ports.IndexDrift: one step of a keyset walk over the
// org, memories against memory_search, inside the org's RLS scope.
func (x *TextIndex) Drift(ctx context.Context, org domain.OrgID, after ports.MemoryRef, limit int) (ports.DriftStep, error) {
	if limit <= 0 {
		return ports.DriftStep{}, domain.Invalid("limit", "must be positive, got %d", limit)
	}
	id := string(after.ID)
	if id == "" {
		id = nilUUID
	}
	var rows []struct {
		Kind string `db:"kind"`
		User string `db:"user_id"`
		ID   string `db:"id"`
	}
	err := x.s.inTxWith(ctx, pq.QuoteLiteral(string(org))+", true)"+driftPlan, true, func(tx *sqlx.Tx) error {
		return tx.SelectContext(ctx, &rows, driftStepSQL, org, string(after.Tenant.UserID), id, limit)
	})
	if err != nil {
		return ports.DriftStep{}, fmt.Errorf("pgstore: text index drift: %w", mapErr(err))
	}
	step := ports.DriftStep{Done: true}
	for _, r := range rows {
		ref := ports.MemoryRef{Tenant: domain.Tenant{OrgID: org, UserID: domain.UserID(r.User)}, ID: domain.MemoryID(r.ID)}
		if r.Kind == "next" {
			step.Next, step.Done = ref, false
			continue
		}
		step.Refs = append(step.Refs, ref)
	}
	return step, nil
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
