package pgstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// TextOptions configure the Postgres text index.
type TextOptions struct {
	// Language is the text search configuration: "simple" (the default; no
	// stemming, any language), "english", or any configuration installed in
	// the database (e.g. "german"). simple and english fold accents.
	// Changing it needs `engram reindex`.
	Language string
	// Candidates bounds how many matching rows a query ranks (default
	// 1000): rows holding every query word first, then rows holding any.
	// It keeps a common word from making a search rank a whole tenant.
	Candidates int
}

// TextIndex is the single-node profile's lexical index: a stored tsvector
// under GIN in memory_search (migration 0002_search), behind the same
// row-level security as memories.
type TextIndex struct {
	s          *Store
	config     string
	candidates int
}

var _ ports.TextIndex = (*TextIndex)(nil)

// TextIndex returns the full-text index sharing this store's pool.
func (s *Store) TextIndex(o TextOptions) *TextIndex {
	cfg := o.Language
	switch cfg {
	case "", "simple":
		cfg = "engram_simple"
	case "english":
		cfg = "engram_english"
	}
	if o.Candidates <= 0 {
		o.Candidates = 1000
	}
	return &TextIndex{s: s, config: cfg, candidates: o.Candidates}
}

// Check verifies that the configured text search configuration exists, so a
// typo fails at start instead of on the first search.
func (x *TextIndex) Check(ctx context.Context) error {
	var ok bool
	if err := x.s.db.QueryRowContext(ctx, `SELECT to_regconfig($1) IS NOT NULL`, x.config).Scan(&ok); err != nil {
		return fmt.Errorf("pgstore: check text search configuration: %w", mapErr(err))
	}
	if !ok {
		return fmt.Errorf("pgstore: %w", domain.Invalid("search_language", "text search configuration %q does not exist", x.config))
	}
	return nil
}

const upsertSearchSQL = `INSERT INTO memory_search (org_id, user_id, memory_id, app_id, categories, metadata, created_at, tsv, content_hash)
	VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, to_tsvector($8::regconfig, $9), $10)
	ON CONFLICT (org_id, user_id, memory_id) DO UPDATE SET app_id = EXCLUDED.app_id, content_hash = EXCLUDED.content_hash,
		categories = EXCLUDED.categories, metadata = EXCLUDED.metadata,
		created_at = EXCLUDED.created_at, tsv = EXCLUDED.tsv`

// Index upserts every document in one transaction.
func (x *TextIndex) Index(ctx context.Context, t domain.Tenant, docs []ports.TextDoc) error {
	if len(docs) == 0 {
		return nil
	}
	err := x.s.inTx(ctx, t.OrgID, false, func(tx *sqlx.Tx) error {
		for _, d := range docs {
			if !domain.ValidID(string(d.ID)) {
				return domain.Invalid("id", "must be a lower-case UUID")
			}
			md := "{}"
			if len(d.Metadata) > 0 {
				raw, err := json.Marshal(d.Metadata)
				if err != nil {
					return domain.Invalid("metadata", "%v", err)
				}
				md = string(raw)
			}
			cats := d.Categories
			if cats == nil {
				cats = []string{}
			}
			if _, err := tx.ExecContext(ctx, upsertSearchSQL, t.OrgID, t.UserID, string(d.ID), d.AppID,
				pq.Array(cats), md, d.CreatedAt, x.config, d.Text, domain.ContentHash(d.Text)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("pgstore: index %d docs: %w", len(docs), mapErr(err))
	}
	return nil
}

// Delete removes entries; unknown ids and other tenants' ids are ignored.
func (x *TextIndex) Delete(ctx context.Context, t domain.Tenant, ids []domain.MemoryID) error {
	valid := make([]string, 0, len(ids))
	for _, id := range ids {
		if domain.ValidID(string(id)) {
			valid = append(valid, string(id))
		}
	}
	if len(valid) == 0 {
		return nil
	}
	err := x.s.inTx(ctx, t.OrgID, false, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM memory_search WHERE org_id = $1 AND user_id = $2 AND memory_id = ANY($3::uuid[])`,
			t.OrgID, t.UserID, pq.Array(valid))
		return err
	})
	if err != nil {
		return fmt.Errorf("pgstore: unindex %d docs: %w", len(ids), mapErr(err))
	}
	return nil
}
