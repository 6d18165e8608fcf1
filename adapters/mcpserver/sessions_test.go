package mcpserver_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

func withSessions(t *testing.T) func(*setup) {
	return func(su *setup) {
		d := &su.Deps
		store := inproc.NewSessionStore(inproc.SessionOptions{})
		t.Cleanup(func() { _ = store.Close() })
		d.Sessions = app.NewSessionService(app.SessionDeps{Sessions: store, Memories: d.Memories})
	}
}

type eventJSON struct {
	ID    string  `json:"id"`
	Role  string  `json:"role"`
	Text  string  `json:"text"`
	Score float64 `json:"score"`
}

type contextJSON struct {
	SessionID string       `json:"session_id"`
	Query     string       `json:"query"`
	Events    []eventJSON  `json:"events"`
	Memories  []memoryJSON `json:"memories"`
	Omitted   []string     `json:"omitted"`
}

func TestSessionToolsAppearWithASessionService(t *testing.T) {
	h := newHarness(t, withSessions(t))
	cs := h.connect("/mcp", h.token("alice"), "agent")
	res, err := cs.ListTools(context.Background(), nil)
	require.NoError(t, err)
	require.Len(t, res.Tools, len(memoryTools)+2)

	callOK[addJSON](t, cs, "add_memories", map[string]any{"text": "Prefers window seats"})
	first := callOK[eventJSON](t, cs, "add_session_event", map[string]any{"session_id": "trip-1", "role": "user", "text": "Book me a flight with window seats"})
	require.Equal(t, "user", first.Role)
	second := callOK[eventJSON](t, cs, "add_session_event", map[string]any{"session_id": "trip-1", "role": "assistant", "text": "Which day?"})

	sc := callOK[contextJSON](t, cs, "get_session_context", map[string]any{"session_id": "trip-1", "query": "window seats"})
	require.Equal(t, "trip-1", sc.SessionID)
	require.Len(t, sc.Events, 2)
	require.Equal(t, second.ID, sc.Events[0].ID, "newest first")
	require.Greater(t, sc.Events[0].Score, 0.0)
	require.Len(t, sc.Memories, 1)
	require.Equal(t, "Prefers window seats", sc.Memories[0].Text)

	bad := call(t, cs, "add_session_event", map[string]any{"session_id": "trip-1", "role": "narrator", "text": "x"})
	require.True(t, bad.IsError)
	require.Contains(t, text(bad), "role")

	bob := h.connect("/mcp", h.token("bob"), "agent")
	other := callOK[contextJSON](t, bob, "get_session_context", map[string]any{"session_id": "trip-1", "query": "window"})
	require.Empty(t, other.Events, "another user's session of the same id is empty")
	require.Empty(t, other.Memories)
}

func TestSessionToolsCheckSessionScopes(t *testing.T) {
	h := newHarness(t, withSessions(t))
	cs := h.connect("/mcp", h.token("alice", domain.ScopeMemoriesRead, domain.ScopeMemoriesWrite), "agent")
	res := call(t, cs, "add_session_event", map[string]any{"session_id": "s", "role": "user", "text": "hi"})
	require.True(t, res.IsError)
	require.Contains(t, text(res), `"sessions:write"`)
	res = call(t, cs, "get_session_context", map[string]any{"session_id": "s"})
	require.True(t, res.IsError)
	require.Contains(t, text(res), `"sessions:read"`)
}
