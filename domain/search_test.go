package domain_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
)

func TestParseSearchMode(t *testing.T) {
	m, err := domain.ParseSearchMode("")
	require.NoError(t, err)
	require.Equal(t, domain.SearchHybrid, m)
	for _, s := range []string{"hybrid", "lexical", "vector"} {
		m, err := domain.ParseSearchMode(s)
		require.NoError(t, err)
		require.Equal(t, domain.SearchMode(s), m)
	}
	_, err = domain.ParseSearchMode("semantic")
	require.ErrorIs(t, err, domain.ErrInvalid)
}

func TestSearchFilterMatches(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	md := domain.Metadata{"kind": "fact", "n": float64(3), "ok": true}
	cats := []string{"food", "travel"}
	cases := []struct {
		name string
		f    domain.SearchFilter
		want bool
	}{
		{"zero", domain.SearchFilter{}, true},
		{"app", domain.SearchFilter{App: "cursor"}, true},
		{"other app", domain.SearchFilter{App: "claude"}, false},
		{"all categories", domain.SearchFilter{Categories: []string{"food", "travel"}}, true},
		{"missing category", domain.SearchFilter{Categories: []string{"food", "work"}}, false},
		{"metadata string", domain.SearchFilter{Metadata: domain.Metadata{"kind": "fact"}}, true},
		{"metadata number", domain.SearchFilter{Metadata: domain.Metadata{"n": float64(3)}}, true},
		{"metadata bool", domain.SearchFilter{Metadata: domain.Metadata{"ok": true}}, true},
		{"metadata type mismatch", domain.SearchFilter{Metadata: domain.Metadata{"n": "3"}}, false},
		{"metadata absent", domain.SearchFilter{Metadata: domain.Metadata{"x": "y"}}, false},
		{"after inclusive", domain.SearchFilter{CreatedAfter: t0}, true},
		{"after", domain.SearchFilter{CreatedAfter: t0.Add(time.Second)}, false},
		{"before exclusive", domain.SearchFilter{CreatedBefore: t0}, false},
		{"before", domain.SearchFilter{CreatedBefore: t0.Add(time.Second)}, true},
	}
	for _, c := range cases {
		require.Equal(t, c.want, c.f.Matches("cursor", cats, md, t0), c.name)
	}
}

func TestSearchFilterValidate(t *testing.T) {
	f := domain.SearchFilter{Categories: []string{" Food ", "food"}, Metadata: domain.Metadata{"n": 3}}
	require.NoError(t, f.Validate())
	require.Equal(t, []string{"food"}, f.Categories)
	require.Equal(t, float64(3), f.Metadata["n"])
	require.True(t, domain.SearchFilter{}.IsZero())
	require.False(t, f.IsZero())

	bad := []domain.SearchFilter{
		{App: "Bad App"},
		{Metadata: domain.Metadata{"x": []any{1}}},
		{CreatedAfter: time.Unix(10, 0), CreatedBefore: time.Unix(5, 0)},
	}
	for _, f := range bad {
		require.ErrorIs(t, f.Validate(), domain.ErrInvalid)
	}
}
