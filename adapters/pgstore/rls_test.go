package pgstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/pgstore"
	"github.com/engram-memory/engram/domain"
)

var tenantTables = []string{"memories", "memory_changes", "apps", "memory_access"}

// seedTwoOrgs writes a memory, an app and an access entry for org A and B
// through the store.
func seedTwoOrgs(t *testing.T, s *pgstore.Store) {
	t.Helper()
	ctx := context.Background()
	for _, org := range []domain.OrgID{"org-a", "org-b"} {
		ten := domain.Tenant{OrgID: org, UserID: "u1"}
		m, err := domain.NewMemory(ten, "cursor", "secret of "+string(org), nil, nil, time.Now())
		require.NoError(t, err)
		_, _, err = s.Create(ctx, ten, m)
		require.NoError(t, err)
		_, err = s.EnsureApp(ctx, ten, "cursor")
		require.NoError(t, err)
		require.NoError(t, s.RecordAccess(ctx, ten, []domain.Access{{MemoryID: m.ID, AppID: "cursor", Kind: domain.AccessGet, AccessedAt: time.Now()}}))
	}
}

// TestRLS queries the tables with raw SQL as the login role, which is a
// plain member of engram_app: neither owner, superuser nor BYPASSRLS. Only
// the policies stand between it and the other org's rows.
func TestRLS(t *testing.T) {
	t.Parallel()
	_, appURL := testSchema(t)
	ctx := context.Background()
	s, err := pgstore.Open(ctx, pgstore.Config{URL: appURL})
	require.NoError(t, err)
	defer s.Close()
	seedTwoOrgs(t, s)

	raw, err := sqlx.Open("postgres", appURL)
	require.NoError(t, err)
	defer raw.Close()
	raw.SetMaxOpenConns(1) // one connection: what one transaction sets must not reach the next

	var super, bypass bool
	require.NoError(t, raw.QueryRowContext(ctx, `SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user`).Scan(&super, &bypass))
	require.False(t, super || bypass, "the login role must be subject to RLS for this test to prove anything")

	orgsIn := func(tx *sqlx.Tx, table string) []string {
		var orgs []string
		require.NoError(t, tx.SelectContext(ctx, &orgs, `SELECT DISTINCT org_id FROM `+table+` ORDER BY 1`))
		return orgs
	}
	inTx := func(org string, fn func(tx *sqlx.Tx)) {
		tx, err := raw.BeginTxx(ctx, nil)
		require.NoError(t, err)
		defer tx.Rollback()
		if org != "" {
			_, err = tx.ExecContext(ctx, `SELECT set_config('engram.org_id', $1, true)`, org)
			require.NoError(t, err)
		}
		fn(tx)
		require.NoError(t, tx.Commit())
	}

	t.Run("UnsetOrgSeesNothing", func(t *testing.T) {
		inTx("", func(tx *sqlx.Tx) {
			for _, table := range tenantTables {
				require.Empty(t, orgsIn(tx, table), table)
			}
		})
	})
	t.Run("EmptyOrgSeesNothing", func(t *testing.T) {
		inTx("", func(tx *sqlx.Tx) {
			_, err := tx.ExecContext(ctx, `SELECT set_config('engram.org_id', '', true)`)
			require.NoError(t, err)
			for _, table := range tenantTables {
				require.Empty(t, orgsIn(tx, table), table)
			}
		})
	})
	t.Run("OrgSeesOnlyItsRows", func(t *testing.T) {
		for _, org := range []string{"org-a", "org-b"} {
			inTx(org, func(tx *sqlx.Tx) {
				for _, table := range tenantTables {
					require.Equal(t, []string{org}, orgsIn(tx, table), table)
				}
			})
		}
	})
	t.Run("SettingDoesNotOutliveTransaction", func(t *testing.T) {
		inTx("org-a", func(*sqlx.Tx) {})
		inTx("", func(tx *sqlx.Tx) {
			require.Empty(t, orgsIn(tx, "memories"))
		})
	})
	t.Run("WriteForOtherOrgRefused", func(t *testing.T) {
		tx, err := raw.BeginTxx(ctx, nil)
		require.NoError(t, err)
		defer tx.Rollback()
		_, err = tx.ExecContext(ctx, `SELECT set_config('engram.org_id', 'org-a', true)`)
		require.NoError(t, err)
		_, err = tx.ExecContext(ctx, `INSERT INTO apps (org_id, user_id, id, created_at, updated_at) VALUES ('org-b', 'u1', 'evil', now(), now())`)
		var pqErr *pq.Error
		require.True(t, errors.As(err, &pqErr), "insert for org-b while scoped to org-a: %v", err)
		require.Equal(t, "42501", string(pqErr.Code), pqErr.Message)
	})
	t.Run("UpdateCannotMoveRowToOtherOrg", func(t *testing.T) {
		tx, err := raw.BeginTxx(ctx, nil)
		require.NoError(t, err)
		defer tx.Rollback()
		_, err = tx.ExecContext(ctx, `SELECT set_config('engram.org_id', 'org-a', true)`)
		require.NoError(t, err)
		_, err = tx.ExecContext(ctx, `UPDATE memories SET org_id = 'org-b'`)
		var pqErr *pq.Error
		require.True(t, errors.As(err, &pqErr), "update moving a row to org-b: %v", err)
		require.Equal(t, "42501", string(pqErr.Code), pqErr.Message)
	})
	t.Run("DeleteOfOtherOrgTouchesNothing", func(t *testing.T) {
		inTx("org-a", func(tx *sqlx.Tx) {
			res, err := tx.ExecContext(ctx, `DELETE FROM memory_access WHERE org_id = 'org-b'`)
			require.NoError(t, err)
			n, err := res.RowsAffected()
			require.NoError(t, err)
			require.Zero(t, n)
		})
		inTx("org-b", func(tx *sqlx.Tx) {
			require.Equal(t, []string{"org-b"}, orgsIn(tx, "memory_access"))
		})
	})
	t.Run("RuntimeRoleCannotDisableRLS", func(t *testing.T) {
		_, err := raw.ExecContext(ctx, `ALTER TABLE memories NO FORCE ROW LEVEL SECURITY`)
		require.Error(t, err)
		_, err = raw.ExecContext(ctx, `DROP POLICY tenant_isolation ON memories`)
		require.Error(t, err)
	})
}

// TestRLSEveryTenantTable fails when a migration adds a table with an
// org_id column without enabling and forcing row-level security on it.
func TestRLSEveryTenantTable(t *testing.T) {
	t.Parallel()
	ownerURL, _ := testSchema(t)
	db, err := sqlx.Open("postgres", ownerURL)
	require.NoError(t, err)
	defer db.Close()
	var rows []struct {
		Table  string `db:"relname"`
		RLS    bool   `db:"relrowsecurity"`
		Force  bool   `db:"relforcerowsecurity"`
		Policy int    `db:"policies"`
		Cols   int    `db:"cols"`
	}
	require.NoError(t, db.Select(&rows, `
		SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
		       (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies,
		       (SELECT count(*) FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS cols
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = current_schema() AND c.relkind = 'r'
		  AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'org_id')`))
	require.NotEmpty(t, rows)
	// Tables that hold org ids and nothing of a tenant's content, readable
	// across orgs on purpose.
	exempt := map[string]string{
		"memory_orgs": "lists org ids for index rebuilds (migration 0002)",
		// erasure_id is a job's random UUID: what is readable across orgs is
		// that an org has an unfinished erasure, nothing of whom or what.
		"erasure_queue": "lists unfinished erasure jobs for the worker (migration 0081)",
		// The position of an unfinished `engram migrate-data`, per table: an
		// org and the key (ids: of a row, its user, its app) of the last
		// row copied, and two counts. An operator command writes and reads
		// it across orgs (a batch spans orgs); the store serves nothing
		// while it exists (engramd refuses a marked target).
		"data_migration_positions": "positions of an unfinished migrate-data (migration 0421)",
	}
	exemptCols := map[string]int{"memory_orgs": 1, "erasure_queue": 2, "data_migration_positions": 5}
	seen := map[string]bool{}
	for _, r := range rows {
		seen[r.Table] = true
		if why, ok := exempt[r.Table]; ok {
			require.Equal(t, exemptCols[r.Table], r.Cols, "exempt table %s (%s) must hold ids alone", r.Table, why)
			continue
		}
		require.True(t, r.RLS && r.Force, "table %s: row level security must be enabled and forced", r.Table)
		require.Positive(t, r.Policy, "table %s has no policy", r.Table)
	}
	for _, table := range tenantTables {
		require.True(t, seen[table], table)
	}
}

// TestStoreQueriesAsRuntimeRole shows that even a superuser login is
// demoted: the store's transactions run as engram_app, so RLS applies.
func TestStoreQueriesAsRuntimeRole(t *testing.T) {
	t.Parallel()
	ownerURL, _ := testSchema(t)
	ctx := context.Background()
	s, err := pgstore.Open(ctx, pgstore.Config{URL: ownerURL})
	require.NoError(t, err)
	defer s.Close()
	seedTwoOrgs(t, s)
	a := domain.Tenant{OrgID: "org-a", UserID: "u1"}
	page, err := s.List(ctx, a, domain.ListQuery{})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	require.Equal(t, domain.OrgID("org-a"), page.Items[0].OrgID)

	tx, err := s.DB().BeginTxx(ctx, nil)
	require.NoError(t, err)
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx, `SELECT set_config('role', 'engram_app', true)`)
	require.NoError(t, err)
	var user string
	var n int
	require.NoError(t, tx.QueryRowContext(ctx, `SELECT current_user, (SELECT count(*) FROM memories)`).Scan(&user, &n))
	require.Equal(t, "engram_app", user)
	require.Zero(t, n, "no org set: no rows, even for a superuser login demoted to engram_app")
}

func TestOpenRefusesUnsafeRoles(t *testing.T) {
	t.Parallel()
	ownerURL, _ := testSchema(t)
	ctx := context.Background()

	_, err := pgstore.Open(ctx, pgstore.Config{URL: ownerURL, Options: pgstore.Options{Role: "postgres"}})
	require.ErrorIs(t, err, domain.ErrForbidden, "a runtime role that bypasses RLS must be refused")

	_, err = pgstore.Open(ctx, pgstore.Config{URL: ownerURL, Options: pgstore.Options{Role: "engram_no_such_role"}})
	require.ErrorIs(t, err, domain.ErrUnavailable)

	db, _ := adminDB(t)
	_, err = db.ExecContext(ctx, `DO $$ BEGIN
		IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'engram_test_outsider') THEN
			CREATE ROLE engram_test_outsider LOGIN; END IF;
		EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$`)
	require.NoError(t, err)
	outsider := withParams(t, ownerURL, "engram_test_outsider", nil)
	_, err = pgstore.Open(ctx, pgstore.Config{URL: outsider})
	require.ErrorIs(t, err, domain.ErrForbidden, "a login role outside engram_app must be refused")
}
