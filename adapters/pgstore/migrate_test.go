package pgstore_test

import (
	"context"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/pgstore"
	"github.com/engram-memory/engram/domain"
)

func TestMigrateDownAndUpAgain(t *testing.T) {
	t.Parallel()
	ownerURL, _ := testSchema(t) // already migrated up
	ctx := context.Background()
	db, err := sqlx.Open("postgres", ownerURL)
	require.NoError(t, err)
	defer db.Close()
	tables := func() []string {
		var out []string
		require.NoError(t, db.Select(&out, `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1`))
		return out
	}
	require.Equal(t, []string{"apps", "memories", "memory_access", "memory_changes", "schema_migrations"}, tables())

	v, err := pgstore.Migrate(ctx, ownerURL, pgstore.Up)
	require.NoError(t, err, "up twice is a no-op")
	require.EqualValues(t, 1, v)

	v, err = pgstore.Migrate(ctx, ownerURL, pgstore.Down)
	require.NoError(t, err)
	require.EqualValues(t, 0, v)
	require.Equal(t, []string{"schema_migrations"}, tables())
	v, dirty, err := pgstore.Version(ctx, ownerURL)
	require.NoError(t, err)
	require.False(t, dirty)
	require.Zero(t, v)

	_, err = pgstore.Migrate(ctx, ownerURL, pgstore.Down)
	require.ErrorIs(t, err, domain.ErrConflict, "nothing left to revert")

	v, err = pgstore.Migrate(ctx, ownerURL, pgstore.Up)
	require.NoError(t, err)
	require.EqualValues(t, 1, v)
	require.Len(t, tables(), 5)

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
