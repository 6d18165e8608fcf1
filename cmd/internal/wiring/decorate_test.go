package wiring

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/resilience"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
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

// TestEveryStorePortIsDecorated: the feedback, query-log and experiment
// ports go through telemetry and the store's breaker like memories do (they
// used to be reached undecorated).
func TestEveryStorePortIsDecorated(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t, nil)
	raw, err := OpenStore(ctx, cfg, quiet)
	require.NoError(t, err)
	defer raw.Close()
	dec := newDecorator(cfg, quiet)
	b := dec.backend(raw)
	_, _ = b.Feedback.FeedbackOrgs(ctx)
	_, _, _ = b.QueryLog.ListQueries(ctx, "org", time.Time{}, 10, "")
	_, _ = b.Experiments.ListExperiments(ctx, "org", "")
	_, _ = b.Memories.Stats(ctx, probeTenant)
	_, _ = b.Keys.ListKeys(ctx, "org", "")
	_, _ = b.Owners.OwnerOf(ctx, "org", "0190e0b2-0000-7000-8000-000000000000")
	families, err := dec.tel.Registry.Gather()
	require.NoError(t, err)
	ops := map[string]bool{}
	for _, f := range families {
		if f.GetName() != "engram_dependency_duration_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			var dep, op string
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "dependency":
					dep = l.GetValue()
				case "operation", "op":
					op = l.GetValue()
				}
			}
			if dep == "sqlite" {
				ops[op] = true
			}
		}
	}
	for _, op := range []string{"feedback_orgs", "list_queries", "list_experiments", "stats", "list_keys", "owner_of"} {
		require.True(t, ops[op], "%s is not observed (have %v)", op, ops)
	}
	require.Contains(t, dec.policies, "sqlite", "one breaker for the store's ports")
}

// Qdrant's and Elasticsearch's /readyz probes go through their breakers,
// as the store's and Valkey's do: once the breaker is open the probe says
// "down" without calling the index, and once half-open the probe is the
// trial call that closes it, so /readyz and the breaker agree.
func TestExternalIndexProbesGoThroughTheirBreakers(t *testing.T) {
	var hits atomic.Int64
	var healthy atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		if !healthy.Load() {
			http.Error(w, "overloaded", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"version":{"number":"8.19.0"},"tagline":"You Know, for Search"}`))
	}))
	defer srv.Close()
	cfg := testConfig(t, map[string]string{"ENGRAM_ELASTICSEARCH_URL": srv.URL})
	ctx := context.Background()
	b, err := OpenStore(ctx, cfg, quiet)
	require.NoError(t, err)
	defer b.Close()
	s, err := OpenSearch(ctx, cfg, b)
	require.NoError(t, err)
	defer s.Close()
	dec := newDecorator(cfg, quiet)
	s = dec.search(s)
	require.Len(t, s.Checks, 1)
	probe := s.Checks[0].Probe
	p := dec.policies["elasticsearch"]
	require.NotNil(t, p)
	for i := 0; i < 50 && p.State() != resilience.Open; i++ {
		require.Error(t, probe(ctx))
	}
	require.Equal(t, resilience.Open, p.State(), "failing probes open the breaker")
	before := hits.Load()
	require.Error(t, probe(ctx), "open: the probe says down")
	require.Equal(t, before, hits.Load(), "open: the probe does not call the index")

	healthy.Store(true)
	require.Eventually(t, func() bool { return probe(ctx) == nil }, 10*time.Second, 100*time.Millisecond,
		"half-open: the probe is the trial call")
	require.Equal(t, resilience.Closed, p.State(), "the successful probe closed the breaker")
}

// TestLLMIsDecoratedWithOneRetryLayer: a chat model that keeps answering
// 503 is tried by openaichat's retries only (1 + 2), its failure is the
// llm dependency's, and the calls show in the metrics.
func TestLLMIsDecoratedWithOneRetryLayer(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		http.Error(w, "overloaded", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	cfg := testConfig(t, map[string]string{"ENGRAM_LLM_URL": srv.URL + "/v1", "ENGRAM_LLM_MODEL": "m"})
	raw, err := NewLLM(cfg)
	require.NoError(t, err)
	dec := newDecorator(cfg, quiet)
	l := dec.llm(raw)
	_, err = l.Chat(context.Background(), ports.ChatRequest{SchemaName: "x", Schema: []byte(`{"type":"object"}`),
		Messages: []ports.ChatMessage{{Role: "user", Content: "hi"}}})
	var ue *domain.UnavailableError
	require.ErrorAs(t, err, &ue)
	require.Equal(t, "llm", ue.Dependency)
	require.EqualValues(t, 3, hits.Load(), "one retry layer: the adapter's")
	require.NotNil(t, dec.policies["llm"], "the llm has its own breaker")

	none, err := NewLLM(testConfig(t, nil))
	require.NoError(t, err)
	require.Nil(t, none, "no ENGRAM_LLM_URL, no model")
	require.Nil(t, dec.llm(none))
}
