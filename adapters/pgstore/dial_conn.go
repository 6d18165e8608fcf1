package pgstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// boundedDriverConn is lib/pq's connection with every call's socket waits
// bounded by that call's context deadline. database/sql hands the driver
// the context of each call; lib/pq only watches it to ask the server for a
// cancel, so here the same deadline also goes on the socket.
type boundedDriverConn struct {
	driver.Conn
	sock *boundedConn
}

var (
	_ driver.ConnBeginTx        = (*boundedDriverConn)(nil)
	_ driver.ConnPrepareContext = (*boundedDriverConn)(nil)
	_ driver.QueryerContext     = (*boundedDriverConn)(nil)
	_ driver.ExecerContext      = (*boundedDriverConn)(nil)
	_ driver.Pinger             = (*boundedDriverConn)(nil)
	_ driver.SessionResetter    = (*boundedDriverConn)(nil)
	_ driver.Validator          = (*boundedDriverConn)(nil)
	_ driver.NamedValueChecker  = (*boundedDriverConn)(nil)
	_ driver.StmtExecContext    = (*boundedStmt)(nil)
	_ driver.StmtQueryContext   = (*boundedStmt)(nil)
)

func (c *boundedDriverConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	c.sock.setCall(ctx)
	tx, err := c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	var deadline int64
	if d, ok := ctx.Deadline(); ok {
		deadline = d.UnixNano()
	}
	return &boundedTx{Tx: tx, sock: c.sock, deadline: deadline}, nil
}

func (c *boundedDriverConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	c.sock.setCall(ctx)
	st, err := c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	return &boundedStmt{Stmt: st, sock: c.sock}, nil
}

func (c *boundedDriverConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	c.sock.setCall(ctx)
	return c.Conn.(driver.QueryerContext).QueryContext(ctx, query, args)
}

func (c *boundedDriverConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	c.sock.setCall(ctx)
	return c.Conn.(driver.ExecerContext).ExecContext(ctx, query, args)
}

func (c *boundedDriverConn) Ping(ctx context.Context) error {
	c.sock.setCall(ctx)
	return c.Conn.(driver.Pinger).Ping(ctx)
}

func (c *boundedDriverConn) ResetSession(ctx context.Context) error {
	c.sock.setCall(ctx)
	return c.Conn.(driver.SessionResetter).ResetSession(ctx)
}

func (c *boundedDriverConn) IsValid() bool { return c.Conn.(driver.Validator).IsValid() }

func (c *boundedDriverConn) CheckNamedValue(nv *driver.NamedValue) error {
	return c.Conn.(driver.NamedValueChecker).CheckNamedValue(nv)
}

// boundedTx commits and rolls back within the transaction's deadline:
// driver.Tx's methods take no context, and database/sql bounds a
// transaction by the context BeginTx was given.
type boundedTx struct {
	driver.Tx
	sock     *boundedConn
	deadline int64
}

func (t *boundedTx) Commit() error {
	t.sock.call.Store(t.deadline)
	return t.Tx.Commit()
}

func (t *boundedTx) Rollback() error {
	t.sock.call.Store(t.deadline)
	return t.Tx.Rollback()
}

// boundedStmt bounds a prepared statement's calls by their contexts.
// Without a context (COPY's row Exec calls), the deadline of the call that
// prepared it holds.
type boundedStmt struct {
	driver.Stmt
	sock *boundedConn
}

func (s *boundedStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	s.sock.setCall(ctx)
	if sc, ok := s.Stmt.(driver.StmtExecContext); ok {
		return sc.ExecContext(ctx, args)
	}
	// COPY's statement has only Exec: what database/sql would do.
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	//lint:ignore SA1019 the context-free form is all COPY has
	return s.Stmt.Exec(namedValues(args))
}

func (s *boundedStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	s.sock.setCall(ctx)
	if sc, ok := s.Stmt.(driver.StmtQueryContext); ok {
		return sc.QueryContext(ctx, args)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	//lint:ignore SA1019 the context-free form is all COPY has
	return s.Stmt.Query(namedValues(args))
}

func namedValues(args []driver.NamedValue) []driver.Value {
	vs := make([]driver.Value, len(args))
	for i, a := range args {
		vs[i] = a.Value
	}
	return vs
}

// openBounded opens a pool whose calls are bounded by their contexts'
// deadlines and, without one, by idle (no idle bound when idle is not
// positive). A non-zero limit bounds every call of the pool.
func openBounded(dsn string, idle time.Duration) (*sqlx.DB, error) {
	db, err := openBoundedDB(dsn, idle, time.Time{})
	if err != nil {
		return nil, err
	}
	return sqlx.NewDb(db, "postgres"), nil
}

func openBoundedDB(dsn string, idle time.Duration, limit time.Time) (*sql.DB, error) {
	conn, err := pq.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(&boundedConnector{base: conn, dialer: newBoundedDialer(idle, limit)}), nil
}
