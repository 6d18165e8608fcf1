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
// Streamable HTTP on loopback: JSON-RPC encoding, token verification, the
// SDK's session handling and the search itself, over 1,000 memories in the
// SQLite store. It reports the p50 and p95 latency of the calls it made; the
// REST side of the comparison is in engramd's benchmarks.
func BenchmarkMCPSearchTool(b *testing.B) {
	h := newHarness(b)
	ctx := context.Background()
	p := domain.Principal{OrgID: org, UserID: "bench", Scopes: domain.DefaultUserScopes}
	for i := range 1000 {
		_, _, err := h.mem.Add(ctx, p, app.AddInput{Text: fmt.Sprintf("memory %d about topic %d and city %d", i, i%37, i%101)})
		require.NoError(b, err)
	}
	cs := h.connect("/mcp", h.token("bench"), "bench")
	args := map[string]any{"query": "topic 7", "limit": 10}
	callOK[searchJSON](b, cs, "search_memory", args) // warm up the session

	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		res := call(b, cs, "search_memory", args)
		lat = append(lat, time.Since(start))
		if res.IsError {
			b.Fatal(text(res))
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	ms := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(ms(0.50), "p50_ms")
	b.ReportMetric(ms(0.95), "p95_ms")
}
