package pgstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/contracttest"
)

// oneConnStore migrates a fresh schema and opens a store with a pool of one
// connection, so whatever readTx leaves behind meets the next caller.
func oneConnStore(t *testing.T) *Store {
	t.Helper()
	base := contracttest.BackendAddr(t, contracttest.Postgres)
	admin, err := sqlx.Open("postgres", base)
	require.NoError(t, err)
	t.Cleanup(func() { _ = admin.Close() })
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "engram_readtx_" + hex.EncodeToString(b[:])
	_, err = admin.Exec(`CREATE SCHEMA ` + schema)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`) })
	u, err := url.Parse(base)
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	ctx := context.Background()
	_, err = Migrate(ctx, u.String(), Up)
	require.NoError(t, err)
	s, err := Open(ctx, Config{URL: u.String(), MaxOpenConns: 1})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// requireIdle fails if the pool's connection is inside a transaction: there
// now() is frozen at BEGIN, and in a failed one every statement errors.
func requireIdle(t *testing.T, s *Store) {
	t.Helper()
	time.Sleep(5 * time.Millisecond)
	var fresh, reset bool
	require.NoError(t, s.db.QueryRowContext(context.Background(),
		`SELECT now() = statement_timestamp(),
		        coalesce(current_setting('engram.org_id', true), '') = '' AND current_user <> 'engram_app'`).Scan(&fresh, &reset))
	require.True(t, fresh, "connection went back to the pool inside a transaction")
	require.True(t, reset, "org or role outlived the transaction")
}

func TestReadTxNeverLeaksATransaction(t *testing.T) {
	s := oneConnStore(t)
	ctx := context.Background()

	require.NoError(t, s.readTx(ctx, "org-a", func(c *sqlx.Conn) error {
		var org, role string
		require.NoError(t, c.QueryRowContext(ctx, `SELECT current_setting('engram.org_id'), current_user`).Scan(&org, &role))
		require.Equal(t, "org-a", org)
		require.Equal(t, "engram_app", role)
		return nil
	}))
	requireIdle(t, s)

	err := s.readTx(ctx, "org-a", func(c *sqlx.Conn) error {
		_, err := c.ExecContext(ctx, `SELECT 1/0`) // the server aborts the transaction
		return err
	})
	require.Error(t, err)
	requireIdle(t, s)

	mine := errors.New("decode failed")
	err = s.readTx(ctx, "org-a", func(*sqlx.Conn) error { return mine }) // open, healthy transaction
	require.ErrorIs(t, err, mine)
	requireIdle(t, s)

	err = s.readTx(ctx, "org-a", func(c *sqlx.Conn) error {
		_, err := c.ExecContext(ctx, `CREATE TABLE nope (x int)`) // refused: READ ONLY
		return err
	})
	require.Error(t, err)
	requireIdle(t, s)

	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	err = s.readTx(cctx, "org-a", func(c *sqlx.Conn) error {
		_, err := c.ExecContext(cctx, `SELECT pg_sleep(5)`)
		return err
	})
	require.Error(t, err)
	requireIdle(t, s)
}
