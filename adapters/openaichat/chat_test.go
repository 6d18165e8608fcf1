package openaichat_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/openaichat"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// server speaks the chat completions protocol with recorded answers from
// testdata. answer decides each call's fate from its 1-based sequence
// number; returning "" sends testdata/facts.json.
type server struct {
	t      *testing.T
	calls  atomic.Int32
	answer func(n int, w http.ResponseWriter) string
	mu     sync.Mutex
	reqs   []map[string]any
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := int(s.calls.Add(1))
	if r.URL.Path != "/v1/chat/completions" || r.Method != http.MethodPost {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	if r.Header.Get("Authorization") != "Bearer sk-test" {
		http.Error(w, `{"error":{"message":"bad key"}}`, http.StatusUnauthorized)
		return
	}
	var req map[string]any
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.reqs = append(s.reqs, req)
	s.mu.Unlock()
	file := "facts.json"
	if s.answer != nil {
		switch f := s.answer(n, w); f {
		case "-":
			return
		case "":
		default:
			file = f
		}
	}
	raw, err := os.ReadFile("testdata/" + file)
	require.NoError(s.t, err)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(raw)
}

func setup(t *testing.T, s *server, mod func(*openaichat.Config)) *openaichat.Client {
	t.Helper()
	s.t = t
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	cfg := openaichat.Config{BaseURL: ts.URL + "/v1/", APIKey: "sk-test", Model: "test-model", MaxTokens: 256,
		BaseDelay: time.Millisecond, MaxDelay: 50 * time.Millisecond, Timeout: time.Second}
	if mod != nil {
		mod(&cfg)
	}
	c, err := openaichat.New(cfg)
	require.NoError(t, err)
	return c
}

var schema = json.RawMessage(`{"type":"object","properties":{"facts":{"type":"array","items":{"type":"string"}}},"required":["facts"],"additionalProperties":false}`)

func request() ports.ChatRequest {
	return ports.ChatRequest{SchemaName: "facts", Schema: schema, MaxTokens: 10_000,
		Messages: []ports.ChatMessage{{Role: "system", Content: "extract"}, {Role: "user", Content: "I live in Berlin"}}}
}

func TestChatSendsSchemaBoundAndReturnsJSON(t *testing.T) {
	s := &server{}
	c := setup(t, s, nil)
	out, err := c.Chat(context.Background(), request())
	require.NoError(t, err)
	require.JSONEq(t, `{"facts":["Lives in Berlin"]}`, string(out))
	require.Equal(t, "test-model", c.Model())
	req := s.reqs[0]
	require.Equal(t, "test-model", req["model"])
	require.EqualValues(t, 256, req["max_tokens"], "a request's bound never exceeds the configured one")
	require.EqualValues(t, 0, req["temperature"])
	require.Equal(t, false, req["stream"])
	rf := req["response_format"].(map[string]any)
	require.Equal(t, "json_schema", rf["type"])
	js := rf["json_schema"].(map[string]any)
	require.Equal(t, "facts", js["name"])
	require.Equal(t, true, js["strict"])
	require.Equal(t, "object", js["schema"].(map[string]any)["type"])
	msgs := req["messages"].([]any)
	require.Len(t, msgs, 2)
	require.Equal(t, map[string]any{"role": "user", "content": "I live in Berlin"}, msgs[1])
}

func TestChatUnwrapsACodeFence(t *testing.T) {
	c := setup(t, &server{answer: func(int, http.ResponseWriter) string { return "fenced.json" }}, nil)
	out, err := c.Chat(context.Background(), request())
	require.NoError(t, err)
	require.JSONEq(t, `{"facts":["Likes tea"]}`, string(out))
}

func TestChatUnusableAnswersAreInvalidAndNotRetried(t *testing.T) {
	for file, reason := range map[string]string{
		"malformed.json": "not valid JSON",
		"refusal.json":   "refused",
		"truncated.json": "cut off",
	} {
		t.Run(file, func(t *testing.T) {
			s := &server{answer: func(int, http.ResponseWriter) string { return file }}
			c := setup(t, s, nil)
			_, err := c.Chat(context.Background(), request())
			require.ErrorIs(t, err, domain.ErrInvalid)
			require.NotErrorIs(t, err, domain.ErrUnavailable)
			require.Contains(t, err.Error(), reason)
			require.Equal(t, int32(1), s.calls.Load())
		})
	}
	s := &server{answer: func(_ int, w http.ResponseWriter) string { _, _ = w.Write([]byte(`{"choices": [`)); return "-" }}
	_, err := setup(t, s, nil).Chat(context.Background(), request())
	require.ErrorIs(t, err, domain.ErrInvalid)
	require.Contains(t, err.Error(), "not a chat completion")
}

func TestChatHonoursRetryAfterOn429(t *testing.T) {
	var first time.Time
	var gap time.Duration
	s := &server{answer: func(n int, w http.ResponseWriter) string {
		if n == 1 {
			first = time.Now()
			w.Header().Set("Retry-After", "1")
			http.Error(w, `{"error":{"message":"rate limited"}}`, http.StatusTooManyRequests)
			return "-"
		}
		gap = time.Since(first)
		return ""
	}}
	c := setup(t, s, func(c *openaichat.Config) { c.MaxDelay = 2 * time.Second })
	out, err := c.Chat(context.Background(), request())
	require.NoError(t, err)
	require.JSONEq(t, `{"facts":["Lives in Berlin"]}`, string(out))
	require.Equal(t, int32(2), s.calls.Load())
	require.GreaterOrEqual(t, gap, 700*time.Millisecond, "waited for Retry-After (1 s, 25 %% jitter), not the 1 ms backoff")
}

func TestChatGivesUpOn429WithRetryAfter(t *testing.T) {
	s := &server{answer: func(_ int, w http.ResponseWriter) string {
		w.Header().Set("Retry-After", "7")
		http.Error(w, "slow down", http.StatusTooManyRequests)
		return "-"
	}}
	c := setup(t, s, func(c *openaichat.Config) { c.MaxRetries = 1; c.MaxDelay = 5 * time.Millisecond })
	_, err := c.Chat(context.Background(), request())
	require.ErrorIs(t, err, domain.ErrUnavailable)
	var ue *domain.UnavailableError
	require.True(t, errors.As(err, &ue))
	require.Equal(t, 7, ue.RetryAfter, "the server's Retry-After reaches the caller")
	require.Equal(t, "llm", ue.Dependency)
	require.Equal(t, int32(2), s.calls.Load())
}

func TestChatRetries5xxNot400(t *testing.T) {
	s := &server{answer: func(n int, w http.ResponseWriter) string {
		if n == 1 {
			http.Error(w, "oops", http.StatusBadGateway)
			return "-"
		}
		return ""
	}}
	_, err := setup(t, s, nil).Chat(context.Background(), request())
	require.NoError(t, err)
	require.Equal(t, int32(2), s.calls.Load())

	s = &server{answer: func(int, http.ResponseWriter) string { return "" }}
	s.answer = func(_ int, w http.ResponseWriter) string {
		http.Error(w, `{"error":{"message":"response_format not supported"}}`, http.StatusBadRequest)
		return "-"
	}
	_, err = setup(t, s, nil).Chat(context.Background(), request())
	require.ErrorIs(t, err, domain.ErrInvalid)
	require.Contains(t, err.Error(), "response_format not supported")
	require.Equal(t, int32(1), s.calls.Load())

	s = &server{answer: func(_ int, w http.ResponseWriter) string {
		http.Error(w, "down", http.StatusInternalServerError)
		return "-"
	}}
	_, err = setup(t, s, func(c *openaichat.Config) { c.MaxRetries = 2 }).Chat(context.Background(), request())
	require.ErrorIs(t, err, domain.ErrUnavailable)
	require.Equal(t, int32(3), s.calls.Load(), "one try and two retries")
}

func TestChatTimeoutIsRetriedThenUnavailable(t *testing.T) {
	s := &server{answer: func(n int, _ http.ResponseWriter) string {
		if n == 1 {
			time.Sleep(600 * time.Millisecond)
		}
		return ""
	}}
	c := setup(t, s, func(c *openaichat.Config) { c.Timeout = 200 * time.Millisecond })
	_, err := c.Chat(context.Background(), request())
	require.NoError(t, err, "the slow first attempt times out and the retry succeeds")

	slow := &server{answer: func(int, http.ResponseWriter) string { time.Sleep(400 * time.Millisecond); return "" }}
	c = setup(t, slow, func(c *openaichat.Config) { c.Timeout = 100 * time.Millisecond; c.MaxRetries = 1 })
	_, err = c.Chat(context.Background(), request())
	require.ErrorIs(t, err, domain.ErrUnavailable)
	require.Contains(t, err.Error(), "timed out")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = c.Chat(ctx, request())
	require.ErrorIs(t, err, context.Canceled)
}

func TestNewAndChatValidate(t *testing.T) {
	for _, cfg := range []openaichat.Config{{BaseURL: "ftp://x", Model: "m"}, {BaseURL: "http://x/v1"}, {BaseURL: "http://x/v1", Model: "m", MaxTokens: -1}} {
		_, err := openaichat.New(cfg)
		require.ErrorIs(t, err, domain.ErrInvalid)
	}
	s := &server{}
	c := setup(t, s, nil)
	_, err := c.Chat(context.Background(), ports.ChatRequest{Messages: request().Messages})
	require.ErrorIs(t, err, domain.ErrInvalid)
	require.Zero(t, s.calls.Load())
}
