package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

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

// TestExportMeCarriesAgentRunAndExpiry: the scopes and expiry a memory was
// written with are personal data too (an agent or run id may name a
// session), so the subject access document holds them; a memory without
// them carries null, so a reader sees the key either way.
func TestExportMeCarriesAgentRunAndExpiry(t *testing.T) {
	e := newPrivacyEnv(t, nil)
	ctx := context.Background()
	exp := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	_, _, err := e.mem.Add(ctx, sAlice, app.AddInput{Text: "scoped note", AgentID: "travel-agent", RunID: "run-42", ExpiresAt: &exp})
	require.NoError(t, err)
	e.add(t, sAlice, "plain note")

	var buf bytes.Buffer
	require.NoError(t, e.privacy.ExportMe(ctx, sAlice, &buf))
	var doc struct {
		Memories []map[string]any `json:"memories"`
	}
	require.NoError(t, json.Unmarshal(buf.Bytes(), &doc), buf.String())
	require.Len(t, doc.Memories, 2)
	byText := map[string]map[string]any{}
	for _, m := range doc.Memories {
		byText[m["text"].(string)] = m
	}
	scoped, plain := byText["scoped note"], byText["plain note"]
	require.Equal(t, "travel-agent", scoped["agent_id"])
	require.Equal(t, "run-42", scoped["run_id"])
	require.Equal(t, exp.Format(time.RFC3339), scoped["expires_at"])
	for _, k := range []string{"agent_id", "run_id", "expires_at"} {
		v, ok := plain[k]
		require.True(t, ok, "%s missing from a memory without it", k)
		require.Nil(t, v, k)
	}
}
