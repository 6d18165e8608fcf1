package sqlitestore

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/engram-memory/engram/adapters/textfold"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// rankCap bounds every FTS5 walk of a search: how many of a word's rows the
// frequency probe counts, and how many rows are ranked when every word is
// common. FTS5 scores every row a MATCH yields, and a word found in most of a
// user's memories would otherwise make each search rank all of them.
const rankCap = 500

// commonCap is how many of the newest entries holding every query word are
// ranked when all the words are common.
const commonCap = 300

type ftsCand struct {
	rowid  int64
	score  float64
	id     domain.MemoryID
	phrase bool
}

// Search ranks the tenant's entries by BM25 over the query's words that are
// not common in the tenant's memories (common ones carry almost no IDF
// weight anyway), with entries holding the exact phrase first. When every
// word is common, the newest commonCap entries holding all of them are
// ranked (by rankCommon, or bm25() when it cannot).
func (x *TextIndex) Search(ctx context.Context, t domain.Tenant, query string, k int, f domain.SearchFilter) ([]ports.Hit, error) {
	if k < 1 || k > ports.MaxIndexK {
		return nil, fmt.Errorf("sqlitestore: text search: %w", domain.Invalid("k", "must be between 1 and %d", ports.MaxIndexK))
	}
	words := textfold.Terms(domain.QueryTerms(query))
	if len(words) == 0 {
		return nil, nil
	}
	var phrase []string
	if pw := domain.PhraseWords(query); pw != nil {
		phrase = textfold.Words(strings.Join(pw, " "))
	}
	hits, err := x.search(ctx, t, words, phrase, k, f)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: text search: %w", mapErr(err))
	}
	return hits, nil
}

func (x *TextIndex) search(ctx context.Context, t domain.Tenant, words, phrase []string, k int, f domain.SearchFilter) ([]ports.Hit, error) {
	tok := tenantToken(t)
	rare, err := x.rareWords(ctx, tok, words)
	if err != nil {
		return nil, err
	}
	limit := k
	if !f.IsZero() {
		limit = max(k, rankCap) // filtered below: rank a bounded surplus
	}
	var cands []ftsCand
	resolved := false // candidates hold their memory ids already
	probe := len(phrase) >= 2
	flagged := false // candidates hold their phrase flags already
	if len(rare) > 0 {
		// bm25() sorted by SQLite, not FTS5's "ORDER BY rank": for that
		// FTS5 writes a second SQL statement with the query inlined and
		// prepares it on every call, which cost as much as the ranking
		// itself on a question. Same scores, same order.
		cands, err = x.ranked(ctx, `SELECT rowid, -bm25(search_fts) AS s FROM search_fts WHERE search_fts MATCH ? ORDER BY s DESC LIMIT ?`,
			matchExpr(tok, rare, false), limit)
	} else {
		var scored bool
		var inText []string // the phrase rankCommon looks for in the texts
		if probe && ascii(phrase) {
			inText = phrase
		}
		cands, scored, err = x.rankCommon(ctx, t, tok, words, inText)
		if err == nil && !scored {
			cands, err = x.ranked(ctx, `SELECT rowid, -bm25(search_fts) FROM search_fts WHERE search_fts MATCH ? ORDER BY rowid DESC LIMIT ?`,
				matchAll(tok, words), commonCap)
		}
		resolved = scored && f.IsZero()
		flagged = scored && inText != nil
		// Ranked in Go; only the best need their memory ids.
		sort.Slice(cands, func(i, j int) bool { return cands[i].score > cands[j].score })
		cands = cands[:min(len(cands), limit)]
	}
	if err != nil || len(cands) == 0 {
		return nil, err
	}
	if !resolved {
		if cands, err = x.resolve(ctx, t, cands, f); err != nil {
			return nil, err
		}
	}
	switch {
	case len(cands) <= 1:
		for i := range cands {
			cands[i].phrase = false // one hit is not lifted
		}
	case probe && !flagged:
		lo, hi := cands[0].rowid, cands[0].rowid
		for _, c := range cands[1:] {
			lo, hi = min(lo, c.rowid), max(hi, c.rowid)
		}
		in, err := x.rowids(ctx, matchExpr(tok, phrase, true), lo, hi)
		if err != nil {
			return nil, err
		}
		for i := range cands {
			cands[i].phrase = in[cands[i].rowid]
		}
	}
	sort.Slice(cands, func(i, j int) bool {
		a, b := cands[i], cands[j]
		if a.phrase != b.phrase {
			return a.phrase
		}
		if a.score != b.score {
			return a.score > b.score
		}
		return a.id < b.id
	})
	return phraseScores(cands[:min(len(cands), k)]), nil
}

// phraseScores lifts phrase hits above every other score so that scores
// stay non-increasing down the list.
func phraseScores(cs []ftsCand) []ports.Hit {
	var lo, hi float64
	for i, c := range cs {
		if i == 0 || c.score < lo {
			lo = c.score
		}
		if i == 0 || c.score > hi {
			hi = c.score
		}
	}
	out := make([]ports.Hit, len(cs))
	for i, c := range cs {
		s := c.score
		if c.phrase {
			s += hi - lo + 1
		}
		out[i] = ports.Hit{ID: c.id, Score: s}
	}
	return out
}

// rareWords keeps the words found in at most rankCap of the tenant's
// entries. Each word's count comes from the tenant's cached counts or from
// a walk that stops at rankCap+1 rows.
func (x *TextIndex) rareWords(ctx context.Context, tok string, words []string) ([]string, error) {
	known, gen := x.s.counts.get(tok, words)
	probed := map[string]int{}
	var rare []string
	for _, w := range words {
		n, ok := known[w]
		if !ok {
			var err error
			if n, err = x.countWord(ctx, tok, w); err != nil {
				return nil, err
			}
			probed[w] = n
		}
		if n <= rankCap {
			rare = append(rare, w)
		}
	}
	if len(probed) > 0 {
		x.s.counts.put(tok, gen, probed)
	}
	return rare, nil
}

// countWord counts the tenant's entries holding w, up to rankCap+1.
func (x *TextIndex) countWord(ctx context.Context, tok, w string) (int, error) {
	rows, err := x.query(ctx, `SELECT count(*) FROM (SELECT rowid FROM search_fts WHERE search_fts MATCH ? LIMIT ?)`,
		matchExpr(tok, []string{w}, false), rankCap+1)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	if rows.Next() {
		err = rows.Scan(&n)
	}
	if err == nil {
		err = rows.Err()
	}
	return n, err
}

func (x *TextIndex) ranked(ctx context.Context, q, match string, limit int) ([]ftsCand, error) {
	rows, err := x.query(ctx, q, match, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ftsCand
	for rows.Next() {
		var c ftsCand
		if err := rows.Scan(&c.rowid, &c.score); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// rowids returns up to rankCap entries matching match between rowids lo
// and hi: the phrase only matters for the candidates, and FTS5 seeks to
// the range instead of walking every entry that holds all the phrase's
// words (a phrase no memory holds, of words most memories hold, read the
// user's whole posting lists: a fifth of a search's CPU at 100,000
// memories, issue 19).
func (x *TextIndex) rowids(ctx context.Context, match string, lo, hi int64) (map[int64]bool, error) {
	rows, err := x.query(ctx, `SELECT rowid FROM search_fts WHERE search_fts MATCH ? AND rowid BETWEEN ? AND ? LIMIT ?`, match, lo, hi, rankCap)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rows.Err()
}

// resolve maps candidate rowids to memory ids, keeping those of the tenant
// that pass the filter.
func (x *TextIndex) resolve(ctx context.Context, t domain.Tenant, cands []ftsCand, f domain.SearchFilter) ([]ftsCand, error) {
	ids := make([]int64, len(cands))
	for i, c := range cands {
		ids[i] = c.rowid
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	where, args, err := filterSQL(f)
	if err != nil {
		return nil, err
	}
	args = append([]any{string(list), t.OrgID, t.UserID}, args...)
	// CROSS JOIN pins the plan to rowid lookups; left to itself SQLite
	// may walk the tenant's index and probe the list for every entry.
	rows, err := x.query(ctx, `SELECT d.rowid, d.memory_id FROM json_each(?) AS j CROSS JOIN search_docs d ON d.rowid = j.value
		WHERE d.org_id = ? AND d.user_id = ?`+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	byRow := make(map[int64]domain.MemoryID, len(cands))
	for rows.Next() {
		var rowid int64
		var id string
		if err := rows.Scan(&rowid, &id); err != nil {
			return nil, err
		}
		byRow[rowid] = domain.MemoryID(id)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := cands[:0]
	for _, c := range cands {
		if id, ok := byRow[c.rowid]; ok {
			c.id = id
			out = append(out, c)
		}
	}
	return out, nil
}

// filterSQL renders the filter as predicates on search_docs d.
func filterSQL(f domain.SearchFilter) (string, []any, error) {
	var where strings.Builder
	var args []any
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
			return "", nil, domain.Invalid("filters.metadata", "filter on %q must be a string, number or boolean", key)
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
	if f.HasTime() {
		// search_docs keeps no observed_at or validity: the memory's row
		// does (issue 18), one primary-key probe per candidate.
		where.WriteString(" AND EXISTS (SELECT 1 FROM memories m WHERE m.id = d.memory_id AND m.org_id = d.org_id AND m.user_id = d.user_id")
		if !f.ObservedAfter.IsZero() {
			where.WriteString(" AND m.observed_at >= ?")
			args = append(args, f.ObservedAfter.UnixNano())
		}
		if !f.ObservedBefore.IsZero() {
			where.WriteString(" AND m.observed_at < ?")
			args = append(args, f.ObservedBefore.UnixNano())
		}
		if !f.AsOf.IsZero() {
			at := f.AsOf.UnixNano()
			where.WriteString(" AND m.observed_at <= ? AND (m.valid_from = 0 OR m.valid_from <= ?) AND (m.valid_to = 0 OR m.valid_to > ?)")
			args = append(args, at, at, at)
		}
		where.WriteString(")")
	}
	return where.String(), args, nil
}
