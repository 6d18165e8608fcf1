package pgstore_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/pgstore"
)

// Every tenant policy is RESTRICTIVE beside one PERMISSIVE base: a
// permissive policy added later cannot widen what a tenant sees. The test
// adds such a careless policy and shows the runtime role still sees only
// its org's rows.
func TestTenantPoliciesAreRestrictive(t *testing.T) {
	t.Parallel()
	ownerURL, appURL := testSchema(t)
	ctx := context.Background()
	owner, err := sqlx.Open("postgres", ownerURL)
	require.NoError(t, err)
	defer owner.Close()

	var pols []struct {
		Table      string `db:"tablename"`
		Name       string `db:"policyname"`
		Permissive string `db:"permissive"`
	}
	require.NoError(t, owner.SelectContext(ctx, &pols, `
		SELECT tablename, policyname, permissive FROM pg_policies
		WHERE schemaname = current_schema() ORDER BY 1, 2`))
	byTable := map[string]map[string]string{}
	for _, p := range pols {
		if byTable[p.Table] == nil {
			byTable[p.Table] = map[string]string{}
		}
		byTable[p.Table][p.Name] = p.Permissive
	}
	for _, table := range tenantTables {
		require.Equal(t, "RESTRICTIVE", byTable[table]["tenant_isolation"], table)
	}
	for table, ps := range byTable {
		for name, kind := range ps {
			if kind == "PERMISSIVE" {
				require.Equal(t, "tenant_base", name, "table %s: the only permissive policy is the base", table)
			} else {
				// tenant_isolation, or a command-specific narrowing of it
				// (api_keys: a hash may be read, never written).
				require.True(t, name == "tenant_isolation" || strings.HasPrefix(name, "tenant_isolation_"),
					"table %s: restrictive policy %s is not a tenant_isolation policy", table, name)
			}
		}
	}

	s, err := pgstore.Open(ctx, pgstore.Config{URL: appURL})
	require.NoError(t, err)
	defer s.Close()
	seedTwoOrgs(t, s)
	_, err = owner.ExecContext(ctx, `CREATE POLICY careless_reporting ON memories AS PERMISSIVE FOR SELECT USING (true)`)
	require.NoError(t, err)

	app, err := sqlx.Open("postgres", appURL)
	require.NoError(t, err)
	defer app.Close()
	tx, err := app.BeginTxx(ctx, nil)
	require.NoError(t, err)
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx, `SELECT set_config('engram.org_id', 'org-a', true)`)
	require.NoError(t, err)
	var orgs []string
	require.NoError(t, tx.SelectContext(ctx, &orgs, `SELECT DISTINCT org_id FROM memories ORDER BY 1`))
	require.Equal(t, []string{"org-a"}, orgs, "a permissive policy widened a tenant's view")
}

// Every SECURITY DEFINER function runs with search_path pinned to
// pg_catalog, the schema and pg_temp, never "$user", public.
func TestSecurityDefinerSearchPathIsPinned(t *testing.T) {
	t.Parallel()
	ownerURL, _ := testSchema(t)
	db, err := sqlx.Open("postgres", ownerURL)
	require.NoError(t, err)
	defer db.Close()
	var fns []struct {
		Name   string `db:"proname"`
		Config string `db:"config"`
		Schema string `db:"schema"`
	}
	require.NoError(t, db.Select(&fns, `
		SELECT p.proname, coalesce(array_to_string(p.proconfig, ';'), '') AS config, current_schema() AS schema
		FROM pg_proc p WHERE p.pronamespace = current_schema()::regnamespace AND p.prosecdef`))
	require.NotEmpty(t, fns)
	for _, f := range fns {
		require.True(t, strings.Contains(f.Config, "search_path=pg_catalog, "+f.Schema+", pg_temp"),
			"%s: search_path is %q", f.Name, f.Config)
	}
}
