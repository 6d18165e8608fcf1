package pgstore_test

import (
	"context"
	"testing"

	"github.com/engram-memory/engram/adapters/pgstore"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/contracttest"
	"github.com/engram-memory/engram/domain"
)

// BenchmarkGraphNeighbourhood times GraphService.Neighbourhood at depth 2
// over a seeded graph (contracttest.BenchGraphNeighbourhood; size from
// ENGRAM_BENCH_GRAPH_MEMORIES), reporting p50 and p95.
func BenchmarkGraphNeighbourhood(b *testing.B) {
	s := newStore(b, pgstore.Options{})
	g := &app.GraphService{Memories: s, Entities: s}
	contracttest.BenchGraphNeighbourhood(b, s, func(ctx context.Context, p domain.Principal, from domain.EntityID, l domain.GraphLimits) error {
		_, err := g.Neighbourhood(ctx, p, app.GraphStart{Entity: from}, l)
		return err
	})
}
