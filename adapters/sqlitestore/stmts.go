package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// readStmts are the hot read queries, prepared once on the read pool.
type readStmts struct {
	get *sql.Stmt
}

func (q *readStmts) prepare(ctx context.Context, db *sql.DB) error {
	var err error
	q.get, err = db.PrepareContext(ctx, `SELECT `+memoryCols+` FROM memories WHERE id = ? AND org_id = ? AND user_id = ? AND erased = 0 AND `+liveSQL)
	return err
}

func (q *readStmts) close() {
	if q.get != nil {
		_ = q.get.Close()
	}
}

// writeStmts are the single-row statements of the write path, prepared once
// on the writer connection and bound to each transaction with
// Tx.StmtContext: parsing them on every call cost a quarter of a Create.
type writeStmts struct {
	activeByHash *sql.Stmt // Create's duplicate probe
	loadOne      *sql.Stmt
	insMemory    *sql.Stmt
	insChange    *sql.Stmt
	recordAccess *sql.Stmt
}

func (q *writeStmts) prepare(ctx context.Context, db *sql.DB) error {
	for _, p := range []struct {
		dst  **sql.Stmt
		text string
	}{
		{&q.activeByHash, `SELECT ` + memoryCols + ` FROM memories
			WHERE org_id = ? AND user_id = ? AND agent_id = ? AND run_id = ? AND content_hash = ? AND state = 'active'`},
		{&q.loadOne, `SELECT ` + memoryCols + ` FROM memories WHERE id = ? AND org_id = ? AND user_id = ? AND erased = 0 AND ` + liveSQL},
		{&q.insMemory, insertMemoriesSQL(1)},
		{&q.insChange, insertChangesSQL(1)},
		{&q.recordAccess, `INSERT INTO memory_access (org_id, user_id, app_id, memory_id, kind, accessed_at)
			SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE EXISTS (
				SELECT 1 FROM memories WHERE id = ?4 AND org_id = ?1 AND user_id = ?2 AND erased = 0)
			ON CONFLICT (org_id, user_id, app_id, memory_id) DO UPDATE
				SET kind = excluded.kind, accessed_at = excluded.accessed_at
				WHERE excluded.accessed_at > memory_access.accessed_at`},
	} {
		st, err := db.PrepareContext(ctx, p.text)
		if err != nil {
			return err
		}
		*p.dst = st
	}
	return nil
}

func (q *writeStmts) close() error {
	var errs []error
	for _, st := range []*sql.Stmt{q.activeByHash, q.loadOne, q.insMemory, q.insChange, q.recordAccess} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(errs...)
}

// maxListShapes bounds the List statement cache. The SQL text of a List
// depends only on which filters are set (and how many values each has), so
// a handful of shapes cover nearly every call; unusual ones beyond the bound
// are simply not cached.
const maxListShapes = 128

// shapeCache holds prepared read statements by SQL text.
type shapeCache struct {
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

// query runs text with args on db through a cached prepared statement,
// preparing and caching it on first use.
func (c *shapeCache) query(ctx context.Context, db *sql.DB, text string, args ...any) (*sql.Rows, error) {
	c.mu.Lock()
	st, ok := c.stmts[text]
	full := len(c.stmts) >= maxListShapes
	c.mu.Unlock()
	if !ok {
		if full {
			return db.QueryContext(ctx, text, args...)
		}
		prepared, err := db.PrepareContext(ctx, text)
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		if st, ok = c.stmts[text]; ok {
			_ = prepared.Close() // another caller won the race
		} else {
			if c.stmts == nil {
				c.stmts = map[string]*sql.Stmt{}
			}
			c.stmts[text], st = prepared, prepared
		}
		c.mu.Unlock()
	}
	return st.QueryContext(ctx, args...)
}

func (c *shapeCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, st := range c.stmts {
		errs = append(errs, st.Close())
	}
	c.stmts = nil
	return errors.Join(errs...)
}
