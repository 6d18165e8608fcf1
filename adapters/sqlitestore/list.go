package sqlitestore

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// List implements ports.MemoryStore with keyset pagination on the id, which
// is a UUIDv7: new rows get larger ids than every row already paged past in
// descending order, so they can neither repeat nor displace a row.
func (s *Store) List(ctx context.Context, t domain.Tenant, q domain.ListQuery) (domain.Page, error) {
	if err := t.Validate(); err != nil {
		return domain.Page{}, fmt.Errorf("sqlitestore: list: %w", err)
	}
	if err := q.Validate(); err != nil {
		return domain.Page{}, fmt.Errorf("sqlitestore: list: %w", err)
	}
	// Sealed text cannot be searched by SQL: with a key-encryption key
	// configured, text_contains selects sealed rows as candidates and
	// matches them here after opening, reading further pages (keyset, by
	// id) until the page is full or the rows run out.
	// Sealed metadata values likewise: metadata comparisons (Metadata,
	// Where) select sealed rows as candidates, evaluated here after
	// opening (domain.ListQuery.MatchesFilters).
	sealedText := q.TextContains != "" && s.keys.w != nil
	sealedMeta := s.keys.w != nil && q.ComparesMetadata()
	page := domain.Page{Items: make([]domain.Memory, 0, q.Limit)}
	fetch := q.Limit + 1
	if sealedText || sealedMeta {
		fetch = max(fetch, 256)
	}
	cur := q
	for {
		batch, err := s.listRows(ctx, t, cur, sealedText, sealedMeta, fetch)
		if err != nil {
			return domain.Page{}, fmt.Errorf("sqlitestore: list: %w", err)
		}
		for _, m := range batch {
			sealed, metaSealed := ports.Sealed(m.Text), ports.MetadataSealed(m.Metadata)
			if err := s.openMemory(ctx, s.r, &m); err != nil {
				return domain.Page{}, fmt.Errorf("sqlitestore: list: %w", err)
			}
			if sealed && sealedText && !strings.Contains(asciiLower(m.Text), asciiLower(q.TextContains)) {
				continue
			}
			if metaSealed && sealedMeta && !q.MatchesFilters(m) {
				continue
			}
			page.Items = append(page.Items, m)
		}
		if !(sealedText || sealedMeta) || len(page.Items) > q.Limit || len(batch) < fetch {
			break
		}
		cur.Cursor = domain.EncodeCursor(batch[len(batch)-1].ID)
	}
	// One row more than asked for tells whether another page exists.
	if len(page.Items) > q.Limit {
		page.Items = page.Items[:q.Limit]
		page.NextCursor = domain.EncodeCursor(page.Items[q.Limit-1].ID)
	}
	return page, nil
}

// listRows reads up to limit rows of q's page as stored (text not opened).
func (s *Store) listRows(ctx context.Context, t domain.Tenant, q domain.ListQuery, sealedText, sealedMeta bool, limit int) ([]domain.Memory, error) {
	where, args, err := listWhere(t, q, sealedText, sealedMeta)
	if err != nil {
		return nil, err
	}
	args = append(args, limit)
	dir := "DESC"
	if q.Order == domain.OldestFirst {
		dir = "ASC"
	}
	rows, err := s.shapes.query(ctx, s.r, `SELECT `+memoryCols+` FROM memories WHERE `+where+` ORDER BY id `+dir+` LIMIT ?`, args...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	out := make([]domain.Memory, 0, min(limit, 1024))
	for rows.Next() {
		m, err := scanMemory(rows)
		if err != nil {
			return nil, mapErr(err)
		}
		out = append(out, m)
	}
	return out, mapErr(rows.Err())
}

// asciiLower folds ASCII letters only, as SQLite's lower() does.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// sealedMetaSQL holds for a row with a sealed metadata value; its one
// parameter is ports.SealedPrefix.
var sealedMetaSQL = "EXISTS (SELECT 1 FROM json_each(memories.metadata) s WHERE s.type = 'text' AND substr(s.atom, 1, " + strconv.Itoa(len(ports.SealedPrefix)) + ") = ?)"

// listWhere turns q into a WHERE clause over memories. Every filter is a
// bound parameter; only the shape of the SQL depends on q. With sealedMeta
// the metadata comparisons (Metadata and Where, ANDed) hold for rows with
// sealed metadata values too: the caller evaluates those after opening.
func listWhere(t domain.Tenant, q domain.ListQuery, sealedText, sealedMeta bool) (string, []any, error) {
	conds := []string{"org_id = ?", "user_id = ?", "erased = 0", liveSQL}
	args := []any{string(t.OrgID), string(t.UserID), nowNanos()}
	add := func(cond string, a ...any) {
		conds = append(conds, cond)
		args = append(args, a...)
	}
	if len(q.States) == 0 {
		add("state <> 'deleted'")
	} else {
		add("state IN ("+placeholders(len(q.States))+")", anys(q.States)...)
	}
	if q.App != "" {
		add("app_id = ?", string(q.App))
	}
	if q.AgentID != "" {
		add("agent_id = ?", q.AgentID)
	}
	if q.RunID != "" {
		add("run_id = ?", q.RunID)
	}
	if len(q.Categories) > 0 {
		add("EXISTS (SELECT 1 FROM json_each(memories.categories) c WHERE c.value IN ("+placeholders(len(q.Categories))+"))", anys(q.Categories)...)
	}
	// The metadata comparisons go to meta, ANDed: with sealedMeta they are
	// ORed with sealedMetaSQL as one condition.
	var meta []string
	var metaArgs []any
	addMeta := func(cond string, a ...any) {
		meta = append(meta, cond)
		metaArgs = append(metaArgs, a...)
	}
	// Keys in order: the SQL text is the statement cache's key.
	for _, k := range slices.Sorted(maps.Keys(q.Metadata)) {
		v := q.Metadata[k]
		// json_each rather than json_extract: any key works without path
		// quoting, and its type column tells true from 1 and "1" from 1.
		const each = "EXISTS (SELECT 1 FROM json_each(memories.metadata) j WHERE j.key = ? AND "
		switch v := v.(type) {
		case string:
			addMeta(each+"j.type = 'text' AND j.atom = ?)", k, v)
		case float64:
			addMeta(each+"j.type IN ('integer', 'real') AND j.atom = ?)", k, v)
		case bool:
			addMeta(each+"j.type = ?)", k, map[bool]string{true: "true", false: "false"}[v])
		default:
			return "", nil, domain.Invalid("metadata", "filter on %q must be a string, number or boolean", k)
		}
	}
	if !q.CreatedAfter.IsZero() {
		add("created_at > ?", toNanos(q.CreatedAfter))
	}
	if !q.CreatedBefore.IsZero() {
		add("created_at < ?", toNanos(q.CreatedBefore))
	}
	if q.TextContains != "" {
		// instr, not LIKE: %, _ and \ in the needle are plain characters.
		// lower() folds ASCII only, the same on both sides.
		if sealedText {
			// Sealed rows are candidates, matched after opening.
			add("(instr(lower(text), lower(?)) > 0 OR substr(text, 1, ?) = ?)", q.TextContains, len(ports.SealedPrefix), ports.SealedPrefix)
		} else {
			add("instr(lower(text), lower(?)) > 0", q.TextContains)
		}
	}
	if len(q.IDs) > 0 {
		// One JSON array instead of a placeholder per id: no length limit.
		list, err := json.Marshal(q.IDs)
		if err != nil {
			return "", nil, fmt.Errorf("encode ids: %w", err)
		}
		add("id IN (SELECT value FROM json_each(?))", string(list))
	}
	if q.Where != nil {
		var wargs []any
		cond, err := whereSQL(*q.Where, &wargs)
		if err != nil {
			return "", nil, err
		}
		addMeta(cond, wargs...)
	}
	switch {
	case len(meta) == 0:
	case sealedMeta:
		add("(("+strings.Join(meta, " AND ")+") OR "+sealedMetaSQL+")", append(metaArgs, ports.SealedPrefix)...)
	default:
		add(strings.Join(meta, " AND "), metaArgs...)
	}
	if q.Cursor != "" {
		after, err := domain.DecodeCursor(q.Cursor)
		if err != nil {
			return "", nil, err
		}
		if q.Order == domain.OldestFirst {
			add("id > ?", string(after))
		} else {
			add("id < ?", string(after))
		}
	}
	return strings.Join(conds, " AND "), args, nil
}

func anys[T ~string](xs []T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = string(x)
	}
	return out
}

// Stats implements ports.MemoryStore from memory_tallies (migration
// 0301), which triggers keep exact: a page view reads a few counts, not
// the tenant's memories. Memories that expired and await the sweeper are
// still counted there; they are few (memories_expiry finds them) and
// subtracted here.
func (s *Store) Stats(ctx context.Context, t domain.Tenant) (domain.Stats, error) {
	if err := t.Validate(); err != nil {
		return domain.Stats{}, fmt.Errorf("sqlitestore: stats: %w", err)
	}
	st := domain.NewStats()
	org, user := string(t.OrgID), string(t.UserID)
	err := s.readTallies(ctx, &st, `SELECT dim, label, state, n FROM memory_tallies WHERE org_id = ? AND user_id = ?`, org, user)
	if err != nil {
		return domain.Stats{}, err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT app_id, state, categories, created_at FROM memories
		WHERE org_id = ? AND expires_at <> 0 AND expires_at <= ? AND user_id = ? AND erased = 0`, org, nowNanos(), user)
	if err != nil {
		return domain.Stats{}, fmt.Errorf("sqlitestore: stats: %w", mapErr(err))
	}
	defer rows.Close()
	for rows.Next() {
		var app, state, cats string
		var created int64
		if err := rows.Scan(&app, &state, &cats, &created); err != nil {
			return domain.Stats{}, fmt.Errorf("sqlitestore: stats: %w", mapErr(err))
		}
		var cs []string
		_ = json.Unmarshal([]byte(cats), &cs)
		st.Untally(domain.AppID(app), domain.State(state), cs, fromNanos(created))
	}
	if err := rows.Err(); err != nil {
		return domain.Stats{}, fmt.Errorf("sqlitestore: stats: %w", mapErr(err))
	}
	st.Prune()
	err = s.r.QueryRowContext(ctx, `SELECT count(*) FROM apps WHERE org_id = ? AND user_id = ?`, org, user).Scan(&st.Apps)
	if err != nil {
		return domain.Stats{}, fmt.Errorf("sqlitestore: stats: %w", mapErr(err))
	}
	return st, nil
}

func (s *Store) readTallies(ctx context.Context, st *domain.Stats, q string, args ...any) error {
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("sqlitestore: stats: %w", mapErr(err))
	}
	defer rows.Close()
	for rows.Next() {
		var dim, label, state string
		var n int
		if err := rows.Scan(&dim, &label, &state, &n); err != nil {
			return fmt.Errorf("sqlitestore: stats: %w", mapErr(err))
		}
		st.Tally(dim, label, domain.State(state), n)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlitestore: stats: %w", mapErr(err))
	}
	return nil
}
