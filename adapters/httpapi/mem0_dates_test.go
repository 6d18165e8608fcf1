package httpapi_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
)

// TestMem0ExpirationDateIsKept: mem0's expiration_date on add and update
// was dropped silently, so a memory a client had asked to expire stayed.
// It is now the memory's expiry (through that day), shown back, removable
// with null, refused when past or malformed, and an expired memory is gone
// from get and search. show_expired: true is refused, not ignored.
func TestMem0ExpirationDateIsKept(t *testing.T) {
	for name, open := range feedbackBackends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := newMem0Server(t, open)
			proj := s.key("acme", domain.KeyProject, "ops")
			add := func(text string, exp any) (int, any) {
				return s.call(proj, "POST", "/v3/memories/add/", map[string]any{"messages": text, "user_id": "alice", "infer": false, "expiration_date": exp})
			}
			idOf := func(body any) string {
				rs := results(t, body)
				require.Len(t, rs, 1)
				return rs[0]["id"].(string)
			}
			day := time.Now().UTC().AddDate(0, 0, 30).Format(time.DateOnly)
			status, body := add("Alice is in Lisbon for the conference", day)
			require.Equal(t, http.StatusOK, status, body)
			id := idOf(body)
			status, body = s.call(proj, "GET", "/v1/memories/"+id+"/", nil)
			require.Equal(t, http.StatusOK, status, body)
			require.Equal(t, day, obj(t, body)["expiration_date"], "the date comes back as sent")

			// null removes it; a new date replaces it.
			status, body = s.call(proj, "PUT", "/v1/memories/"+id+"/", map[string]any{"expiration_date": nil})
			require.Equal(t, http.StatusOK, status, body)
			require.Nil(t, obj(t, body)["expiration_date"])
			later := time.Now().UTC().AddDate(1, 0, 0).Format(time.DateOnly)
			status, body = s.call(proj, "PUT", "/v1/memories/"+id+"/", map[string]any{"expiration_date": later})
			require.Equal(t, http.StatusOK, status, body)
			require.Equal(t, later, obj(t, body)["expiration_date"])

			// Past or malformed: 400 naming the field, nothing stored.
			for _, bad := range []any{"2000-01-01", "next tuesday", 20301231} {
				status, body = add("Alice's old plan "+time.Now().String(), bad)
				require.Equal(t, http.StatusBadRequest, status, "%v: %v", bad, body)
				require.Contains(t, obj(t, body)["detail"], "expiration_date")
			}
			status, body = s.call(proj, "POST", "/v2/memories/", map[string]any{"filters": map[string]any{"user_id": "alice"}})
			require.Equal(t, http.StatusOK, status, body)
			require.Equal(t, []string{"Alice is in Lisbon for the conference"}, memories(t, listed(t, body)))

			// An instant a moment ahead: returned now, gone once it passes.
			soon := time.Now().Add(1500 * time.Millisecond).UTC().Format(time.RFC3339Nano)
			status, body = add("Alice's boarding pass is for gate 12", soon)
			require.Equal(t, http.StatusOK, status, body)
			short := idOf(body)
			status, _ = s.call(proj, "GET", "/v1/memories/"+short+"/", nil)
			require.Equal(t, http.StatusOK, status)
			time.Sleep(2 * time.Second)
			status, body = s.call(proj, "GET", "/v1/memories/"+short+"/", nil)
			require.Equal(t, http.StatusNotFound, status, body)
			status, body = s.call(proj, "POST", "/v3/memories/search/", map[string]any{"query": "boarding pass gate", "user_id": "alice"})
			require.Equal(t, http.StatusOK, status, body)
			require.NotContains(t, memories(t, results(t, body)), "Alice's boarding pass is for gate 12")

			for _, path := range []string{"/v3/memories/search/", "/v2/memories/"} {
				status, body = s.call(proj, "POST", path, map[string]any{"query": "Lisbon", "filters": map[string]any{"user_id": "alice"}, "user_id": "alice", "show_expired": true})
				require.Equal(t, http.StatusBadRequest, status, "%s: %v", path, body)
				require.Contains(t, obj(t, body)["detail"], "show_expired")
			}
		})
	}
}

// listed is the memories of a mem0 list answer: a bare array (v2 unpaged)
// or an object with results.
func listed(t *testing.T, body any) []map[string]any {
	t.Helper()
	if items, ok := body.([]any); ok {
		out := make([]map[string]any, 0, len(items))
		for _, it := range items {
			out = append(out, obj(t, it))
		}
		return out
	}
	return results(t, body)
}

// TestMem0TimestampBackdates: mem0's timestamp (Unix seconds) dates the
// memory when it was made, for history loaded after the fact; it was
// dropped, dating every such memory at its import. A future one is 400.
func TestMem0TimestampBackdates(t *testing.T) {
	for name, open := range feedbackBackends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := newMem0Server(t, open)
			proj := s.key("acme", domain.KeyProject, "ops")
			status, body := s.call(proj, "POST", "/v3/memories/add/", map[string]any{"messages": "Alice moved to Porto", "user_id": "alice", "infer": false})
			require.Equal(t, http.StatusOK, status, body)
			then := time.Date(2024, 3, 1, 12, 30, 0, 0, time.UTC)
			status, body = s.call(proj, "POST", "/v3/memories/add/", map[string]any{"messages": "Alice lived in Lisbon", "user_id": "alice", "infer": false, "timestamp": then.Unix()})
			require.Equal(t, http.StatusOK, status, body)
			old := results(t, body)[0]["id"].(string)
			status, body = s.call(proj, "GET", "/v1/memories/"+old+"/", nil)
			require.Equal(t, http.StatusOK, status, body)
			got, err := time.Parse(time.RFC3339Nano, obj(t, body)["created_at"].(string))
			require.NoError(t, err)
			require.True(t, then.Equal(got), "created_at %s, want %s", got, then)

			// Date filters read it.
			status, body = s.call(proj, "POST", "/v2/memories/", map[string]any{"filters": map[string]any{"AND": []any{
				map[string]any{"user_id": "alice"}, map[string]any{"created_at": map[string]any{"lte": "2024-12-31T23:59:59Z"}}}}})
			require.Equal(t, http.StatusOK, status, body)
			require.Equal(t, []string{"Alice lived in Lisbon"}, memories(t, listed(t, body)))

			status, body = s.call(proj, "POST", "/v3/memories/add/", map[string]any{"messages": "Alice will live on Mars", "user_id": "alice", "infer": false, "timestamp": time.Now().Add(time.Hour).Unix()})
			require.Equal(t, http.StatusBadRequest, status, body)
			require.Contains(t, obj(t, body)["detail"], "timestamp")
		})
	}
}
