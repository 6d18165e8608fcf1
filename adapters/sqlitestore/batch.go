package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/engram-memory/engram/domain"
)

// insertChunk is how many memories one multi-row INSERT carries: 200 rows of
// 11 columns stay far below SQLite's 32766 bound variables, and are large
// enough that per-statement overhead vanishes in batch ingest.
const insertChunk = 200

const (
	memColCount  = 11
	histColCount = 8
	histCols     = `memory_id, org_id, user_id, kind, old_values, new_values, actor_app, changed_at`
)

// memRow is a validated memory with its INSERT arguments, encoded before the
// write transaction so that the single writer spends its time in SQLite.
type memRow struct {
	m    domain.Memory
	mem  []any // memoryCols order
	hist []any // histCols order
}

func encodeRow(m domain.Memory, at time.Time) (memRow, error) {
	mem, err := memoryArgs(m)
	if err != nil {
		return memRow{}, err
	}
	// The add entry's values are the row's own: reuse the metadata and
	// category encodings instead of marshalling them a second time.
	text, err := json.Marshal(m.Text)
	if err != nil {
		return memRow{}, fmt.Errorf("encode text: %w", err)
	}
	state, _ := json.Marshal(string(m.State))
	nv := `{"text":` + string(text) + `,"metadata":` + mem[5].(string) + `,"categories":` + mem[6].(string) + `,"state":` + string(state) + `}`
	hist := []any{string(m.ID), string(m.OrgID), string(m.UserID), string(domain.ChangeAdd), nil, nv, string(m.AppID), toNanos(at)}
	return memRow{m: m, mem: mem, hist: hist}, nil
}

// CreateBatch implements ports.MemoryStore. Validation and encoding run on
// every core before the write transaction; inside it, each chunk of
// insertChunk memories costs two multi-row INSERTs through statements
// prepared once per transaction.
func (s *Store) CreateBatch(ctx context.Context, t domain.Tenant, ms []domain.Memory) (int, error) {
	rows, err := encodeRows(t, ms)
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: create batch: %w", err)
	}
	// Exact duplicates within the batch: the first one wins.
	seen := make(map[string]bool, len(rows))
	fresh := rows[:0]
	for _, r := range rows {
		if !seen[r.m.ContentHash] {
			seen[r.m.ContentHash] = true
			fresh = append(fresh, r)
		}
	}
	if len(fresh) == 0 {
		return 0, nil
	}
	created := 0
	err = s.write(ctx, func(tx *sql.Tx) error {
		created = 0
		w := newBatchWriter(ctx, tx)
		defer w.close()
		for start := 0; start < len(fresh); start += insertChunk {
			n, err := w.insert(fresh[start:min(start+insertChunk, len(fresh))])
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

// encodeRows validates and encodes ms on up to GOMAXPROCS goroutines and
// reports the lowest-numbered invalid memory, as a serial loop would.
func encodeRows(t domain.Tenant, ms []domain.Memory) ([]memRow, error) {
	out := make([]memRow, len(ms))
	errs := make([]error, len(ms))
	at := now(time.Time{})
	workers := min(runtime.GOMAXPROCS(0), len(ms)/256+1)
	per := (len(ms) + workers - 1) / workers
	var wg sync.WaitGroup
	for lo := 0; lo < len(ms); lo += per {
		hi := min(lo+per, len(ms))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				m := ms[i]
				if errs[i] = checkOwned(t, &m); errs[i] == nil {
					out[i], errs[i] = encodeRow(m, at)
				}
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("memory %d: %w", i, err)
		}
	}
	return out, nil
}

// batchWriter caches the statements for full chunks for one transaction;
// other sizes are prepared when used.
type batchWriter struct {
	ctx        context.Context
	tx         *sql.Tx
	full       map[string]*sql.Stmt
	closeAfter []*sql.Stmt
}

func newBatchWriter(ctx context.Context, tx *sql.Tx) *batchWriter {
	return &batchWriter{ctx: ctx, tx: tx, full: map[string]*sql.Stmt{}}
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
	var q string
	switch kind {
	case "mem":
		q = `INSERT INTO memories (` + memoryCols + `) VALUES ` + rowsOf(n, memColCount) + `
			ON CONFLICT (org_id, user_id, content_hash) WHERE state = 'active' DO NOTHING RETURNING id`
	case "hist":
		q = `INSERT INTO memory_changes (` + histCols + `) VALUES ` + rowsOf(n, histColCount)
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
// on active content hashes decides, in the same statement: ON CONFLICT DO
// NOTHING skips duplicates and RETURNING names the rows that went in, with
// no separate probe.
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
	rows, err := st.QueryContext(w.ctx, margs...)
	if err != nil {
		return 0, mapErr(err)
	}
	inserted := make(map[string]bool, len(rs))
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			_ = rows.Close()
			return 0, mapErr(err)
		}
		inserted[id] = true
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return 0, mapErr(err)
	}
	kept := rs
	if len(inserted) < len(rs) {
		kept = make([]memRow, 0, len(inserted))
		for _, r := range rs {
			if inserted[string(r.m.ID)] {
				kept = append(kept, r)
			}
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
