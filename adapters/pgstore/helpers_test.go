package pgstore_test

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

// loginRole is the role the tests' stores log in as: a member of engram_app
// with LOGIN and nothing else, neither owner of the tables nor superuser nor
// BYPASSRLS, so row-level security applies even without the store's role
// switch. Roles are cluster-wide, so it is shared by every test schema.
const loginRole = "engram_test_login"

var admin struct {
	once sync.Once
	db   *sqlx.DB
	err  error
}

// adminDB is a superuser pool for creating and dropping test schemas.
func adminDB(t testing.TB) (*sqlx.DB, string) {
	t.Helper()
	base := contracttest.BackendAddr(t, contracttest.Postgres)
	admin.once.Do(func() {
		admin.db, admin.err = sqlx.Open("postgres", base)
		if admin.err == nil {
			admin.db.SetMaxOpenConns(4)
			admin.err = admin.db.Ping()
		}
	})
	require.NoError(t, admin.err, "connect to %s", base)
	return admin.db, base
}

// withParams returns base with query parameters set (and user replaced when
// user is not empty).
func withParams(t testing.TB, base, user string, params map[string]string) string {
	t.Helper()
	u, err := url.Parse(base)
	require.NoError(t, err)
	if user != "" {
		u.User = url.User(user)
	}
	q := u.Query()
	for k, v := range params {
		q.Set(k, v)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// testSchema creates a fresh schema, migrates it as the superuser (the
// owner), makes sure the login role exists, and drops the schema when the
// test ends. It returns the owner's URL and the login role's URL, both
// pinned to the schema through search_path.
func testSchema(t testing.TB) (ownerURL, appURL string) {
	t.Helper()
	db, base := adminDB(t)
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "engram_test_" + hex.EncodeToString(b[:])
	ctx := context.Background()
	_, err := db.ExecContext(ctx, `CREATE SCHEMA `+schema)
	require.NoError(t, err)
	t.Cleanup(func() {
		_, err := db.ExecContext(context.Background(), `DROP SCHEMA `+schema+` CASCADE`)
		require.NoError(t, err)
	})
	ownerURL = withParams(t, base, "", map[string]string{"search_path": schema})
	_, err = pgstore.Migrate(ctx, ownerURL, pgstore.Up)
	require.NoError(t, err)
	ensureLoginRole(t, db)
	return ownerURL, withParams(t, base, loginRole, map[string]string{"search_path": schema})
}

var loginOnce sync.Once

func ensureLoginRole(t testing.TB, db *sqlx.DB) {
	t.Helper()
	var err error
	loginOnce.Do(func() {
		_, err = db.Exec(`DO $$
		BEGIN
			IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '` + loginRole + `') THEN
				CREATE ROLE ` + loginRole + ` LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB;
			END IF;
		EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
		END $$`)
		if err == nil {
			_, err = db.Exec(`GRANT engram_app TO ` + loginRole)
		}
	})
	require.NoError(t, err)
}

// newStore returns a Store over a fresh schema, logged in as loginRole.
func newStore(t testing.TB, opts pgstore.Options) *pgstore.Store {
	t.Helper()
	_, appURL := testSchema(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := pgstore.Open(ctx, pgstore.Config{URL: appURL, MaxOpenConns: 8, Options: opts})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// withoutAutovacuum opens the schema's owner and turns autovacuum off for
// tables, as a bulk load outruns it (it wakes once a minute) and as CI's
// PostgreSQL runs: statistics then come only from what the store analyses.
func withoutAutovacuum(t *testing.T, ownerURL string, tables ...string) *sqlx.DB {
	t.Helper()
	owner, err := sqlx.Open("postgres", ownerURL)
	require.NoError(t, err)
	t.Cleanup(func() { _ = owner.Close() })
	for _, table := range tables {
		_, err := owner.Exec(`ALTER TABLE ` + table + ` SET (autovacuum_enabled = off)`)
		require.NoError(t, err)
	}
	return owner
}
