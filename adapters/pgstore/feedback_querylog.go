package pgstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

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

const queryLogCols = `id::text, org_id, user_id, query, params, result_ids::text[], COALESCE(experiment_id::text, ''), COALESCE(variant, ''), created_at`

// LogQuery implements ports.QueryLog.
func (s *Store) LogQuery(ctx context.Context, t domain.Tenant, q domain.QueryLog) error {
	if q.OrgID != t.OrgID || q.UserID != t.UserID {
		return fmt.Errorf("pgstore: log query: %w", domain.Invalid("user_id", "the log belongs to another tenant"))
	}
	if err := q.Validate(); err != nil {
		return fmt.Errorf("pgstore: log query: %w", err)
	}
	params, err := json.Marshal(paramsToJSON(q.Params))
	if err != nil {
		return fmt.Errorf("pgstore: log query: %w", err)
	}
	ids := make(pq.StringArray, len(q.ResultIDs))
	for i, id := range q.ResultIDs {
		ids[i] = string(id)
	}
	// The query's words are the subject's: sealed like memory text.
	dk, err := s.sealingKey(ctx, t)
	if err != nil {
		return fmt.Errorf("pgstore: log query: %w", mapErr(err))
	}
	stored, err := sealField(dk, string(q.ID), "query", q.Query)
	if err != nil {
		return fmt.Errorf("pgstore: log query: %w", err)
	}
	err = s.inTx(ctx, t.OrgID, false, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO query_logs (id, org_id, user_id, query, params, result_ids, experiment_id, variant, created_at)
			VALUES ($1, $2, $3, $4, $5, $6::uuid[], NULLIF($7, '')::uuid, NULLIF($8, ''), $9) ON CONFLICT (id) DO NOTHING`,
			string(q.ID), string(q.OrgID), string(q.UserID), stored, string(params), ids, string(q.ExperimentID), q.Variant, q.CreatedAt.UTC())
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err != nil {
				return err
			}
			return domain.ErrAlreadyExists
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("pgstore: log query %s: %w", q.ID, mapErr(err))
	}
	return nil
}

type rowScanner interface{ Scan(dest ...any) error }

func scanQueryLog(sc rowScanner) (domain.QueryLog, error) {
	var (
		q      domain.QueryLog
		params []byte
		ids    pq.StringArray
	)
	if err := sc.Scan(&q.ID, &q.OrgID, &q.UserID, &q.Query, &params, &ids, &q.ExperimentID, &q.Variant, &q.CreatedAt); err != nil {
		return q, err
	}
	var pj searchParamsJSON
	if err := json.Unmarshal(params, &pj); err != nil {
		return q, fmt.Errorf("decode params: %w", err)
	}
	q.Params, q.CreatedAt = pj.params(), q.CreatedAt.UTC()
	for _, id := range ids {
		q.ResultIDs = append(q.ResultIDs, domain.MemoryID(id))
	}
	return q, nil
}

// GetQuery implements ports.QueryLog.
func (s *Store) GetQuery(ctx context.Context, t domain.Tenant, id domain.QueryID) (domain.QueryLog, error) {
	if !domain.ValidID(string(id)) {
		return domain.QueryLog{}, fmt.Errorf("pgstore: get query %s: %w", id, domain.ErrNotFound)
	}
	var q domain.QueryLog
	err := s.inTx(ctx, t.OrgID, true, func(tx *sqlx.Tx) error {
		var err error
		q, err = scanQueryLog(tx.QueryRowContext(ctx, `SELECT `+queryLogCols+` FROM query_logs WHERE id = $1 AND org_id = $2 AND user_id = $3`,
			string(id), string(t.OrgID), string(t.UserID)))
		if err != nil {
			return notFound(err)
		}
		return s.openQuery(ctx, tx, &q)
	})
	if err != nil {
		return domain.QueryLog{}, fmt.Errorf("pgstore: get query %s: %w", id, mapErr(err))
	}
	return q, nil
}

// openQuery replaces q's stored query text with the plaintext.
func (s *Store) openQuery(ctx context.Context, tx getter, q *domain.QueryLog) error {
	text, err := s.openField(ctx, tx, domain.Tenant{OrgID: q.OrgID, UserID: q.UserID}, "query", string(q.ID), "query", q.Query)
	q.Query = text
	return err
}

// ListQueries implements ports.QueryLog: keyset on (created_at, id)
// ascending.
func (s *Store) ListQueries(ctx context.Context, org domain.OrgID, since time.Time, limit int, cursor string) ([]domain.QueryLog, string, error) {
	if limit < 1 || limit > domain.MaxListLimit {
		return nil, "", fmt.Errorf("pgstore: list queries: %w", domain.Invalid("limit", "must be between 1 and %d", domain.MaxListLimit))
	}
	q := `SELECT ` + queryLogCols + ` FROM query_logs WHERE org_id = $1 AND created_at >= $2`
	args := []any{string(org), since.UTC()}
	if cursor != "" {
		at, id, err := decodeAccessCursor(cursor)
		if err != nil {
			return nil, "", fmt.Errorf("pgstore: list queries: %w", err)
		}
		q += ` AND (created_at, id) > ($3::timestamptz, $4::uuid)`
		args = append(args, at, id)
	}
	q += ` ORDER BY created_at, id LIMIT ` + strconv.Itoa(limit+1)
	var out []domain.QueryLog
	err := s.inTx(ctx, org, true, func(tx *sqlx.Tx) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			l, err := scanQueryLog(rows)
			if err != nil {
				return err
			}
			out = append(out, l)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close() // the connection serves one statement at a time
		for i := range out {
			if err := s.openQuery(ctx, tx, &out[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("pgstore: list queries: %w", mapErr(err))
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = encodeAccessCursor(last.CreatedAt, domain.MemoryID(last.ID))
	}
	return out, next, nil
}

// ExposureCounts implements ports.QueryLog.
func (s *Store) ExposureCounts(ctx context.Context, org domain.OrgID, id domain.ExperimentID) (map[string]int, error) {
	out, err := s.countBy(ctx, org, `SELECT variant, count(*) FROM query_logs WHERE org_id = $1 AND experiment_id = $2::uuid GROUP BY variant`, string(org), string(id))
	if err != nil {
		return nil, fmt.Errorf("pgstore: exposure counts of %s: %w", id, err)
	}
	return out, nil
}

// countBy runs a (key, count) query in a read-only transaction of org.
func (s *Store) countBy(ctx context.Context, org domain.OrgID, query string, args ...any) (map[string]int, error) {
	out := map[string]int{}
	if len(args) > 1 {
		if id, ok := args[1].(string); ok && !domain.ValidID(id) {
			return out, nil // not a uuid: nothing can match, and the cast would fail
		}
	}
	err := s.inTx(ctx, org, true, func(tx *sqlx.Tx) error {
		rows, err := tx.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				k string
				n int
			)
			if err := rows.Scan(&k, &n); err != nil {
				return err
			}
			out[k] = n
		}
		return rows.Err()
	})
	return out, mapErr(err)
}
