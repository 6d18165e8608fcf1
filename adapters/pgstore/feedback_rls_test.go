package pgstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/pgstore"
	"github.com/engram-memory/engram/domain"
)

var feedbackTables = []string{"feedback_events", "query_logs", "experiments", "experiment_history", "experiment_assignments"}

// TestFeedbackRowLevelSecurity seeds two orgs through the store, then reads
// every feedback table over a raw connection of the login role: without
// engram.org_id nothing is visible, with it only that org's rows; and no
// one, owner included, may UPDATE a feedback event.
func TestFeedbackRowLevelSecurity(t *testing.T) {
	t.Parallel()
	ownerURL, appURL := testSchema(t)
	ctx := context.Background()
	s, err := pgstore.Open(ctx, pgstore.Config{URL: appURL})
	require.NoError(t, err)
	defer s.Close()
	now := time.Now().UTC()
	for _, org := range []domain.OrgID{"org-a", "org-b"} {
		tn := domain.Tenant{OrgID: org, UserID: "u1"}
		e, err := domain.NewExperiment(org, "op", "exp", "", []domain.Variant{{Name: "a", Weight: 1}, {Name: "b", Weight: 1}}, now)
		require.NoError(t, err)
		_, err = s.CreateExperiment(ctx, org, e)
		require.NoError(t, err)
		_, err = s.Assign(ctx, org, domain.Assignment{ExperimentID: e.ID, UserID: "u1", Variant: "a", AssignedAt: now})
		require.NoError(t, err)
		q := domain.QueryLog{ID: domain.NewQueryID(now), OrgID: org, UserID: "u1", Query: "x", CreatedAt: now, ExperimentID: e.ID, Variant: "a"}
		require.NoError(t, s.LogQuery(ctx, tn, q))
		require.NoError(t, s.AppendFeedback(ctx, org, []domain.FeedbackEvent{{
			ID: domain.NewID(now), OrgID: org, UserID: "u1", QueryID: q.ID, App: "agent", Outcome: domain.OutcomeAccepted, CreatedAt: now,
		}}))
	}
	orgs, err := s.FeedbackOrgs(ctx)
	require.NoError(t, err)
	require.Equal(t, []domain.OrgID{"org-a", "org-b"}, orgs)

	raw, err := sqlx.Open("postgres", appURL)
	require.NoError(t, err)
	defer raw.Close()
	raw.SetMaxOpenConns(1)
	orgsIn := func(org string) map[string][]string {
		tx, err := raw.BeginTxx(ctx, nil)
		require.NoError(t, err)
		defer tx.Rollback()
		if org != "" {
			_, err = tx.ExecContext(ctx, `SELECT set_config('engram.org_id', $1, true)`, org)
			require.NoError(t, err)
		}
		out := map[string][]string{}
		for _, table := range feedbackTables {
			var got []string
			require.NoError(t, tx.SelectContext(ctx, &got, `SELECT DISTINCT org_id FROM `+table+` ORDER BY 1`))
			out[table] = got
		}
		return out
	}
	for table, got := range orgsIn("") {
		require.Empty(t, got, table)
	}
	for _, org := range []string{"org-a", "org-b"} {
		for table, got := range orgsIn(org) {
			require.Equal(t, []string{org}, got, table)
		}
	}

	// Append-only: the runtime role has no UPDATE grant, and even the owner
	// is stopped by the trigger.
	for _, url := range []string{appURL, ownerURL} {
		db, err := sqlx.Open("postgres", url)
		require.NoError(t, err)
		tx, err := db.BeginTxx(ctx, nil)
		require.NoError(t, err)
		_, err = tx.ExecContext(ctx, `SELECT set_config('engram.org_id', 'org-a', true)`)
		require.NoError(t, err)
		_, err = tx.ExecContext(ctx, `UPDATE feedback_events SET outcome = 'rejected'`)
		require.Error(t, err, "UPDATE as %s", url)
		require.Regexp(t, "permission denied for table feedback_events|feedback events are append-only", err.Error())
		_ = tx.Rollback()
		_ = db.Close()
	}
}

// TestFeedbackMigrationReverts walks the schema down below 0003 and up
// again: the down migration drops everything the up created (tables,
// triggers, functions), so the up applies cleanly a second time.
func TestFeedbackMigrationReverts(t *testing.T) {
	t.Parallel()
	ownerURL, _ := testSchema(t)
	ctx := context.Background()
	v, _, err := pgstore.Version(ctx, ownerURL)
	require.NoError(t, err)
	require.GreaterOrEqual(t, v, uint(3))
	for v >= 3 {
		v, err = pgstore.Migrate(ctx, ownerURL, pgstore.Down)
		require.NoError(t, err)
	}
	db, err := sqlx.Open("postgres", ownerURL)
	require.NoError(t, err)
	defer db.Close()
	var n int
	require.NoError(t, db.Get(&n, `SELECT count(*) FROM pg_class WHERE relnamespace = current_schema()::regnamespace
		AND relname IN ('feedback_events', 'feedback_rollups', 'query_logs', 'experiments', 'experiment_history', 'experiment_assignments')`))
	require.Zero(t, n)
	require.NoError(t, db.Get(&n, `SELECT count(*) FROM pg_proc WHERE pronamespace = current_schema()::regnamespace AND proname LIKE 'engram_feedback%'`))
	require.Zero(t, n)
	_, err = pgstore.Migrate(ctx, ownerURL, pgstore.Up)
	require.NoError(t, err)
	require.NoError(t, db.Get(&n, `SELECT count(*) FROM pg_class WHERE relnamespace = current_schema()::regnamespace AND relname = 'feedback_rollups'`))
	require.Equal(t, 1, n)
}
