package pgstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/engram-memory/engram/adapters/textfold"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// Search ranks a bounded candidate set: at most Candidates rows holding
// every query word, plus at most Candidates holding any, are scored with
// ts_rank (length-normalised, mapped into [0,1)); rows holding the exact
// phrase get +1 so they come first.
func (x *TextIndex) Search(ctx context.Context, t domain.Tenant, query string, k int, f domain.SearchFilter) ([]ports.Hit, error) {
	if k < 1 || k > ports.MaxIndexK {
		return nil, fmt.Errorf("pgstore: text search: %w", domain.Invalid("k", "must be between 1 and %d", ports.MaxIndexK))
	}
	words := textfold.Terms(domain.QueryTerms(query))
	if len(words) == 0 {
		return nil, nil
	}
	prefix := tenantPrefix(t)
	for i, w := range words {
		words[i] = prefix + w
	}
	phrase := ""
	if pw := domain.PhraseWords(query); pw != nil {
		phrase = prefixed(prefix, textfold.Words(strings.Join(pw, " ")))
	}
	sqlText, args, err := x.searchSQL(t, words, phrase, k, f)
	if err != nil {
		return nil, fmt.Errorf("pgstore: text search: %w", err)
	}
	// Prepared before the transaction: preparing on the pool inside it
	// could wait for the connection the transaction holds.
	st, err := x.stmt(ctx, sqlText)
	if err != nil {
		return nil, fmt.Errorf("pgstore: text search: %w", mapErr(err))
	}
	var hits []ports.Hit
	// force_custom_plan: a prepared statement would otherwise switch to a
	// generic plan after five calls, blind to how common this query's
	// words are; the statement is prepared to skip parsing, not planning.
	// It was prepared on the primary's pool; on a replica's, the first
	// search of each shape sends the text and prepares it there in the
	// background for the next ones.
	err = x.s.routedTxWith(ctx, pq.QuoteLiteral(string(t.OrgID))+", true), set_config('plan_cache_mode', 'force_custom_plan', true)", func(tx *sqlx.Tx, on *sqlx.DB) error {
		var rows *sql.Rows
		var err error
		prepared := st
		if on != x.s.db {
			prepared = x.replicaStmt(on, sqlText)
		}
		if prepared != nil {
			rows, err = tx.StmtContext(ctx, prepared).QueryContext(ctx, args...)
		} else {
			rows, err = tx.QueryContext(ctx, sqlText, args...)
		}
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var h ports.Hit
			if err := rows.Scan(&h.ID, &h.Score); err != nil {
				return err
			}
			hits = append(hits, h)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: text search: %w", mapErr(err))
	}
	return hits, nil
}

// orQuery is "'w1' | 'w2'" for to_tsquery. Words come from
// domain.QueryTerms (letters and digits only); quoting makes each one a
// single operand whatever the configuration's parser thinks of it.
func orQuery(words []string) string {
	parts := make([]string, len(words))
	for i, w := range words {
		parts[i] = "'" + strings.NewReplacer(`'`, `''`, `\`, `\\`).Replace(w) + "'"
	}
	return strings.Join(parts, " | ")
}

func (x *TextIndex) searchSQL(t domain.Tenant, words []string, phrase string, k int, f domain.SearchFilter) (string, []any, error) {
	args := []any{t.OrgID, t.UserID, x.config, orQuery(words), strings.Join(words, " "), phrase, x.candidates, k}
	var filter strings.Builder
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.App != "" {
		filter.WriteString(" AND s.app_id = " + arg(string(f.App)))
	}
	if len(f.Categories) > 0 {
		filter.WriteString(" AND s.categories @> " + arg(pq.Array(f.Categories)) + "::text[]")
	}
	if len(f.Metadata) > 0 {
		for key, v := range f.Metadata {
			switch v.(type) {
			case string, float64, bool:
			default:
				return "", nil, domain.Invalid("filters.metadata", "filter on %q must be a string, number or boolean", key)
			}
		}
		raw, err := json.Marshal(f.Metadata)
		if err != nil {
			return "", nil, domain.Invalid("filters.metadata", "%v", err)
		}
		filter.WriteString(" AND s.metadata @> " + arg(string(raw)) + "::jsonb")
	}
	if !f.CreatedAfter.IsZero() {
		filter.WriteString(" AND s.created_at >= " + arg(f.CreatedAfter))
	}
	if !f.CreatedBefore.IsZero() {
		filter.WriteString(" AND s.created_at < " + arg(f.CreatedBefore))
	}
	where := `s.org_id = $1 AND s.user_id = $2` + filter.String()
	// The tsqueries are written inline, not in a CTE: only an expression of
	// constants and parameters can be a GIN index condition.
	anyq := `to_tsquery($3::regconfig, $4)`
	return `WITH cand AS (
		(SELECT s.memory_id FROM memory_search s WHERE ` + where + ` AND s.tsv @@ plainto_tsquery($3::regconfig, $5) LIMIT $7)
		UNION
		(SELECT s.memory_id FROM memory_search s WHERE ` + where + ` AND s.tsv @@ ` + anyq + ` LIMIT $7)
	)
	SELECT s.memory_id::text,
	       ts_rank(s.tsv, ` + anyq + `, 1|32) + CASE WHEN $6 <> '' AND s.tsv @@ phraseto_tsquery($3::regconfig, $6) THEN 1 ELSE 0 END AS score
	FROM cand c JOIN memory_search s ON s.org_id = $1 AND s.user_id = $2 AND s.memory_id = c.memory_id
	ORDER BY score DESC, s.memory_id LIMIT $8`, args, nil
}
