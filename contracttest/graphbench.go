package contracttest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// GraphBenchSize is the benchmark graph's size: ENGRAM_BENCH_GRAPH_MEMORIES
// memories (default 10,000) naming three entities each, drawn with a
// skewed (Zipf) popularity from half as many entities.
func GraphBenchSize() (memories, entities int) {
	memories = 10000
	if n, err := strconv.Atoi(os.Getenv("ENGRAM_BENCH_GRAPH_MEMORIES")); err == nil && n > 0 {
		memories = n
	}
	return memories, memories / 2
}

// SeedGraph links memories of tn to entities through LinkMemory (the write
// path itself) and returns the entity ids that were created.
func SeedGraph(tb testing.TB, s ports.EntityStore, tn domain.Tenant, memories, entities int) []domain.EntityID {
	tb.Helper()
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	z := rand.NewZipf(r, 1.1, 4, uint64(entities-1))
	start := time.Now()
	for i := 0; i < memories; i++ {
		ms := make([]domain.Mention, 0, 3)
		for len(ms) < 3 {
			ms = append(ms, domain.Mention{Name: fmt.Sprintf("Entity %d", z.Uint64()), Type: domain.EntityPerson})
		}
		if err := s.LinkMemory(ctx, tn, domain.MemoryID(domain.NewID(time.Now())), ms, time.Now()); err != nil {
			tb.Fatal(err)
		}
	}
	tb.Logf("seeded %d memories in %s", memories, time.Since(start).Round(time.Millisecond))
	var ids []domain.EntityID
	q := domain.EntityQuery{Limit: domain.MaxEntityPageSize}
	for {
		page, err := s.ListEntities(ctx, tn, q)
		if err != nil {
			tb.Fatal(err)
		}
		for _, e := range page.Items {
			ids = append(ids, e.ID)
		}
		if page.Next == nil {
			return ids
		}
		q.After = page.Next
	}
}

// BenchGraphNeighbourhood is both stores' BenchmarkGraphNeighbourhood: it
// seeds s with a graph of GraphBenchSize through SeedGraph, then times
// neighbourhood (the adapter's test file binds app.GraphService, which this
// package may not import) at depth 2 from random entities and reports p50
// and p95 (docs/benchmarks.md, "Entities and the graph").
func BenchGraphNeighbourhood(b *testing.B, s ports.EntityStore,
	neighbourhood func(ctx context.Context, p domain.Principal, from domain.EntityID, l domain.GraphLimits) error) {
	b.Helper()
	tn := domain.Tenant{OrgID: "bench", UserID: "u"}
	mems, ents := GraphBenchSize()
	ids := SeedGraph(b, s, tn, mems, ents)
	b.Logf("%d memories, %d entities", mems, len(ids))
	p := domain.Principal{OrgID: tn.OrgID, UserID: tn.UserID, Scopes: []domain.Scope{domain.ScopeGraphRead}}
	r := rand.New(rand.NewPCG(3, 4))
	var lat []time.Duration
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		if err := neighbourhood(context.Background(), p, ids[r.IntN(len(ids))], domain.GraphLimits{Depth: 2}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
}
