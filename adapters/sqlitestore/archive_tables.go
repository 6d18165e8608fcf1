package sqlitestore

// archiveSQL is how one archived table is read and written here. Statements
// use numbered parameters (?N) so that one argument list, in the archive's
// column order followed by archive_extra (and content_hash for memories),
// serves the insert, the update and their guards.
//
// Selects take ?1 org (” for every org), ?2 user (” for every user), ?3
// since (Unix nanoseconds) and order by org_id, then the table's key, in
// SQLite's BINARY (byte) collation. Times are compared at microsecond
// precision where an archived row meets a stored one, because archives keep
// microseconds and this store nanoseconds.
type archiveSQL struct {
	sel    string
	ins    string // INSERT ... SELECT ... WHERE <guard> ON CONFLICT DO NOTHING
	upd    string // "" for append-only tables
	hashed bool   // memories: content_hash is argument n+2
	// tallied: the bulk insert returns the ids it inserted and counts
	// memory_tallies itself (archive_tally.go).
	tallied bool
	// dedup lists the parameters (1-based) of the ins guard's NOT EXISTS
	// on the table itself: a bulk insert keeps the first of a batch's rows
	// equal in them (archive_bulk.go).
	dedup []int
}

const scopeWhere = `(?1 = '' OR org_id = ?1) AND (?2 = '' OR user_id = ?2)`

var archiveTables = map[string]archiveSQL{
	"memories": {
		sel: `SELECT id, org_id, user_id, app_id, text, metadata, categories, state, erased, created_at, updated_at,
				NULLIF(agent_id, ''), NULLIF(run_id, ''), NULLIF(expires_at, 0),
				NULLIF(NULLIF(observed_at, 0), created_at), NULLIF(valid_from, 0), NULLIF(valid_to, 0), archive_extra
			FROM memories WHERE ` + scopeWhere + ` AND updated_at >= ?3 ORDER BY org_id, id`,
		ins: `INSERT INTO memories (id, org_id, user_id, app_id, text, metadata, categories, state, erased, created_at, updated_at,
				agent_id, run_id, expires_at, observed_at, valid_from, valid_to, archive_extra, content_hash)
			SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, COALESCE(?12, ''), COALESCE(?13, ''), COALESCE(?14, 0),
				COALESCE(?15, ?10), COALESCE(?16, 0), COALESCE(?17, 0), ?18, ?19
			WHERE true ON CONFLICT DO NOTHING`,
		upd: `UPDATE memories SET app_id = ?4, text = ?5, metadata = ?6, categories = ?7, state = ?8, erased = ?9,
			created_at = ?10, updated_at = ?11, agent_id = COALESCE(?12, ''), run_id = COALESCE(?13, ''),
			expires_at = COALESCE(?14, 0), observed_at = COALESCE(?15, ?10), valid_from = COALESCE(?16, 0), valid_to = COALESCE(?17, 0),
			archive_extra = ?18, content_hash = ?19
			WHERE id = ?1 AND org_id = ?2 AND user_id = ?3`,
		hashed:  true,
		tallied: true,
	},
	"memory_history": {
		sel: `SELECT memory_id, org_id, user_id, kind, old_values, new_values, actor_app, changed_at, archive_extra
			FROM memory_changes WHERE ` + scopeWhere + ` AND changed_at >= ?3 ORDER BY org_id, memory_id, seq`,
		ins: `INSERT INTO memory_changes (memory_id, org_id, user_id, kind, old_values, new_values, actor_app, changed_at, archive_extra)
			SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9
			WHERE EXISTS (SELECT 1 FROM memories m WHERE m.id = ?1 AND m.org_id = ?2 AND m.user_id = ?3)
			  AND NOT EXISTS (SELECT 1 FROM memory_changes c WHERE c.memory_id = ?1 AND c.kind = ?4
			                  AND c.changed_at / 1000 = ?8 / 1000 AND c.actor_app = ?7)`,
		dedup: []int{1, 4, 8, 7},
	},
	"apps": {
		sel: `SELECT org_id, user_id, id, description, active, created_at, updated_at, archive_extra
			FROM apps WHERE ` + scopeWhere + ` AND updated_at >= ?3 ORDER BY org_id, user_id, id`,
		ins: `INSERT INTO apps (org_id, user_id, id, description, active, created_at, updated_at, archive_extra)
			SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8 WHERE true ON CONFLICT DO NOTHING`,
		upd: `UPDATE apps SET description = ?4, active = ?5, created_at = ?6, updated_at = ?7, archive_extra = ?8
			WHERE org_id = ?1 AND user_id = ?2 AND id = ?3`,
	},
	"memory_access": {
		sel: `SELECT org_id, user_id, app_id, memory_id, kind, accessed_at, archive_extra
			FROM memory_access WHERE ` + scopeWhere + ` AND accessed_at >= ?3 ORDER BY org_id, user_id, app_id, memory_id`,
		ins: `INSERT INTO memory_access (org_id, user_id, app_id, memory_id, kind, accessed_at, archive_extra)
			SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7
			WHERE EXISTS (SELECT 1 FROM memories m WHERE m.id = ?4 AND m.org_id = ?1 AND m.user_id = ?2)
			ON CONFLICT DO NOTHING`,
		upd: `UPDATE memory_access SET kind = ?5, accessed_at = ?6, archive_extra = ?7
			WHERE org_id = ?1 AND user_id = ?2 AND app_id = ?3 AND memory_id = ?4`,
	},
	"query_logs": {
		sel: `SELECT id, org_id, user_id, query, params, result_ids, experiment_id, variant, created_at, archive_extra
			FROM query_logs WHERE ` + scopeWhere + ` AND created_at >= ?3 ORDER BY org_id, id`,
		ins: `INSERT INTO query_logs (id, org_id, user_id, query, params, result_ids, experiment_id, variant, created_at, archive_extra)
			SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10 WHERE true ON CONFLICT DO NOTHING`,
	},
	"feedback_events": {
		sel: `SELECT id, org_id, user_id, query_id, memory_id, app_id, outcome, rating, experiment_id, variant, latency_ms, created_at, archive_extra
			FROM feedback_events WHERE ` + scopeWhere + ` AND created_at >= ?3 ORDER BY org_id, id`,
		ins: `INSERT INTO feedback_events (id, org_id, user_id, query_id, memory_id, app_id, outcome, rating, experiment_id, variant, latency_ms, created_at, archive_extra)
			SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13 WHERE true ON CONFLICT DO NOTHING`,
	},
	"experiments": {
		sel: `SELECT id, org_id, name, description, status, variants, created_by, created_at, updated_at, started_at, ended_at, archive_extra
			FROM experiments WHERE (?1 = '' OR org_id = ?1) AND ?2 = '' AND updated_at >= ?3 ORDER BY org_id, id`,
		ins: `INSERT INTO experiments (id, org_id, name, description, status, variants, created_by, created_at, updated_at, started_at, ended_at, archive_extra)
			SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12 WHERE true ON CONFLICT DO NOTHING`,
		upd: `UPDATE experiments SET name = ?3, description = ?4, status = ?5, variants = ?6, created_by = ?7,
			created_at = ?8, updated_at = ?9, started_at = ?10, ended_at = ?11, archive_extra = ?12
			WHERE id = ?1 AND org_id = ?2`,
	},
	"experiment_history": {
		sel: `SELECT experiment_id, org_id, from_status, to_status, actor, reason, at, archive_extra
			FROM experiment_history WHERE (?1 = '' OR org_id = ?1) AND ?2 = '' AND at >= ?3 ORDER BY org_id, experiment_id, seq`,
		ins: `INSERT INTO experiment_history (experiment_id, org_id, from_status, to_status, actor, reason, at, archive_extra)
			SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8
			WHERE EXISTS (SELECT 1 FROM experiments e WHERE e.id = ?1 AND e.org_id = ?2)
			  AND NOT EXISTS (SELECT 1 FROM experiment_history h WHERE h.experiment_id = ?1 AND h.from_status = ?3
			                  AND h.to_status = ?4 AND h.at / 1000 = ?7 / 1000)`,
		dedup: []int{1, 3, 4, 7},
	},
	"experiment_assignments": {
		sel: `SELECT org_id, experiment_id, user_id, variant, assigned_at, archive_extra
			FROM experiment_assignments WHERE (?1 = '' OR org_id = ?1) AND ?2 = '' AND assigned_at >= ?3
			ORDER BY org_id, experiment_id, user_id`,
		ins: `INSERT INTO experiment_assignments (org_id, experiment_id, user_id, variant, assigned_at, archive_extra)
			SELECT ?1, ?2, ?3, ?4, ?5, ?6
			WHERE EXISTS (SELECT 1 FROM experiments e WHERE e.id = ?2 AND e.org_id = ?1)
			ON CONFLICT DO NOTHING`,
		upd: `UPDATE experiment_assignments SET variant = ?4, assigned_at = ?5, archive_extra = ?6
			WHERE org_id = ?1 AND experiment_id = ?2 AND user_id = ?3`,
	},
}
