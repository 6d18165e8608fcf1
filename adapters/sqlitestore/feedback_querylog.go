package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/engram-memory/engram/domain"
)

// searchParamsJSON is the stored shape of domain.SearchParams; the domain
// type carries no encoding tags.
type searchParamsJSON struct {
	Mode    domain.SearchMode `json:"mode"`
	RRFK    int               `json:"rrf_k"`
	Lexical float64           `json:"lexical_weight"`
	Vector  float64           `json:"vector_weight"`
	// Entity is absent from logs written before the entity ranking:
	// those searches ran without it (weight 0).
	Entity float64 `json:"entity_weight,omitempty"`
	// Recency (issue 18), absent when 0 (its default).
	Recency float64 `json:"recency_weight,omitempty"`
	Limit   int     `json:"limit"`
}

func paramsToJSON(p domain.SearchParams) searchParamsJSON {
	return searchParamsJSON{Mode: p.Mode, RRFK: p.RRFK, Lexical: p.Weights.Lexical, Vector: p.Weights.Vector, Entity: p.Weights.Entity, Recency: p.Weights.Recency, Limit: p.Limit}
}

func (j searchParamsJSON) params() domain.SearchParams {
	return domain.SearchParams{Mode: j.Mode, RRFK: j.RRFK, Weights: domain.Weights{Lexical: j.Lexical, Vector: j.Vector, Entity: j.Entity, Recency: j.Recency}, Limit: j.Limit}
}

const queryLogCols = `id, org_id, user_id, query, params, result_ids, experiment_id, variant, created_at`

// LogQuery implements ports.QueryLog.
func (s *Store) LogQuery(ctx context.Context, t domain.Tenant, q domain.QueryLog) error {
	if q.OrgID != t.OrgID || q.UserID != t.UserID {
		return fmt.Errorf("sqlitestore: log query: %w", domain.Invalid("user_id", "the log belongs to another tenant"))
	}
	if err := q.Validate(); err != nil {
		return fmt.Errorf("sqlitestore: log query: %w", err)
	}
	params, err := json.Marshal(paramsToJSON(q.Params))
	if err != nil {
		return fmt.Errorf("sqlitestore: log query: %w", err)
	}
	ids := q.ResultIDs
	if ids == nil {
		ids = []domain.MemoryID{}
	}
	results, err := json.Marshal(ids)
	if err != nil {
		return fmt.Errorf("sqlitestore: log query: %w", err)
	}
	// The query's words are the subject's: sealed like memory text.
	dk, err := s.sealingKey(ctx, t)
	if err != nil {
		return fmt.Errorf("sqlitestore: log query: %w", err)
	}
	stored, err := sealField(dk, string(q.ID), "query", q.Query)
	if err != nil {
		return fmt.Errorf("sqlitestore: log query: %w", err)
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO query_logs (`+queryLogCols+`) VALUES (`+placeholders(9)+`)`,
			string(q.ID), string(q.OrgID), string(q.UserID), stored, string(params), string(results),
			nullStr(q.ExperimentID), nullStr(q.Variant), toNanos(q.CreatedAt))
		return mapErr(err)
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: log query %s: %w", q.ID, err)
	}
	return nil
}

func scanQueryLog(sc scanner) (domain.QueryLog, error) {
	var (
		q                          domain.QueryLog
		id, org, user, params, ids string
		exp, variant               sql.NullString
		created                    int64
		pj                         searchParamsJSON
	)
	if err := sc.Scan(&id, &org, &user, &q.Query, &params, &ids, &exp, &variant, &created); err != nil {
		return q, err
	}
	if err := json.Unmarshal([]byte(params), &pj); err != nil {
		return q, fmt.Errorf("decode params: %w", err)
	}
	if err := json.Unmarshal([]byte(ids), &q.ResultIDs); err != nil {
		return q, fmt.Errorf("decode result ids: %w", err)
	}
	if len(q.ResultIDs) == 0 {
		q.ResultIDs = nil
	}
	q.ID, q.OrgID, q.UserID, q.Params = domain.QueryID(id), domain.OrgID(org), domain.UserID(user), pj.params()
	q.ExperimentID, q.Variant, q.CreatedAt = domain.ExperimentID(exp.String), variant.String, fromNanos(created)
	return q, nil
}

// GetQuery implements ports.QueryLog.
func (s *Store) GetQuery(ctx context.Context, t domain.Tenant, id domain.QueryID) (domain.QueryLog, error) {
	q, err := scanQueryLog(s.r.QueryRowContext(ctx, `SELECT `+queryLogCols+` FROM query_logs WHERE id = ? AND org_id = ? AND user_id = ?`,
		string(id), string(t.OrgID), string(t.UserID)))
	if err != nil {
		return domain.QueryLog{}, fmt.Errorf("sqlitestore: get query %s: %w", id, mapErr(err))
	}
	if err := s.openQuery(ctx, &q); err != nil {
		return domain.QueryLog{}, fmt.Errorf("sqlitestore: get query %s: %w", id, err)
	}
	return q, nil
}

// openQuery replaces q's stored query text with the plaintext.
func (s *Store) openQuery(ctx context.Context, q *domain.QueryLog) error {
	text, err := s.openField(ctx, s.r, domain.Tenant{OrgID: q.OrgID, UserID: q.UserID}, "query", string(q.ID), "query", q.Query)
	q.Query = text
	return err
}

// ListQueries implements ports.QueryLog.
func (s *Store) ListQueries(ctx context.Context, org domain.OrgID, since time.Time, limit int, cursor string) ([]domain.QueryLog, string, error) {
	if limit < 1 || limit > domain.MaxListLimit {
		return nil, "", fmt.Errorf("sqlitestore: list queries: %w", domain.Invalid("limit", "must be between 1 and %d", domain.MaxListLimit))
	}
	where, args := "org_id = ? AND created_at >= ?", []any{string(org), toNanos(since)}
	if since.IsZero() {
		args[1] = int64(0)
	}
	if cursor != "" {
		at, id, err := decodeAccessCursor(cursor)
		if err != nil {
			return nil, "", fmt.Errorf("sqlitestore: list queries: %w", err)
		}
		where += " AND (created_at > ? OR (created_at = ? AND id > ?))"
		args = append(args, at, at, id)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+queryLogCols+` FROM query_logs WHERE `+where+` ORDER BY created_at, id LIMIT ?`, append(args, limit+1)...)
	if err != nil {
		return nil, "", fmt.Errorf("sqlitestore: list queries: %w", mapErr(err))
	}
	defer rows.Close()
	var out []domain.QueryLog
	for rows.Next() {
		q, err := scanQueryLog(rows)
		if err != nil {
			return nil, "", fmt.Errorf("sqlitestore: list queries: %w", mapErr(err))
		}
		out = append(out, q)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("sqlitestore: list queries: %w", mapErr(err))
	}
	rows.Close() // before the key lookups, which use the read pool
	for i := range out {
		if err := s.openQuery(ctx, &out[i]); err != nil {
			return nil, "", fmt.Errorf("sqlitestore: list queries: %w", err)
		}
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = encodeAccessCursor(toNanos(last.CreatedAt), string(last.ID))
	}
	return out, next, nil
}

// ExposureCounts implements ports.QueryLog.
func (s *Store) ExposureCounts(ctx context.Context, org domain.OrgID, id domain.ExperimentID) (map[string]int, error) {
	out, err := countBy(ctx, s.r, `SELECT variant, count(*) FROM query_logs WHERE org_id = ? AND experiment_id = ? GROUP BY variant`, string(org), string(id))
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: exposure counts of %s: %w", id, err)
	}
	return out, nil
}

// countBy runs a two-column (key, count) query into a map.
func countBy(ctx context.Context, db *sql.DB, query string, args ...any) (map[string]int, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var (
			k string
			n int
		)
		if err := rows.Scan(&k, &n); err != nil {
			return nil, mapErr(err)
		}
		out[k] = n
	}
	return out, mapErr(rows.Err())
}
