package pgstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/engram-memory/engram/adapters/textfold"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// Search ranks a bounded candidate set by ts_rank (length-normalised,
// mapped into [0,1)) over the query's words; candidates holding the exact
// phrase get +1 so they come first. Which entries are candidates depends on
// how common the words are among the tenant's newest entries (a probe of
// them, searchProbe): see lexicalPlan and planFor.
//
// The GIN index on tsv is never used by the runtime role: row-level
// security evaluates its policy before any qualifier that is not
// leakproof, and @@ is not, so no @@ can be an index condition. Every
// statement reads the tenant's entries themselves (newest first through
// the primary key, whose memory ids are time-ordered, or a sequential scan
// when it must read them all), and a search costs the entries it reads:
// the plans stop at a LIMIT of the newest where the ranking allows.
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
	q := lexicalQuery{tenant: t, config: x.config, words: words, phrase: phrase, k: k}
	texts, args := [4]string{searchProbeSQL}, [4][]any{{t.OrgID, t.UserID, x.candidates, x.config, strings.Join(words, " "), pq.Array(words)}}
	var err error
	for _, b := range []struct {
		plan  lexicalPlan
		build func() (string, []any, error)
	}{
		{planAll, func() (string, []any, error) { return q.allSQL(f, x.candidates) }},
		{planNewest, func() (string, []any, error) { return q.newestSQL(f, max(k, newestCap), false) }},
		{planRare, func() (string, []any, error) { return q.newestSQL(f, x.candidates, true) }},
	} {
		if texts[1+b.plan], args[1+b.plan], err = b.build(); err != nil {
			return nil, fmt.Errorf("pgstore: text search: %w", err)
		}
	}
	// Prepared before the transaction: preparing on the pool inside it
	// could wait for the connection the transaction holds.
	var stmts [4]*sql.Stmt
	for i, text := range texts {
		if stmts[i], err = x.stmt(ctx, text); err != nil {
			return nil, fmt.Errorf("pgstore: text search: %w", mapErr(err))
		}
	}
	var hits []ports.Hit
	// force_custom_plan: a prepared statement would otherwise switch to a
	// generic plan after five calls, blind to this query's values; the
	// statements are prepared to skip parsing, not planning. They were
	// prepared on the primary's pool; on a replica's, the first search of
	// each shape sends the text and prepares it there in the background
	// for the next ones.
	settings := pq.QuoteLiteral(string(t.OrgID)) + ", true), set_config('plan_cache_mode', 'force_custom_plan', true)"
	err = x.s.routedTxWith(ctx, settings, func(tx *sqlx.Tx, on *sqlx.DB) error {
		query := func(i int, args []any) (*sql.Rows, error) {
			prepared := stmts[i]
			if on != x.s.db {
				prepared = x.replicaStmt(on, texts[i])
			}
			if prepared != nil {
				return tx.StmtContext(ctx, prepared).QueryContext(ctx, args...)
			}
			return tx.QueryContext(ctx, texts[i], args...)
		}
		var p searchProbe
		rows, err := query(0, args[0])
		if err != nil {
			return err
		}
		for rows.Next() {
			if err := rows.Scan(&p.window, &p.holdAll, &p.holdEach); err != nil {
				_ = rows.Close()
				return err
			}
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
		plan, rare := planFor(p, x.candidates, words)
		a := slices.Clone(args[1+plan])
		switch plan {
		case planAll:
			a = append(a, orQuery(words))
		case planRare:
			a[4] = orQuery(rare)
		}
		rows, err = query(1+int(plan), a)
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

// newestCap is how many of the newest entries holding every query word are
// ranked (at least k) when every word is common.
const newestCap = 100

// commonShare: a word is common when at least 1 in commonShare of the
// tenant's newest entries (the probe's window) hold it, which in a tenant
// of 100,000 entries is about 500 of them.
const commonShare = 200

// searchProbe is what the tenant's newest entries (as many as the index's
// Candidates) say about a query's words.
type searchProbe struct {
	window   int           // entries read: fewer than asked when the tenant holds fewer
	holdAll  int           // of them, those holding every word
	holdEach pq.Int64Array // of them, those holding each word, in order
}

// searchProbeSQL reads the tenant's newest entries once and counts the
// entries holding every word and each word ($6: the words, in order). Each
// word is normalised as the entries' text was (to_tsvector) and matched
// against their lexemes in one join: a tsquery per word cost 1.3 ms per
// word at 1,000 entries.
const searchProbeSQL = `WITH recent AS MATERIALIZED (
		SELECT s.tsv FROM memory_search s WHERE s.org_id = $1 AND s.user_id = $2 ORDER BY s.memory_id DESC LIMIT $3),
	words AS MATERIALIZED (
		SELECT x.n, (tsvector_to_array(to_tsvector($4::regconfig, x.w)))[1] AS lexeme FROM unnest($6::text[]) WITH ORDINALITY AS x(w, n))
	SELECT (SELECT count(*) FROM recent),
	       (SELECT count(*) FROM recent WHERE tsv @@ plainto_tsquery($4::regconfig, $5)),
	       ARRAY(SELECT count(l.lexeme) FROM words w
	             LEFT JOIN (SELECT unnest(tsvector_to_array(r.tsv)) AS lexeme FROM recent r) l ON l.lexeme = w.lexeme
	             GROUP BY w.n ORDER BY w.n)`

// lexicalPlan says which entries a search ranks, from the probe of the
// tenant's newest window entries (window: the index's Candidates).
type lexicalPlan int

const (
	// planAll: the newest window entries holding every word and the
	// newest window holding any word but not all. When the tenant holds
	// fewer entries than the window, that is every entry holding a word:
	// the ranking before the probe existed.
	planAll lexicalPlan = iota
	// planNewest: every word is common (commonShare) and some of the
	// newest entries hold them all: the newest max(k, newestCap) entries
	// holding them all. An entry holding words most entries hold says
	// little, and ranking every one of them reads the whole tenant.
	planNewest
	// planRare: some words are not common: the newest window entries
	// holding any of those (the entries holding every word are among
	// them). Entries holding only common words no longer crowd out those
	// holding a rare one, and the tenant is read once, not twice.
	planRare
)

// planFor chooses the plan from the probe; rare are the words that are
// not common, in order.
func planFor(p searchProbe, window int, words []string) (plan lexicalPlan, rare []string) {
	if p.window < window || len(p.holdEach) != len(words) {
		return planAll, nil
	}
	floor := int64(max(1, window/commonShare))
	for i, n := range p.holdEach {
		if n < floor {
			rare = append(rare, words[i])
		}
	}
	switch {
	case len(rare) > 0:
		return planRare, rare
	case p.holdAll > 0:
		return planNewest, nil
	default:
		return planAll, nil
	}
}

// quoted returns each word as a single to_tsquery operand. Words come from
// domain.QueryTerms (letters and digits only); quoting makes each one a
// single operand whatever the configuration's parser thinks of it.
func quoted(words []string) []string {
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = "'" + strings.NewReplacer(`'`, `''`, `\`, `\\`).Replace(w) + "'"
	}
	return out
}

// orQuery is "'w1' | 'w2'" for to_tsquery.
func orQuery(words []string) string { return strings.Join(quoted(words), " | ") }

// lexicalQuery builds a search's statements; each puts its own arguments
// first and the filter's after them.
type lexicalQuery struct {
	tenant domain.Tenant
	config string
	words  []string
	phrase string
	k      int
}

// base is $1-$6 of every search statement, then $7 (the candidates'
// LIMIT) and $8 (k).
func (q lexicalQuery) base(limit int) []any {
	return []any{q.tenant.OrgID, q.tenant.UserID, q.config, orQuery(q.words), strings.Join(q.words, " "), q.phrase, limit, q.k}
}

// scoreSQL scores a candidate c. The tsqueries are written inline, not in
// a CTE, as everywhere here: only an expression of constants and
// parameters is folded once per statement.
const scoreSQL = `ts_rank(c.tsv, to_tsquery($3::regconfig, $4), 1|32) + CASE WHEN $6 <> '' AND c.tsv @@ phraseto_tsquery($3::regconfig, $6) THEN 1 ELSE 0 END`

// newestSQL ranks the newest limit entries holding every word ($5, for
// plainto_tsquery) or, with anyOf, any word of the to_tsquery that the
// caller puts in $5 instead.
func (q lexicalQuery) newestSQL(f domain.SearchFilter, limit int, anyOf bool) (string, []any, error) {
	args := q.base(limit)
	where, args, err := filterSQL(f, args)
	if err != nil {
		return "", nil, err
	}
	match := `plainto_tsquery($3::regconfig, $5)`
	if anyOf {
		match = `to_tsquery($3::regconfig, $5)`
	}
	return `SELECT c.memory_id::text, ` + scoreSQL + ` AS score
	FROM (SELECT s.memory_id, s.tsv FROM memory_search s WHERE ` + where + ` AND s.tsv @@ ` + match + `
	      ORDER BY s.memory_id DESC LIMIT $7) c
	ORDER BY score DESC, c.memory_id LIMIT $8`, args, nil
}

// allSQL ranks the newest limit entries holding every word and the newest
// limit holding any word of the to_tsquery given last (after the
// filter's arguments) but not all of them.
func (q lexicalQuery) allSQL(f domain.SearchFilter, limit int) (string, []any, error) {
	args := q.base(limit)
	where, args, err := filterSQL(f, args)
	if err != nil {
		return "", nil, err
	}
	or := "$" + strconv.Itoa(len(args)+1)
	return `WITH cand AS (
		(SELECT s.memory_id, s.tsv FROM memory_search s WHERE ` + where + ` AND s.tsv @@ plainto_tsquery($3::regconfig, $5)
		 ORDER BY s.memory_id DESC LIMIT $7)
		UNION ALL
		(SELECT s.memory_id, s.tsv FROM memory_search s WHERE ` + where + ` AND s.tsv @@ to_tsquery($3::regconfig, ` + or + `)
		   AND NOT s.tsv @@ plainto_tsquery($3::regconfig, $5)
		 ORDER BY s.memory_id DESC LIMIT $7)
	)
	SELECT c.memory_id::text, ` + scoreSQL + ` AS score
	FROM cand c ORDER BY score DESC, c.memory_id LIMIT $8`, args, nil
}

// filterSQL returns the tenant's condition on memory_search s with the
// filter's, whose values are appended to args.
func filterSQL(f domain.SearchFilter, args []any) (string, []any, error) {
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
	if f.HasTime() {
		// memory_search keeps no observed_at or validity: the memory's
		// row does (issue 18), one primary-key probe per candidate.
		filter.WriteString(" AND EXISTS (SELECT 1 FROM memories m WHERE m.id = s.memory_id AND m.org_id = s.org_id AND m.user_id = s.user_id")
		if !f.ObservedAfter.IsZero() {
			filter.WriteString(" AND m.observed_at >= " + arg(f.ObservedAfter))
		}
		if !f.ObservedBefore.IsZero() {
			filter.WriteString(" AND m.observed_at < " + arg(f.ObservedBefore))
		}
		if !f.AsOf.IsZero() {
			at := arg(f.AsOf)
			filter.WriteString(" AND m.observed_at <= " + at + " AND (m.valid_from IS NULL OR m.valid_from <= " + at + ")" +
				" AND (m.valid_to IS NULL OR m.valid_to > " + at + ")")
		}
		filter.WriteString(")")
	}
	return `s.org_id = $1 AND s.user_id = $2` + filter.String(), args, nil
}
