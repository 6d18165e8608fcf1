package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
)

// TestMemoryAccessLog: GET /api/v1/memories/{id}/access lists each app's
// latest read of the memory, needs memories:read, checks its limit, and is
// tenant-isolated (another org's or user's caller gets 404, as for a read
// of the memory). The counts behind /apps say the same.
func TestMemoryAccessLog(t *testing.T) {
	t.Parallel()
	onEachBackend(t, func(t *testing.T, backend func(*envOptions)) {
		e := newEnv(t, backend)
		alice := e.user("acme", "alice")
		m := decode[memoryJSON](t, alice.do(http.MethodPost, "/api/v1/memories", map[string]any{"text": "uses vim", "app": "cursor"}), http.StatusCreated)
		other := alice.add("likes jazz")

		type accessJSON struct {
			Items []struct {
				App        string `json:"app"`
				Kind       string `json:"kind"`
				AccessedAt string `json:"accessed_at"`
			} `json:"items"`
		}
		got := decode[accessJSON](t, alice.do(http.MethodGet, "/api/v1/memories/"+m.ID+"/access", nil), http.StatusOK)
		require.Empty(t, got.Items, "nobody read it yet")

		decode[memoryJSON](t, alice.do(http.MethodGet, "/api/v1/memories/"+m.ID, nil), http.StatusOK)
		decode[memoryJSON](t, alice.do(http.MethodGet, "/api/v1/memories/"+other.ID, nil), http.StatusOK)
		got = decode[accessJSON](t, alice.do(http.MethodGet, "/api/v1/memories/"+m.ID+"/access", nil), http.StatusOK)
		require.Len(t, got.Items, 1)
		require.Equal(t, "test-agent", got.Items[0].App)
		require.Equal(t, "get", got.Items[0].Kind)
		require.NotEmpty(t, got.Items[0].AccessedAt)

		apps := decode[struct {
			Items []struct {
				ID            string `json:"id"`
				MemoryCount   *int   `json:"memory_count"`
				AccessedCount *int   `json:"accessed_count"`
			} `json:"items"`
		}](t, alice.do(http.MethodGet, "/api/v1/apps", nil), http.StatusOK)
		counts := map[string][2]int{}
		for _, a := range apps.Items {
			require.NotNil(t, a.AccessedCount)
			counts[a.ID] = [2]int{*a.MemoryCount, *a.AccessedCount}
		}
		require.Equal(t, [2]int{1, 0}, counts["cursor"], "cursor created one and read none")
		require.Equal(t, [2]int{1, 2}, counts["test-agent"], "test-agent created one and read two")

		requireProblem(t, alice.do(http.MethodGet, "/api/v1/memories/"+m.ID+"/access?limit=1000000", nil), http.StatusBadRequest)
		requireProblem(t, alice.do(http.MethodGet, "/api/v1/memories/"+m.ID+"/access?limit=0x", nil), http.StatusBadRequest)
		requireProblem(t, alice.do(http.MethodGet, "/api/v1/memories/not-an-id/access", nil), http.StatusBadRequest)
		noRead := e.user("acme", "alice", domain.ScopeAppsRead)
		requireProblem(t, noRead.do(http.MethodGet, "/api/v1/memories/"+m.ID+"/access", nil), http.StatusForbidden)
		for _, intruder := range []caller{e.user("evil", "alice"), e.user("acme", "mallory")} {
			requireProblem(t, intruder.do(http.MethodGet, "/api/v1/memories/"+m.ID+"/access", nil), http.StatusNotFound)
		}
	})
}
