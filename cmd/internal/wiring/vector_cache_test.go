package wiring

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/jwtauth"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

// TestVectorCacheBudgetLoadsNothingAtStartAndPagesIn: with
// ENGRAM_VECTOR_CACHE_BYTES the vector index is the budgeted cache, the
// start loads no tenant, and a vector search of each tenant pages it in
// and finds its memory.
func TestVectorCacheBudgetLoadsNothingAtStartAndPagesIn(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t, map[string]string{"ENGRAM_VECTOR_CACHE_BYTES": "1048576"})
	b, err := OpenStore(ctx, cfg, quiet)
	require.NoError(t, err)
	defer b.Close()
	users := []domain.Principal{}
	{ // memories written before the start
		s, err := OpenSearch(ctx, cfg, b)
		require.NoError(t, err)
		c, err := NewCore(ctx, b, s, CoreOptions{})
		require.NoError(t, err)
		for i := range 3 {
			p := domain.Principal{OrgID: "acme", UserID: domain.UserID(fmt.Sprint("user", i)), Scopes: domain.DefaultUserScopes, ClientID: "test"}
			users = append(users, p)
			for j := range 20 {
				_, _, err := c.Memories.Add(ctx, p, app.AddInput{Text: fmt.Sprintf("user %d fact %d about %s", i, j, []string{"gardening", "astronomy", "cooking"}[(i+j)%3])})
				require.NoError(t, err)
			}
		}
		c.Close()
		require.NoError(t, s.Close())
	}
	s, err := OpenSearch(ctx, cfg, b)
	require.NoError(t, err)
	defer s.Close()
	require.NotNil(t, s.VectorCache)
	require.False(t, s.LoadVectors(), "a budget loads nothing at start")
	c, err := NewCore(ctx, b, s, CoreOptions{Load: true})
	require.NoError(t, err)
	defer c.Close()
	require.Zero(t, s.VectorCache.Stats().Loads)
	for i, p := range users {
		res, err := c.Search.Search(ctx, p, app.SearchRequest{Query: fmt.Sprintf("user %d fact 4 about", i), Mode: domain.SearchVector, Limit: 3}, "test")
		require.NoError(t, err)
		require.NotEmpty(t, res.Results)
		require.Equal(t, fmt.Sprintf("user %d fact 4 about %s", i, []string{"gardening", "astronomy", "cooking"}[(i+4)%3]), res.Results[0].Memory.Text)
		require.Empty(t, res.Degraded)
	}
	st := s.VectorCache.Stats()
	require.EqualValues(t, 3, st.Loads)
	require.Equal(t, 3, st.Tenants, "three small tenants fit in a mebibyte")
}

// TestQdrantLeavesNoVectorsInProcess: with Qdrant the budget has nothing
// to keep (the in-process index is not built at all).
func TestQdrantLeavesNoVectorsInProcess(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t, map[string]string{"ENGRAM_VECTOR_CACHE_BYTES": "1048576", "ENGRAM_QDRANT_URL": "http://127.0.0.1:1"})
	b, err := OpenStore(ctx, cfg, quiet)
	require.NoError(t, err)
	defer b.Close()
	s, err := OpenSearch(ctx, cfg, b)
	require.NoError(t, err)
	defer s.Close()
	require.Nil(t, s.VectorCache)
	require.Equal(t, "qdrant", s.VectorsName)
	require.False(t, s.LoadVectors())
}

// TestVectorCacheMetrics: engramd with a vector budget exports the cache's
// hits, page-ins (misses), evictions, bytes and tenants held, and the
// page-in cost, as fixed series with no tenant label.
func TestVectorCacheMetrics(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t, map[string]string{"ENGRAM_ADDR": "127.0.0.1:0", "ENGRAM_VECTOR_CACHE_BYTES": "1048576",
		"ENGRAM_RATE_READS": "0", "ENGRAM_RATE_WRITES": "0", "ENGRAM_RATE_SEARCH": "0"})
	sys, err := Build(ctx, cfg, quiet)
	require.NoError(t, err)
	t.Cleanup(func() { _ = sys.Close() })
	h := sys.Handler()
	search := func(user string) {
		tok, err := sys.MintLocal(jwtauth.Claims{Subject: user, OrgID: "acme", TTL: time.Hour})
		require.NoError(t, err)
		req := httptest.NewRequest(http.MethodPost, "/api/v1/search", strings.NewReader(`{"query":"fact about cooking","mode":"vector","limit":3}`))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		require.Contains(t, rec.Body.String(), "cooking")
	}
	for _, user := range []string{"u1", "u2"} {
		p := domain.Principal{OrgID: "acme", UserID: domain.UserID(user), Scopes: domain.DefaultUserScopes, ClientID: "test"}
		for j := range 5 {
			_, _, err := sys.Memories.Add(ctx, p, app.AddInput{Text: fmt.Sprintf("%s fact %d about %s", user, j, []string{"gardening", "cooking"}[j%2])})
			require.NoError(t, err)
		}
	}
	search("u1")
	search("u1")
	search("u2")

	families, err := sys.Telemetry().Registry.Gather()
	require.NoError(t, err)
	got := map[string]float64{}
	for _, mf := range families {
		if !strings.HasPrefix(mf.GetName(), "engram_vector_cache_") {
			continue
		}
		require.Len(t, mf.GetMetric(), 1, "%s: one series, no per-tenant label", mf.GetName())
		m := mf.GetMetric()[0]
		require.Empty(t, m.GetLabel(), mf.GetName())
		got[mf.GetName()] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
	}
	require.EqualValues(t, 2, got["engram_vector_cache_page_ins_total"], "one page-in per user")
	require.GreaterOrEqual(t, got["engram_vector_cache_hits_total"], 1.0, "u1's second search is a hit")
	require.EqualValues(t, 10, got["engram_vector_cache_paged_in_memories_total"])
	require.Contains(t, got, "engram_vector_cache_evictions_total")
	require.Zero(t, got["engram_vector_cache_evictions_total"], "two small tenants fit in a mebibyte")
	require.EqualValues(t, 2, got["engram_vector_cache_tenants"])
	require.Positive(t, got["engram_vector_cache_bytes"])
	require.EqualValues(t, 1048576, got["engram_vector_cache_budget_bytes"])
	require.Positive(t, got["engram_vector_cache_page_in_seconds_total"])
	require.Positive(t, got["engram_vector_cache_page_in_embed_seconds_total"])
	require.GreaterOrEqual(t, got["engram_vector_cache_page_in_seconds_total"], got["engram_vector_cache_page_in_embed_seconds_total"])
}
