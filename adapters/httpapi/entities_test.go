package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
)

type entityJSON struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Type     string   `json:"type"`
	Aliases  []string `json:"aliases"`
	Memories int      `json:"memories"`
}

type entityPageJSON struct {
	Items      []entityJSON `json:"items"`
	NextCursor *string      `json:"next_cursor"`
}

type subgraphJSON struct {
	Nodes []struct {
		ID    string `json:"id"`
		Kind  string `json:"kind"`
		Label string `json:"label"`
		Depth int    `json:"depth"`
	} `json:"nodes"`
	Edges []struct {
		From   string  `json:"from"`
		To     string  `json:"to"`
		Kind   string  `json:"kind"`
		Weight float64 `json:"weight"`
	} `json:"edges"`
	Truncated bool `json:"truncated"`
}

func withGraph(o *envOptions) { o.graph = true }

func expectStatus(t *testing.T, rec *httptest.ResponseRecorder, status int) {
	t.Helper()
	require.Equal(t, status, rec.Code, rec.Body.String())
}

// entityNamed finds the caller's entity by exact name through search.
func entityNamed(t *testing.T, c caller, name string) entityJSON {
	t.Helper()
	page := decode[entityPageJSON](t, c.do(http.MethodGet, "/api/v1/entities?q="+url.QueryEscape(name), nil), http.StatusOK)
	for _, e := range page.Items {
		if e.Name == name {
			return e
		}
	}
	t.Fatalf("no entity %q in %+v", name, page.Items)
	return entityJSON{}
}

func TestEntityAndGraphRoutes(t *testing.T) {
	onEachBackend(t, func(t *testing.T, opt func(*envOptions)) {
		e := newEnv(t, opt, withGraph)
		alice := e.user("org-1", "alice")
		add := func(text string) memoryJSON {
			return decode[memoryJSON](t, alice.do(http.MethodPost, "/api/v1/memories", map[string]any{"text": text}), http.StatusCreated)
		}
		m1 := add("Anna moved to Lisbon in March 2024.")
		add("Anna works at Farfetch with Jonas Weber.")
		m3 := add("Jonas Weber spoke at KubeCon in Amsterdam.")

		page := decode[entityPageJSON](t, alice.do(http.MethodGet, "/api/v1/entities?limit=2", nil), http.StatusOK)
		require.Len(t, page.Items, 2)
		require.NotNil(t, page.NextCursor)
		require.Contains(t, []string{"Anna", "Jonas Weber"}, page.Items[0].Name)
		next := decode[entityPageJSON](t, alice.do(http.MethodGet, "/api/v1/entities?limit=100&cursor="+url.QueryEscape(*page.NextCursor), nil), http.StatusOK)
		require.NotEmpty(t, next.Items)
		places := decode[entityPageJSON](t, alice.do(http.MethodGet, "/api/v1/entities?type=place", nil), http.StatusOK)
		require.Len(t, places.Items, 2, "Lisbon and Amsterdam")

		anna, lisbon, amsterdam := entityNamed(t, alice, "Anna"), entityNamed(t, alice, "Lisbon"), entityNamed(t, alice, "Amsterdam")
		require.Equal(t, "person", anna.Type)
		require.Equal(t, 2, anna.Memories)
		view := decode[struct {
			Entity     entityJSON   `json:"entity"`
			Memories   []memoryJSON `json:"memories"`
			Neighbours []struct {
				Entity entityJSON `json:"entity"`
				Weight float64    `json:"weight"`
			} `json:"neighbours"`
		}](t, alice.do(http.MethodGet, "/api/v1/entities/"+anna.ID, nil), http.StatusOK)
		require.Equal(t, "Anna", view.Entity.Name)
		require.Len(t, view.Memories, 2)
		require.NotEmpty(t, view.Neighbours)

		// Depth 2 from Lisbon reaches Jonas Weber (through Anna), not Amsterdam (3 hops).
		sg := decode[subgraphJSON](t, alice.do(http.MethodGet, "/api/v1/graph/neighbourhood?depth=2&entity_id="+lisbon.ID, nil), http.StatusOK)
		labels := map[string]int{}
		for _, n := range sg.Nodes {
			labels[n.Label] = n.Depth
		}
		require.Equal(t, 0, labels["Lisbon"])
		require.Equal(t, 1, labels["Anna"])
		require.Equal(t, 2, labels["Jonas Weber"])
		require.NotContains(t, labels, "Amsterdam")
		require.NotEmpty(t, sg.Edges)
		small := decode[subgraphJSON](t, alice.do(http.MethodGet, "/api/v1/graph/neighbourhood?depth=3&limit=2&entity_id="+lisbon.ID, nil), http.StatusOK)
		require.Len(t, small.Nodes, 2)
		require.True(t, small.Truncated)
		fromMemory := decode[subgraphJSON](t, alice.do(http.MethodGet, "/api/v1/graph/neighbourhood?depth=1&memory_id="+string(m1.ID), nil), http.StatusOK)
		require.Equal(t, "memory", fromMemory.Nodes[0].Kind)
		require.Equal(t, "mentions", fromMemory.Edges[0].Kind)

		path := decode[subgraphJSON](t, alice.do(http.MethodGet, "/api/v1/graph/path?from="+lisbon.ID+"&to="+amsterdam.ID, nil), http.StatusOK)
		var chain []string
		for _, n := range path.Nodes {
			chain = append(chain, n.Label)
		}
		require.Len(t, chain, 4, "Lisbon, Anna or 2024-03, Jonas Weber, Amsterdam: %v", chain)
		require.Equal(t, "Lisbon", chain[0])
		require.Equal(t, "Amsterdam", chain[3])
		require.Len(t, path.Edges, 3)
		none := decode[subgraphJSON](t, alice.do(http.MethodGet, "/api/v1/graph/path?max_depth=1&from="+lisbon.ID+"&to="+amsterdam.ID, nil), http.StatusOK)
		require.Empty(t, none.Nodes)
		export := decode[subgraphJSON](t, alice.do(http.MethodGet, "/api/v1/graph/export?limit=500", nil), http.StatusOK)
		require.GreaterOrEqual(t, len(export.Nodes), 6)

		mine := decode[entityPageJSON](t, alice.do(http.MethodGet, "/api/v1/memories/"+string(m3.ID)+"/entities", nil), http.StatusOK)
		require.Len(t, mine.Items, 3)

		// Rename, merge, delete.
		renamed := decode[entityJSON](t, alice.do(http.MethodPatch, "/api/v1/entities/"+anna.ID, map[string]any{"name": "Anna Schmidt"}), http.StatusOK)
		require.Equal(t, []string{"Anna"}, renamed.Aliases)
		expectStatus(t, alice.do(http.MethodPatch, "/api/v1/entities/"+anna.ID, map[string]any{"name": "Lisbon"}), http.StatusConflict)
		expectStatus(t, alice.do(http.MethodPatch, "/api/v1/entities/"+anna.ID, map[string]any{"name": ""}), http.StatusBadRequest)
		merged := decode[entityJSON](t, alice.do(http.MethodPost, "/api/v1/entities/"+lisbon.ID+"/merge", map[string]any{"from": []string{amsterdam.ID}}), http.StatusOK)
		require.Equal(t, []string{"Amsterdam"}, merged.Aliases)
		expectStatus(t, alice.do(http.MethodGet, "/api/v1/entities/"+amsterdam.ID, nil), http.StatusNotFound)
		expectStatus(t, alice.do(http.MethodDelete, "/api/v1/entities/"+lisbon.ID, nil), http.StatusNoContent)
		expectStatus(t, alice.do(http.MethodGet, "/api/v1/entities/"+lisbon.ID, nil), http.StatusNotFound)

		// Links follow the memories: an update replaces them, a delete removes them.
		expectStatus(t, alice.do(http.MethodPatch, "/api/v1/memories/"+string(m3.ID), map[string]any{"text": "Jonas Weber lives in Porto."}), http.StatusOK)
		require.Equal(t, "place", entityNamed(t, alice, "Porto").Type)
		page = decode[entityPageJSON](t, alice.do(http.MethodGet, "/api/v1/entities?q=kubecon", nil), http.StatusOK)
		require.Empty(t, page.Items, "KubeCon went with the old text")
		expectStatus(t, alice.do(http.MethodDelete, "/api/v1/memories/"+string(m3.ID), nil), http.StatusNoContent)
		page = decode[entityPageJSON](t, alice.do(http.MethodGet, "/api/v1/entities?q=porto", nil), http.StatusOK)
		require.Empty(t, page.Items)

		// Bad input.
		expectStatus(t, alice.do(http.MethodGet, "/api/v1/entities?type=planet", nil), http.StatusBadRequest)
		expectStatus(t, alice.do(http.MethodGet, "/api/v1/entities?limit=501", nil), http.StatusBadRequest)
		expectStatus(t, alice.do(http.MethodGet, "/api/v1/entities?cursor=x", nil), http.StatusBadRequest)
		expectStatus(t, alice.do(http.MethodGet, "/api/v1/graph/neighbourhood?depth=5&entity_id="+anna.ID, nil), http.StatusBadRequest)
		expectStatus(t, alice.do(http.MethodGet, "/api/v1/graph/neighbourhood", nil), http.StatusBadRequest)
		expectStatus(t, alice.do(http.MethodGet, "/api/v1/graph/path?max_depth=7&from="+anna.ID+"&to="+anna.ID, nil), http.StatusBadRequest)
	})
}

func TestEntityRoutesIsolateTenants(t *testing.T) {
	onEachBackend(t, func(t *testing.T, opt func(*envOptions)) {
		e := newEnv(t, opt, withGraph)
		alice := e.user("org-1", "alice")
		m := decode[memoryJSON](t, alice.do(http.MethodPost, "/api/v1/memories", map[string]any{"text": "Anna moved to Lisbon."}), http.StatusCreated)
		anna, lisbon := entityNamed(t, alice, "Anna"), entityNamed(t, alice, "Lisbon")
		for _, other := range []caller{e.user("org-1", "bob"), e.user("org-2", "alice")} {
			page := decode[entityPageJSON](t, other.do(http.MethodGet, "/api/v1/entities", nil), http.StatusOK)
			require.Empty(t, page.Items)
			for _, r := range []struct {
				method, target string
				body           any
			}{
				{http.MethodGet, "/api/v1/entities/" + anna.ID, nil},
				{http.MethodPatch, "/api/v1/entities/" + anna.ID, map[string]any{"name": "Eve"}},
				{http.MethodPost, "/api/v1/entities/" + anna.ID + "/merge", map[string]any{"from": []string{lisbon.ID}}},
				{http.MethodDelete, "/api/v1/entities/" + anna.ID, nil},
				{http.MethodGet, "/api/v1/memories/" + string(m.ID) + "/entities", nil},
				{http.MethodGet, "/api/v1/graph/neighbourhood?entity_id=" + anna.ID, nil},
				{http.MethodGet, "/api/v1/graph/neighbourhood?memory_id=" + string(m.ID), nil},
				{http.MethodGet, "/api/v1/graph/path?from=" + anna.ID + "&to=" + lisbon.ID, nil},
			} {
				rec := other.do(r.method, r.target, r.body)
				require.Equal(t, http.StatusNotFound, rec.Code, "%s %s: %s", r.method, r.target, rec.Body)
				require.NotContains(t, rec.Body.String(), "Anna")
			}
			export := decode[subgraphJSON](t, other.do(http.MethodGet, "/api/v1/graph/export", nil), http.StatusOK)
			require.Empty(t, export.Nodes)
		}
		require.Equal(t, "Anna", entityNamed(t, alice, "Anna").Name, "nothing changed")

		// Scopes: memories scopes alone do not reach entities or the graph.
		narrow := e.user("org-1", "alice", domain.ScopeMemoriesRead, domain.ScopeMemoriesWrite)
		expectStatus(t, narrow.do(http.MethodGet, "/api/v1/entities", nil), http.StatusForbidden)
		expectStatus(t, narrow.do(http.MethodGet, "/api/v1/graph/export", nil), http.StatusForbidden)
		reader := e.user("org-1", "alice", domain.ScopeEntitiesRead)
		expectStatus(t, reader.do(http.MethodDelete, "/api/v1/entities/"+anna.ID, nil), http.StatusForbidden)
		expectStatus(t, reader.do(http.MethodGet, "/api/v1/graph/export", nil), http.StatusForbidden)
	})
}
