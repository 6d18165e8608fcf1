package mcpserver_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

// BenchmarkMCPSearchTool measures one search_memory call end to end over
// Streamable HTTP on loopback (JSON-RPC, token verification, the SDK's
// session handling, the search) beside the same search called in process,
// over 1,000 memories in the SQLite store with the real hybrid search. The
// difference is what the MCP transport costs. Each reports p50 and p95.
func BenchmarkMCPSearchTool(b *testing.B) {
	h := newHarness(b, withSearch(b))
	ctx := context.Background()
	p := domain.Principal{OrgID: org, UserID: "bench", Scopes: domain.DefaultUserScopes}
	for i := range 1000 {
		_, _, err := h.mem.Add(ctx, p, app.AddInput{Text: fmt.Sprintf("memory %d about topic %d and city %d", i, i%37, i%101)})
		require.NoError(b, err)
	}
	args := map[string]any{"query": "topic 7 city", "limit": 10}

	b.Run("mcp", func(b *testing.B) {
		cs := h.connect("/mcp", h.token("bench"), "bench")
		callOK[searchJSON](b, cs, "search_memory", args) // warm up the session
		measure(b, func() {
			if res := call(b, cs, "search_memory", args); res.IsError {
				b.Fatal(text(res))
			}
		})
	})
	b.Run("direct", func(b *testing.B) {
		measure(b, func() {
			if _, err := h.searcher.Search(ctx, p, app.SearchRequest{Query: "topic 7 city", Limit: 10}, "bench"); err != nil {
				b.Fatal(err)
			}
		})
	})
}

// measure runs f b.N times and reports the p50 and p95 latency.
func measure(b *testing.B, f func()) {
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		f()
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	ms := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(ms(0.50), "p50_ms")
	b.ReportMetric(ms(0.95), "p95_ms")
}
