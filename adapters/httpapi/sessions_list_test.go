package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
)

// TestSessionList lists the caller's sessions through the shared stack
// (its answers checked against the OpenAPI document): a user's own only,
// bounded, scoped.
func TestSessionList(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.enableSessions(t)
	alice, bob, other := e.user("acme", "alice"), e.user("acme", "bob"), e.user("globex", "alice")
	type listed struct {
		Sessions []struct {
			ID     string `json:"id"`
			Events int    `json:"events"`
		} `json:"sessions"`
	}
	for _, sid := range []string{"chat-1", "chat-2", "chat-2"} {
		decode[map[string]any](t, alice.do(http.MethodPost, "/api/v1/sessions/"+sid+"/events", map[string]any{"role": "user", "text": "hello " + sid}), http.StatusCreated)
	}
	decode[map[string]any](t, bob.do(http.MethodPost, "/api/v1/sessions/bobs-chat/events", map[string]any{"role": "user", "text": "bob here"}), http.StatusCreated)

	got := decode[listed](t, alice.do(http.MethodGet, "/api/v1/sessions", nil), http.StatusOK)
	require.Len(t, got.Sessions, 2)
	require.Equal(t, "chat-2", got.Sessions[0].ID, "the most recently written first")
	require.Equal(t, 2, got.Sessions[0].Events)
	got = decode[listed](t, alice.do(http.MethodGet, "/api/v1/sessions?limit=1", nil), http.StatusOK)
	require.Len(t, got.Sessions, 1)

	got = decode[listed](t, bob.do(http.MethodGet, "/api/v1/sessions", nil), http.StatusOK)
	require.Len(t, got.Sessions, 1, "another user of the org sees only his own")
	require.Equal(t, "bobs-chat", got.Sessions[0].ID)
	require.Empty(t, decode[listed](t, other.do(http.MethodGet, "/api/v1/sessions", nil), http.StatusOK).Sessions, "another org's user sees none")

	requireProblem(t, alice.do(http.MethodGet, "/api/v1/sessions?limit=0", nil), http.StatusBadRequest)
	requireProblem(t, alice.do(http.MethodGet, "/api/v1/sessions?limit=201", nil), http.StatusBadRequest)
	requireProblem(t, e.user("acme", "alice", domain.ScopeMemoriesRead).do(http.MethodGet, "/api/v1/sessions", nil), http.StatusForbidden)
}
