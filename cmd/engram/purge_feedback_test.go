package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/sqlitestore"
	"github.com/engram-memory/engram/cmd/internal/wiring"
	"github.com/engram-memory/engram/domain"
)

func TestPurgeFeedbackCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlitestore.Open(ctx, sqlitestore.Config{Path: wiring.SQLitePath(dir)})
	require.NoError(t, err)
	old, recent := time.Now().Add(-40*24*time.Hour), time.Now().Add(-time.Hour)
	for _, org := range []domain.OrgID{"org-a", "org-b"} {
		var evs []domain.FeedbackEvent
		for i, at := range []time.Time{old, old, recent} {
			evs = append(evs, domain.FeedbackEvent{ID: domain.NewID(at), OrgID: org, UserID: "u", QueryID: domain.NewQueryID(at),
				App: "agent", Outcome: domain.Outcomes[i], CreatedAt: at})
		}
		require.NoError(t, st.AppendFeedback(ctx, org, evs))
	}
	require.NoError(t, st.Close())

	var out, errb bytes.Buffer
	require.NoError(t, run(ctx, []string{"purge-feedback", "--data-dir", dir}, &out, &errb), errb.String())
	require.Contains(t, out.String(), "org-a: deleted 2 feedback events")
	require.Contains(t, out.String(), "purged 4 feedback events")
	out.Reset()
	require.NoError(t, run(ctx, []string{"purge-feedback", "--data-dir", dir, "--older-than", "30m"}, &out, &errb))
	require.Contains(t, out.String(), "purged 2 feedback events")
	require.Error(t, run(ctx, []string{"purge-feedback", "--data-dir", dir, "--older-than", "soon"}, &out, &errb))

	st, err = sqlitestore.Open(ctx, sqlitestore.Config{Path: filepath.Join(dir, "engram.db")})
	require.NoError(t, err)
	defer st.Close()
	page, err := st.ListFeedback(ctx, "org-a", domain.FeedbackFilter{}, 10, "")
	require.NoError(t, err)
	require.Empty(t, page.Events)
	require.False(t, strings.Contains(out.String(), "org-b: deleted 0"), "orgs with nothing to purge are not listed")
}
