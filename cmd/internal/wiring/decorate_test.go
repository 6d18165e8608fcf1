package wiring

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestEmbedderRetriesAreNotNested: a remote embedder that keeps answering
// 503 is tried by the adapter's own retries only (1 + 3 requests), not by
// the policy's retries around each of them as well (3 × 4 = 12).
func TestEmbedderRetriesAreNotNested(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		http.Error(w, "overloaded", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	cfg := testConfig(t, map[string]string{"ENGRAM_EMBEDDER": "openai", "ENGRAM_EMBED_URL": srv.URL + "/v1", "ENGRAM_EMBED_MODEL": "m"})
	ctx := context.Background()
	b, err := OpenStore(ctx, cfg, quiet)
	require.NoError(t, err)
	defer b.Close()
	s, err := OpenSearch(ctx, cfg, b)
	require.NoError(t, err)
	defer s.Close()
	require.Equal(t, "embedder", s.EmbedderName)
	dec := newDecorator(cfg, quiet)
	s = dec.search(s)
	_, err = s.Embedder.Embed(ctx, []string{"hello"})
	require.Error(t, err)
	require.EqualValues(t, 4, hits.Load(), "one retry layer: the adapter's")
}
