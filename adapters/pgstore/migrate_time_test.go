package pgstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/pgstore"
	"github.com/engram-memory/engram/domain"
)

// ownerRole owns a schema without being a superuser or BYPASSRLS, as a
// production migrator does: FORCE ROW LEVEL SECURITY binds it.
const ownerRole = "engram_test_owner"

// Migration 0431 (issue 18) backfills observed_at = created_at for every
// tenant's rows although the migrator is bound by FORCE ROW LEVEL
// SECURITY, and leaves FORCE on.
func TestMigrationBackfillsObservedAtAsAPlainOwner(t *testing.T) {
	t.Parallel()
	db, base := adminDB(t)
	ctx := context.Background()
	_, err := db.ExecContext(ctx, `DO $$ BEGIN
		IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '`+ownerRole+`') THEN
			CREATE ROLE `+ownerRole+` LOGIN NOSUPERUSER NOBYPASSRLS;
		END IF;
	EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
	END $$`)
	require.NoError(t, err)
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "engram_test_" + hex.EncodeToString(b[:])
	_, err = db.ExecContext(ctx, `CREATE SCHEMA `+schema+` AUTHORIZATION `+ownerRole)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = db.ExecContext(context.Background(), `DROP SCHEMA `+schema+` CASCADE`) })
	ownerURL := withParams(t, base, ownerRole, map[string]string{"search_path": schema})
	if _, err := pgstore.Migrate(ctx, ownerURL, pgstore.Up); err != nil {
		t.Skipf("migrations need more than a schema owner here: %v", err)
	}
	owner, err := sqlx.Open("postgres", ownerURL)
	require.NoError(t, err)
	defer owner.Close()
	// Back to before 0431, rows of two orgs, then up again.
	for {
		v, _, err := pgstore.Version(ctx, ownerURL)
		require.NoError(t, err)
		if v < 431 {
			break
		}
		_, err = pgstore.Migrate(ctx, ownerURL, pgstore.Down)
		require.NoError(t, err)
	}
	created := time.Date(2024, 5, 3, 10, 0, 0, 0, time.UTC)
	for _, org := range []string{"acme", "globex"} {
		tx, err := owner.BeginTxx(ctx, nil)
		require.NoError(t, err)
		_, err = tx.ExecContext(ctx, `SELECT set_config('engram.org_id', $1, true)`, org)
		require.NoError(t, err)
		_, err = tx.ExecContext(ctx, `INSERT INTO memories (id, org_id, user_id, app_id, text, state, content_hash, created_at, updated_at)
			VALUES ($1, $2, 'u', 'app', 'said long ago', 'active', 'h', $3, $3)`, string(domain.NewMemoryID(time.Now())), org, created)
		require.NoError(t, err)
		require.NoError(t, tx.Commit())
	}
	_, err = pgstore.Migrate(ctx, ownerURL, pgstore.Up)
	require.NoError(t, err)

	var n int
	require.NoError(t, db.GetContext(ctx, &n, `SELECT count(*) FROM `+schema+`.memories WHERE observed_at = created_at`))
	require.Equal(t, 2, n, "every org's rows are backfilled")
	var force bool
	require.NoError(t, db.GetContext(ctx, &force, `SELECT relforcerowsecurity FROM pg_class WHERE oid = $1::regclass`, schema+".memories"))
	require.True(t, force, "FORCE ROW LEVEL SECURITY is back on")
}
