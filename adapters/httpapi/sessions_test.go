package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
)

// TestSessionRoutes drives the session routes end to end so that their
// fragment of the OpenAPI document is checked against real responses (every
// env.serve is), and their tenancy and scopes through the shared stack.
func TestSessionRoutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.enableSessions(t)
	alice := e.user("acme", "alice")

	type event struct {
		ID   string `json:"id"`
		Role string `json:"role"`
		Text string `json:"text"`
	}
	ev := decode[event](t, alice.do(http.MethodPost, "/api/v1/sessions/chat-1/events", map[string]any{"role": "user", "text": "I moved to Lyon"}), http.StatusCreated)
	require.Equal(t, "user", ev.Role)
	decode[event](t, alice.do(http.MethodPost, "/api/v1/sessions/chat-1/events", map[string]any{"role": "assistant", "text": "Noted."}), http.StatusCreated)

	list := decode[struct {
		SessionID string  `json:"session_id"`
		Events    []event `json:"events"`
	}](t, alice.do(http.MethodGet, "/api/v1/sessions/chat-1/events?limit=10", nil), http.StatusOK)
	require.Equal(t, "chat-1", list.SessionID)
	require.Len(t, list.Events, 2)

	alice.add("lives in Paris")
	ctx := decode[map[string]any](t, alice.do(http.MethodGet, "/api/v1/sessions/chat-1/context?query=Paris&events=5&memories=3", nil), http.StatusOK)
	require.Len(t, ctx["events"], 2)

	promoted := decode[struct {
		Promoted []struct {
			EventID string     `json:"event_id"`
			Memory  memoryJSON `json:"memory"`
			Created bool       `json:"created"`
		} `json:"promoted"`
	}](t, alice.do(http.MethodPost, "/api/v1/sessions/chat-1/promote", map[string]any{"event_ids": []string{ev.ID}}), http.StatusOK)
	require.Len(t, promoted.Promoted, 1)
	require.True(t, promoted.Promoted[0].Created)
	require.Equal(t, "I moved to Lyon", promoted.Promoted[0].Memory.Text)

	// Another tenant sees no such session; bad input and scopes are problems.
	bob := e.user("acme", "bob")
	require.Empty(t, decode[struct {
		Events []event `json:"events"`
	}](t, bob.do(http.MethodGet, "/api/v1/sessions/chat-1/events", nil), http.StatusOK).Events)
	requireProblem(t, bob.do(http.MethodDelete, "/api/v1/sessions/chat-1", nil), http.StatusNotFound)
	requireProblem(t, alice.do(http.MethodPost, "/api/v1/sessions/chat-1/events", map[string]any{"role": "robot", "text": "x"}), http.StatusBadRequest)
	requireProblem(t, alice.do(http.MethodGet, "/api/v1/sessions/chat-1/events?limit=0", nil), http.StatusBadRequest)
	requireProblem(t, alice.do(http.MethodGet, "/api/v1/sessions/-bad/events", nil), http.StatusBadRequest)
	requireProblem(t, e.user("acme", "alice", domain.ScopeMemoriesRead).do(http.MethodGet, "/api/v1/sessions/chat-1/events", nil), http.StatusForbidden)

	require.Equal(t, http.StatusNoContent, alice.do(http.MethodDelete, "/api/v1/sessions/chat-1", nil).Code)
	requireProblem(t, alice.do(http.MethodDelete, "/api/v1/sessions/chat-1", nil), http.StatusNotFound)
}
