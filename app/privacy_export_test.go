package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

func TestExportMeHoldsEverythingOfTheCallerAndNothingElse(t *testing.T) {
	e := newPrivacyEnv(t, nil)
	ctx := context.Background()
	e.fill(t, sAlice, "alice-secret")
	e.fill(t, sBob, "bob-secret")

	var buf bytes.Buffer
	require.NoError(t, e.privacy.ExportMe(ctx, sAlice, &buf))
	require.NotContains(t, buf.String(), "bob-secret")
	var doc struct {
		Format  string `json:"format"`
		Version int    `json:"version"`
		Subject struct {
			UserID string `json:"user_id"`
		} `json:"subject"`
		Summary struct {
			Text     []string `json:"text"`
			Memories int      `json:"memories"`
		} `json:"summary"`
		Memories []struct {
			Text    string `json:"text"`
			History []struct {
				Kind string `json:"kind"`
				New  *struct {
					Text string `json:"text"`
				} `json:"new"`
			} `json:"history"`
		} `json:"memories"`
		Feedback []map[string]any `json:"feedback"`
		Queries  []struct {
			Query string `json:"query"`
		} `json:"query_log"`
		Sessions []struct {
			Events []struct {
				Text string `json:"text"`
			} `json:"events"`
		} `json:"sessions"`
		Totals map[string]int `json:"totals"`
	}
	require.NoError(t, json.Unmarshal(buf.Bytes(), &doc), buf.String())
	require.Equal(t, app.SARFormat, doc.Format)
	require.Equal(t, app.SARVersion, doc.Version)
	require.Equal(t, "alice", doc.Subject.UserID)
	require.Equal(t, 4, doc.Summary.Memories)
	require.Contains(t, doc.Summary.Text[1], "You have 4 memories (4 active)")
	require.Len(t, doc.Memories, 4)
	for _, m := range doc.Memories {
		require.Contains(t, m.Text, "alice-secret")
		require.Len(t, m.History, 2, "add and update, with the earlier text")
		require.Contains(t, m.History[0].New.Text, "alice-secret")
	}
	require.Len(t, doc.Feedback, 1)
	require.Len(t, doc.Queries, 1)
	require.Equal(t, "alice-secret query", doc.Queries[0].Query)
	require.Len(t, doc.Sessions, 1)
	require.Equal(t, "alice-secret said", doc.Sessions[0].Events[0].Text)
	require.Equal(t, 4, doc.Totals["memories"])
	require.Equal(t, 8, doc.Totals["history"])

	admin := domain.Principal{OrgID: sAlice.OrgID, UserID: "admin", Scopes: []domain.Scope{domain.ScopePrivacyAdmin}}
	events, _, err := e.privacy.AuditTrail(ctx, admin, 10, "")
	require.NoError(t, err)
	require.Len(t, events, 1)
	require.Equal(t, domain.AuditExport, events[0].Action)
	require.EqualValues(t, 4, events[0].Counts["memories"])

	noRead := domain.Principal{OrgID: "org-1", UserID: "alice", Scopes: []domain.Scope{domain.ScopeMemoriesWrite}}
	require.ErrorIs(t, e.privacy.ExportMe(ctx, noRead, &buf), domain.ErrForbidden)
}
