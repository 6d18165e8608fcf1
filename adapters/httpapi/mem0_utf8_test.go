package httpapi_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
)

// mem0's routes read bodies leniently (unknown fields ignored) but never
// alter the client's text: invalid UTF-8 is a 400, as on /api/v1, not a
// memory stored with U+FFFD in it.
func TestMem0RefusesInvalidUTF8(t *testing.T) {
	for name, open := range feedbackBackends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := newMem0Server(t, open)
			proj := s.key("acme", domain.KeyProject, "ops")
			body := []byte("{\"messages\": \"bad \xff\xfe bytes\", \"user_id\": \"alice\", \"output_format\": \"v1.1\"}")
			req, err := http.NewRequest(http.MethodPost, s.url+"/v1/memories/", bytes.NewReader(body))
			require.NoError(t, err)
			req.Header.Set("Authorization", "Token "+proj)
			req.Header.Set("Content-Type", "application/json")
			res, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			raw, _ := io.ReadAll(res.Body)
			res.Body.Close()
			require.Equal(t, http.StatusBadRequest, res.StatusCode, "%s", raw)

			status, out := s.call(proj, http.MethodGet, "/v1/memories/?user_id=alice", nil)
			require.Equal(t, http.StatusOK, status)
			require.Empty(t, out, "nothing was stored")
		})
	}
}

// An add holds at most 256 turns (docs/openapi-mem0.yaml's maxItems): one
// more is a 400 naming messages, and nothing is stored.
func TestMem0AddBoundsTurns(t *testing.T) {
	s := newMem0Server(t, feedbackBackends["sqlite"])
	proj := s.key("acme", domain.KeyProject, "ops")
	turns := func(n int) []map[string]string {
		out := make([]map[string]string, n)
		for i := range out {
			out[i] = map[string]string{"role": "user", "content": fmt.Sprintf("turn %d", i)}
		}
		return out
	}
	status, out := s.call(proj, http.MethodPost, "/v3/memories/add/", map[string]any{"messages": turns(257), "user_id": "alice"})
	require.Equal(t, http.StatusBadRequest, status, "%v", out)
	require.Contains(t, fmt.Sprint(out), "messages")
	status, out = s.call(proj, http.MethodGet, "/v1/memories/?user_id=alice", nil)
	require.Equal(t, http.StatusOK, status)
	require.Empty(t, out)
	status, out = s.call(proj, http.MethodPost, "/v3/memories/add/", map[string]any{"messages": turns(256), "user_id": "alice"})
	require.Equal(t, http.StatusOK, status, "%v", out)
}
