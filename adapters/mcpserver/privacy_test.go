package mcpserver_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/jwtauth"
	"github.com/engram-memory/engram/adapters/mcpserver"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

// newPrivacyHarness is a harness whose MCP server has the subject access
// and erasure tools, backed by a PrivacyService on the same SQLite store,
// which also guards writes.
func newPrivacyHarness(t *testing.T) (*harness, *app.PrivacyService) {
	t.Helper()
	var privacy *app.PrivacyService
	h := newHarness(t, func(su *setup) {
		var err error
		privacy, err = app.NewPrivacyService(app.PrivacyDeps{
			Jobs: su.Store, Store: su.Store, Audit: su.Store, Text: su.Store.TextIndex(),
			HashKey: make([]byte, 32), Grace: 50 * time.Millisecond,
			Export: app.ExportDeps{Memories: su.Store, Apps: su.Store, Access: su.Store, Feedback: su.Store, Queries: su.Store},
		})
		require.NoError(t, err)
		mem := app.NewMemoryService(app.MemoryDeps{Memories: su.Store, Apps: su.Store, Access: su.Store, Guard: privacy})
		t.Cleanup(mem.Close)
		su.Deps.Memories = mem
		su.Deps.Privacy = privacy
	})
	return h, privacy
}

type sarJSON struct {
	Format   string            `json:"format"`
	Version  int               `json:"version"`
	Subject  map[string]string `json:"subject"`
	Memories []struct {
		ID   string `json:"id"`
		Text string `json:"text"`
	} `json:"memories"`
}

type erasureJSON struct {
	ID       string           `json:"id"`
	Status   string           `json:"status"`
	Joined   bool             `json:"joined"`
	Location string           `json:"location"`
	Counts   map[string]int64 `json:"counts"`
}

func TestPrivacyToolsListedOnlyWhenWired(t *testing.T) {
	h, _ := newPrivacyHarness(t)
	res, err := h.connect("/mcp", h.token("alice"), "test").ListTools(context.Background(), nil)
	require.NoError(t, err)
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
	}
	for _, name := range []string{"export_my_data", "erase_my_data", "get_erasure"} {
		require.Contains(t, names, name)
	}
	ph := newHarness(t)
	plain, err := ph.connect("/mcp", ph.token("alice"), "test").ListTools(context.Background(), nil)
	require.NoError(t, err)
	for _, tool := range plain.Tools {
		require.False(t, slices.Contains([]string{"export_my_data", "erase_my_data", "get_erasure"}, tool.Name), tool.Name)
	}
}

func TestExportMyDataHoldsOnlyTheCaller(t *testing.T) {
	h, _ := newPrivacyHarness(t)
	alice := h.connect("/mcp", h.token("alice"), "test")
	bob := h.connect("/mcp", h.token("bob"), "test")
	callOK[addJSON](t, alice, "add_memories", map[string]any{"text": "alice keeps bees"})
	callOK[addJSON](t, bob, "add_memories", map[string]any{"text": "bob collects stamps"})

	doc := callOK[sarJSON](t, alice, "export_my_data", nil)
	require.Equal(t, app.SARFormat, doc.Format)
	require.Equal(t, app.SARVersion, doc.Version)
	require.Equal(t, map[string]string{"org_id": org, "user_id": "alice"}, doc.Subject)
	require.Len(t, doc.Memories, 1)
	require.Equal(t, "alice keeps bees", doc.Memories[0].Text)

	// No argument names another subject: the schema refuses one.
	res := call(t, alice, "export_my_data", map[string]any{"user_id": "bob"})
	require.True(t, res.IsError)

	noRead := h.connect("/mcp", h.token("alice", domain.ScopeMemoriesWrite), "test")
	res = call(t, noRead, "export_my_data", nil)
	require.True(t, res.IsError)
	require.Contains(t, text(res), string(domain.ScopeMemoriesRead))
}

func TestEraseMyDataNeedsConfirmAndErasesOnlyTheCaller(t *testing.T) {
	h, privacy := newPrivacyHarness(t)
	ctx := context.Background()
	alice := h.connect("/mcp", h.token("alice"), "test")
	bob := h.connect("/mcp", h.token("bob"), "test")
	callOK[addJSON](t, alice, "add_memories", map[string]any{"text": "alice keeps bees"})
	bobs := callOK[addJSON](t, bob, "add_memories", map[string]any{"text": "bob collects stamps"})

	for _, args := range []map[string]any{nil, {"confirm": false}} {
		res := call(t, alice, "erase_my_data", args)
		require.True(t, res.IsError)
		require.Contains(t, text(res), "confirm")
	}
	// The OpenMemory-style URL asks for confirm too: no OpenMemory client
	// ever called this tool, so nothing to stay compatible with.
	om := h.connect("/mcp/cursor/http/alice", h.token("alice"), "test")
	res := call(t, om, "erase_my_data", nil)
	require.True(t, res.IsError)
	require.Contains(t, text(res), "confirm")

	readOnly := h.connect("/mcp", h.token("alice", domain.ScopeMemoriesRead), "test")
	res = call(t, readOnly, "erase_my_data", map[string]any{"confirm": true})
	require.True(t, res.IsError)
	require.Contains(t, text(res), string(domain.ScopeMemoriesWrite))
	res = call(t, alice, "erase_my_data", map[string]any{"confirm": true, "user_id": "bob"})
	require.True(t, res.IsError, "no argument names another subject")

	job := callOK[erasureJSON](t, alice, "erase_my_data", map[string]any{"confirm": true})
	require.NotEmpty(t, job.ID)
	require.False(t, job.Joined)
	require.Equal(t, "/api/v1/erasures/"+job.ID, job.Location)
	again := callOK[erasureJSON](t, alice, "erase_my_data", map[string]any{"confirm": true})
	require.Equal(t, job.ID, again.ID, "a second request joins the first job")
	require.True(t, again.Joined)

	// Writes are refused while it runs.
	res = call(t, alice, "add_memories", map[string]any{"text": "written during erasure"})
	require.True(t, res.IsError)
	require.Contains(t, text(res), job.ID)

	// Bob can neither see alice's job nor is touched by it.
	res = call(t, bob, "get_erasure", map[string]any{"id": job.ID})
	require.True(t, res.IsError)
	require.Contains(t, text(res), "not found")
	// Nor can alice of another org, even as its privacy admin.
	evil := h.connect("/mcp", h.mint(jwtauth.Claims{Subject: "alice", OrgID: "evil",
		Scopes: append(slices.Clone(domain.DefaultUserScopes), domain.ScopePrivacyAdmin)}), "test")
	res = call(t, evil, "get_erasure", map[string]any{"id": job.ID})
	require.True(t, res.IsError)
	require.Contains(t, text(res), "not found")
	require.Empty(t, callOK[sarJSON](t, evil, "export_my_data", nil).Memories)

	require.NoError(t, privacy.RunPending(ctx))
	done := callOK[erasureJSON](t, alice, "get_erasure", map[string]any{"id": job.ID})
	require.Equal(t, "done", done.Status)
	require.EqualValues(t, 1, done.Counts[domain.StoreMemories])
	require.Empty(t, callOK[listJSON](t, alice, "list_memories", map[string]any{"state": "deleted"}).Items)
	require.Empty(t, callOK[sarJSON](t, alice, "export_my_data", nil).Memories)
	got := callOK[memoryJSON](t, bob, "get_memory", map[string]any{"id": bobs.Memory.ID})
	require.Equal(t, "bob collects stamps", got.Text)
}

var _ = mcpserver.Deps{}
