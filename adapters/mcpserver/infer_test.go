package mcpserver_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/openaichat"
	"github.com/engram-memory/engram/app"
)

// chatServer speaks OpenAI's chat completions for one conversation: the
// facts step answers one fact, the reconcile step adds it.
func chatServer(t *testing.T, fact string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			ResponseFormat struct {
				JSONSchema struct {
					Name string `json:"name"`
				} `json:"json_schema"`
			} `json:"response_format"`
		}
		if r.URL.Path != "/v1/chat/completions" || json.NewDecoder(r.Body).Decode(&req) != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		content := map[string]any{"facts": []string{fact}}
		if req.ResponseFormat.JSONSchema.Name != "facts" {
			content = map[string]any{"decisions": []map[string]any{{"fact": 0, "event": "add", "id": "", "text": fact}}}
		}
		raw, _ := json.Marshal(content)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"id": "chatcmpl-mcp", "object": "chat.completion", "model": "test-model",
			"choices": []map[string]any{{"index": 0, "finish_reason": "stop", "message": map[string]any{"role": "assistant", "content": string(raw)}}}})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// inferJSON is add_memories' answer when inference ran.
type inferJSON struct {
	Memory  *memoryJSON `json:"memory"`
	Created bool        `json:"created"`
	Changes []struct {
		Event    string `json:"event"`
		MemoryID string `json:"memory_id"`
		Text     string `json:"text"`
	} `json:"changes"`
}

// TestAddMemoriesInfersWithAModel: with a model, add_memories {text,
// infer: true} stores the extracted fact, not the raw text, and answers
// the changes; infer absent stores the text as given.
func TestAddMemoriesInfersWithAModel(t *testing.T) {
	chat := chatServer(t, "Prefers aisle seats")
	llm, err := openaichat.New(openaichat.Config{BaseURL: chat.URL + "/v1", Model: "test-model", Timeout: 5 * time.Second})
	require.NoError(t, err)
	h := newHarness(t, withSearch(t), func(su *setup) {
		su.Deps.Inference = app.NewInference(app.InferenceDeps{LLM: llm, Writer: su.Store, Events: su.Store,
			Finder: su.Deps.Searcher.(*app.SearchService), Memories: su.Deps.Memories})
	})
	cs := h.connect("/mcp/claude-desktop/http/alice", h.token("alice"), "claude-desktop")
	out := callOK[inferJSON](t, cs, "add_memories", map[string]any{"text": "oh and please, I always want the aisle on flights", "infer": true})
	require.Nil(t, out.Memory)
	require.True(t, out.Created)
	require.Len(t, out.Changes, 1)
	require.Equal(t, "add", out.Changes[0].Event)
	require.Equal(t, "Prefers aisle seats", out.Changes[0].Text)

	plain := callOK[addJSON](t, cs, "add_memories", map[string]any{"text": "Keeps a cat"})
	require.Equal(t, "Keeps a cat", plain.Memory.Text)
	list := callOK[listJSON](t, cs, "list_memories", map[string]any{})
	var texts []string
	for _, m := range list.Items {
		texts = append(texts, m.Text)
	}
	require.ElementsMatch(t, []string{"Prefers aisle seats", "Keeps a cat"}, texts)
}
