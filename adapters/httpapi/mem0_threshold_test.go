package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
)

// TestSimilarityCanBeThresholded: an unrelated memory gets a low similarity
// (it scored 0.98 as a rank-fusion score) and mem0's threshold, like
// /api/v1's min_similarity, drops it while the related one stays.
func TestSimilarityCanBeThresholded(t *testing.T) {
	for name, open := range feedbackBackends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := newMem0Server(t, open)
			proj := s.key("acme", domain.KeyProject, "ops")
			for _, text := range []string{"Alice drinks green tea every morning", "The quarterly tax report is due in April"} {
				status, body := s.call(proj, "POST", "/v3/memories/add/", map[string]any{"messages": text, "user_id": "alice"})
				require.Equal(t, http.StatusOK, status, body)
			}
			status, body := s.call(proj, "POST", "/v3/memories/search/", map[string]any{"query": "green tea", "user_id": "alice", "top_k": 5})
			require.Equal(t, http.StatusOK, status, body)
			rs := results(t, body)
			sims := map[string]float64{}
			for _, r := range rs {
				sims[r["memory"].(string)] = r["similarity"].(float64)
				require.Equal(t, r["score"], r["similarity"], "mem0's score is the similarity")
				require.NotNil(t, r["fused_score"])
			}
			related, unrelated := sims["Alice drinks green tea every morning"], sims["The quarterly tax report is due in April"]
			t.Logf("similarity: related %.3f, unrelated %.3f", related, unrelated)
			require.Greater(t, related, 0.3)
			require.Less(t, unrelated, 0.1, "an unrelated memory is not similar, whatever its rank")

			status, body = s.call(proj, "POST", "/v3/memories/search/", map[string]any{"query": "green tea", "user_id": "alice", "threshold": 0.2})
			require.Equal(t, http.StatusOK, status, body)
			require.Equal(t, []string{"Alice drinks green tea every morning"}, memories(t, results(t, body)))

			status, body = s.call(proj, "POST", "/v3/memories/search/", map[string]any{"query": "green tea", "user_id": "alice", "threshold": 1.5})
			require.Equal(t, http.StatusBadRequest, status, body)
			require.Contains(t, obj(t, body)["detail"], "threshold")
		})
	}
}
