package pgstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

const getMemorySQL = `SELECT ` + memoryCols + ` FROM memories
	WHERE org_id = $1 AND user_id = $2 AND id = $3 AND erased_at IS NULL AND ` + liveSQL

// Get returns a live or deleted memory; erased ones are not found.
func (s *Store) Get(ctx context.Context, t domain.Tenant, id domain.MemoryID) (domain.Memory, error) {
	if err := t.Validate(); err != nil {
		return domain.Memory{}, fmt.Errorf("pgstore: get memory %s: %w", id, err)
	}
	if !domain.ValidID(string(id)) {
		return domain.Memory{}, fmt.Errorf("pgstore: get memory %s: %w", id, domain.ErrNotFound)
	}
	var m domain.Memory
	err := s.readTx(ctx, t.OrgID, func(tx *sqlx.Conn) error {
		var row memoryRow
		if err := tx.GetContext(ctx, &row, getMemorySQL, t.OrgID, t.UserID, id); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return domain.ErrNotFound
			}
			return err
		}
		var err error
		if m, err = row.memory(); err != nil {
			return err
		}
		return s.openMemory(ctx, tx, &m)
	})
	if err != nil {
		return domain.Memory{}, fmt.Errorf("pgstore: get memory %s: %w", id, mapErr(err))
	}
	return m, nil
}

// List returns one page newest first; see ports.MemoryStore.List.
func (s *Store) List(ctx context.Context, t domain.Tenant, q domain.ListQuery) (domain.Page, error) {
	if err := t.Validate(); err != nil {
		return domain.Page{}, fmt.Errorf("pgstore: list memories: %w", err)
	}
	if err := q.Validate(); err != nil {
		return domain.Page{}, fmt.Errorf("pgstore: list memories: %w", err)
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
	fetch := q.Limit + 1
	if sealedText || sealedMeta {
		fetch = max(fetch, 256)
	}
	needle := strings.ToLower(q.TextContains)
	var page domain.Page
	err := s.routedRead(ctx, t.OrgID, func(tx *sqlx.Conn) error {
		var items []domain.Memory
		cur := q
		for {
			query, args, err := listSQL(t, cur, sealedText, sealedMeta, fetch)
			if err != nil {
				return err
			}
			var rows []memoryRow
			if err := tx.SelectContext(ctx, &rows, query, args...); err != nil {
				return err
			}
			batch, err := memories(rows)
			if err != nil {
				return err
			}
			for _, m := range batch {
				sealed, metaSealed := ports.Sealed(m.Text), ports.MetadataSealed(m.Metadata)
				if err := s.openMemory(ctx, tx, &m); err != nil {
					return err
				}
				if sealed && sealedText && !strings.Contains(strings.ToLower(m.Text), needle) {
					continue
				}
				if metaSealed && sealedMeta && !q.MatchesFilters(m) {
					continue
				}
				items = append(items, m)
			}
			if !(sealedText || sealedMeta) || len(items) > q.Limit || len(batch) < fetch {
				break
			}
			cur.Cursor = domain.EncodeCursor(batch[len(batch)-1].ID)
		}
		if items == nil {
			items = []domain.Memory{}
		}
		if len(items) > q.Limit {
			items = items[:q.Limit]
			page.NextCursor = domain.EncodeCursor(items[len(items)-1].ID)
		}
		page.Items = items
		return nil
	})
	if err != nil {
		return domain.Page{}, fmt.Errorf("pgstore: list memories: %w", mapErr(err))
	}
	return page, nil
}

// listSQL builds the filtered keyset query. It fetches one row more than
// the limit to learn whether another page follows. ORDER BY names the table
// column: a bare "id" would be the text alias from memoryCols, which sorts
// the same but cannot use the (org_id, user_id, id) index. With sealedMeta
// the metadata comparisons (Metadata and Where, ANDed) hold for rows with
// sealed metadata values too: the caller evaluates those after opening.
func listSQL(t domain.Tenant, q domain.ListQuery, sealedText, sealedMeta bool, limit int) (string, []any, error) {
	var where []string
	args := []any{t.OrgID, t.UserID}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	where = append(where, "org_id = $1", "user_id = $2", "erased_at IS NULL", liveSQL)
	if len(q.States) == 0 {
		where = append(where, "state <> 'deleted'")
	} else {
		states := make(pq.StringArray, len(q.States))
		for i, st := range q.States {
			states[i] = string(st)
		}
		where = append(where, "state = ANY("+arg(states)+"::text[])")
	}
	if q.App != "" {
		where = append(where, "app_id = "+arg(q.App))
	}
	if q.AgentID != "" {
		where = append(where, "agent_id = "+arg(q.AgentID))
	}
	if q.RunID != "" {
		where = append(where, "run_id = "+arg(q.RunID))
	}
	if len(q.Categories) > 0 {
		// Any listed label matches (OpenMemory's semantics); && is GIN-indexed.
		where = append(where, "categories && "+arg(pq.StringArray(q.Categories))+"::text[]")
	}
	// The metadata comparisons go to meta, ANDed: with sealedMeta they are
	// ORed with a test for sealed values as one condition.
	var meta []string
	if len(q.Metadata) > 0 {
		// Containment of {k: v} is key = value with JSON typing: 1 matches
		// 1.0 but not "1", true matches only true.
		md, err := jsonText(q.Metadata)
		if err != nil {
			return "", nil, domain.Invalid("metadata", "%v", err)
		}
		meta = append(meta, "metadata @> "+arg(md)+"::jsonb")
	}
	if !q.CreatedAfter.IsZero() {
		where = append(where, "created_at > "+arg(q.CreatedAfter.UTC().Format(time.RFC3339Nano))+"::timestamptz")
	}
	if !q.CreatedBefore.IsZero() {
		where = append(where, "created_at < "+arg(q.CreatedBefore.UTC().Format(time.RFC3339Nano))+"::timestamptz")
	}
	if q.TextContains != "" {
		like := "text ILIKE " + arg("%"+escapeLike(q.TextContains)+"%") + ` ESCAPE '\'`
		if sealedText {
			// Sealed rows are candidates, matched after opening.
			like = "(" + like + " OR left(text, " + strconv.Itoa(len(ports.SealedPrefix)) + ") = " + arg(ports.SealedPrefix) + ")"
		}
		where = append(where, like)
	}
	if len(q.IDs) > 0 {
		ids, _ := uuidArray(q.IDs)
		where = append(where, "id = ANY("+arg(ids)+"::uuid[])")
	}
	if q.Where != nil {
		cond, err := whereSQL(*q.Where, arg)
		if err != nil {
			return "", nil, err
		}
		meta = append(meta, cond)
	}
	switch {
	case len(meta) == 0:
	case sealedMeta:
		sealed := "EXISTS (SELECT 1 FROM jsonb_each_text(metadata) s WHERE left(s.value, " + strconv.Itoa(len(ports.SealedPrefix)) + ") = " + arg(ports.SealedPrefix) + ")"
		where = append(where, "(("+strings.Join(meta, " AND ")+") OR "+sealed+")")
	default:
		where = append(where, meta...)
	}
	if q.Cursor != "" {
		after, err := domain.DecodeCursor(q.Cursor)
		if err != nil {
			return "", nil, err
		}
		if q.Order == domain.OldestFirst {
			where = append(where, "id > "+arg(string(after))+"::uuid")
		} else {
			where = append(where, "id < "+arg(string(after))+"::uuid")
		}
	}
	dir := " DESC"
	if q.Order == domain.OldestFirst {
		dir = " ASC"
	}
	query := "SELECT " + memoryCols + " FROM memories WHERE " + strings.Join(where, " AND ") +
		" ORDER BY memories.id" + dir + " LIMIT " + arg(limit)
	return query, args, nil
}

// escapeLike makes s match literally inside an ILIKE pattern with ESCAPE '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
