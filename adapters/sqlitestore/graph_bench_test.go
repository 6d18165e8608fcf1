package sqlitestore_test

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/contracttest"
	"github.com/engram-memory/engram/domain"
)

// BenchmarkGraphNeighbourhood times GraphService.Neighbourhood at depth 2
// (100 nodes, 20 edges per node) from random entities of a graph seeded
// through LinkMemory; size from ENGRAM_BENCH_GRAPH_MEMORIES. It reports
// p50 and p95 (docs/benchmarks.md, "Entities and the graph").
func BenchmarkGraphNeighbourhood(b *testing.B) {
	s := openTemp(b)
	tn := domain.Tenant{OrgID: "bench", UserID: "u"}
	mems, ents := contracttest.GraphBenchSize()
	ids := contracttest.SeedGraph(b, s, tn, mems, ents)
	b.Logf("%d memories, %d entities", mems, len(ids))
	g := &app.GraphService{Memories: s, Entities: s}
	p := domain.Principal{OrgID: tn.OrgID, UserID: tn.UserID, Scopes: []domain.Scope{domain.ScopeGraphRead}}
	r := rand.New(rand.NewPCG(3, 4))
	var lat []time.Duration
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		if _, err := g.Neighbourhood(context.Background(), p, app.GraphStart{Entity: ids[r.IntN(len(ids))]}, domain.GraphLimits{Depth: 2}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
}
