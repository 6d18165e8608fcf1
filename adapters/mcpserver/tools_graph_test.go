package mcpserver_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/jwtauth"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

// withGraph links memories to entities and adds the entity tools.
func withGraph(su *setup) {
	su.Deps.Memories = app.NewMemoryService(app.MemoryDeps{
		Memories: su.Store, Apps: su.Store, Access: su.Store,
		Observers: []app.ChangeObserver{&app.EntityLinker{Memories: su.Store, Entities: su.Store}},
	})
	su.Deps.Graph = &app.GraphService{Memories: su.Store, Entities: su.Store}
}

type entitiesJSON struct {
	Entities []struct {
		ID       string `json:"id"`
		Name     string `json:"name"`
		Type     string `json:"type"`
		Memories int    `json:"memories"`
	} `json:"entities"`
}

type relatedJSON struct {
	Entity struct {
		Name string `json:"name"`
	} `json:"entity"`
	Memories []struct {
		Text string `json:"text"`
	} `json:"memories"`
	Neighbours []struct {
		Entity struct {
			Name string `json:"name"`
		} `json:"entity"`
		Weight float64 `json:"weight"`
	} `json:"neighbours"`
}

func TestEntityToolsFindRelatedMemoriesOfTheCallerOnly(t *testing.T) {
	h := newHarness(t, withGraph)
	t.Cleanup(h.mem.Close)
	alice := h.connect("/mcp", h.token("alice"), "test")
	for _, text := range []string{"Anna moved to Lisbon.", "Anna works at Farfetch."} {
		callOK[addJSON](t, alice, "add_memories", map[string]any{"text": text})
	}
	found := callOK[entitiesJSON](t, alice, "search_entities", map[string]any{"query": "ann"})
	require.Len(t, found.Entities, 1)
	require.Equal(t, "Anna", found.Entities[0].Name)
	require.Equal(t, 2, found.Entities[0].Memories)
	rel := callOK[relatedJSON](t, alice, "related_memories", map[string]any{"entity_id": found.Entities[0].ID})
	require.Len(t, rel.Memories, 2)
	require.Equal(t, "Anna works at Farfetch.", rel.Memories[0].Text, "newest first")
	require.Len(t, rel.Neighbours, 2)

	for _, tok := range []string{h.token("bob"), h.mint(jwtauth.Claims{Subject: "alice", OrgID: "other-org"})} {
		cs := h.connect("/mcp", tok, "test")
		require.Empty(t, callOK[entitiesJSON](t, cs, "search_entities", nil).Entities)
		res := call(t, cs, "related_memories", map[string]any{"entity_id": found.Entities[0].ID})
		require.True(t, res.IsError)
		require.Contains(t, text(res), "not found")
		require.NotContains(t, text(res), "Lisbon")
	}
	narrow := h.connect("/mcp", h.token("alice", domain.ScopeMemoriesRead), "test")
	res := call(t, narrow, "search_entities", nil)
	require.True(t, res.IsError)
	require.Contains(t, text(res), string(domain.ScopeEntitiesRead))
}
