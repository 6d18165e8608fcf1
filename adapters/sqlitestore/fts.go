package sqlitestore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// TextIndex is the embedded profile's lexical index: SQLite FTS5 with BM25
// ranking, in the store's database file (migration 0002_search).
type TextIndex struct {
	s *Store
}

var _ ports.TextIndex = (*TextIndex)(nil)

// TextIndex returns the FTS5 text index living in this store's file.
func (s *Store) TextIndex() *TextIndex { return &TextIndex{s: s} }

// tenantToken is the single FTS token that stands for (org, user). Hex keeps
// it one unicode61 token; the hash keeps any org or user string out of the
// tokenizer's way.
func tenantToken(t domain.Tenant) string {
	sum := sha256.Sum256([]byte(string(t.OrgID) + "\x00" + string(t.UserID)))
	return "t" + hex.EncodeToString(sum[:12])
}

// Index replaces each document's entry in one write transaction.
func (x *TextIndex) Index(ctx context.Context, t domain.Tenant, docs []ports.TextDoc) error {
	if len(docs) == 0 {
		return nil
	}
	tok := tenantToken(t)
	err := x.s.write(ctx, func(tx *sql.Tx) error {
		for _, d := range docs {
			if err := deleteDoc(ctx, tx, t, d.ID); err != nil {
				return err
			}
			cats, err := json.Marshal(nonNil(d.Categories))
			if err != nil {
				return err
			}
			md, err := json.Marshal(d.Metadata)
			if err != nil {
				return err
			}
			if d.Metadata == nil {
				md = []byte("{}")
			}
			res, err := tx.ExecContext(ctx, `INSERT INTO search_docs (org_id, user_id, memory_id, app_id, categories, metadata, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?)`, t.OrgID, t.UserID, d.ID, d.AppID, string(cats), string(md), d.CreatedAt.UnixNano())
			if err != nil {
				return mapErr(err)
			}
			rowid, err := res.LastInsertId()
			if err != nil {
				return mapErr(err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO search_fts (rowid, tenant, body) VALUES (?, ?, ?)`, rowid, tok, d.Text); err != nil {
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

func deleteDoc(ctx context.Context, tx *sql.Tx, t domain.Tenant, id domain.MemoryID) error {
	var rowid int64
	err := tx.QueryRowContext(ctx, `DELETE FROM search_docs WHERE org_id = ? AND user_id = ? AND memory_id = ? RETURNING rowid`,
		t.OrgID, t.UserID, id).Scan(&rowid)
	if err == sql.ErrNoRows {
		return nil
	}
	if err != nil {
		return mapErr(err)
	}
	_, err = tx.ExecContext(ctx, `DELETE FROM search_fts WHERE rowid = ?`, rowid)
	return mapErr(err)
}

// Delete removes entries; ids of other tenants and unknown ids are ignored.
func (x *TextIndex) Delete(ctx context.Context, t domain.Tenant, ids []domain.MemoryID) error {
	if len(ids) == 0 {
		return nil
	}
	err := x.s.write(ctx, func(tx *sql.Tx) error {
		for _, id := range ids {
			if err := deleteDoc(ctx, tx, t, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: unindex %d docs: %w", len(ids), mapErr(err))
	}
	return nil
}

// ftsQuote makes one FTS5 string: the only syntax a term ever gets.
func ftsQuote(w string) string { return `"` + strings.ReplaceAll(w, `"`, `""`) + `"` }

// matchExpr builds "tenant : "tok" AND body : ( "w1" OR "w2" )" or, for a
// phrase, body : "w1 w2 w3". Words come from domain.QueryTerms, so no
// operator of the user's query survives.
func matchExpr(tok string, words []string, phrase bool) string {
	var b strings.Builder
	b.WriteString("tenant : " + ftsQuote(tok) + " AND body : ")
	if phrase {
		b.WriteString(ftsQuote(strings.Join(words, " ")))
		return b.String()
	}
	b.WriteString("(")
	for i, w := range words {
		if i > 0 {
			b.WriteString(" OR ")
		}
		b.WriteString(ftsQuote(w))
	}
	b.WriteString(")")
	return b.String()
}
