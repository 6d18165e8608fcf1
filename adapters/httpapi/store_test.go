package httpapi_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"
	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/pgstore"
	"github.com/engram-memory/engram/contracttest"
)

// The handlers run against a real store: PostgreSQL in a fresh schema per
// test, logged in as a role that row-level security binds.

const pgLoginRole = "engram_test_login"

var pgAdmin struct {
	once     sync.Once
	db       *sqlx.DB
	err      error
	roleOnce sync.Once
	roleErr  error
}

func newPGStore(t testing.TB) *pgstore.Store {
	t.Helper()
	base := contracttest.BackendAddr(t, contracttest.Postgres)
	pgAdmin.once.Do(func() {
		pgAdmin.db, pgAdmin.err = sqlx.Open("postgres", base)
		if pgAdmin.err == nil {
			pgAdmin.db.SetMaxOpenConns(4)
			pgAdmin.err = pgAdmin.db.Ping()
		}
	})
	require.NoError(t, pgAdmin.err, "connect to %s", base)
	db := pgAdmin.db
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "engram_httpapi_" + hex.EncodeToString(b[:])
	_, err := db.ExecContext(ctx, `CREATE SCHEMA `+schema)
	require.NoError(t, err)
	t.Cleanup(func() {
		_, err := db.ExecContext(context.Background(), `DROP SCHEMA `+schema+` CASCADE`)
		require.NoError(t, err)
	})
	_, err = pgstore.Migrate(ctx, withParams(t, base, "", schema), pgstore.Up)
	require.NoError(t, err)
	// Roles are cluster-wide and other packages' tests create this one
	// too, so creation tolerates a concurrent winner.
	pgAdmin.roleOnce.Do(func() {
		_, pgAdmin.roleErr = db.ExecContext(ctx, `DO $$
		BEGIN
			IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '`+pgLoginRole+`') THEN
				CREATE ROLE `+pgLoginRole+` LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB;
			END IF;
		EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
		END $$`)
		if pgAdmin.roleErr == nil {
			_, pgAdmin.roleErr = db.ExecContext(ctx, `GRANT engram_app TO `+pgLoginRole)
		}
	})
	require.NoError(t, pgAdmin.roleErr)

	s, err := pgstore.Open(ctx, pgstore.Config{URL: withParams(t, base, pgLoginRole, schema), MaxOpenConns: 8})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func withParams(t testing.TB, base, user, schema string) string {
	t.Helper()
	u, err := url.Parse(base)
	require.NoError(t, err)
	if user != "" {
		u.User = url.User(user)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
