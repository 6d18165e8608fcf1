package main

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/cmd/internal/wiring"
	"github.com/engram-memory/engram/domain"
)

// seedSQLite fills a data directory the ordinary way, through the store's
// ports: two orgs, two users, every memory lifecycle, apps, the access log,
// a query with feedback and an experiment that ran.
// seedExpiry is the expires_at of each seeded tenant's fifth memory.
var seedExpiry = time.Date(2096, 6, 1, 9, 0, 0, 123456789, time.UTC)

func seedSQLite(t *testing.T, n int) string {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlitestore.Open(ctx, sqlitestore.Config{Path: wiring.SQLitePath(dir)})
	require.NoError(t, err)
	defer func() { require.NoError(t, st.Close()) }()
	now := time.Date(2026, 6, 1, 9, 0, 0, 123456789, time.UTC)
	for _, tn := range []domain.Tenant{{OrgID: "acme", UserID: "alice"}, {OrgID: "acme", UserID: "bob"}, {OrgID: "globex", UserID: "carol"}} {
		var ms []domain.Memory
		for i := range n {
			m, err := domain.NewMemory(tn, "notes", fmt.Sprintf("%s remembers fact %d", tn.UserID, i),
				domain.Metadata{"i": i, "src": "seed"}, []string{"Work", "facts"}, now.Add(time.Duration(i)*time.Millisecond))
			require.NoError(t, err)
			ms = append(ms, m)
		}
		// One memory that expires (issue 16), at a nanosecond the archive
		// truncates to the microsecond.
		ms[4].ExpiresAt = seedExpiry
		_, err := st.CreateBatch(ctx, tn, ms)
		require.NoError(t, err)
		_, err = st.Update(ctx, tn, ms[0].ID, "notes", func(m *domain.Memory) error { m.Text += " (revised)"; return nil })
		require.NoError(t, err)
		_, err = st.SetState(ctx, tn, []domain.MemoryID{ms[1].ID}, domain.StatePaused, "notes")
		require.NoError(t, err)
		require.NoError(t, st.Delete(ctx, tn, []domain.MemoryID{ms[2].ID}, "notes"))
		require.NoError(t, st.Erase(ctx, tn, ms[3].ID, "notes"))
		_, err = st.EnsureApp(ctx, tn, "notes")
		require.NoError(t, err)
		require.NoError(t, st.RecordAccess(ctx, tn, []domain.Access{{MemoryID: ms[0].ID, AppID: "notes", Kind: domain.AccessSearch, AccessedAt: now}}))
		q := domain.QueryLog{ID: domain.QueryID(domain.NewID(now)), OrgID: tn.OrgID, UserID: tn.UserID, Query: "facts",
			ResultIDs: []domain.MemoryID{ms[0].ID}, CreatedAt: now}
		require.NoError(t, st.LogQuery(ctx, tn, q))
		require.NoError(t, st.AppendFeedback(ctx, tn.OrgID, []domain.FeedbackEvent{{ID: domain.NewID(now), OrgID: tn.OrgID,
			UserID: tn.UserID, QueryID: q.ID, MemoryID: ms[0].ID, App: "notes", Outcome: domain.OutcomeAccepted, Rating: 5, CreatedAt: now}}))
	}
	e, err := domain.NewExperiment("acme", "admin", "k test", "", []domain.Variant{{Name: "a", Weight: 1}, {Name: "b", Weight: 1}}, now)
	require.NoError(t, err)
	e, err = st.CreateExperiment(ctx, "acme", e)
	require.NoError(t, err)
	_, err = st.UpdateExperiment(ctx, "acme", e.ID, func(x *domain.Experiment) error {
		return x.Apply(domain.ActionStart, "admin", "go", now.Add(time.Second))
	})
	require.NoError(t, err)
	_, err = st.Assign(ctx, "acme", domain.Assignment{ExperimentID: e.ID, UserID: "alice", Variant: "b", AssignedAt: now})
	require.NoError(t, err)
	return dir
}

func archivePath(t *testing.T) string { return filepath.Join(t.TempDir(), "data.engram") }
