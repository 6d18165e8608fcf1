package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/httpapi"
	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/adapters/jwtauth"
	"github.com/engram-memory/engram/adapters/localembed"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// mem0Server is the whole embedded stack with API keys and the
// mem0-compatible routes, on one of feedbackBackends.
type mem0Server struct {
	t    testing.TB
	url  string
	keys *app.KeyService
	iss  *issuer // signs bearer tokens the server's verifier accepts
}

func newMem0Server(t testing.TB, open func(testing.TB) (feedbackStore, ports.TextIndex)) *mem0Server {
	return newMem0ServerWith(t, open, nil)
}

// newMem0ServerWith is newMem0Server with inference by llm (nil: no model).
func newMem0ServerWith(t testing.TB, open func(testing.TB) (feedbackStore, ports.TextIndex), llm ports.LLM) *mem0Server {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	st, text := open(t)
	vectors := inproc.NewVectorIndex()
	embed, err := localembed.New(localembed.Options{})
	require.NoError(t, err)
	indexer := app.NewIndexer(app.IndexerDeps{Memories: st, Scanner: st, Text: text, Vectors: vectors, Embedder: embed})
	require.NoError(t, indexer.Bind(ctx))
	mem := app.NewMemoryService(app.MemoryDeps{Memories: st, Apps: st, Access: st, Observers: []app.ChangeObserver{indexer}})
	t.Cleanup(mem.Close)
	search := app.NewSearchService(app.SearchDeps{Memories: st, Text: text, Vectors: vectors, Embedder: embed, Reads: mem})
	fb := app.NewFeedbackService(app.FeedbackDeps{Feedback: st, Queries: st, Experiments: st})
	exps := app.NewExperimentService(app.ExperimentDeps{Experiments: st, Feedback: st, Queries: st})
	iss := newIssuer(t)
	replay := inproc.NewReplayCache(inproc.ReplayOptions{})
	t.Cleanup(func() { _ = replay.Close() })
	v, err := jwtauth.NewJWKS(ctx, jwtauth.Config{JWKSURL: iss.jwks.URL, Issuer: testIssuer, Audience: testAudience, PublicURL: publicURL, ReplayCache: replay})
	require.NoError(t, err)
	t.Cleanup(v.Close)
	ks := st.(interface {
		ports.KeyStore
		ports.MemoryOwners
	})
	keys := app.NewKeyService(app.KeyDeps{Keys: ks})
	writer := st.(interface {
		ports.InferenceWriter
		ports.InferenceEvents
	})
	inf := app.NewInference(app.InferenceDeps{LLM: llm, Writer: writer, Events: writer, Finder: search, Memories: mem})
	srv, err := httpapi.New(httpapi.Config{PublicURL: publicURL}, httpapi.Deps{Memories: mem, Inference: inf, Verifier: keys.Verifier(v)})
	require.NoError(t, err)
	xs := app.NewExperimentSearch(search, exps, fb)
	srv.EnableMem0(httpapi.Mem0Deps{Search: xs, Owners: ks})
	srv.EnableSearch(xs)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return &mem0Server{t: t, url: hs.URL, keys: keys, iss: iss}
}

var keyAdmin = append([]domain.Scope{domain.ScopeKeysWrite, domain.ScopeKeysProject}, domain.DefaultUserScopes...)

func (s *mem0Server) key(org string, kind domain.KeyKind, user string) string {
	_, key, err := s.keys.CreateKey(context.Background(), domain.Principal{OrgID: domain.OrgID(org), UserID: domain.UserID(user), Scopes: keyAdmin},
		app.KeyRequest{Kind: kind, Scopes: []domain.Scope{domain.ScopeMemoriesRead, domain.ScopeMemoriesWrite}})
	require.NoError(s.t, err)
	return key
}

func (s *mem0Server) call(key, method, path string, body any) (int, any) {
	s.t.Helper()
	var r io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		require.NoError(s.t, err)
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, s.url+path, r)
	require.NoError(s.t, err)
	req.Header.Set("Authorization", "Token "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(s.t, err)
	var out any
	if len(raw) > 0 {
		require.NoError(s.t, json.Unmarshal(raw, &out), "%s %s: %s", method, path, raw)
	}
	return resp.StatusCode, out
}

func obj(t *testing.T, v any) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	require.True(t, ok, "%v", v)
	return m
}

func TestMem0RoutesWithAProjectKey(t *testing.T) {
	for name, open := range feedbackBackends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := newMem0Server(t, open)
			proj := s.key("acme", domain.KeyProject, "ops")

			status, body := s.call(proj, "GET", "/v1/ping/", nil)
			require.Equal(t, http.StatusOK, status, body)
			require.Equal(t, "ok", obj(t, body)["status"])

			status, body = s.call(proj, "POST", "/v3/memories/add/", map[string]any{
				"messages": []map[string]string{{"role": "user", "content": "Alice drinks green tea every morning"}},
				"user_id":  "alice", "metadata": map[string]any{"topic": "food"}, "infer": true,
			})
			require.Equal(t, http.StatusOK, status, body)
			res := obj(t, body)["results"].([]any)
			require.Len(t, res, 1)
			id := obj(t, res[0])["id"].(string)
			status, _ = s.call(proj, "POST", "/v1/memories/", map[string]any{"messages": "Bob plays chess on Sundays", "user_id": "bob"})
			require.Equal(t, http.StatusOK, status)

			status, body = s.call(proj, "POST", "/v3/memories/search/", map[string]any{"query": "tea", "filters": map[string]any{"AND": []any{map[string]any{"user_id": "alice"}, map[string]any{"metadata": map[string]any{"topic": "food"}}}}})
			require.Equal(t, http.StatusOK, status, body)
			hits := obj(t, body)["results"].([]any)
			require.Len(t, hits, 1)
			require.Equal(t, "Alice drinks green tea every morning", obj(t, hits[0])["memory"])
			status, body = s.call(proj, "POST", "/v3/memories/search/", map[string]any{"query": "tea", "filters": map[string]any{"user_id": "bob"}})
			require.Equal(t, http.StatusOK, status, body)
			for _, h := range obj(t, body)["results"].([]any) {
				require.Equal(t, "bob", obj(t, h)["user_id"], "bob's search sees only bob")
			}

			status, body = s.call(proj, "POST", "/v3/memories/?page=1&page_size=10", map[string]any{"filters": map[string]any{"user_id": "alice"}})
			require.Equal(t, http.StatusOK, status, body)
			pg := obj(t, body)
			require.EqualValues(t, 1, pg["count"])
			require.Nil(t, pg["next"])
			status, body = s.call(proj, "GET", "/v1/memories/?user_id=bob", nil)
			require.Equal(t, http.StatusOK, status, body)
			require.Len(t, body, 1)

			status, body = s.call(proj, "GET", "/v1/memories/"+id+"/", nil)
			require.Equal(t, http.StatusOK, status, body)
			require.Equal(t, "alice", obj(t, body)["user_id"], "a project key reaches a memory by id inside its org")
			status, body = s.call(proj, "PUT", "/v1/memories/"+id+"/", map[string]any{"text": "Alice drinks oolong tea"})
			require.Equal(t, http.StatusOK, status, body)
			require.Equal(t, "Alice drinks oolong tea", obj(t, body)["memory"])
			status, body = s.call(proj, "GET", "/v1/memories/"+id+"/history/", nil)
			require.Equal(t, http.StatusOK, status, body)
			require.Len(t, body, 2)
			require.Equal(t, "UPDATE", obj(t, body.([]any)[1])["event"])

			other := s.key("globex", domain.KeyProject, "ops")
			status, body = s.call(other, "GET", "/v1/memories/"+id+"/", nil)
			require.Equal(t, http.StatusNotFound, status, "another org's key: %v", body)
			require.NotEmpty(t, obj(t, body)["detail"], "mem0's error shape")
			status, _ = s.call(proj, "POST", "/v3/memories/search/", map[string]any{"query": "tea", "org_id": "globex", "filters": map[string]any{"user_id": "alice"}})
			require.Equal(t, http.StatusForbidden, status, "a key never crosses its org")

			user := s.key("acme", domain.KeyUser, "carol")
			status, _ = s.call(user, "POST", "/v3/memories/search/", map[string]any{"query": "tea", "filters": map[string]any{"user_id": "alice"}})
			require.Equal(t, http.StatusForbidden, status, "a user key naming another user")
			status, _ = s.call(proj, "POST", "/v3/memories/search/", map[string]any{"query": "tea"})
			require.Equal(t, http.StatusBadRequest, status, "a project key must name the user")
			status, body = s.call(proj, "POST", "/v3/memories/search/", map[string]any{"query": "tea", "filters": map[string]any{"OR": []any{}}})
			require.Equal(t, http.StatusBadRequest, status)
			require.Contains(t, obj(t, body)["detail"], "OR")

			status, _ = s.call(proj, "DELETE", "/v1/memories/"+id+"/", nil)
			require.Equal(t, http.StatusOK, status)
			status, _ = s.call(proj, "GET", "/v1/memories/"+id+"/", nil)
			require.Equal(t, http.StatusNotFound, status)
			status, body = s.call("egm_"+string(bytes.Repeat([]byte("x"), 43)), "GET", "/v1/ping/", nil)
			require.Equal(t, http.StatusUnauthorized, status)
			require.Contains(t, obj(t, body)["detail"], "unknown API key")
		})
	}
}
