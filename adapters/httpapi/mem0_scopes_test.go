package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
)

// results reads a v3 answer's results as objects.
func results(t *testing.T, body any) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, r := range obj(t, body)["results"].([]any) {
		out = append(out, obj(t, r))
	}
	return out
}

func memories(t *testing.T, rs []map[string]any) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r["memory"].(string))
	}
	return out
}

// TestMem0AgentAndRunScopes: mem0's agent_id and run_id are stored beside
// the user, returned, and filtered on with the one filter language (AND,
// OR, NOT), on the mem0 routes and on /api/v1 alike.
func TestMem0AgentAndRunScopes(t *testing.T) {
	for name, open := range feedbackBackends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := newMem0Server(t, open)
			proj := s.key("acme", domain.KeyProject, "ops")
			for _, m := range []map[string]any{
				{"messages": "tea with the planner", "user_id": "alice", "agent_id": "planner", "run_id": "r1"},
				{"messages": "tea with the critic", "user_id": "alice", "agent_id": "critic", "run_id": "r1"},
				{"messages": "tea alone", "user_id": "alice"},
				// The same text under another agent is another memory.
				{"messages": "tea alone", "user_id": "alice", "agent_id": "critic"},
			} {
				status, body := s.call(proj, "POST", "/v3/memories/add/", m)
				require.Equal(t, http.StatusOK, status, body)
				require.Equal(t, "ADD", results(t, body)[0]["event"], m)
			}
			status, body := s.call(proj, "POST", "/v3/memories/search/", map[string]any{"query": "tea", "filters": map[string]any{
				"AND": []any{map[string]any{"user_id": "alice"}, map[string]any{"agent_id": "planner"}}}})
			require.Equal(t, http.StatusOK, status, body)
			rs := results(t, body)
			require.Equal(t, []string{"tea with the planner"}, memories(t, rs))
			require.Equal(t, "planner", rs[0]["agent_id"])
			require.Equal(t, "r1", rs[0]["run_id"])

			status, body = s.call(proj, "POST", "/v3/memories/?page=1&page_size=10", map[string]any{"filters": map[string]any{
				"user_id": "alice", "OR": []any{map[string]any{"agent_id": "planner"}, map[string]any{"NOT": map[string]any{"agent_id": "*"}}}}})
			require.Equal(t, http.StatusOK, status, body)
			require.ElementsMatch(t, []string{"tea with the planner", "tea alone"}, memories(t, results(t, body)))
			for _, r := range results(t, body) {
				if r["memory"] == "tea alone" {
					require.Nil(t, r["agent_id"], "no scope is null, as in mem0")
				}
			}

			// agent_id in the body of a search is a filter too.
			status, body = s.call(proj, "POST", "/v2/memories/search/", map[string]any{"query": "tea", "user_id": "alice", "agent_id": "critic", "run_id": "r1"})
			require.Equal(t, http.StatusOK, status, body)
			require.Len(t, body.([]any), 1)

			// Deleting by agent deletes that agent's memories only.
			status, body = s.call(proj, "DELETE", "/v1/memories/?user_id=alice&agent_id=critic", nil)
			require.Equal(t, http.StatusOK, status, body)
			require.EqualValues(t, 2, obj(t, body)["deleted"])
			status, body = s.call(proj, "GET", "/v1/memories/?user_id=alice", nil)
			require.Equal(t, http.StatusOK, status, body)
			require.Len(t, body.([]any), 2)

			// Bad input names the field or operator.
			for _, c := range []struct {
				body   map[string]any
				naming string
			}{
				{map[string]any{"query": "tea", "user_id": "alice", "filters": map[string]any{"agent_id": map[string]any{"regex": "p.*"}}}, `"regex"`},
				{map[string]any{"query": "tea", "user_id": "alice", "agent_id": strings.Repeat("a", 200)}, "agent_id"},
				{map[string]any{"query": "tea", "filters": map[string]any{"OR": []any{map[string]any{"user_id": "alice"}, map[string]any{"user_id": "bob"}}}}, "user_id"},
			} {
				status, body = s.call(proj, "POST", "/v3/memories/search/", c.body)
				require.Equal(t, http.StatusBadRequest, status, body)
				require.Contains(t, obj(t, body)["detail"], c.naming)
			}
		})
	}
}
