package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/engram-memory/engram/ports"
)

// Bulk loading. Load writes a batch in skip mode with one multi-row
// statement per chunk of up to bulkChunk rows instead of one per row. The
// per-row statements of archiveTables stay the one definition of how a row
// is written and guarded: the bulk statement is derived from a table's ins
// by reading its ?k parameters from a VALUES list (a CTE of columns
// c1..cn and ord, the row's place in the chunk). They also stay for naming
// the row at fault when a chunk fails.
//
// A chunk's statement text depends only on its table and row count. Chunks
// are cut in powers of two (bulkChunk, then the rest's binary digits), so a
// table needs at most a handful of statements; they are prepared once on
// the writer connection and cached for the store's lifetime, since
// preparing a statement of a few thousand parameters costs as much as
// running it.

// bulkChunk is the largest chunk: 256 rows of at most 15 parameters stay far
// below SQLite's 32766 bound variables.
const bulkChunk = 256

var sqliteParamRE = regexp.MustCompile(`\?(\d+)`)

// bulkInsertSQL derives the statement inserting rows rows of a table whose
// per-row statement q.ins takes n parameters. With q.dedup, only the first
// of the chunk's rows equal in those parameters passes the guard: the
// per-row statement's NOT EXISTS would have skipped the later ones, and one
// statement's SELECT runs before any of its rows is inserted.
func bulkInsertSQL(q archiveSQL, n, rows int) string {
	var b strings.Builder
	b.WriteString("WITH v(")
	for i := 1; i <= n; i++ {
		b.WriteString("c" + strconv.Itoa(i) + ", ")
	}
	b.WriteString("ord) AS (VALUES ")
	// Plain ? parameters, bound by position: modernc's driver asks SQLite
	// for every parameter's name, and SQLite finds a ?NNN's name by a walk
	// over all of them, which made a chunk's binding quadratic.
	for r := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for range n {
			b.WriteString("?, ")
		}
		b.WriteString(strconv.Itoa(r) + ")")
	}
	b.WriteString("), u AS (SELECT *")
	if len(q.dedup) > 0 {
		var key []string
		for _, k := range q.dedup {
			key = append(key, "c"+strconv.Itoa(k))
		}
		b.WriteString(", row_number() OVER (PARTITION BY " + strings.Join(key, ", ") + " ORDER BY ord) AS dup")
	}
	b.WriteString(" FROM v) ")
	body := sqliteParamRE.ReplaceAllString(q.ins, "u.c$1")
	// The first WHERE of an INSERT ... SELECT is its own (guards nest
	// theirs inside parentheses after it).
	w := strings.Index(body, "WHERE ")
	guard := body[w+len("WHERE "):]
	conflict := ""
	if i := strings.LastIndex(guard, "ON CONFLICT DO NOTHING"); i >= 0 {
		guard, conflict = guard[:i], " ON CONFLICT DO NOTHING"
	}
	guard = strings.TrimSpace(guard)
	if len(q.dedup) > 0 {
		guard = "u.dup = 1 AND (" + guard + ")"
	}
	b.WriteString(body[:w] + "FROM u WHERE " + guard + " ORDER BY u.ord" + conflict)
	if q.tallied {
		b.WriteString(" RETURNING id")
	}
	return b.String()
}

// bulkStmts caches the bulk statements prepared on the writer connection.
type bulkStmts struct {
	mu    sync.Mutex
	stmts map[bulkKey]*sql.Stmt
}

type bulkKey struct {
	table string
	rows  int
}

// chunks cuts n rows into the sizes bulk statements exist for.
func chunks(n int) []int {
	var out []int
	for n >= bulkChunk {
		out = append(out, bulkChunk)
		n -= bulkChunk
	}
	for size := bulkChunk / 2; size >= 1; size /= 2 {
		if n >= size {
			out = append(out, size)
			n -= size
		}
	}
	return out
}

// get returns the statement for rows rows of table, preparing it on db
// when first asked. Call it outside a write transaction: the writer pool
// has one connection.
func (c *bulkStmts) get(ctx context.Context, db *sql.DB, table string, q archiveSQL, n, rows int) (*sql.Stmt, error) {
	key := bulkKey{table, rows}
	c.mu.Lock()
	st, ok := c.stmts[key]
	c.mu.Unlock()
	if ok {
		return st, nil
	}
	prepared, err := db.PrepareContext(ctx, bulkInsertSQL(q, n, rows))
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok = c.stmts[key]; ok {
		_ = prepared.Close() // another caller won the race
		return st, nil
	}
	if c.stmts == nil {
		c.stmts = map[bulkKey]*sql.Stmt{}
	}
	c.stmts[key] = prepared
	return prepared, nil
}

func (c *bulkStmts) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, st := range c.stmts {
		errs = append(errs, st.Close())
	}
	c.stmts = nil
	return errors.Join(errs...)
}

// loadBulk inserts rows (skip mode) with the bulk statements, chunk by
// chunk, and counts what they inserted and skipped. stmts holds the
// statement for each chunk of chunks(len(rows)), prepared beforehand. A
// chunk the store refuses is rolled back (SQLite undoes the failed statement
// only) and replayed row by row to name the row at fault.
func loadBulk(ctx context.Context, tx *sql.Tx, t ports.ArchiveTable, q archiveSQL, rows []ports.ArchiveRow, stmts []*sql.Stmt) (ports.LoadResult, error) {
	var res ports.LoadResult
	var inserted map[string]bool
	if q.tallied {
		if _, err := tx.ExecContext(ctx, deferTallies); err != nil {
			return ports.LoadResult{}, err
		}
		inserted = map[string]bool{}
	}
	start := 0
	for i, size := range chunks(len(rows)) {
		chunk := rows[start : start+size]
		var args []any
		for _, r := range chunk {
			args = append(args, toSQLite(t, r, q.hashed)...)
		}
		var n int64
		var err error
		if q.tallied {
			n, err = insertReturning(ctx, tx.StmtContext(ctx, stmts[i]), args, inserted)
		} else {
			n, err = affected(tx.StmtContext(ctx, stmts[i]).ExecContext(ctx, args...))
		}
		if err != nil {
			return ports.LoadResult{}, rowAtFault(ctx, tx, t, q, chunk, start, err)
		}
		res.Inserted += int(n)
		res.Skipped += size - int(n)
		start += size
	}
	if q.tallied {
		counts := tallies{}
		id := t.Col("id")
		for _, r := range rows {
			// The first of a batch's rows with an id is the one inserted.
			if k, _ := r.Values[id].(string); inserted[k] {
				delete(inserted, k)
				if err := counts.add(t, r); err != nil {
					return ports.LoadResult{}, err
				}
			}
		}
		if err := counts.apply(ctx, tx); err != nil {
			return ports.LoadResult{}, err
		}
		if _, err := tx.ExecContext(ctx, restoreTallies); err != nil {
			return ports.LoadResult{}, err
		}
	}
	return res, nil
}

// insertReturning runs a bulk insert that returns the ids it inserted,
// notes them, and counts them.
func insertReturning(ctx context.Context, st *sql.Stmt, args []any, ids map[string]bool) (int64, error) {
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var n int64
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return 0, err
		}
		ids[id] = true
		n++
	}
	return n, rows.Err()
}

// rowAtFault replays a failed chunk row by row and returns the first row's
// refusal as a *ports.RowError; bulkErr when every row passes alone.
func rowAtFault(ctx context.Context, tx *sql.Tx, t ports.ArchiveTable, q archiveSQL, chunk []ports.ArchiveRow, offset int, bulkErr error) error {
	ins, err := tx.PrepareContext(ctx, q.ins)
	if err != nil {
		return errors.Join(bulkErr, err)
	}
	defer ins.Close()
	for i, r := range chunk {
		if _, err := ins.ExecContext(ctx, toSQLite(t, r, q.hashed)...); err != nil {
			return &ports.RowError{Index: offset + i, Err: err}
		}
	}
	return bulkErr
}
