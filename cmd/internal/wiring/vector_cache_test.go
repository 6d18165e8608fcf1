package wiring

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

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
