package pgstore

import (
	"context"
	"database/sql/driver"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/engram-memory/engram/domain"
)

// readTx is inTx for the hot read paths (Get, List), one round trip shorter:
// BEGIN READ ONLY and the prologue go out as one simple-protocol message on
// a pinned connection, where database/sql's BeginTx would send BEGIN on its
// own first. On a loopback a round trip is a quarter of a Get.
//
// database/sql does not know this connection is inside a transaction, so
// readTx must never hand it back to the pool in one: every path out either
// ends the transaction (COMMIT, or ROLLBACK after a failure) or, when even
// that fails, discards the connection. Writes keep inTx, whose Commit
// reports a transaction that failed; a read-only one has nothing to lose.
func (s *Store) readTx(ctx context.Context, org domain.OrgID, fn func(c *sqlx.Conn) error) (err error) {
	return s.readTxOn(ctx, s.db, org, fn)
}

// readTxOn is readTx on a given pool (the primary's or a replica's).
func (s *Store) readTxOn(ctx context.Context, db *sqlx.DB, org domain.OrgID, fn func(c *sqlx.Conn) error) (err error) {
	conn, err := db.Connx(ctx)
	if err != nil {
		return err
	}
	open := false
	defer func() {
		if open {
			s.abandon(conn)
		}
		_ = conn.Close() // back to the pool, or gone if abandon discarded it
	}()
	open = true // from here on the server may be inside BEGIN
	if _, err := conn.ExecContext(ctx, "BEGIN READ ONLY; "+s.prologue+pq.QuoteLiteral(string(org))+", true)"); err != nil {
		return err
	}
	if err := fn(conn); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return err
	}
	open = false
	return nil
}

// abandon ends a transaction readTx left open, or discards the connection
// when it cannot (driver.ErrBadConn from Raw closes it for good).
func (s *Store) abandon(conn *sqlx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := conn.ExecContext(ctx, "ROLLBACK"); err == nil {
		return
	}
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
}
