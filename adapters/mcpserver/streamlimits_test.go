package mcpserver_test

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"
)

// dial opens an MCP session with the SDK client, returning the error
// instead of failing.
func (h *harness) dial(token string) (*mcp.ClientSession, error) {
	c := mcp.NewClient(&mcp.Implementation{Name: "cap-test", Version: "1.0"}, nil)
	tr := &mcp.StreamableClientTransport{Endpoint: h.public + "/mcp", HTTPClient: h.client(token, nil), MaxRetries: -1}
	return c.Connect(context.Background(), tr, nil)
}

// One user holds at most MaxSessionsPerUser Streamable HTTP sessions: the
// next initialize is a 429 problem (issue 12: 3,000 sessions in 3.6 s from
// one token), another user is unaffected, and closing a session frees its
// place.
func TestStreamableSessionsCappedPerUser(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.Config.MaxSessionsPerUser = 2 })
	alice, bob := h.token("alice"), h.token("bob")
	a1, err := h.dial(alice)
	require.NoError(t, err)
	t.Cleanup(func() { _ = a1.Close() })
	a2, err := h.dial(alice)
	require.NoError(t, err)
	t.Cleanup(func() { _ = a2.Close() })
	_, err = h.dial(alice)
	require.Error(t, err, "a third session for alice is refused")

	res := h.post("/mcp", "Bearer "+alice, "", initializeBody)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	require.Equal(t, http.StatusTooManyRequests, res.StatusCode)
	require.Equal(t, "application/problem+json", res.Header.Get("Content-Type"))
	require.NotEmpty(t, res.Header.Get("Retry-After"))
	require.Contains(t, string(body), "too many open MCP sessions")

	b1, err := h.dial(bob)
	require.NoError(t, err, "bob has his own cap")
	t.Cleanup(func() { _ = b1.Close() })

	require.NoError(t, a1.Close()) // DELETE: the SDK ends the session
	a3, err := h.dial(alice)
	require.NoError(t, err, "a closed session frees its place")
	t.Cleanup(func() { _ = a3.Close() })
}

// A session past SessionMaxLifetime is closed: its next request is 404
// (the transport's "initialize again"), and a new session works.
func TestStreamableSessionMaxLifetime(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.Config.SessionMaxLifetime = 300 * time.Millisecond })
	alice := h.token("alice")
	cs, err := h.dial(alice)
	require.NoError(t, err)
	t.Cleanup(func() { _ = cs.Close() })
	_, err = cs.ListTools(context.Background(), nil)
	require.NoError(t, err)
	time.Sleep(400 * time.Millisecond)
	_, err = cs.ListTools(context.Background(), nil)
	require.Error(t, err, "the old session is gone")

	res := h.post("/mcp", "Bearer "+alice, cs.ID(), `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`)
	res.Body.Close()
	require.Equal(t, http.StatusNotFound, res.StatusCode)

	fresh, err := h.dial(alice)
	require.NoError(t, err)
	t.Cleanup(func() { _ = fresh.Close() })
	tools, err := fresh.ListTools(context.Background(), nil)
	require.NoError(t, err)
	require.NotEmpty(t, tools.Tools)
	require.NotEqual(t, cs.ID(), fresh.ID())
}
