package httpapi_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type timedJSON struct {
	ID         string     `json:"id"`
	CreatedAt  time.Time  `json:"created_at"`
	ObservedAt time.Time  `json:"observed_at"`
	ValidFrom  *time.Time `json:"valid_from"`
	ValidTo    *time.Time `json:"valid_to"`
}

// Issue 18: observed_at, valid_from and valid_to on add and update, in the
// answer, and a bad one is a 400 naming its field.
func TestMemoryTimes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice := e.user("acme", "alice")

	plain := decode[timedJSON](t, alice.do(http.MethodPost, "/api/v1/memories", map[string]any{"text": "likes tea"}), http.StatusCreated)
	require.True(t, plain.ObservedAt.Equal(plain.CreatedAt), "observed_at defaults to created_at")
	require.Nil(t, plain.ValidFrom)
	require.Nil(t, plain.ValidTo)

	m := decode[timedJSON](t, alice.do(http.MethodPost, "/api/v1/memories", map[string]any{
		"text": "lived in Berlin", "observed_at": "2024-05-03T10:00:00+02:00",
		"valid_from": "2019-01-01T00:00:00Z", "valid_to": "2024-05-01T00:00:00Z",
	}), http.StatusCreated)
	require.Equal(t, time.Date(2024, 5, 3, 8, 0, 0, 0, time.UTC), m.ObservedAt.UTC())
	require.Equal(t, time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC), m.ValidFrom.UTC())
	require.Equal(t, time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), m.ValidTo.UTC())

	upd := decode[timedJSON](t, alice.do(http.MethodPatch, "/api/v1/memories/"+m.ID, map[string]any{"valid_to": "2024-06-01T00:00:00Z"}), http.StatusOK)
	require.Equal(t, time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC), upd.ValidTo.UTC())
	require.Equal(t, m.ObservedAt, upd.ObservedAt, "absent fields are kept")
	got := decode[timedJSON](t, alice.do(http.MethodGet, "/api/v1/memories/"+m.ID, nil), http.StatusOK)
	require.Equal(t, upd, got)

	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"text": "x", "observed_at": "yesterday"}, "observed_at"},
		{map[string]any{"text": "x", "valid_from": "2024-13-01T00:00:00Z"}, "valid_from"},
		{map[string]any{"text": "x", "valid_to": 12}, "valid_to"},
		{map[string]any{"text": "x", "valid_from": "2024-01-02T00:00:00Z", "valid_to": "2024-01-01T00:00:00Z"}, "valid_to"},
		{map[string]any{"text": "x", "observed_at": time.Now().Add(72 * time.Hour).Format(time.RFC3339)}, "observed_at"},
		{map[string]any{"text": "x", "observed_at": "1066-10-14T00:00:00Z"}, "observed_at"},
	} {
		p := requireProblem(t, alice.do(http.MethodPost, "/api/v1/memories", c.body), http.StatusBadRequest)
		require.NotEmpty(t, p.Errors, "%v", c.body)
		require.Equal(t, c.field, p.Errors[0].Field, "%v", c.body)
	}
	p := requireProblem(t, alice.do(http.MethodPatch, "/api/v1/memories/"+m.ID, map[string]any{"valid_from": "2025-01-01T00:00:00Z"}), http.StatusBadRequest)
	require.Equal(t, "valid_to", p.Errors[0].Field, "valid_from after the stored valid_to")
}

// Issue 18: search's observed_after, observed_before and as_of, in every
// mode (the lexical filter runs in the store's query, the vector one when
// the memories are loaded).
func TestSearchTimeFilters(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *envOptions) { o.search = true }) // the search stack runs on SQLite
	alice := e.user("acme", "alice")
	add := func(body map[string]any) string {
		return decode[timedJSON](t, alice.do(http.MethodPost, "/api/v1/memories", body), http.StatusCreated).ID
	}
	berlin := add(map[string]any{"text": "Alice lives in Berlin", "observed_at": "2023-03-01T00:00:00Z", "valid_to": "2024-05-01T00:00:00Z"})
	lisbon := add(map[string]any{"text": "Alice lives in Lisbon", "observed_at": "2024-05-01T00:00:00Z", "valid_from": "2024-05-01T00:00:00Z"})
	bob := e.user("acme", "bob")
	decode[timedJSON](t, bob.do(http.MethodPost, "/api/v1/memories", map[string]any{"text": "Bob lives in Lisbon", "observed_at": "2024-06-01T00:00:00Z"}), http.StatusCreated)

	search := func(body map[string]any) []string {
		t.Helper()
		body["query"] = "where does Alice live"
		res := decode[struct {
			Results []struct {
				Memory timedJSON `json:"memory"`
			} `json:"results"`
		}](t, alice.do(http.MethodPost, "/api/v1/search", body), http.StatusOK)
		var ids []string
		for _, r := range res.Results {
			ids = append(ids, r.Memory.ID)
		}
		return ids
	}
	for _, mode := range []string{"hybrid", "lexical", "vector"} {
		require.ElementsMatch(t, []string{berlin, lisbon}, search(map[string]any{"mode": mode}), mode)
		require.Equal(t, []string{berlin}, search(map[string]any{"mode": mode, "as_of": "2023-12-01T00:00:00Z"}), mode)
		require.Equal(t, []string{lisbon}, search(map[string]any{"mode": mode, "as_of": "2024-07-01T00:00:00Z"}), mode)
		require.Empty(t, search(map[string]any{"mode": mode, "as_of": "2022-01-01T00:00:00Z"}), mode+": nothing was said yet")
		require.Equal(t, []string{lisbon}, search(map[string]any{"mode": mode, "observed_after": "2024-01-01T00:00:00Z"}), mode)
		require.Equal(t, []string{berlin}, search(map[string]any{"mode": mode, "observed_before": "2024-01-01T00:00:00Z"}), mode)
	}
	p := requireProblem(t, alice.do(http.MethodPost, "/api/v1/search", map[string]any{"query": "x", "as_of": "last week"}), http.StatusBadRequest)
	require.Equal(t, "as_of", p.Errors[0].Field)
	p = requireProblem(t, alice.do(http.MethodPost, "/api/v1/search", map[string]any{"query": "x",
		"observed_after": "2024-01-01T00:00:00Z", "observed_before": "2023-01-01T00:00:00Z"}), http.StatusBadRequest)
	require.Equal(t, "observed_after", p.Errors[0].Field)
}
