package sqlitestore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/engram-memory/engram/adapters/textfold"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// TextIndex is the embedded profile's lexical index: SQLite FTS5 with BM25
// ranking, in the store's database file (migration 0002_search).
type TextIndex struct {
	s *Store

	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

var _ ports.TextIndex = (*TextIndex)(nil)

// TextIndex returns the FTS5 text index living in this store's file.
// Create it once and keep it: it caches its prepared statements, since
// SQLite parsing a statement costs as much as running a small search.
func (s *Store) TextIndex() *TextIndex { return &TextIndex{s: s, stmts: map[string]*sql.Stmt{}} }

// maxStmts bounds the statement cache; filtered searches vary in shape.
const maxStmts = 64

// query runs a read statement through the cache of prepared statements.
func (x *TextIndex) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	x.mu.Lock()
	st, ok := x.stmts[q]
	if !ok && len(x.stmts) < maxStmts {
		var err error
		if st, err = x.s.r.PrepareContext(ctx, q); err != nil {
			x.mu.Unlock()
			return nil, err
		}
		x.stmts[q] = st
	}
	x.mu.Unlock()
	if st == nil {
		return x.s.r.QueryContext(ctx, q, args...)
	}
	return st.QueryContext(ctx, args...)
}

// Close releases the prepared statements; the store stays open.
func (x *TextIndex) Close() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	for q, st := range x.stmts {
		_ = st.Close()
		delete(x.stmts, q)
	}
	return nil
}

// tenantToken is the prefix every indexed word of (org, user) carries:
// "t" and 24 hex digits. Words of different tenants are then different FTS5
// terms, so a posting list holds one tenant's entries only (a search never
// reads another tenant's rows, even inside the index) and BM25's document
// frequencies are the tenant's own.
func tenantToken(t domain.Tenant) string {
	sum := sha256.Sum256([]byte(string(t.OrgID) + "\x00" + string(t.UserID)))
	return "t" + hex.EncodeToString(sum[:12])
}

// Index replaces each document's entry in one write transaction: the old
// entries of the batch are removed in one pass, then every document is
// inserted through two statements prepared once per batch (SQLite spends as
// long parsing a statement as running a small insert).
func (x *TextIndex) Index(ctx context.Context, t domain.Tenant, docs []ports.TextDoc) error {
	if len(docs) == 0 {
		return nil
	}
	tok := tenantToken(t)
	defer x.s.forgetCounts(tok)
	// The last document of an id wins, as with one call per document.
	last := make(map[domain.MemoryID]int, len(docs))
	for i, d := range docs {
		last[d.ID] = i
	}
	ids := make([]domain.MemoryID, 0, len(last))
	for id := range last {
		ids = append(ids, id)
	}
	err := x.s.write(ctx, func(tx *sql.Tx) error {
		if err := deleteDocs(ctx, tx, t, ids); err != nil {
			return err
		}
		insDoc, err := tx.PrepareContext(ctx, `INSERT INTO search_docs (org_id, user_id, memory_id, app_id, content_hash, categories, metadata, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING rowid`)
		if err != nil {
			return mapErr(err)
		}
		defer insDoc.Close()
		insFTS, err := tx.PrepareContext(ctx, `INSERT INTO search_fts (rowid, body) VALUES (?, ?)`)
		if err != nil {
			return mapErr(err)
		}
		defer insFTS.Close()
		// Every search_docs row first, then every FTS row. The INSERT …
		// RETURNING opens a statement savepoint, and FTS5 writes its pending
		// terms to disk as a new segment at every savepoint: interleaved, a
		// batch of 1,000 documents made 1,000 one-document segments and
		// FTS5 spent more time merging them than indexing (an import's text
		// index writes took 67 µs a memory). Ordered, the batch's terms
		// are written once, at commit.
		rowids := make([]int64, len(docs))
		for i, d := range docs {
			if last[d.ID] != i {
				continue
			}
			cats, err := json.Marshal(nonNil(d.Categories))
			if err != nil {
				return err
			}
			md := []byte("{}")
			if d.Metadata != nil {
				if md, err = json.Marshal(d.Metadata); err != nil {
					return err
				}
			}
			if err := insDoc.QueryRowContext(ctx, t.OrgID, t.UserID, d.ID, d.AppID, docHash(d), string(cats), string(md), d.CreatedAt.UnixNano()).Scan(&rowids[i]); err != nil {
				return mapErr(err)
			}
		}
		stems := textfold.Stems{} // the batch's, one tenant's: dropped with it
		for i, d := range docs {
			if last[d.ID] != i {
				continue
			}
			if _, err := insFTS.ExecContext(ctx, rowids[i], tenantText(tok, d.Text, stems)); err != nil {
				return mapErr(err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: index %d docs: %w", len(docs), mapErr(err))
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// deleteDocs removes the tenant's entries for ids, if any, in three
// statements whatever the batch size.
func deleteDocs(ctx context.Context, tx *sql.Tx, t domain.Tenant, ids []domain.MemoryID) error {
	list, err := json.Marshal(ids)
	if err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, `SELECT d.rowid FROM json_each(?) AS j CROSS JOIN search_docs d
		ON d.org_id = ? AND d.user_id = ? AND d.memory_id = j.value`, string(list), t.OrgID, t.UserID)
	if err != nil {
		return mapErr(err)
	}
	var rowids []int64
	for rows.Next() {
		var r int64
		if err := rows.Scan(&r); err != nil {
			_ = rows.Close()
			return mapErr(err)
		}
		rowids = append(rowids, r)
	}
	if err := rows.Close(); err != nil {
		return mapErr(err)
	}
	if len(rowids) == 0 {
		return nil
	}
	rl, err := json.Marshal(rowids)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM search_fts WHERE rowid IN (SELECT value FROM json_each(?))`, string(rl)); err != nil {
		return mapErr(err)
	}
	_, err = tx.ExecContext(ctx, `DELETE FROM search_docs WHERE rowid IN (SELECT value FROM json_each(?))`, string(rl))
	return mapErr(err)
}

// Delete removes entries; ids of other tenants and unknown ids are ignored.
func (x *TextIndex) Delete(ctx context.Context, t domain.Tenant, ids []domain.MemoryID) error {
	if len(ids) == 0 {
		return nil
	}
	defer x.s.forgetCounts(tenantToken(t))
	err := x.s.write(ctx, func(tx *sql.Tx) error { return deleteDocs(ctx, tx, t, ids) })
	if err != nil {
		return fmt.Errorf("sqlitestore: unindex %d docs: %w", len(ids), mapErr(err))
	}
	return nil
}

// ftsQuote makes one FTS5 string: the only syntax a term ever gets.
func ftsQuote(w string) string { return `"` + strings.ReplaceAll(w, `"`, `""`) + `"` }

// matchAll is "tw1" AND "tw2": entries holding every word.
func matchAll(tok string, words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = ftsQuote(tok + w)
	}
	return strings.Join(q, " AND ")
}

// matchExpr is "tw1" OR "tw2" or, for a phrase, "tw1 tw2 tw3", t being the
// tenant prefix. Words come from domain.QueryTerms folded by textfold.Words, so no
// operator of the user's query survives and each one is quoted.
func matchExpr(tok string, words []string, phrase bool) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = tok + w
	}
	if phrase {
		return ftsQuote(strings.Join(q, " "))
	}
	for i := range q {
		q[i] = ftsQuote(q[i])
	}
	return strings.Join(q, " OR ")
}
