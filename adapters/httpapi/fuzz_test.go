package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzMemoryBodies sends arbitrary bodies to the JSON-decoding routes: the
// answer is always a success or a 4xx problem, never a 500 or a panic.
//
//	go test -run '^$' -fuzz FuzzMemoryBodies -fuzztime 30s ./adapters/httpapi/
func FuzzMemoryBodies(f *testing.F) {
	for _, seed := range []string{
		`{"text":"hello"}`, `{"text":"x","metadata":{"a":[1,{"b":null}]},"categories":["a","b"]}`,
		`{"text":"\u0000"}`, `{"text":"x","metadata":{"":1}}`, `{"ids":["not-a-uuid"]}`, `{"state":"archived","ids":[]}`,
		`{"text":1e400}`, `{"text":"x"}{}`, `[`, `{"user_id":"bob"}`, `{"text":"\ud800"}`, strings.Repeat("[", 10000),
	} {
		f.Add(seed, uint8(0))
		f.Add(seed, uint8(2))
	}
	e := newEnv(f)
	token := e.iss.sign(f, claims("acme", "alice"))
	m := caller{e: e, token: token}.add("fuzz target")
	targets := []struct{ method, path string }{
		{http.MethodPost, "/api/v1/memories"},
		{http.MethodPatch, "/api/v1/memories/" + m.ID},
		{http.MethodPost, "/api/v1/memories/bulk-state"},
		{http.MethodPost, "/api/v1/memories/bulk-delete"},
		{http.MethodPatch, "/api/v1/apps/test-agent"},
	}
	f.Fuzz(func(t *testing.T, body string, route uint8) {
		r := targets[int(route)%len(targets)]
		req := httptest.NewRequest(r.method, r.path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		e.server.Handler().ServeHTTP(rec, req)
		require.Less(t, rec.Code, 500, "%s %s %q → %s", r.method, r.path, body, rec.Body)
		if rec.Code >= 400 {
			require.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
		}
	})
}
