package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
)

type appJSON struct {
	ID            string `json:"id"`
	Description   string `json:"description"`
	IsActive      bool   `json:"is_active"`
	MemoryCount   *int   `json:"memory_count"`
	AccessedCount *int   `json:"accessed_count"`
}

func TestAppsAndStats(t *testing.T) {
	t.Parallel()
	onEachBackend(t, func(t *testing.T, backend func(*envOptions)) {
		e := newEnv(t, backend)
		alice := e.user("acme", "alice")
		m1 := decode[memoryJSON](t, alice.do(http.MethodPost, "/api/v1/memories", map[string]any{"text": "uses vim", "app": "cursor"}), http.StatusCreated)
		alice.add("likes jazz") // recorded under the token's client_id
		m3 := alice.add("lives in Lyon")
		decode[map[string]any](t, alice.do(http.MethodPost, "/api/v1/memories/bulk-state", map[string]any{"ids": []string{m3.ID}, "state": "archived"}), http.StatusOK)

		apps := decode[struct {
			Items []appJSON `json:"items"`
		}](t, alice.do(http.MethodGet, "/api/v1/apps", nil), http.StatusOK)
		ids := map[string]appJSON{}
		for _, a := range apps.Items {
			ids[a.ID] = a
		}
		require.Contains(t, ids, "cursor")
		require.Contains(t, ids, "test-agent")
		require.True(t, ids["cursor"].IsActive)
		require.NotNil(t, ids["cursor"].MemoryCount, "stats:read is granted, so counts are present")
		require.Equal(t, 1, *ids["cursor"].MemoryCount)
		require.Equal(t, 2, *ids["test-agent"].MemoryCount)

		// counts=false lists the apps without their counts (the
		// dashboard's app filter: no flush, no tallies read).
		bare := decode[struct {
			Items []appJSON `json:"items"`
		}](t, alice.do(http.MethodGet, "/api/v1/apps?counts=false", nil), http.StatusOK)
		require.Len(t, bare.Items, len(apps.Items))
		for _, a := range bare.Items {
			require.Nil(t, a.MemoryCount, a.ID)
			require.Nil(t, a.AccessedCount, a.ID)
		}
		decode[map[string]any](t, alice.do(http.MethodGet, "/api/v1/apps?counts=maybe", nil), http.StatusBadRequest)

		// Without stats:read the count is left out rather than leaked.
		noStats := e.user("acme", "alice", domain.ScopeAppsRead)
		a := decode[appJSON](t, noStats.do(http.MethodGet, "/api/v1/apps/cursor", nil), http.StatusOK)
		require.Nil(t, a.MemoryCount)

		st := decode[struct {
			Total   int            `json:"total"`
			ByState map[string]int `json:"by_state"`
			ByApp   map[string]int `json:"by_app"`
			Apps    int            `json:"apps"`
		}](t, alice.do(http.MethodGet, "/api/v1/stats", nil), http.StatusOK)
		require.Equal(t, 3, st.Total)
		require.Equal(t, 2, st.ByState["active"])
		require.Equal(t, 1, st.ByState["archived"])
		require.Equal(t, 1, st.ByApp["cursor"])
		require.Equal(t, len(apps.Items), st.Apps)

		page := decode[pageJSON](t, alice.do(http.MethodGet, "/api/v1/apps/cursor/memories", nil), http.StatusOK)
		require.Len(t, page.Items, 1)
		require.Equal(t, m1.ID, page.Items[0].ID)
		requireProblem(t, alice.do(http.MethodGet, "/api/v1/apps/cursor/memories?app=other", nil), http.StatusBadRequest)
		requireProblem(t, alice.do(http.MethodGet, "/api/v1/apps/cursor/memories?limit=1000000", nil), http.StatusBadRequest)

		// Reading a memory records the access under the caller's app.
		decode[memoryJSON](t, alice.do(http.MethodGet, "/api/v1/memories/"+m1.ID, nil), http.StatusOK)
		acc := decode[struct {
			Items []struct {
				MemoryID string `json:"memory_id"`
				Kind     string `json:"kind"`
			} `json:"items"`
			NextCursor *string `json:"next_cursor"`
		}](t, alice.do(http.MethodGet, "/api/v1/apps/test-agent/accessed", nil), http.StatusOK)
		require.NotEmpty(t, acc.Items)
		require.Equal(t, m1.ID, acc.Items[0].MemoryID)
		require.Equal(t, "get", acc.Items[0].Kind)
		requireProblem(t, alice.do(http.MethodGet, "/api/v1/apps/test-agent/accessed?limit=1000000", nil), http.StatusBadRequest)
	})
}

func TestPausedAppCannotWrite(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice := e.user("acme", "alice")
	decode[memoryJSON](t, alice.do(http.MethodPost, "/api/v1/memories", map[string]any{"text": "first", "app": "cursor"}), http.StatusCreated)

	a := decode[appJSON](t, alice.do(http.MethodPatch, "/api/v1/apps/cursor", map[string]any{"is_active": false, "description": "paused for now"}), http.StatusOK)
	require.False(t, a.IsActive)
	require.Equal(t, "paused for now", a.Description)
	require.False(t, decode[appJSON](t, alice.do(http.MethodGet, "/api/v1/apps/cursor", nil), http.StatusOK).IsActive)

	p := requireProblem(t, alice.do(http.MethodPost, "/api/v1/memories", map[string]any{"text": "second", "app": "cursor"}), http.StatusForbidden)
	require.Equal(t, "urn:engram:problem:forbidden", p.Type)
	require.Empty(t, alice.do(http.MethodPost, "/api/v1/memories", map[string]any{"text": "second", "app": "cursor"}).Header().Values("WWW-Authenticate"),
		"a paused app is not a token problem")

	decode[appJSON](t, alice.do(http.MethodPatch, "/api/v1/apps/cursor", map[string]any{"is_active": true}), http.StatusOK)
	decode[memoryJSON](t, alice.do(http.MethodPost, "/api/v1/memories", map[string]any{"text": "second", "app": "cursor"}), http.StatusCreated)

	requireProblem(t, alice.do(http.MethodPatch, "/api/v1/apps/cursor", map[string]any{}), http.StatusBadRequest)
	requireProblem(t, alice.do(http.MethodPatch, "/api/v1/apps/cursor", map[string]any{"is_active": "no"}), http.StatusBadRequest)
	requireProblem(t, alice.do(http.MethodGet, "/api/v1/apps/Bad%20Slug", nil), http.StatusBadRequest)
}

func TestAppsAreTenantScoped(t *testing.T) {
	t.Parallel()
	onEachBackend(t, func(t *testing.T, backend func(*envOptions)) {
		e := newEnv(t, backend)
		alice := e.user("acme", "alice")
		decode[memoryJSON](t, alice.do(http.MethodPost, "/api/v1/memories", map[string]any{"text": "x", "app": "cursor"}), http.StatusCreated)
		for _, intruder := range []caller{e.user("evil", "alice"), e.user("acme", "mallory")} {
			requireProblem(t, intruder.do(http.MethodGet, "/api/v1/apps/cursor", nil), http.StatusNotFound)
			requireProblem(t, intruder.do(http.MethodPatch, "/api/v1/apps/cursor", map[string]any{"is_active": false}), http.StatusNotFound)
			requireProblem(t, intruder.do(http.MethodGet, "/api/v1/apps/cursor/accessed", nil), http.StatusNotFound)
			require.Empty(t, decode[pageJSON](t, intruder.do(http.MethodGet, "/api/v1/apps/cursor/memories", nil), http.StatusOK).Items)
		}
		require.True(t, decode[appJSON](t, alice.do(http.MethodGet, "/api/v1/apps/cursor", nil), http.StatusOK).IsActive)
	})
}
