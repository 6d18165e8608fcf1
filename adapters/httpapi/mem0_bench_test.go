package httpapi_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/engram-memory/engram/domain"
)

// BenchmarkMem0SearchVsAPISearch puts mem0's search route beside
// /api/v1/search: the same user, the same 2,000 memories and queries, over
// a real socket, p50 and p95 per route (issue 17's target: mem0's p95 at
// most 10 % above). The routes share the search; mem0's adds its filter
// parsing, its response shape and the similarity fields.
//
//	go test -run '^$' -bench 'BenchmarkMem0SearchVsAPISearch' -benchtime 300x -count 3 ./adapters/httpapi/
func BenchmarkMem0SearchVsAPISearch(b *testing.B) {
	s := newMem0Server(b, feedbackBackends["sqlite"])
	key := s.key("acme", domain.KeyUser, "alice")
	topics := []string{"tea", "chess", "flights", "taxes", "jazz", "garden", "python", "running"}
	for i := range 2000 {
		status, body := s.call(key, "POST", "/api/v1/memories", map[string]any{
			"text": fmt.Sprintf("note %d about %s and %s, day %d", i, topics[i%8], topics[(i/8)%8], i%31)})
		if status != http.StatusCreated {
			b.Fatalf("add: %d %v", status, body)
		}
	}
	routes := []struct {
		name, path string
		body       func(q string) map[string]any
	}{
		{"api-v1", "/api/v1/search", func(q string) map[string]any { return map[string]any{"query": q, "limit": 10} }},
		{"mem0-v3", "/v3/memories/search/", func(q string) map[string]any {
			return map[string]any{"query": q, "top_k": 10, "filters": map[string]any{"user_id": "alice"}}
		}},
	}
	// Each iteration sends the same query to both routes, alternating
	// which goes first, so that the machine's load at any moment falls on
	// both alike (run one after the other, a noisy minute decided the
	// comparison).
	lat := make([][]time.Duration, len(routes))
	i := 0
	for b.Loop() {
		q := topics[i%8] + " " + topics[(i+3)%8]
		for k := range routes {
			r := routes[(k+i)%len(routes)]
			start := time.Now()
			status, body := s.call(key, "POST", r.path, r.body(q))
			lat[(k+i)%len(routes)] = append(lat[(k+i)%len(routes)], time.Since(start))
			if status != http.StatusOK {
				b.Fatalf("%s: %d %v", r.path, status, body)
			}
		}
		i++
	}
	p95 := make([]float64, len(routes))
	for k, r := range routes {
		l := lat[k]
		slices.Sort(l)
		p95[k] = float64(l[len(l)*95/100].Microseconds())
		b.ReportMetric(float64(l[len(l)/2].Microseconds()), r.name+"-p50-µs")
		b.ReportMetric(p95[k], r.name+"-p95-µs")
	}
	b.ReportMetric(100*(p95[1]-p95[0])/p95[0], "mem0-p95-overhead-%")
}
