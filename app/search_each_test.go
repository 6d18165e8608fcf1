package app_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// countingVectors counts the in-process index's searches.
type countingVectors struct {
	*inproc.VectorIndex
	searches, each atomic.Int32
}

func (c *countingVectors) Search(ctx context.Context, t domain.Tenant, q []float32, k int, f domain.SearchFilter) ([]ports.Hit, error) {
	c.searches.Add(1)
	return c.VectorIndex.Search(ctx, t, q, k, f)
}

func (c *countingVectors) SearchEach(ctx context.Context, t domain.Tenant, qs [][]float32, k int, f domain.SearchFilter) ([][]ports.Hit, error) {
	c.each.Add(1)
	return c.VectorIndex.SearchEach(ctx, t, qs, k, f)
}

// oneAtATime hides SearchEach: an index that searches one vector a call.
type oneAtATime struct{ *countingVectors }

func (o oneAtATime) SearchEach() {}

// TestCenteredSearchReadsTheVectorsOnce (issue 19): a centered search ranks
// by the centered query and takes cosines from the plain query's
// neighbours; an index that can (ports.VectorMultiSearcher) ranks both in
// one pass over the user's vectors, with the same results as two searches.
func TestCenteredSearchReadsTheVectorsOnce(t *testing.T) {
	e := newSearchEnv(t)
	for i := range 30 { // above minCenteredRows: the query is centered
		e.add(t, sAlice, fmt.Sprintf("note %d about sailing, kayaks and the lake in July", i))
	}
	req := app.SearchRequest{Query: "kayak on the lake", Limit: 10}
	both := &countingVectors{VectorIndex: e.vectors}
	single := &countingVectors{VectorIndex: e.vectors}
	var results []app.SearchResult
	for _, v := range []interface {
		ports.VectorIndex
		app.VectorCentroids
	}{both, oneAtATime{single}} {
		s := app.NewSearchService(app.SearchDeps{Memories: e.store, Text: e.store.TextIndex(), Vectors: v, Embedder: e.embed})
		res, err := s.Search(context.Background(), sAlice, req, "")
		require.NoError(t, err)
		res.QueryID = ""
		results = append(results, res)
	}
	require.Equal(t, int32(1), both.each.Load(), "one pass for both queries")
	require.Zero(t, both.searches.Load())
	require.Equal(t, int32(2), single.searches.Load(), "centered and plain query, one search each")
	require.Equal(t, results[0], results[1])
	require.NotEmpty(t, results[0].Results)
}
