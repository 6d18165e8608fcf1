package mcpserver_test

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

// TestZeroArgumentIsRefusedNotDefaulted sweeps every optional number of
// every tool (issue 11): a model that passes 0 gets a tool error naming the
// argument, never the default silently.
func TestZeroArgumentIsRefusedNotDefaulted(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(s *setup) {
		st := inproc.NewSessionStore(inproc.SessionOptions{})
		t.Cleanup(func() { _ = st.Close() })
		s.Deps.Sessions = app.NewSessionService(app.SessionDeps{Sessions: st, Memories: s.Deps.Memories})
	})
	cs := h.connect("/mcp", h.token("alice", append([]domain.Scope{domain.ScopeSessionsRead, domain.ScopeSessionsWrite}, domain.DefaultUserScopes...)...), "zero")
	callOK[map[string]any](t, cs, "add_memories", map[string]any{"text": "likes tea"})
	for _, c := range []struct {
		tool string
		args map[string]any
		arg  string
	}{
		{"search_memory", map[string]any{"query": "tea", "limit": 0}, "limit"},
		{"list_memories", map[string]any{"limit": 0}, "limit"},
		{"get_session_context", map[string]any{"session_id": "s1", "events": 0}, "events"},
		{"get_session_context", map[string]any{"session_id": "s1", "memories": 0}, "memories"},
	} {
		res := call(t, cs, c.tool, c.args)
		require.True(t, res.IsError, "%s %v: %s", c.tool, c.args, text(res))
		require.Contains(t, text(res), c.arg, c.tool)
	}
	// Absent is still the default.
	callOK[map[string]any](t, cs, "list_memories", map[string]any{})
	callOK[map[string]any](t, cs, "get_session_context", map[string]any{"session_id": "s1"})
}

// TestInvalidUTF8ArgumentIsRefused sends raw JSON-RPC (a Go client would
// have replaced the bytes before sending) with bad UTF-8 in a tool's text
// argument: the tool answers an error naming the argument and stores
// nothing, rather than storing U+FFFD.
func TestInvalidUTF8ArgumentIsRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	authz := "Bearer " + h.token("alice")
	resp := h.post("/mcp", authz, "", initializeBody)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	sid := resp.Header.Get("Mcp-Session-Id")
	require.Equal(t, http.StatusAccepted, h.post("/mcp", authz, sid, `{"jsonrpc":"2.0","method":"notifications/initialized"}`).StatusCode)
	for _, bad := range []string{"\xff\xfe", "\xc0\xaf", "\x80", `\ud800`} {
		resp := h.post("/mcp", authz, sid, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"add_memories","arguments":{"text":"tea `+bad+`"}}}`)
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
		require.Contains(t, string(body), `"isError":true`, "%q: %s", bad, body)
		require.Contains(t, string(body), "text", "%q: %s", bad, body)
		require.Contains(t, string(body), "UTF-8", "%q: %s", bad, body)
	}
	// The sweep: every tool checks its raw arguments before decoding.
	cs := h.connect("/mcp", h.token("alice"), "check")
	tools, err := cs.ListTools(context.Background(), nil)
	require.NoError(t, err)
	require.NotEmpty(t, tools.Tools)
	for _, tool := range tools.Tools {
		resp := h.post("/mcp", authz, sid, `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"`+tool.Name+`","arguments":{"zz":"x`+"\xff"+`"}}}`)
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Contains(t, string(body), `"isError":true`, "%s: %s", tool.Name, body)
		require.Contains(t, string(body), "zz", "%s: %s", tool.Name, body)
		require.Contains(t, string(body), "UTF-8", "%s: %s", tool.Name, body)
	}
	list := callOK[struct {
		Items []any `json:"items"`
	}](t, cs, "list_memories", map[string]any{})
	require.Empty(t, list.Items, "nothing was stored")
}
