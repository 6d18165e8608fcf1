package pgstore_test

import (
	"context"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/pgstore"
	"github.com/engram-memory/engram/domain"
	pgmigrations "github.com/engram-memory/engram/migrations/postgres"
)

// latestMigration is the highest embedded version, so these tests keep
// holding as migrations are added.
func latestMigration(t *testing.T) uint {
	t.Helper()
	names, err := fs.Glob(pgmigrations.FS, "*.up.sql")
	require.NoError(t, err)
	var latest uint
	for _, n := range names {
		v, err := strconv.ParseUint(strings.SplitN(n, "_", 2)[0], 10, 32)
		require.NoError(t, err, n)
		require.FileExists(t, "../../migrations/postgres/"+strings.TrimSuffix(n, ".up.sql")+".down.sql", "every up has a down")
		latest = max(latest, uint(v))
	}
	return latest
}

// migrationVersions lists the embedded versions in ascending order.
func migrationVersions(t *testing.T) []uint {
	t.Helper()
	names, err := fs.Glob(pgmigrations.FS, "*.up.sql")
	require.NoError(t, err)
	var out []uint
	for _, n := range names {
		v, err := strconv.ParseUint(strings.SplitN(n, "_", 2)[0], 10, 32)
		require.NoError(t, err, n)
		out = append(out, uint(v))
	}
	slices.Sort(out)
	return out
}

func TestMigrateDownAndUpAgain(t *testing.T) {
	t.Parallel()
	ownerURL, _ := testSchema(t) // already migrated up
	ctx := context.Background()
	latest := latestMigration(t)
	db, err := sqlx.Open("postgres", ownerURL)
	require.NoError(t, err)
	defer db.Close()
	tables := func() []string {
		var out []string
		require.NoError(t, db.Select(&out, `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1`))
		return out
	}
	full := tables()
	require.Subset(t, full, []string{"apps", "memories", "memory_access", "memory_changes", "schema_migrations"})

	v, err := pgstore.Migrate(ctx, ownerURL, pgstore.Up)
	require.NoError(t, err, "up twice is a no-op")
	require.Equal(t, latest, v)

	// Down reverts one migration per call, down to an empty schema.
	// Versions have gaps (each helper of a session owns a range).
	versions := migrationVersions(t)
	for i := len(versions) - 2; i >= -1; i-- {
		want := uint(0)
		if i >= 0 {
			want = versions[i]
		}
		v, err = pgstore.Migrate(ctx, ownerURL, pgstore.Down)
		require.NoError(t, err)
		require.EqualValues(t, want, v)
	}
	require.Equal(t, []string{"schema_migrations"}, tables())
	v, dirty, err := pgstore.Version(ctx, ownerURL)
	require.NoError(t, err)
	require.False(t, dirty)
	require.Zero(t, v)

	_, err = pgstore.Migrate(ctx, ownerURL, pgstore.Down)
	require.ErrorIs(t, err, domain.ErrConflict, "nothing left to revert")

	v, err = pgstore.Migrate(ctx, ownerURL, pgstore.Up)
	require.NoError(t, err)
	require.Equal(t, latest, v)
	require.Equal(t, full, tables(), "down then up restores every table")

	_, err = pgstore.Migrate(ctx, ownerURL, "sideways")
	require.ErrorIs(t, err, domain.ErrInvalid)
}

func TestMigrateUnreachableIsUnavailable(t *testing.T) {
	t.Parallel()
	_, err := pgstore.Migrate(context.Background(), "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2", pgstore.Up)
	require.ErrorIs(t, err, domain.ErrUnavailable)
	_, err = pgstore.Migrate(context.Background(), "", pgstore.Up)
	require.ErrorIs(t, err, domain.ErrInvalid)
}

// The runtime role reads the schema version (migration 0021 grants it), so
// engramd can check the schema without the owner's rights.
func TestVersionAsTheRuntimeRole(t *testing.T) {
	t.Parallel()
	_, appURL := testSchema(t)
	v, dirty, err := pgstore.Version(context.Background(), appURL)
	require.NoError(t, err)
	require.False(t, dirty)
	require.Equal(t, latestMigration(t), v)

	// golang-migrate's x-* options are not sent to the server.
	v, _, err = pgstore.Version(context.Background(), appURL+"&x-multi-statement=true")
	require.NoError(t, err)
	require.Equal(t, latestMigration(t), v)
}
