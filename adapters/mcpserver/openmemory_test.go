package mcpserver_test

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestOpenMemoryArguments is an OpenMemory-style client on its URL
// (/mcp/{client}/http/{user}): add_memories with infer, delete_memories
// with memory_ids and delete_all_memories without confirm all work, and a
// bridge's version in the client name does not make a new app.
func TestOpenMemoryArguments(t *testing.T) {
	h := newHarness(t)
	cs := h.connect("/mcp/claude-desktop-via-mcp-remote-0.15.1/http/alice", h.token("alice"), "claude-desktop-via-mcp-remote-0.15.1")
	one := callOK[addJSON](t, cs, "add_memories", map[string]any{"text": "Prefers aisle seats", "infer": true})
	require.Equal(t, "claude-desktop", one.Memory.App, "the bridge and its version are not part of the app")
	two := callOK[addJSON](t, cs, "add_memories", map[string]any{"text": "Allergic to peanuts", "infer": false})
	callOK[addJSON](t, cs, "add_memories", map[string]any{"text": "Lives in Lyon"})

	del := callOK[deletedJSON](t, cs, "delete_memories", map[string]any{"memory_ids": []string{one.Memory.ID, two.Memory.ID}})
	require.Equal(t, 2, del.Deleted)
	all := callOK[deletedJSON](t, cs, "delete_all_memories", map[string]any{})
	require.Equal(t, 1, all.Deleted, "no confirm on the OpenMemory-style URL")

	plain := h.connect("/mcp", h.token("alice"), "Claude Desktop")
	callOK[addJSON](t, plain, "add_memories", map[string]any{"text": "Keeps a cat"})
	res := call(t, plain, "delete_all_memories", map[string]any{})
	require.True(t, res.IsError, "/mcp keeps asking for confirm")
	require.Contains(t, text(res), "confirm")
	res = call(t, plain, "delete_memories", map[string]any{})
	require.True(t, res.IsError)
	require.Contains(t, text(res), "memory_ids")
}
