package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
)

// TestAnotherOrgsUserIsUnreachable holds the rule of docs/security.md
// ("Which user a request acts for"): a user_id is relative to the
// credential's org, so a project key of acme naming "bob" acts for acme's
// bob, never globex's, and answers exactly as for a user nobody ever
// created (no oracle of other orgs' user ids). Naming globex's bob means
// naming globex (org_id or project_id, in the body, the query or the
// filters), and that is 403 on every route; a user key naming anyone else
// is 403; on /api/v1 a project key is 403 and a user_id in the request 400.
func TestAnotherOrgsUserIsUnreachable(t *testing.T) {
	for name, open := range feedbackBackends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := newMem0Server(t, open)
			acme, globex := s.key("acme", domain.KeyProject, "ops"), s.key("globex", domain.KeyProject, "ops")
			status, body := s.call(globex, http.MethodPost, "/v3/memories/add/", map[string]any{"messages": "globex bob secret tea", "user_id": "bob"})
			require.Equal(t, http.StatusOK, status, "%v", body)
			bobID := obj(t, body)["results"].([]any)[0].(map[string]any)["id"].(string)

			// acme's "bob" is not globex's bob, and looks like a user nobody made.
			for _, r := range []struct{ method, path string }{
				{http.MethodGet, "/v1/memories/?user_id=%s"},
				{http.MethodPost, "/v3/memories/search/"},
				{http.MethodPost, "/v3/memories/"},
				{http.MethodGet, "/v1/memories/" + bobID + "/?user_id=%s"},
				{http.MethodGet, "/v1/memories/" + bobID + "/history/?user_id=%s"},
			} {
				answers := map[string]any{}
				codes := map[string]int{}
				for _, user := range []string{"bob", "nobody"} {
					path := r.path
					if len(path) > 2 && path[len(path)-2:] == "%s" {
						path = path[:len(path)-2] + user
					}
					var b any
					if r.method == http.MethodPost {
						b = map[string]any{"query": "tea", "filters": map[string]any{"user_id": user}}
					}
					codes[user], answers[user] = s.call(acme, r.method, path, b)
					if m, ok := answers[user].(map[string]any); ok {
						delete(m, "request_id")
					}
				}
				require.Equal(t, codes["nobody"], codes["bob"], "%s %s", r.method, r.path)
				require.Equal(t, answers["nobody"], answers["bob"], "%s %s: another org's user must look like no user", r.method, r.path)
				require.NotContains(t, http.StatusText(codes["bob"]), "Forbidden")
			}
			status, _ = s.call(acme, http.MethodGet, "/v1/memories/"+bobID+"/", nil)
			require.Equal(t, http.StatusNotFound, status, "by id, without a user: only acme's memories are looked up")

			// Naming globex's bob is naming globex: 403, wherever it is said.
			for _, c := range []struct {
				method, path string
				body         any
			}{
				{http.MethodPost, "/v3/memories/add/", map[string]any{"messages": "x", "user_id": "bob", "org_id": "globex"}},
				{http.MethodPost, "/v3/memories/add/", map[string]any{"messages": "x", "user_id": "bob", "project_id": "globex"}},
				{http.MethodPost, "/v3/memories/search/", map[string]any{"query": "tea", "filters": map[string]any{"AND": []any{map[string]any{"user_id": "bob"}, map[string]any{"org_id": "globex"}}}}},
				{http.MethodPost, "/v3/memories/search/", map[string]any{"query": "tea", "filters": map[string]any{"user_id": "bob", "project_id": "globex"}}},
				{http.MethodPost, "/v2/memories/", map[string]any{"filters": map[string]any{"user_id": "bob"}, "org_id": "globex"}},
				{http.MethodGet, "/v1/memories/?user_id=bob&org_id=globex", nil},
				{http.MethodDelete, "/v1/memories/?user_id=bob&org_id=globex", nil},
				{http.MethodGet, "/v1/memories/" + bobID + "/?user_id=bob&org_id=globex", nil},
				{http.MethodPut, "/v1/memories/" + bobID + "/?user_id=bob&org_id=globex", map[string]any{"text": "overwritten"}},
				{http.MethodDelete, "/v1/memories/" + bobID + "/?user_id=bob&org_id=globex", nil},
			} {
				status, body := s.call(acme, c.method, c.path, c.body)
				require.Equal(t, http.StatusForbidden, status, "%s %s %v: %v", c.method, c.path, c.body, body)
				require.Contains(t, obj(t, body)["detail"], "another organisation")
			}
			// The org's own id is accepted where mem0's SDKs send it.
			status, body = s.call(acme, http.MethodPost, "/v3/memories/search/", map[string]any{"query": "tea", "org_id": "acme", "project_id": "acme", "filters": map[string]any{"user_id": "bob"}})
			require.Equal(t, http.StatusOK, status, "%v", body)

			// A user key names only itself.
			carol := s.key("acme", domain.KeyUser, "carol")
			status, _ = s.call(carol, http.MethodGet, "/v1/memories/?user_id=bob", nil)
			require.Equal(t, http.StatusForbidden, status)

			// /api/v1: a project key is refused, a user_id in the request too.
			status, _ = s.call(acme, http.MethodGet, "/api/v1/memories", nil)
			require.Equal(t, http.StatusForbidden, status)
			status, _ = s.call(carol, http.MethodGet, "/api/v1/memories?user_id=bob", nil)
			require.Equal(t, http.StatusBadRequest, status)
			status, _ = s.call(carol, http.MethodPost, "/api/v1/search", map[string]any{"query": "tea", "filters": map[string]any{"user_id": "bob"}})
			require.Equal(t, http.StatusForbidden, status, "filters.user_id names another user")

			// globex's bob still has his memory, untouched.
			status, body = s.call(globex, http.MethodGet, "/v1/memories/"+bobID+"/", nil)
			require.Equal(t, http.StatusOK, status)
			require.Equal(t, "globex bob secret tea", obj(t, body)["memory"])
		})
	}
}
