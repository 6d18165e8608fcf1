package sqlitestore_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/golang-migrate/migrate/v4"
	migratesqlite "github.com/golang-migrate/migrate/v4/database/sqlite"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/domain"
	sqlitemigrations "github.com/engram-memory/engram/migrations/sqlite"
)

func TestOpenCreatesDirectoryAndKeepsDataAcrossReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "nested", "dir", "engram.db")
	s, err := sqlitestore.Open(ctx, sqlitestore.Config{Path: path})
	require.NoError(t, err)
	tn := domain.Tenant{OrgID: "org", UserID: "user"}
	m, err := domain.NewMemory(tn, "app", "survives a restart", nil, nil, time.Now())
	require.NoError(t, err)
	_, _, err = s.Create(ctx, tn, m)
	require.NoError(t, err)
	require.NoError(t, s.Close())

	// Reopening runs the migrations again, which must be a no-op.
	s, err = sqlitestore.Open(ctx, sqlitestore.Config{Path: path})
	require.NoError(t, err)
	defer s.Close()
	got, err := s.Get(ctx, tn, m.ID)
	require.NoError(t, err)
	require.Equal(t, "survives a restart", got.Text)
}

func TestOpenPathWithURICharacters(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "odd dir?#%20 ü")
	s, err := sqlitestore.Open(context.Background(), sqlitestore.Config{Path: filepath.Join(dir, "engram.db")})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	_, err = os.Stat(filepath.Join(dir, "engram.db"))
	require.NoError(t, err, "the file must be where Path says, not at a truncated name")
}

func TestOpenRefusesBadConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "engram.db")
	for field, cfg := range map[string]sqlitestore.Config{
		"Path":        {},
		"ReadConns":   {Path: path, ReadConns: -1},
		"BusyTimeout": {Path: path, BusyTimeout: -time.Second},
	} {
		_, err := sqlitestore.Open(context.Background(), cfg)
		require.ErrorContains(t, err, "Config."+field)
	}
}

func TestClosedStoreIsUnavailable(t *testing.T) {
	s, err := sqlitestore.Open(context.Background(), sqlitestore.Config{Path: filepath.Join(t.TempDir(), "engram.db")})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	tn := domain.Tenant{OrgID: "org", UserID: "user"}
	_, err = s.Get(context.Background(), tn, domain.NewMemoryID(time.Now()))
	require.ErrorIs(t, err, domain.ErrUnavailable)
	_, err = s.Stats(context.Background(), tn)
	require.ErrorIs(t, err, domain.ErrUnavailable)
}

func TestCancelledContextIsReported(t *testing.T) {
	s := openTemp(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tn := domain.Tenant{OrgID: "org", UserID: "user"}
	m, err := domain.NewMemory(tn, "app", "never written", nil, nil, time.Now())
	require.NoError(t, err)
	_, _, err = s.Create(ctx, tn, m)
	require.True(t, errors.Is(err, context.Canceled), "got %v", err)
	_, err = s.Get(context.Background(), tn, m.ID)
	require.ErrorIs(t, err, domain.ErrNotFound)
}

// TestMigrationsGoDownAndUpAgain proves every down migration undoes its up.
func TestMigrationsGoDownAndUpAgain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "engram.db")
	s, err := sqlitestore.Open(context.Background(), sqlitestore.Config{Path: path})
	require.NoError(t, err)
	require.NoError(t, s.Close())

	db, err := sql.Open("sqlite", "file:"+path)
	require.NoError(t, err)
	drv, err := migratesqlite.WithInstance(db, &migratesqlite.Config{})
	require.NoError(t, err)
	src, err := iofs.New(sqlitemigrations.FS, ".")
	require.NoError(t, err)
	m, err := migrate.NewWithInstance("iofs", src, "sqlite", drv)
	require.NoError(t, err)
	defer m.Close()

	require.NoError(t, m.Down())
	var tables int
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('memories', 'memory_changes', 'apps', 'memory_access')`).Scan(&tables))
	require.Zero(t, tables)
	require.NoError(t, m.Up())
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('memories', 'memory_changes', 'apps', 'memory_access')`).Scan(&tables))
	require.Equal(t, 4, tables)
	v, dirty, err := m.Version()
	require.NoError(t, err)
	require.False(t, dirty)
	require.GreaterOrEqual(t, v, uint(1))
}

// The database file and its WAL are readable by their owner only, also when
// an older release (or a restore) left them 0644: every memory is in them.
func TestDatabaseFilesArePrivate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no file modes on windows")
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "engram.db")
	s, err := sqlitestore.Open(ctx, sqlitestore.Config{Path: path})
	require.NoError(t, err)
	tn := domain.Tenant{OrgID: "org", UserID: "user"}
	m, err := domain.NewMemory(tn, "app", "a secret worth a private file", nil, nil, time.Now())
	require.NoError(t, err)
	_, _, err = s.Create(ctx, tn, m)
	require.NoError(t, err)
	requireMode := func(p string) {
		t.Helper()
		info, err := os.Stat(p)
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), info.Mode().Perm(), p)
	}
	requireMode(path)
	requireMode(path + "-wal")
	require.NoError(t, s.Close())

	require.NoError(t, os.Chmod(path, 0o644))
	s, err = sqlitestore.Open(ctx, sqlitestore.Config{Path: path})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	requireMode(path)
	requireMode(path + "-wal")
}
