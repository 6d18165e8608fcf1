package openaiembed_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/openaiembed"
	"github.com/engram-memory/engram/domain"
)

// server speaks the OpenAI embeddings protocol. answer decides each call's
// fate from its 1-based sequence number; nil means a normal answer.
type server struct {
	calls  atomic.Int32
	dim    atomic.Int32
	answer func(n int, w http.ResponseWriter) bool
	mu     sync.Mutex
	inputs [][]string
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := int(s.calls.Add(1))
	if r.URL.Path != "/v1/embeddings" || r.Method != http.MethodPost {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	if r.Header.Get("Authorization") != "Bearer sk-test" {
		http.Error(w, `{"error":{"message":"bad key"}}`, http.StatusUnauthorized)
		return
	}
	var req struct {
		Model          string   `json:"model"`
		Input          []string `json:"input"`
		EncodingFormat string   `json:"encoding_format"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Model != "test-model" || req.EncodingFormat != "float" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.inputs = append(s.inputs, req.Input)
	s.mu.Unlock()
	if s.answer != nil && s.answer(n, w) {
		return
	}
	type item struct {
		Object    string    `json:"object"`
		Index     int       `json:"index"`
		Embedding []float32 `json:"embedding"`
	}
	resp := struct {
		Object string `json:"object"`
		Data   []item `json:"data"`
		Model  string `json:"model"`
	}{Object: "list", Model: req.Model}
	// Answer in reverse order: clients must use index, not position.
	for i := len(req.Input) - 1; i >= 0; i-- {
		v := make([]float32, s.dim.Load())
		v[0], v[1] = float32(len(req.Input[i])), 3 // deliberately not unit length
		resp.Data = append(resp.Data, item{Object: "embedding", Index: i, Embedding: v})
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

func setup(t *testing.T, s *server, mod func(*openaiembed.Config)) *openaiembed.Embedder {
	t.Helper()
	if s.dim.Load() == 0 {
		s.dim.Store(8)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	cfg := openaiembed.Config{BaseURL: ts.URL + "/v1/", APIKey: "sk-test", Model: "test-model", BatchSize: 2,
		BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond, Timeout: time.Second}
	if mod != nil {
		mod(&cfg)
	}
	e, err := openaiembed.New(cfg)
	require.NoError(t, err)
	return e
}

func TestEmbedBatchesOrdersAndNormalises(t *testing.T) {
	s := &server{}
	e := setup(t, s, nil)
	require.Zero(t, e.Dimension())
	vs, err := e.Embed(context.Background(), []string{"a", "bb", "cccc", "dddddddd", "e"})
	require.NoError(t, err)
	require.Equal(t, int32(3), s.calls.Load(), "5 texts in batches of 2")
	require.Equal(t, [][]string{{"a", "bb"}, {"cccc", "dddddddd"}, {"e"}}, s.inputs)
	require.Equal(t, 8, e.Dimension())
	for i, n := range []float64{1, 2, 4, 8, 1} {
		require.Len(t, vs[i], 8)
		norm := math.Hypot(n, 3)
		require.InDelta(t, n/norm, vs[i][0], 1e-6, "vector %d in input order and unit length", i)
	}
	none, err := e.Embed(context.Background(), nil)
	require.NoError(t, err)
	require.Empty(t, none)
	require.Equal(t, int32(3), s.calls.Load(), "an empty batch makes no request")
}

func TestEmbedRetries429And5xx(t *testing.T) {
	s := &server{answer: func(n int, w http.ResponseWriter) bool {
		switch n {
		case 1:
			w.Header().Set("Retry-After", "0")
			http.Error(w, "slow down", http.StatusTooManyRequests)
			return true
		case 2:
			http.Error(w, "oops", http.StatusBadGateway)
			return true
		}
		return false
	}}
	e := setup(t, s, nil)
	vs, err := e.Embed(context.Background(), []string{"x"})
	require.NoError(t, err)
	require.Len(t, vs, 1)
	require.Equal(t, int32(3), s.calls.Load())
}

func TestEmbedGivesUpAfterRetriesAsUnavailable(t *testing.T) {
	s := &server{answer: func(int, http.ResponseWriter) bool { return false }}
	s.answer = func(_ int, w http.ResponseWriter) bool {
		http.Error(w, "down", http.StatusInternalServerError)
		return true
	}
	e := setup(t, s, func(c *openaiembed.Config) { c.MaxRetries = 2 })
	_, err := e.Embed(context.Background(), []string{"x"})
	require.ErrorIs(t, err, domain.ErrUnavailable)
	require.Contains(t, err.Error(), "500")
	require.Equal(t, int32(3), s.calls.Load(), "one try and two retries")
}

func TestEmbedDoesNotRetryClientErrors(t *testing.T) {
	s := &server{answer: func(_ int, w http.ResponseWriter) bool {
		http.Error(w, `{"error":{"message":"input too long"}}`, http.StatusBadRequest)
		return true
	}}
	e := setup(t, s, nil)
	_, err := e.Embed(context.Background(), []string{"x"})
	require.ErrorIs(t, err, domain.ErrInvalid)
	require.Equal(t, int32(1), s.calls.Load())

	bad := setup(t, &server{}, func(c *openaiembed.Config) { c.APIKey = "wrong" })
	_, err = bad.Embed(context.Background(), []string{"x"})
	require.ErrorIs(t, err, domain.ErrUnavailable, "a refused key is a misconfigured dependency")
}

func TestEmbedMalformedAnswers(t *testing.T) {
	for name, body := range map[string]string{
		"not json":      `{"data": [`,
		"too few":       `{"data": []}`,
		"wrong index":   `{"data": [{"index": 5, "embedding": [1, 2]}]}`,
		"empty vector":  `{"data": [{"index": 0, "embedding": []}]}`,
		"string vector": `{"data": [{"index": 0, "embedding": "AAAA"}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			s := &server{answer: func(_ int, w http.ResponseWriter) bool {
				_, _ = fmt.Fprint(w, body)
				return true
			}}
			e := setup(t, s, nil)
			_, err := e.Embed(context.Background(), []string{"x"})
			require.ErrorIs(t, err, domain.ErrUnavailable)
			require.Contains(t, err.Error(), "malformed")
			require.Equal(t, int32(1), s.calls.Load(), "a malformed answer is not retried")
		})
	}
}

func TestEmbedRefusesDimensionChange(t *testing.T) {
	s := &server{}
	e := setup(t, s, nil)
	_, err := e.Embed(context.Background(), []string{"x"})
	require.NoError(t, err)
	s.dim.Store(16) // the server now runs another model
	_, err = e.Embed(context.Background(), []string{"y"})
	require.ErrorIs(t, err, domain.ErrConflict)
	require.Contains(t, err.Error(), "engram reindex")
	require.Equal(t, 8, e.Dimension())

	fixed := setup(t, &server{}, func(c *openaiembed.Config) { c.Dimensions = 4 })
	require.Equal(t, 4, fixed.Dimension())
	_, err = fixed.Embed(context.Background(), []string{"x"})
	require.ErrorIs(t, err, domain.ErrConflict, "configured 4, server answered 8")
}

func TestEmbedTimeoutIsRetriedThenUnavailable(t *testing.T) {
	s := &server{answer: func(n int, w http.ResponseWriter) bool {
		if n == 1 {
			time.Sleep(800 * time.Millisecond)
		}
		return false
	}}
	e := setup(t, s, func(c *openaiembed.Config) { c.Timeout = 300 * time.Millisecond })
	vs, err := e.Embed(context.Background(), []string{"x"})
	require.NoError(t, err, "the slow first attempt times out and the retry succeeds")
	require.Len(t, vs, 1)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = e.Embed(ctx, []string{"x"})
	require.True(t, errors.Is(err, context.Canceled), "got %v", err)
}

func TestNewValidates(t *testing.T) {
	for _, c := range []openaiembed.Config{{BaseURL: "ftp://x", Model: "m"}, {BaseURL: "http://x/v1"}, {BaseURL: "http://x/v1", Model: "m", Dimensions: -1}} {
		_, err := openaiembed.New(c)
		require.ErrorIs(t, err, domain.ErrInvalid)
	}
}
