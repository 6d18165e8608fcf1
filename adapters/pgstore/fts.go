package pgstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/engram-memory/engram/adapters/textfold"
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

	mu    sync.Mutex
	stmts map[string]*sql.Stmt // search statements by SQL text, prepared once
	// The same on each replica's pool; nil while being prepared or after
	// preparing failed (the text is sent).
	repStmts map[replicaStmtKey]*sql.Stmt
}

type replicaStmtKey struct {
	db *sqlx.DB
	q  string
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
	return &TextIndex{s: s, config: cfg, candidates: o.Candidates, stmts: map[string]*sql.Stmt{}, repStmts: map[replicaStmtKey]*sql.Stmt{}}
}

// maxSearchStmts bounds the statement cache: a search without filters has
// one shape, each combination of filters another.
const maxSearchStmts = 32

// stmt returns the search statement for q, prepared once on the pool
// (database/sql then prepares it once on each connection that runs it), so
// PostgreSQL parses and analyses a search's SQL once per connection rather
// than on every call. Nil once the cache is full: run q unprepared.
func (x *TextIndex) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if st, ok := x.stmts[q]; ok {
		return st, nil
	}
	if len(x.stmts) >= maxSearchStmts {
		return nil, nil
	}
	st, err := x.s.db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	x.stmts[q] = st
	return st, nil
}

// replicaStmt returns q prepared on a replica's pool, or nil until it
// is. The first call for each (pool, q) prepares it in the background:
// inside the caller's transaction, preparing on the pool could wait for a
// connection the transactions hold, and before it the replica is not
// chosen yet (and may be down: a dial must not delay searches). A
// statement that failed to prepare is not tried again (the text is sent),
// nor is any beyond maxSearchStmts per pool.
func (x *TextIndex) replicaStmt(db *sqlx.DB, q string) *sql.Stmt {
	k := replicaStmtKey{db, q}
	x.mu.Lock()
	defer x.mu.Unlock()
	if st, ok := x.repStmts[k]; ok || len(x.repStmts) >= maxSearchStmts*4 {
		return st
	}
	x.repStmts[k] = nil
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), max(x.s.io, time.Second))
		defer cancel()
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			return
		}
		x.mu.Lock()
		defer x.mu.Unlock()
		if _, ok := x.repStmts[k]; !ok { // closed meanwhile
			_ = st.Close()
			return
		}
		x.repStmts[k] = st
	}()
	return nil
}

// Close releases the prepared search statements; the store stays open.
func (x *TextIndex) Close() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	for q, st := range x.stmts {
		_ = st.Close()
		delete(x.stmts, q)
	}
	for k, st := range x.repStmts {
		if st != nil {
			_ = st.Close()
		}
		delete(x.repStmts, k)
	}
	return nil
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

// upsertSearchSQL writes a whole batch in one statement (one round trip):
// the documents travel as one JSON array and are unpacked in SQL.
const upsertSearchSQL = `INSERT INTO memory_search (org_id, user_id, memory_id, app_id, categories, metadata, created_at, tsv, content_hash)
	SELECT $1, $2, (d->>'id')::uuid, d->>'app',
	       ARRAY(SELECT jsonb_array_elements_text(d->'cats')), d->'md', (d->>'created')::timestamptz,
	       to_tsvector($3::regconfig, d->>'text'), d->>'hash'
	FROM jsonb_array_elements($4::jsonb) AS d
	ON CONFLICT (org_id, user_id, memory_id) DO UPDATE SET app_id = EXCLUDED.app_id, content_hash = EXCLUDED.content_hash,
		categories = EXCLUDED.categories, metadata = EXCLUDED.metadata,
		created_at = EXCLUDED.created_at, tsv = EXCLUDED.tsv`

type searchRow struct {
	ID      string          `json:"id"`
	App     string          `json:"app"`
	Cats    []string        `json:"cats"`
	MD      domain.Metadata `json:"md"`
	Created time.Time       `json:"created"`
	Text    string          `json:"text"` // folded, tenant-prefixed words
	Hash    string          `json:"hash"`
}

// Index upserts every document in one statement.
func (x *TextIndex) Index(ctx context.Context, t domain.Tenant, docs []ports.TextDoc) error {
	if len(docs) == 0 {
		return nil
	}
	// One statement cannot upsert a row twice: the last document of an id
	// wins, as it would with one call per document.
	last := make(map[domain.MemoryID]int, len(docs))
	for i, d := range docs {
		last[d.ID] = i
	}
	rows := make([]searchRow, 0, len(last))
	prefix := tenantPrefix(t)
	stems := textfold.Stems{} // the batch's, one tenant's: dropped with it
	for i, d := range docs {
		if last[d.ID] != i {
			continue
		}
		if !domain.ValidID(string(d.ID)) {
			return fmt.Errorf("pgstore: index: %w", domain.Invalid("id", "must be a lower-case UUID"))
		}
		cats, md := d.Categories, d.Metadata
		if cats == nil {
			cats = []string{}
		}
		if md == nil {
			md = domain.Metadata{}
		}
		rows = append(rows, searchRow{ID: string(d.ID), App: string(d.AppID), Cats: cats, MD: md, Created: d.CreatedAt.UTC(),
			Text: prefixed(prefix, stems.Words(d.Text)), Hash: docHash(d)})
	}
	batch, err := json.Marshal(rows)
	if err != nil {
		return fmt.Errorf("pgstore: index: %w", domain.Invalid("metadata", "%v", err))
	}
	err = x.s.inTx(ctx, t.OrgID, false, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, upsertSearchSQL, t.OrgID, t.UserID, x.config, string(batch))
		return err
	})
	if err != nil {
		return fmt.Errorf("pgstore: index %d docs: %w", len(docs), mapErr(err))
	}
	x.s.loaded.wrote("memory_search", len(rows))
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
