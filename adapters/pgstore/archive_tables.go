package pgstore

import "strings"

// archiveSQL is how one archived table is read and written here; see
// sqlitestore's twin for the argument convention ($1..$n in the archive's
// column order, then archive_extra, then content_hash for memories).
//
// Selects run once per org, inside that org's row-level security scope:
// $1 org, $2 user (” for every user), $3 since (NULL for all). Text keys
// sort with COLLATE "C" (byte order, as SQLite's BINARY); uuid order is the
// order of their lower-case text. Every parameter is cast: in INSERT ...
// SELECT PostgreSQL cannot infer the types from the target columns.
type archiveSQL struct {
	sel    string
	ins    string
	upd    string
	hashed bool
	// dedup lists the parameters (1-based) of the ins guard's NOT EXISTS
	// key: of the rows of one batch equal in them, the bulk statement
	// keeps the first, as the per-row statements would.
	dedup []int
	// later lists select expressions of columns a later migration added,
	// with what an older schema reads instead (the value an archive leaves
	// out): `engram migrate up --verify` digests the data before the
	// migration that adds them, through this same select.
	later []laterColumn
}

// laterColumn is a column added after the archive's first schema: expr
// reads it in sel, and where the table has no such column yet, old stands
// in for expr.
type laterColumn struct{ column, expr, old string }

// selectFor is sel for a table that has the columns in has (every column
// when has is nil).
func (q archiveSQL) selectFor(has map[string]bool) string {
	sel := q.sel
	for _, c := range q.later {
		if has != nil && !has[c.column] {
			sel = strings.Replace(sel, c.expr, c.old, 1)
		}
	}
	return sel
}

const pgScope = `org_id = $1 AND ($2 = '' OR user_id = $2)`

var archiveTables = map[string]archiveSQL{
	"memories": {
		sel: `SELECT id::text, org_id, user_id, app_id, text, metadata, to_jsonb(categories), state, erased_at IS NOT NULL,
				created_at, updated_at, NULLIF(agent_id, ''), NULLIF(run_id, ''), expires_at,
				NULLIF(observed_at, created_at), valid_from, valid_to, archive_extra
			FROM memories WHERE ` + pgScope + ` AND ($3::timestamptz IS NULL OR updated_at >= $3) ORDER BY id`,
		ins: `INSERT INTO memories (id, org_id, user_id, app_id, text, metadata, categories, state, erased_at, created_at, updated_at,
				agent_id, run_id, expires_at, observed_at, valid_from, valid_to, archive_extra, content_hash)
			SELECT $1::uuid, $2::text, $3::text, $4::text, $5::text, $6::jsonb, ARRAY(SELECT jsonb_array_elements_text($7::jsonb)),
				$8::text, CASE WHEN $9::boolean THEN $11::timestamptz END, $10::timestamptz, $11::timestamptz,
				COALESCE($12::text, ''), COALESCE($13::text, ''), $14::timestamptz,
				COALESCE($15::timestamptz, $10::timestamptz), $16::timestamptz, $17::timestamptz, $18::jsonb, $19::text
			WHERE true ON CONFLICT DO NOTHING`,
		upd: `UPDATE memories SET app_id = $4::text, text = $5::text, metadata = $6::jsonb,
				categories = ARRAY(SELECT jsonb_array_elements_text($7::jsonb)), state = $8::text,
				erased_at = CASE WHEN $9::boolean THEN COALESCE(erased_at, $11::timestamptz) END,
				created_at = $10::timestamptz, updated_at = $11::timestamptz,
				agent_id = COALESCE($12::text, ''), run_id = COALESCE($13::text, ''), expires_at = $14::timestamptz,
				observed_at = COALESCE($15::timestamptz, $10::timestamptz), valid_from = $16::timestamptz, valid_to = $17::timestamptz,
				archive_extra = $18::jsonb, content_hash = $19::text
			WHERE id = $1::uuid AND org_id = $2::text AND user_id = $3::text`,
		hashed: true,
		// Migration 0431 (issue 18): observed_at defaults to created_at,
		// which the select reads as NULL, as it does unbounded validity.
		later: []laterColumn{{column: "observed_at", expr: "NULLIF(observed_at, created_at), valid_from, valid_to",
			old: "NULL::timestamptz, NULL::timestamptz, NULL::timestamptz"}},
	},
	"memory_history": {
		sel: `SELECT memory_id::text, org_id, user_id, kind, old_values, new_values, actor_app, changed_at, archive_extra
			FROM memory_changes WHERE ` + pgScope + ` AND ($3::timestamptz IS NULL OR changed_at >= $3) ORDER BY memory_id, seq`,
		ins: `INSERT INTO memory_changes (memory_id, org_id, user_id, kind, old_values, new_values, actor_app, changed_at, archive_extra)
			SELECT $1::uuid, $2::text, $3::text, $4::text, $5::jsonb, $6::jsonb, $7::text, $8::timestamptz, $9::jsonb
			WHERE EXISTS (SELECT 1 FROM memories m WHERE m.id = $1::uuid AND m.org_id = $2::text AND m.user_id = $3::text)
			  AND NOT EXISTS (SELECT 1 FROM memory_changes c WHERE c.memory_id = $1::uuid AND c.kind = $4::text
			                  AND c.changed_at = $8::timestamptz AND c.actor_app = $7::text)`,
		dedup: []int{1, 4, 8, 7},
	},
	"apps": {
		sel: `SELECT org_id, user_id, id, description, active, created_at, updated_at, archive_extra
			FROM apps WHERE ` + pgScope + ` AND ($3::timestamptz IS NULL OR updated_at >= $3)
			ORDER BY user_id COLLATE "C", id COLLATE "C"`,
		ins: `INSERT INTO apps (org_id, user_id, id, description, active, created_at, updated_at, archive_extra)
			SELECT $1::text, $2::text, $3::text, $4::text, $5::boolean, $6::timestamptz, $7::timestamptz, $8::jsonb
			WHERE true ON CONFLICT DO NOTHING`,
		upd: `UPDATE apps SET description = $4::text, active = $5::boolean, created_at = $6::timestamptz,
				updated_at = $7::timestamptz, archive_extra = $8::jsonb
			WHERE org_id = $1::text AND user_id = $2::text AND id = $3::text`,
	},
	"memory_access": {
		sel: `SELECT org_id, user_id, app_id, memory_id::text, kind, accessed_at, archive_extra
			FROM memory_access WHERE ` + pgScope + ` AND ($3::timestamptz IS NULL OR accessed_at >= $3)
			ORDER BY user_id COLLATE "C", app_id COLLATE "C", memory_id`,
		ins: `INSERT INTO memory_access (org_id, user_id, app_id, memory_id, kind, accessed_at, archive_extra)
			SELECT $1::text, $2::text, $3::text, $4::uuid, $5::text, $6::timestamptz, $7::jsonb
			WHERE EXISTS (SELECT 1 FROM memories m WHERE m.id = $4::uuid AND m.org_id = $1::text AND m.user_id = $2::text)
			ON CONFLICT DO NOTHING`,
		upd: `UPDATE memory_access SET kind = $5::text, accessed_at = $6::timestamptz, archive_extra = $7::jsonb
			WHERE org_id = $1::text AND user_id = $2::text AND app_id = $3::text AND memory_id = $4::uuid`,
	},
	"query_logs": {
		sel: `SELECT id::text, org_id, user_id, query, params, to_jsonb(result_ids), experiment_id::text, variant, created_at, archive_extra
			FROM query_logs WHERE ` + pgScope + ` AND ($3::timestamptz IS NULL OR created_at >= $3) ORDER BY id`,
		ins: `INSERT INTO query_logs (id, org_id, user_id, query, params, result_ids, experiment_id, variant, created_at, archive_extra)
			SELECT $1::uuid, $2::text, $3::text, $4::text, $5::jsonb, ARRAY(SELECT jsonb_array_elements_text($6::jsonb))::uuid[],
				$7::uuid, $8::text, $9::timestamptz, $10::jsonb
			WHERE true ON CONFLICT DO NOTHING`,
	},
	"feedback_events": {
		sel: `SELECT id::text, org_id, user_id, query_id::text, memory_id::text, app_id, outcome, rating::bigint, experiment_id::text,
				variant, latency_ms::bigint, created_at, archive_extra
			FROM feedback_events WHERE ` + pgScope + ` AND ($3::timestamptz IS NULL OR created_at >= $3) ORDER BY id`,
		ins: `INSERT INTO feedback_events (id, org_id, user_id, query_id, memory_id, app_id, outcome, rating, experiment_id, variant, latency_ms, created_at, archive_extra)
			SELECT $1::uuid, $2::text, $3::text, $4::uuid, $5::uuid, $6::text, $7::text, $8::smallint, $9::uuid, $10::text,
				$11::integer, $12::timestamptz, $13::jsonb
			WHERE true ON CONFLICT DO NOTHING`,
	},
	"experiments": {
		sel: `SELECT id::text, org_id, name, description, status, variants, created_by, created_at, updated_at, started_at, ended_at, archive_extra
			FROM experiments WHERE org_id = $1 AND $2 = '' AND ($3::timestamptz IS NULL OR updated_at >= $3) ORDER BY id`,
		ins: `INSERT INTO experiments (id, org_id, name, description, status, variants, created_by, created_at, updated_at, started_at, ended_at, archive_extra)
			SELECT $1::uuid, $2::text, $3::text, $4::text, $5::text, $6::jsonb, $7::text, $8::timestamptz, $9::timestamptz,
				$10::timestamptz, $11::timestamptz, $12::jsonb
			WHERE true ON CONFLICT DO NOTHING`,
		upd: `UPDATE experiments SET name = $3::text, description = $4::text, status = $5::text, variants = $6::jsonb,
				created_by = $7::text, created_at = $8::timestamptz, updated_at = $9::timestamptz,
				started_at = $10::timestamptz, ended_at = $11::timestamptz, archive_extra = $12::jsonb
			WHERE id = $1::uuid AND org_id = $2::text`,
	},
	"experiment_history": {
		sel: `SELECT experiment_id::text, org_id, from_status, to_status, actor, reason, at, archive_extra
			FROM experiment_history WHERE org_id = $1 AND $2 = '' AND ($3::timestamptz IS NULL OR at >= $3) ORDER BY experiment_id, seq`,
		ins: `INSERT INTO experiment_history (experiment_id, org_id, from_status, to_status, actor, reason, at, archive_extra)
			SELECT $1::uuid, $2::text, $3::text, $4::text, $5::text, $6::text, $7::timestamptz, $8::jsonb
			WHERE EXISTS (SELECT 1 FROM experiments e WHERE e.id = $1::uuid AND e.org_id = $2::text)
			  AND NOT EXISTS (SELECT 1 FROM experiment_history h WHERE h.experiment_id = $1::uuid AND h.from_status = $3::text
			                  AND h.to_status = $4::text AND h.at = $7::timestamptz)`,
		dedup: []int{1, 3, 4, 7},
	},
	"experiment_assignments": {
		sel: `SELECT org_id, experiment_id::text, user_id, variant, assigned_at, archive_extra
			FROM experiment_assignments WHERE org_id = $1 AND $2 = '' AND ($3::timestamptz IS NULL OR assigned_at >= $3)
			ORDER BY experiment_id, user_id COLLATE "C"`,
		ins: `INSERT INTO experiment_assignments (org_id, experiment_id, user_id, variant, assigned_at, archive_extra)
			SELECT $1::text, $2::uuid, $3::text, $4::text, $5::timestamptz, $6::jsonb
			WHERE EXISTS (SELECT 1 FROM experiments e WHERE e.id = $2::uuid AND e.org_id = $1::text)
			ON CONFLICT DO NOTHING`,
		upd: `UPDATE experiment_assignments SET variant = $4::text, assigned_at = $5::timestamptz, archive_extra = $6::jsonb
			WHERE org_id = $1::text AND experiment_id = $2::uuid AND user_id = $3::text`,
	},
}
