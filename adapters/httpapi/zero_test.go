package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestZeroIsAValueNotAbsence is issue 11's first class of bug, swept over
// every optional number of every request body: a present 0 is either
// refused (when out of range) or honoured, never read as "not given". On
// SQLite and PostgreSQL, through the real router.
func TestZeroIsAValueNotAbsence(t *testing.T) {
	for name, open := range feedbackBackends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFeedbackServer(t, open)
			alice := f.token("acme", "alice", userScopes...)
			ops := f.token("acme", "ops", operatorScopes...)
			status, body := f.call(alice, "POST", "/memories", map[string]any{"text": "alice likes oolong tea"})
			require.Equal(t, http.StatusCreated, status, body)
			status, res := f.call(alice, "POST", "/search", map[string]any{"query": "oolong"})
			require.Equal(t, http.StatusOK, status, res)
			qid := res["query_id"].(string)
			require.NotEmpty(t, res["results"])
			require.NotNil(t, res["results"].([]any)[0].(map[string]any)["lexical_rank"], "default weights run the lexical ranking")

			// Refused zeros, each naming its field; nothing is written.
			for _, c := range []struct {
				name, method, path string
				body               map[string]any
				field              string
			}{
				{"feedback rating 0", "POST", "/feedback", map[string]any{"query_id": qid, "outcome": "accepted", "rating": 0}, "rating"},
				{"batch rating 0", "POST", "/feedback", map[string]any{"events": []map[string]any{
					{"query_id": qid, "outcome": "accepted"}, {"query_id": qid, "outcome": "accepted", "rating": 0},
				}}, "events[1].rating"},
				{"search limit 0", "POST", "/search", map[string]any{"query": "oolong", "limit": 0}, "limit"},
				{"search weights both 0", "POST", "/search", map[string]any{"query": "oolong", "weights": map[string]any{"lexical": 0, "vector": 0}}, "weights"},
				{"variant rrf_k 0", "POST", "/experiments", experiment(map[string]any{"rrf_k": 0}), "variants.params.rrf_k"},
				{"variant limit 0", "POST", "/experiments", experiment(map[string]any{"limit": 0}), "variants.params.limit"},
				{"variant weights both 0", "POST", "/experiments", experiment(map[string]any{"lexical_weight": 0, "vector_weight": 0}), "variants.params.lexical_weight"},
				{"variant without a traffic weight", "POST", "/experiments", map[string]any{"name": "x", "variants": []map[string]any{
					{"name": "control", "weight": 1}, {"name": "b"},
				}}, "variants.weight"},
			} {
				who := ops
				if c.path != "/experiments" {
					who = alice // feedback must name the caller's own search
				}
				status, p := f.call(who, c.method, c.path, c.body)
				require.Equal(t, http.StatusBadRequest, status, "%s: %v", c.name, p)
				require.Equal(t, c.field, problemField(t, p), c.name)
			}
			status, page := f.call(ops, "GET", "/feedback?scope=org", nil)
			require.Equal(t, http.StatusOK, status, page)
			require.Empty(t, page["items"], "no feedback was written")
			status, list := f.call(ops, "GET", "/experiments", nil)
			require.Equal(t, http.StatusOK, status, list)
			require.Empty(t, list["items"], "no experiment was written")

			// Honoured zeros: a present weight of 0 is stored, returned
			// and switches its ranking off; an absent one is the default.
			status, e := f.call(ops, "POST", "/experiments", map[string]any{"name": "vector only", "variants": []map[string]any{
				{"name": "control", "weight": 0, "params": map[string]any{"vector_weight": 2}},
				{"name": "vec", "weight": 1, "params": map[string]any{"lexical_weight": 0, "vector_weight": 2, "recency_weight": 2}},
			}})
			require.Equal(t, http.StatusCreated, status, e)
			// entity_weight is the default (domain.DefaultEntityWeight);
			// recency_weight (issue 18) is shown when set.
			wantParams := []any{
				map[string]any{"lexical_weight": 1.0, "vector_weight": 2.0, "entity_weight": 1.5},
				map[string]any{"lexical_weight": 0.0, "vector_weight": 2.0, "entity_weight": 1.5, "recency_weight": 2.0},
			}
			require.Equal(t, wantParams, variantParams(e))
			id := e["id"].(string)
			status, got := f.call(ops, "GET", "/experiments/"+id, nil)
			require.Equal(t, http.StatusOK, status, got)
			require.Equal(t, wantParams, variantParams(got), "as stored")
			require.Equal(t, 0.0, got["variants"].([]any)[0].(map[string]any)["weight"], "a traffic weight of 0 is kept")

			status, got = f.call(ops, "POST", "/experiments/"+id+"/start", nil)
			require.Equal(t, http.StatusOK, status, got)
			status, res = f.call(alice, "POST", "/search", map[string]any{"query": "oolong"})
			require.Equal(t, http.StatusOK, status, res)
			require.NotEmpty(t, res["results"])
			for _, h := range res["results"].([]any) {
				require.Nil(t, h.(map[string]any)["lexical_rank"], "lexical_weight 0 turns the lexical ranking off: %v", h)
			}
			qid = res["query_id"].(string)

			// A zero that is in range is honoured too.
			status, ev := f.call(alice, "POST", "/feedback", map[string]any{"query_id": qid, "outcome": "accepted", "latency_ms": 0})
			require.Equal(t, http.StatusCreated, status, ev)
			require.Equal(t, 0.0, ev["latency_ms"])
		})
	}
}

// experiment is a two-variant draft whose second variant has params.
func experiment(params map[string]any) map[string]any {
	return map[string]any{"name": "x", "variants": []map[string]any{
		{"name": "control", "weight": 1}, {"name": "b", "weight": 1, "params": params},
	}}
}

func variantParams(e map[string]any) []any {
	var out []any
	for _, v := range e["variants"].([]any) {
		out = append(out, v.(map[string]any)["params"])
	}
	return out
}
