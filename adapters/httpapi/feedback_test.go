package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
)

// problemField returns the first field error of a problem document.
func problemField(t *testing.T, p map[string]any) string {
	t.Helper()
	errs, ok := p["errors"].([]any)
	require.True(t, ok, "problem has no field errors: %v", p)
	return errs[0].(map[string]any)["field"].(string)
}

// TestFeedbackBadInputIsAPreciseProblem sends each kind of bad input the
// issue names and checks the status, the problem document's field or detail,
// and that nothing was written.
func TestFeedbackBadInputIsAPreciseProblem(t *testing.T) {
	for name, open := range feedbackBackends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFeedbackServer(t, open)
			alice := f.token("acme", "alice", userScopes...)
			bob := f.token("acme", "bob", userScopes...)
			mallory := f.token("evil", "alice", userScopes...)
			ops := f.token("acme", "ops", operatorScopes...)

			status, body := f.call(alice, "POST", "/memories", map[string]any{"text": "alice likes oolong tea"})
			require.Equal(t, http.StatusCreated, status, body)
			status, res := f.call(alice, "POST", "/search", map[string]any{"query": "oolong"})
			require.Equal(t, http.StatusOK, status, res)
			qid := res["query_id"].(string)

			for _, c := range []struct {
				name   string
				token  string
				body   map[string]any
				status int
				field  string
			}{
				{"rating 7", alice, map[string]any{"query_id": qid, "outcome": "accepted", "rating": 7}, 400, "rating"},
				{"unknown outcome", alice, map[string]any{"query_id": qid, "outcome": "loved"}, 400, "outcome"},
				{"another user's query", bob, map[string]any{"query_id": qid, "outcome": "accepted"}, 400, "query_id"},
				{"another tenant's query", mallory, map[string]any{"query_id": qid, "outcome": "accepted"}, 400, "query_id"},
				{"memory not in the results", alice, map[string]any{"query_id": qid, "outcome": "accepted", "memory_id": "0190a000-0000-7000-8000-000000000009"}, 400, "memory_id"},
				{"experiment is not the client's to say", alice, map[string]any{"query_id": qid, "outcome": "accepted", "variant": "b"}, 400, "variant"},
				{"batch with one bad event", alice, map[string]any{"events": []map[string]any{
					{"query_id": qid, "outcome": "accepted"}, {"query_id": qid, "outcome": "accepted", "rating": 0.5},
				}}, 400, "events.rating"},
				{"batch index named", alice, map[string]any{"events": []map[string]any{
					{"query_id": qid, "outcome": "accepted"}, {"query_id": qid, "outcome": "nope"},
				}}, 400, "events[1].outcome"},
			} {
				status, p := f.call(c.token, "POST", "/feedback", c.body)
				require.Equal(t, c.status, status, "%s: %v", c.name, p)
				require.Equal(t, c.field, problemField(t, p), c.name)
			}
			status, p := f.call(f.token("acme", "alice", domain.ScopeFeedbackRead), "POST", "/feedback", map[string]any{"query_id": qid, "outcome": "accepted"})
			require.Equal(t, http.StatusForbidden, status, p)

			status, page := f.call(ops, "GET", "/feedback?scope=org", nil)
			require.Equal(t, http.StatusOK, status, page)
			require.Empty(t, page["items"], "nothing was written")
			status, p = f.call(alice, "GET", "/feedback?scope=org", nil)
			require.Equal(t, http.StatusForbidden, status, "org-wide feedback needs experiments:write: %v", p)

			// A good event after all that.
			status, ev := f.call(alice, "POST", "/feedback", map[string]any{"query_id": qid, "outcome": "accepted", "rating": 5})
			require.Equal(t, http.StatusCreated, status, ev)
			status, page = f.call(alice, "GET", "/feedback?query_id="+qid, nil)
			require.Equal(t, http.StatusOK, status, page)
			require.Len(t, page["items"], 1)
			status, page = f.call(bob, "GET", "/feedback?query_id="+qid, nil)
			require.Equal(t, http.StatusOK, status, page)
			require.Empty(t, page["items"], "bob does not see alice's feedback")
			status, p = f.call(alice, "GET", "/feedback?since=yesterday", nil)
			require.Equal(t, http.StatusBadRequest, status)
			require.Equal(t, "since", problemField(t, p))
		})
	}
}

// TestExperimentBadInputIsAPreciseProblem covers weights, scopes and the
// status machine over HTTP.
func TestExperimentBadInputIsAPreciseProblem(t *testing.T) {
	for name, open := range feedbackBackends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFeedbackServer(t, open)
			ops := f.token("acme", "ops", operatorScopes...)
			alice := f.token("acme", "alice", userScopes...)
			variants := func(w0, w1 float64) []map[string]any {
				return []map[string]any{{"name": "control", "weight": w0}, {"name": "b", "weight": w1, "params": map[string]any{"rrf_k": 30}}}
			}

			status, p := f.call(ops, "POST", "/experiments", map[string]any{"name": "zero", "variants": variants(0, 0)})
			require.Equal(t, http.StatusBadRequest, status, p)
			require.Equal(t, "variants.weight", problemField(t, p))
			status, p = f.call(ops, "POST", "/experiments", map[string]any{"name": "neg", "variants": variants(-1, 2)})
			require.Equal(t, http.StatusBadRequest, status, p)
			status, p = f.call(alice, "POST", "/experiments", map[string]any{"name": "mine", "variants": variants(1, 1)})
			require.Equal(t, http.StatusForbidden, status, "experiments:write is an operator scope: %v", p)
			status, list := f.call(ops, "GET", "/experiments", nil)
			require.Equal(t, http.StatusOK, status)
			require.Empty(t, list["items"], "nothing written")

			status, a := f.call(ops, "POST", "/experiments", map[string]any{"name": "a", "variants": variants(1, 1)})
			require.Equal(t, http.StatusCreated, status, a)
			status, b := f.call(ops, "POST", "/experiments", map[string]any{"name": "b", "variants": variants(1, 1)})
			require.Equal(t, http.StatusCreated, status, b)
			aID, bID := a["id"].(string), b["id"].(string)

			status, p = f.call(ops, "POST", "/experiments/"+aID+"/pause", nil)
			require.Equal(t, http.StatusConflict, status, p)
			require.Equal(t, "cannot pause an experiment that is draft", p["detail"])
			status, _ = f.call(ops, "POST", "/experiments/"+aID+"/start", nil)
			require.Equal(t, http.StatusOK, status)
			status, p = f.call(ops, "POST", "/experiments/"+bID+"/start", nil)
			require.Equal(t, http.StatusConflict, status, p)
			require.Contains(t, p["detail"], "another experiment")
			status, p = f.call(ops, "PATCH", "/experiments/"+aID, map[string]any{"variants": []map[string]any{{"name": "control", "weight": 1}, {"name": "b", "weight": 1, "params": map[string]any{"rrf_k": 99}}}})
			require.Equal(t, http.StatusConflict, status, p)
			require.Contains(t, p["detail"], "weight only")
			status, p = f.call(ops, "PATCH", "/experiments/"+aID, map[string]any{"variants": variants(1, 3)})
			require.Equal(t, http.StatusOK, status, p)
			status, _ = f.call(ops, "POST", "/experiments/"+aID+"/complete", map[string]any{"reason": "done"})
			require.Equal(t, http.StatusOK, status)
			status, p = f.call(ops, "POST", "/experiments/"+aID+"/start", nil)
			require.Equal(t, http.StatusConflict, status, p)
			require.Equal(t, "cannot start an experiment that is completed", p["detail"])
			status, got := f.call(ops, "GET", "/experiments/"+aID, nil)
			require.Equal(t, http.StatusOK, status)
			require.Equal(t, "completed", got["status"], "nothing written")
			require.Len(t, got["history"], 3)

			status, p = f.call(f.token("other-org", "ops", operatorScopes...), "GET", "/experiments/"+aID, nil)
			require.Equal(t, http.StatusNotFound, status, "another org's experiment: %v", p)
			status, p = f.call(ops, "GET", "/experiments/not-a-uuid", nil)
			require.Equal(t, http.StatusBadRequest, status, p)
			status, p = f.call(alice, "GET", "/experiments/"+aID+"/assignment", nil)
			require.Equal(t, http.StatusNotFound, status, "no assignment in a completed experiment one never saw: %v", p)
		})
	}
}
