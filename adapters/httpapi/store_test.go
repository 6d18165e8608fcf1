package httpapi_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"
	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/pgstore"
	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/contracttest"
	"github.com/engram-memory/engram/ports"
)

// The handlers run against a real store: by default SQLite in a temporary
// directory (the embedded default, always available); the tests that matter
// most for tenancy also run on PostgreSQL in a fresh schema, logged in as a
// role that row-level security binds.

// store is what the memory service needs from a backend.
type store interface {
	ports.MemoryStore
	ports.AppStore
	ports.AccessLog
}

func newSQLiteStore(t testing.TB) store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := sqlitestore.Open(ctx, sqlitestore.Config{Path: filepath.Join(t.TempDir(), "engram.db")})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// backends lists the stores the tenancy-critical tests run on.
var backends = map[string]func(testing.TB) store{
	"sqlite":   newSQLiteStore,
	"postgres": func(t testing.TB) store { return newPGStore(t) },
}

// onEachBackend runs f once per store, as parallel subtests.
func onEachBackend(t *testing.T, f func(t *testing.T, opt func(*envOptions))) {
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f(t, func(o *envOptions) { o.store = open })
		})
	}
}

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
