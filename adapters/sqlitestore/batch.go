package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/engram-memory/engram/domain"
)

// insertChunk is how many memories one multi-row INSERT carries: 200 rows of
// 11 columns stay far below SQLite's 32766 bound variables, and are large
// enough that per-statement overhead vanishes in batch ingest.
const insertChunk = 200

const (
	memColCount  = 17
	histColCount = 8
	histCols     = `memory_id, org_id, user_id, kind, old_values, new_values, actor_app, changed_at`
)

// CreateBatch implements ports.MemoryStore. Validation and encoding run on
// background goroutines, chunk by chunk, while the single writer inserts the
// chunks already encoded, so after the first chunk the writer seldom waits
// for JSON. An invalid memory anywhere rolls the whole transaction back.
func (s *Store) CreateBatch(ctx context.Context, t domain.Tenant, ms []domain.Memory) (int, error) {
	if err := t.Validate(); err != nil {
		return 0, fmt.Errorf("sqlitestore: create batch: %w", err)
	}
	if len(ms) == 0 {
		return 0, nil
	}
	dk, err := s.sealingKey(ctx, t)
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: create batch: %w", err)
	}
	created := 0
	err = s.write(ctx, func(tx *sql.Tx) error {
		if err := eraseExpired(ctx, tx, t); err != nil {
			return err
		}
		enc := startEncoding(dk, t, ms)
		defer enc.stop()
		w := s.newBatchWriter(ctx, tx)
		defer w.close()
		// Exact duplicates within the batch: the first one wins.
		seen := make(map[[3]string]bool, len(ms))
		created = 0
		for k := range enc.chunks {
			rows, err := enc.wait(ctx, k)
			if err != nil {
				return err
			}
			enc.rows[k] = nil // inserted below; let a large batch's chunks go
			fresh := rows[:0]
			for _, r := range rows {
				if key := [3]string{r.m.AgentID, r.m.RunID, r.m.ContentHash}; !seen[key] {
					seen[key] = true
					fresh = append(fresh, r)
				}
			}
			n, err := w.insert(fresh)
			if err != nil {
				return err
			}
			created += n
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: create batch of %d: %w", len(ms), err)
	}
	return created, nil
}

// batchWriter caches the statements for full chunks for one transaction,
// uses the store's prepared single-row ones, and prepares other sizes when
// used.
type batchWriter struct {
	ctx        context.Context
	tx         *sql.Tx
	ws         *writeStmts
	full       map[string]*sql.Stmt
	closeAfter []*sql.Stmt
}

func (s *Store) newBatchWriter(ctx context.Context, tx *sql.Tx) *batchWriter {
	return &batchWriter{ctx: ctx, tx: tx, ws: &s.ws, full: map[string]*sql.Stmt{}}
}

// insertMemoriesSQL inserts n memories, skipping those whose text an active
// memory of the tenant already has.
func insertMemoriesSQL(n int) string {
	return `INSERT INTO memories (` + memoryCols + `) VALUES ` + rowsOf(n, memColCount) + `
		ON CONFLICT (org_id, user_id, agent_id, run_id, content_hash) WHERE state = 'active' DO NOTHING`
}

func insertChangesSQL(n int) string {
	return `INSERT INTO memory_changes (` + histCols + `) VALUES ` + rowsOf(n, histColCount)
}

func (w *batchWriter) close() {
	for _, st := range w.full {
		_ = st.Close()
	}
	for _, st := range w.closeAfter {
		_ = st.Close()
	}
}

func (w *batchWriter) stmt(kind string, n int) (*sql.Stmt, error) {
	if st, ok := w.full[kind]; ok && n == insertChunk {
		return st, nil
	}
	q := insertChangesSQL(n)
	if kind == "mem" {
		q = insertMemoriesSQL(n)
	}
	if n == 1 {
		one := w.ws.insChange
		if kind == "mem" {
			one = w.ws.insMemory
		}
		// Closed with the transaction.
		return w.tx.StmtContext(w.ctx, one), nil
	}
	st, err := w.tx.PrepareContext(w.ctx, q)
	if err != nil {
		return nil, mapErr(err)
	}
	if n == insertChunk {
		w.full[kind] = st
	} else {
		w.closeAfter = append(w.closeAfter, st)
	}
	return st, nil
}

// insert writes those of rs that do not duplicate an active memory, and one
// add history entry for each, and returns how many it wrote. The unique index
// on active content hashes decides inside the INSERT (ON CONFLICT DO
// NOTHING); only when it skipped a row does a query find out which.
func (w *batchWriter) insert(rs []memRow) (int, error) {
	if len(rs) == 0 {
		return 0, nil
	}
	margs := make([]any, 0, len(rs)*memColCount)
	for _, r := range rs {
		margs = append(margs, r.mem...)
	}
	st, err := w.stmt("mem", len(rs))
	if err != nil {
		return 0, err
	}
	res, err := st.ExecContext(w.ctx, margs...)
	if err != nil {
		return 0, mapErr(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, mapErr(err)
	}
	kept := rs
	if int(n) < len(rs) {
		if kept, err = w.insertedOf(rs); err != nil {
			return 0, err
		}
	}
	if len(kept) == 0 {
		return 0, nil
	}
	hargs := make([]any, 0, len(kept)*histColCount)
	for _, r := range kept {
		hargs = append(hargs, r.hist...)
	}
	if st, err = w.stmt("hist", len(kept)); err != nil {
		return 0, err
	}
	if _, err := st.ExecContext(w.ctx, hargs...); err != nil {
		return 0, mapErr(err)
	}
	return len(kept), nil
}

// insertedOf returns the rows of rs that the last INSERT wrote: their ids are
// new, so an id present now was inserted by it.
func (w *batchWriter) insertedOf(rs []memRow) ([]memRow, error) {
	args := make([]any, len(rs))
	for i, r := range rs {
		args[i] = string(r.m.ID)
	}
	rows, err := w.tx.QueryContext(w.ctx, `SELECT id FROM memories WHERE id IN (`+placeholders(len(rs))+`)`, args...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	present := make(map[string]bool, len(rs))
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, mapErr(err)
		}
		present[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr(err)
	}
	kept := make([]memRow, 0, len(present))
	for _, r := range rs {
		if present[string(r.m.ID)] {
			kept = append(kept, r)
		}
	}
	return kept, nil
}

// eraseExpired erases t's expired active memories, as the sweeper would
// have: they no longer exist for any reader, so an exact duplicate of one
// in a batch is a new memory, not one to skip. The expiry index makes this
// a short range scan.
func eraseExpired(ctx context.Context, tx *sql.Tx, t domain.Tenant) error {
	rows, err := tx.QueryContext(ctx, `SELECT id FROM memories
		WHERE org_id = ? AND expires_at <> 0 AND expires_at <= ? AND user_id = ? AND state = 'active'`,
		string(t.OrgID), nowNanos(), string(t.UserID))
	if err != nil {
		return mapErr(err)
	}
	var ids []domain.MemoryID
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return mapErr(err)
		}
		ids = append(ids, domain.MemoryID(id))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return mapErr(err)
	}
	for _, id := range ids {
		if err := eraseRows(ctx, tx, id); err != nil {
			return err
		}
	}
	return nil
}
