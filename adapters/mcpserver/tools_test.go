package mcpserver_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/jwtauth"
	"github.com/engram-memory/engram/domain"
)

var memoryTools = []string{
	"add_memories", "delete_all_memories", "delete_memories", "get_memory",
	"list_memories", "search_memory", "update_memory",
}

func TestToolsListedWithSchemas(t *testing.T) {
	h := newHarness(t)
	cs := h.connect("/mcp", h.token("alice"), "Claude Desktop")
	require.Equal(t, "engram", cs.InitializeResult().ServerInfo.Name)

	res, err := cs.ListTools(context.Background(), nil)
	require.NoError(t, err)
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
		require.NotEmpty(t, tool.Description, tool.Name)
		require.NotNil(t, tool.InputSchema, tool.Name)
		require.NotNil(t, tool.OutputSchema, tool.Name)
	}
	slices.Sort(names)
	require.Equal(t, memoryTools, names, "session tools appear only with a session service")
}

func TestEveryMemoryToolRoundTrips(t *testing.T) {
	h := newHarness(t)
	cs := h.connect("/mcp", h.token("alice"), "Claude Desktop")

	added := callOK[addJSON](t, cs, "add_memories", map[string]any{
		"text": "Prefers window seats on long flights", "metadata": map[string]any{"source": "chat", "confidence": 0.9},
		"categories": []string{"Travel", "preferences"},
	})
	require.True(t, added.Created)
	require.Equal(t, "claude-desktop", added.Memory.App, "the handshake's client name is the app")
	require.Equal(t, []string{"travel", "preferences"}, added.Memory.Categories)
	require.Equal(t, "chat", added.Memory.Metadata["source"])

	again := callOK[addJSON](t, cs, "add_memories", map[string]any{"text": "Prefers window seats on long flights"})
	require.False(t, again.Created)
	require.Equal(t, added.Memory.ID, again.Memory.ID)

	other := callOK[addJSON](t, cs, "add_memories", map[string]any{"text": "Works on a Go memory service", "app": "Cursor"})
	require.Equal(t, "cursor", other.Memory.App, "an explicit app wins, as a slug")

	found := callOK[searchJSON](t, cs, "search_memory", map[string]any{"query": "window seats", "limit": 5})
	require.NotEmpty(t, found.Results)
	require.Equal(t, added.Memory.ID, found.Results[0].ID)
	require.Greater(t, found.Results[0].Score, 0.0)
	filtered := callOK[searchJSON](t, cs, "search_memory", map[string]any{"query": "seats", "filters": map[string]any{"app": "cursor"}})
	require.Empty(t, filtered.Results, "the app filter excludes claude-desktop's memory")

	list := callOK[listJSON](t, cs, "list_memories", map[string]any{"limit": 1})
	require.Len(t, list.Items, 1)
	require.Equal(t, other.Memory.ID, list.Items[0].ID, "newest first")
	require.NotEmpty(t, list.NextCursor)
	next := callOK[listJSON](t, cs, "list_memories", map[string]any{"limit": 1, "cursor": list.NextCursor})
	require.Equal(t, added.Memory.ID, next.Items[0].ID)
	byApp := callOK[listJSON](t, cs, "list_memories", map[string]any{"app": "cursor"})
	require.Len(t, byApp.Items, 1)

	got := callOK[memoryJSON](t, cs, "get_memory", map[string]any{"id": added.Memory.ID})
	require.Equal(t, "Prefers window seats on long flights", got.Text)

	upd := callOK[memoryJSON](t, cs, "update_memory", map[string]any{"id": added.Memory.ID, "text": "Prefers aisle seats now"})
	require.Equal(t, "Prefers aisle seats now", upd.Text)
	require.Equal(t, "chat", upd.Metadata["source"], "metadata kept when not given")

	del := callOK[deletedJSON](t, cs, "delete_memories", map[string]any{"ids": []string{added.Memory.ID}})
	require.Equal(t, 1, del.Deleted)
	deleted := callOK[memoryJSON](t, cs, "get_memory", map[string]any{"id": added.Memory.ID})
	require.Equal(t, "deleted", deleted.State)

	refused := call(t, cs, "delete_all_memories", map[string]any{"confirm": false})
	require.True(t, refused.IsError)
	require.Contains(t, text(refused), "confirm")
	all := callOK[deletedJSON](t, cs, "delete_all_memories", map[string]any{"confirm": true})
	require.Equal(t, 1, all.Deleted)
	empty := callOK[listJSON](t, cs, "list_memories", nil)
	require.Empty(t, empty.Items)
}

func TestToolErrorsNameTheProblem(t *testing.T) {
	h := newHarness(t)
	cs := h.connect("/mcp", h.token("alice"), "test")

	res := call(t, cs, "get_memory", map[string]any{"id": "not-a-uuid"})
	require.True(t, res.IsError)
	require.Contains(t, text(res), "invalid id")

	res = call(t, cs, "get_memory", map[string]any{"id": string(domain.NewMemoryID(time.Now()))})
	require.True(t, res.IsError)
	require.Contains(t, text(res), "not found")

	res = call(t, cs, "add_memories", map[string]any{"text": "   "})
	require.True(t, res.IsError)
	require.Contains(t, text(res), "invalid text")

	res = call(t, cs, "get_memory", map[string]any{})
	require.True(t, res.IsError, "a required argument is missing")
	require.Contains(t, text(res), "id")

	res = call(t, cs, "add_memories", map[string]any{"text": "fine", "user_id": "bob"})
	require.True(t, res.IsError, "unknown arguments are refused, so no user_id can slip in")
	require.Contains(t, text(res), "user_id")

	res = call(t, cs, "list_memories", map[string]any{"limit": "ten"})
	require.True(t, res.IsError)

	res = call(t, cs, "list_memories", map[string]any{"limit": 1000000})
	require.True(t, res.IsError)
	require.Contains(t, text(res), "limit")
}

func TestMissingScopeIsAToolErrorNamingIt(t *testing.T) {
	h := newHarness(t)
	reader := h.connect("/mcp", h.token("alice", domain.ScopeMemoriesRead), "test")

	res := call(t, reader, "add_memories", map[string]any{"text": "should not be stored"})
	require.True(t, res.IsError)
	require.Contains(t, text(res), `"memories:write"`)
	list := callOK[listJSON](t, reader, "list_memories", nil)
	require.Empty(t, list.Items, "nothing was written")

	writer := h.connect("/mcp", h.token("alice", domain.ScopeMemoriesWrite), "test")
	res = call(t, writer, "search_memory", map[string]any{"query": "anything"})
	require.True(t, res.IsError)
	require.Contains(t, text(res), `"memories:read"`)
}

func TestAnotherTenantsMemoryIsNeverVisible(t *testing.T) {
	h := newHarness(t)
	alice := h.connect("/mcp", h.token("alice"), "test")
	secret := callOK[addJSON](t, alice, "add_memories", map[string]any{"text": "Alice's passport expires in May"})

	for _, tok := range []string{
		h.token("bob"), // same org, other user
		h.mint(jwtauth.Claims{Subject: "alice", OrgID: "other-org"}), // same user name, other org
	} {
		cs := h.connect("/mcp", tok, "test")
		res := call(t, cs, "get_memory", map[string]any{"id": secret.Memory.ID})
		require.True(t, res.IsError)
		require.Contains(t, text(res), "not found")
		require.Empty(t, callOK[listJSON](t, cs, "list_memories", nil).Items)
		require.Empty(t, callOK[searchJSON](t, cs, "search_memory", map[string]any{"query": "passport"}).Results)
		res = call(t, cs, "update_memory", map[string]any{"id": secret.Memory.ID, "text": "hijacked"})
		require.True(t, res.IsError)
		res = call(t, cs, "delete_memories", map[string]any{"ids": []string{secret.Memory.ID}})
		require.True(t, res.IsError)
		require.Equal(t, 0, callOK[deletedJSON](t, cs, "delete_all_memories", map[string]any{"confirm": true}).Deleted)
	}
	still := callOK[memoryJSON](t, alice, "get_memory", map[string]any{"id": secret.Memory.ID})
	require.Equal(t, "Alice's passport expires in May", still.Text)
	require.Equal(t, "active", still.State)
}

func TestTokenClientIDNamesTheApp(t *testing.T) {
	h := newHarness(t)
	tok := h.mint(jwtauth.Claims{Subject: "alice", OrgID: org, ClientID: "My Agent"})
	cs := h.connect("/mcp", tok, "Claude Desktop")
	added := callOK[addJSON](t, cs, "add_memories", map[string]any{"text": "Token client wins over the handshake"})
	require.Equal(t, "my-agent", added.Memory.App)
}
