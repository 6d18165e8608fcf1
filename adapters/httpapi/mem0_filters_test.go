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

func TestMem0FiltersMapOntoEngrams(t *testing.T) {
	f, err := filtersFrom(json.RawMessage(`{"AND": [{"user_id": {"eq": "alice"}}, {"metadata": {"topic": "food"}},
		{"metadata.mood": true}, {"categories": {"contains": "diet"}}, {"created_at": {"gte": "2026-01-01", "lt": "2026-02-01T00:00:00Z"}}], "app_id": "cursor"}`))
	require.NoError(t, err)
	require.Equal(t, "alice", f.UserID)
	require.Equal(t, domain.AppID("cursor"), f.App)
	require.Equal(t, domain.Metadata{"topic": "food", "mood": true}, f.Metadata)
	require.Equal(t, []string{"diet"}, f.Categories)
	require.True(t, f.After.Before(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)))
	require.Equal(t, time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), f.Before)
}

func TestMem0FiltersRefuseWhatTheyCannotMean(t *testing.T) {
	deep := `{"user_id": "a"}`
	for range maxFilterDepth + 1 {
		deep = `{"AND": [` + deep + `]}`
	}
	for raw, naming := range map[string]string{
		`{"OR": [{"user_id": "a"}]}`:                  "filters.OR",
		`{"NOT": {"user_id": "a"}}`:                   "filters.NOT",
		`{"user_id": {"ne": "a"}}`:                    `"ne"`,
		`{"categories": {"icontains": "x"}}`:          `"icontains"`,
		`{"agent_id": "bot"}`:                         "filters.agent_id",
		`{"created_at": {"between": "x"}}`:            "filters.created_at",
		`{"user_id": "a", "AND": [{"user_id": "b"}]}`: "two users",
		deep: "levels deep",
	} {
		_, err := filtersFrom(json.RawMessage(raw))
		require.True(t, errors.Is(err, domain.ErrInvalid), raw)
		require.True(t, strings.Contains(err.Error(), naming), "%s: %v", raw, err)
	}
}
