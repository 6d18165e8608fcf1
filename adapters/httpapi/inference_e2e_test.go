package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/httpapi"
	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/adapters/jwtauth"
	"github.com/engram-memory/engram/adapters/localembed"
	"github.com/engram-memory/engram/adapters/openaichat"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// Recorded chat completions (gpt-4o-mini's shape), answered by what the
// request asks: the facts of a conversation, or the decisions on facts
// given the memories shown.
const (
	recordedLivesInBerlin = `{"id":"chatcmpl-e2e1","object":"chat.completion","model":"test-model","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"{\"facts\":[\"Lives in Berlin\"]}","refusal":null}}]}`
	recordedMoved         = `{"id":"chatcmpl-e2e2","object":"chat.completion","model":"test-model","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"{\"facts\":[\"Moved from Berlin to Lisbon\"]}","refusal":null}}]}`
	recordedAdd           = `{"id":"chatcmpl-e2e3","object":"chat.completion","model":"test-model","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"{\"decisions\":[{\"fact\":0,\"event\":\"add\",\"id\":\"\",\"text\":\"Lives in Berlin\"}]}","refusal":null}}]}`
	recordedSupersede     = `{"id":"chatcmpl-e2e4","object":"chat.completion","model":"test-model","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"{\"decisions\":[{\"fact\":0,\"event\":\"supersede\",\"id\":\"0\",\"text\":\"Lives in Lisbon\"}]}","refusal":null}}]}`
)

func recordedChat(t testing.TB) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Messages []struct {
				Content string `json:"content"`
			} `json:"messages"`
			ResponseFormat struct {
				JSONSchema struct {
					Name string `json:"name"`
				} `json:"json_schema"`
			} `json:"response_format"`
		}
		if r.URL.Path != "/v1/chat/completions" || json.NewDecoder(r.Body).Decode(&req) != nil || len(req.Messages) != 2 {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		data := req.Messages[1].Content
		answer := ""
		switch {
		case req.ResponseFormat.JSONSchema.Name == "facts" && strings.Contains(data, "moved from Berlin"):
			answer = recordedMoved
		case req.ResponseFormat.JSONSchema.Name == "facts":
			answer = recordedLivesInBerlin
		case strings.Contains(data, `"existing_memories":[]`):
			answer = recordedAdd
		default:
			answer = recordedSupersede
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(answer))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// newInferenceServer is a real HTTP server over the embedded stack with
// inference; llm nil means no model is configured.
func newInferenceServer(t testing.TB, open func(testing.TB) (feedbackStore, ports.TextIndex), llm ports.LLM) (*feedbackServer, *app.Inference) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	st, text := open(t)
	writer := st.(interface {
		ports.InferenceWriter
		ports.InferenceEvents
	})
	vectors := inproc.NewVectorIndex()
	embed, err := localembed.New(localembed.Options{})
	require.NoError(t, err)
	indexer := app.NewIndexer(app.IndexerDeps{Memories: st, Scanner: st, Text: text, Vectors: vectors, Embedder: embed})
	require.NoError(t, indexer.Bind(ctx))
	mem := app.NewMemoryService(app.MemoryDeps{Memories: st, Apps: st, Access: st, Observers: []app.ChangeObserver{indexer}})
	t.Cleanup(mem.Close)
	search := app.NewSearchService(app.SearchDeps{Memories: st, Text: text, Vectors: vectors, Embedder: embed, Reads: mem})
	inf := app.NewInference(app.InferenceDeps{LLM: llm, Writer: writer, Events: writer, Finder: search, Memories: mem})
	iss := newIssuer(t)
	replay := inproc.NewReplayCache(inproc.ReplayOptions{})
	t.Cleanup(func() { _ = replay.Close() })
	v, err := jwtauth.NewJWKS(ctx, jwtauth.Config{JWKSURL: iss.jwks.URL, Issuer: testIssuer, Audience: testAudience, PublicURL: publicURL, ReplayCache: replay})
	require.NoError(t, err)
	t.Cleanup(v.Close)
	srv, err := httpapi.New(httpapi.Config{PublicURL: publicURL}, httpapi.Deps{Memories: mem, Inference: inf, Verifier: v})
	require.NoError(t, err)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return &feedbackServer{t: t, url: hs.URL, iss: iss}, inf
}

// TestInferMovedCityEndToEnd is issue 18's done-when: with the recorded
// LLM, "I moved from Berlin to Lisbon" after "I live in Berlin" leaves one
// current memory and one superseded one with its history.
func TestInferMovedCityEndToEnd(t *testing.T) {
	for name, open := range feedbackBackends {
		t.Run(name, func(t *testing.T) {
			chat := recordedChat(t)
			llm, err := openaichat.New(openaichat.Config{BaseURL: chat.URL + "/v1", Model: "test-model", Timeout: 5 * time.Second})
			require.NoError(t, err)
			f, inf := newInferenceServer(t, open, llm)
			alice := f.token("org-1", "alice", domain.DefaultUserScopes...)
			say := func(text string) map[string]any {
				code, body := f.call(alice, http.MethodPost, "/memories", map[string]any{
					"infer": true, "messages": []map[string]string{{"role": "user", "content": text}}})
				require.Equal(t, http.StatusAccepted, code, "%v", body)
				require.Equal(t, "pending", body["status"])
				id := body["event_id"].(string)
				code, ev := f.call(alice, http.MethodGet, "/events/"+id, nil)
				require.Equal(t, http.StatusOK, code)
				require.Equal(t, "pending", ev["status"])
				n, err := inf.RunOnce(context.Background())
				require.NoError(t, err)
				require.Equal(t, 1, n)
				code, ev = f.call(alice, http.MethodGet, "/events/"+id, nil)
				require.Equal(t, http.StatusOK, code)
				require.Equal(t, "done", ev["status"], "%v", ev)
				return ev
			}
			first := say("I live in Berlin")
			added := first["changes"].([]any)[0].(map[string]any)
			require.Equal(t, "add", added["event"])
			require.Equal(t, "Lives in Berlin", added["text"])
			berlin := added["memory_id"].(string)

			second := say("I moved from Berlin to Lisbon")
			sup := second["changes"].([]any)[0].(map[string]any)
			require.Equal(t, "supersede", sup["event"])
			require.Equal(t, berlin, sup["previous_memory_id"])
			lisbon := sup["memory_id"].(string)

			code, page := f.call(alice, http.MethodGet, "/memories", nil)
			require.Equal(t, http.StatusOK, code)
			items := page["items"].([]any)
			require.Len(t, items, 1, "one current memory")
			require.Equal(t, lisbon, items[0].(map[string]any)["id"])
			require.Equal(t, "Lives in Lisbon", items[0].(map[string]any)["text"])
			code, old := f.call(alice, http.MethodGet, "/memories/"+berlin, nil)
			require.Equal(t, http.StatusOK, code)
			require.Equal(t, "deleted", old["state"], "the superseded memory stays, deleted")
			require.Equal(t, "Lives in Berlin", old["text"])
			code, hist := f.call(alice, http.MethodGet, "/memories/"+berlin+"/history", nil)
			require.Equal(t, http.StatusOK, code)
			require.Len(t, hist["items"], 2, "add, then delete by supersession")

			bob := f.token("org-1", "bob", domain.DefaultUserScopes...)
			code, _ = f.call(bob, http.MethodGet, "/events/"+second["id"].(string), nil)
			require.Equal(t, http.StatusNotFound, code, "another user's event does not exist for them")
		})
	}
}

func TestInferWithoutModelStoresTheTextAndSaysSo(t *testing.T) {
	f, _ := newInferenceServer(t, feedbackBackends["sqlite"], nil)
	alice := f.token("org-1", "alice", domain.DefaultUserScopes...)
	code, body := f.call(alice, http.MethodPost, "/memories", map[string]any{"text": "I live in Berlin", "infer": true})
	require.Equal(t, http.StatusCreated, code, "%v", body)
	require.Equal(t, "I live in Berlin", body["text"])
	require.Contains(t, body["inference"], "no inference model is configured")
	code, body = f.call(alice, http.MethodPost, "/memories", map[string]any{"text": "x", "messages": []map[string]string{{"role": "user", "content": "y"}}})
	require.Equal(t, http.StatusBadRequest, code, "%v", body)
	code, body = f.call(alice, http.MethodPost, "/memories", map[string]any{"messages": []map[string]string{{"role": "user", "content": "Likes tea"}}})
	require.Equal(t, http.StatusCreated, code, "%v", body)
	require.Equal(t, "user: Likes tea", body["text"])
	require.NotContains(t, body, "inference")
}

// TestMem0AddInfersWithAModel: with a model configured, mem0's add (infer
// left to its default, true) extracts facts while the request waits and
// answers mem0's events; the move supersedes the old city (DELETE beside
// the ADD of its successor); infer false stores the text as given.
func TestMem0AddInfersWithAModel(t *testing.T) {
	for name, open := range feedbackBackends {
		t.Run(name, func(t *testing.T) {
			chat := recordedChat(t)
			llm, err := openaichat.New(openaichat.Config{BaseURL: chat.URL + "/v1", Model: "test-model", Timeout: 5 * time.Second})
			require.NoError(t, err)
			s := newMem0ServerWith(t, open, llm)
			key := s.key("acme", domain.KeyProject, "ops")
			events := func(body any) []map[string]any {
				var out []map[string]any
				for _, e := range obj(t, body)["results"].([]any) {
					out = append(out, e.(map[string]any))
				}
				return out
			}
			status, body := s.call(key, http.MethodPost, "/v3/memories/add/", map[string]any{
				"user_id": "alice", "messages": []map[string]string{{"role": "user", "content": "I live in Berlin"}}})
			require.Equal(t, http.StatusOK, status, "%v", body)
			first := events(body)
			require.Len(t, first, 1)
			require.Equal(t, "ADD", first[0]["event"])
			require.Equal(t, "Lives in Berlin", first[0]["memory"])
			berlin := first[0]["id"].(string)

			status, body = s.call(key, http.MethodPost, "/v3/memories/add/", map[string]any{
				"user_id": "alice", "messages": []map[string]string{{"role": "user", "content": "I moved from Berlin to Lisbon"}}})
			require.Equal(t, http.StatusOK, status, "%v", body)
			second := events(body)
			require.Len(t, second, 2)
			require.Equal(t, map[string]any{"id": berlin, "event": "DELETE"}, map[string]any{"id": second[0]["id"], "event": second[0]["event"]})
			require.Equal(t, "ADD", second[1]["event"])
			require.Equal(t, "Lives in Lisbon", second[1]["memory"])

			status, body = s.call(key, http.MethodGet, "/v1/memories/?user_id=alice", nil)
			require.Equal(t, http.StatusOK, status, "%v", body)
			var texts []string
			for _, m := range body.([]any) {
				texts = append(texts, m.(map[string]any)["memory"].(string))
			}
			require.Equal(t, []string{"Lives in Lisbon"}, texts, "one current memory")

			status, body = s.call(key, http.MethodPost, "/v3/memories/add/", map[string]any{
				"user_id": "alice", "infer": false, "messages": "I moved from Berlin to Lisbon"})
			require.Equal(t, http.StatusOK, status, "%v", body)
			require.Equal(t, "I moved from Berlin to Lisbon", events(body)[0]["memory"], "infer false stores the text as given")

			status, body = s.call(key, http.MethodGet, "/v1/memories/?user_id=bob", nil)
			require.Equal(t, http.StatusOK, status, "%v", body)
			require.Empty(t, body, "another user of the org sees none of alice's inferred memories")
		})
	}
}
