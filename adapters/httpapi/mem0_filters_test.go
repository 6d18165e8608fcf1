package httpapi

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
)

func TestMem0FiltersParseIntoTheOneLanguage(t *testing.T) {
	f, err := filtersFrom(json.RawMessage(`{"AND": [{"user_id": {"eq": "alice"}}, {"org_id": "acme"}, {"metadata": {"topic": "food"}},
		{"metadata.mood": true}, {"categories": {"contains": "diet"}}, {"created_at": {"gte": "2026-01-01", "lt": "2026-02-01T00:00:00Z"}},
		{"OR": [{"agent_id": "planner"}, {"NOT": {"run_id": {"in": ["r1", "r2"]}}}]}], "app_id": "cursor"}`))
	require.NoError(t, err)
	require.Equal(t, "alice", f.UserID)
	require.Equal(t, "acme", f.OrgID)
	require.NotNil(t, f.Where)
	day := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	m := domain.Memory{AppID: "cursor", AgentID: "planner", Metadata: domain.Metadata{"topic": "food", "mood": true},
		Categories: []string{"diet"}, CreatedAt: day}
	require.True(t, f.Where.Eval(m))
	m.AgentID, m.RunID = "critic", "r1"
	require.False(t, f.Where.Eval(m), "OR of agent planner and NOT run r1")
	m.RunID = "r3"
	require.True(t, f.Where.Eval(m))
	m.CreatedAt = time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	require.False(t, f.Where.Eval(m), "lt is exclusive")
}

func TestMem0FiltersRefuseWhatTheyCannotMean(t *testing.T) {
	deep := `{"agent_id": "a"}`
	for range domain.MaxFilterDepth + 1 {
		deep = `{"AND": [` + deep + `]}`
	}
	for raw, naming := range map[string]string{
		`{"OR": [{"user_id": "a"}]}`:                  "filters.user_id",
		`{"NOT": {"user_id": "a"}}`:                   "filters.user_id",
		`{"user_id": {"ne": "a"}}`:                    `"ne"`,
		`{"categories": {"between": "x"}}`:            `"between"`,
		`{"agent_id": {"gt": "bot"}}`:                 `"gt"`,
		`{"created_at": {"regex": "x"}}`:              `"regex"`,
		`{"color": "blue"}`:                           "filters.color",
		`{"OR": []}`:                                  "filters.OR",
		`{"user_id": "a", "AND": [{"user_id": "b"}]}`: "two users",
		deep: "levels deep",
	} {
		_, err := filtersFrom(json.RawMessage(raw))
		require.True(t, errors.Is(err, domain.ErrInvalid), raw)
		require.True(t, strings.Contains(err.Error(), naming), "%s: %v", raw, err)
	}
}
