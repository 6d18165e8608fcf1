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
//	go test -run '^$' -bench 'BenchmarkMem0SearchVsAPISearch' -benchtime 2000x ./adapters/httpapi/
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
	for _, r := range routes {
		b.Run(r.name, func(b *testing.B) {
			var lat []time.Duration
			i := 0
			for b.Loop() {
				q := topics[i%8] + " " + topics[(i+3)%8]
				i++
				start := time.Now()
				status, body := s.call(key, "POST", r.path, r.body(q))
				lat = append(lat, time.Since(start))
				if status != http.StatusOK {
					b.Fatalf("%s: %d %v", r.path, status, body)
				}
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds()), "p95-µs")
		})
	}
}
