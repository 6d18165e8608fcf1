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
