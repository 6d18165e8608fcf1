package sqlitestore

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// Search ranks the tenant's entries by BM25 over any of the query's words,
// with entries holding the exact phrase first.
func (x *TextIndex) Search(ctx context.Context, t domain.Tenant, query string, k int, f domain.SearchFilter) ([]ports.Hit, error) {
	if k < 1 || k > ports.MaxIndexK {
		return nil, fmt.Errorf("sqlitestore: text search: %w", domain.Invalid("k", "must be between 1 and %d", ports.MaxIndexK))
	}
	words := domain.QueryTerms(query)
	if len(words) == 0 {
		return nil, nil
	}
	tok := tenantToken(t)
	hits, err := x.rank(ctx, t, matchExpr(tok, words, false), k, f)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: text search: %w", err)
	}
	phrase := domain.PhraseWords(query)
	if len(phrase) < 2 || len(hits) < 2 {
		return hits, nil
	}
	ph, err := x.rank(ctx, t, matchExpr(tok, phrase, true), k, f)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: phrase search: %w", err)
	}
	return phraseFirst(ph, hits, k), nil
}

// phraseFirst puts phrase hits ahead of the others, keeping BM25 order within
// each group, and shifts phrase scores above every other score so scores stay
// non-increasing.
func phraseFirst(phrase, all []ports.Hit, k int) []ports.Hit {
	if len(phrase) == 0 {
		return all
	}
	in := make(map[domain.MemoryID]bool, len(phrase))
	for _, h := range phrase {
		in[h.ID] = true
	}
	var lo, hi float64
	for i, h := range append(append([]ports.Hit(nil), phrase...), all...) {
		if i == 0 || h.Score < lo {
			lo = h.Score
		}
		if i == 0 || h.Score > hi {
			hi = h.Score
		}
	}
	shift := hi - lo + 1
	out := make([]ports.Hit, 0, k)
	for _, h := range phrase {
		out = append(out, ports.Hit{ID: h.ID, Score: h.Score + shift})
	}
	for _, h := range all {
		if !in[h.ID] && len(out) < k {
			out = append(out, h)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Score > out[j].Score })
	return out[:min(len(out), k)]
}

// rank runs one MATCH with the filter pushed into SQL. bm25's column weights
// ignore the tenant column; lower bm25 is better, so the score is negated.
func (x *TextIndex) rank(ctx context.Context, t domain.Tenant, match string, k int, f domain.SearchFilter) ([]ports.Hit, error) {
	var where strings.Builder
	args := []any{match, t.OrgID, t.UserID}
	if f.App != "" {
		where.WriteString(" AND d.app_id = ?")
		args = append(args, f.App)
	}
	for _, c := range f.Categories {
		where.WriteString(" AND EXISTS (SELECT 1 FROM json_each(d.categories) WHERE value = ?)")
		args = append(args, c)
	}
	for key, v := range f.Metadata {
		switch val := v.(type) {
		case string:
			where.WriteString(" AND EXISTS (SELECT 1 FROM json_each(d.metadata) WHERE key = ? AND type = 'text' AND value = ?)")
			args = append(args, key, val)
		case float64:
			where.WriteString(" AND EXISTS (SELECT 1 FROM json_each(d.metadata) WHERE key = ? AND type IN ('integer', 'real') AND value = ?)")
			args = append(args, key, val)
		case bool:
			where.WriteString(" AND EXISTS (SELECT 1 FROM json_each(d.metadata) WHERE key = ? AND type = ?)")
			args = append(args, key, map[bool]string{true: "true", false: "false"}[val])
		default:
			return nil, domain.Invalid("filters.metadata", "filter on %q must be a string, number or boolean", key)
		}
	}
	if !f.CreatedAfter.IsZero() {
		where.WriteString(" AND d.created_at >= ?")
		args = append(args, f.CreatedAfter.UnixNano())
	}
	if !f.CreatedBefore.IsZero() {
		where.WriteString(" AND d.created_at < ?")
		args = append(args, f.CreatedBefore.UnixNano())
	}
	args = append(args, k)
	rows, err := x.s.r.QueryContext(ctx, `SELECT d.memory_id, -bm25(search_fts, 0.0, 1.0) AS score
		FROM search_fts JOIN search_docs d ON d.rowid = search_fts.rowid
		WHERE search_fts MATCH ? AND d.org_id = ? AND d.user_id = ?`+where.String()+`
		ORDER BY score DESC, d.memory_id LIMIT ?`, args...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var hits []ports.Hit
	for rows.Next() {
		var h ports.Hit
		if err := rows.Scan(&h.ID, &h.Score); err != nil {
			return nil, mapErr(err)
		}
		hits = append(hits, h)
	}
	return hits, mapErr(rows.Err())
}
