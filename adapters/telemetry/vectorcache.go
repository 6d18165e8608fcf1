package telemetry

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// VectorCacheStats are the budgeted in-process vector index's counters
// (app.VectorCacheStats).
type VectorCacheStats struct {
	Tenants                     int
	Bytes, BudgetBytes          int64
	Hits, PageIns, Evictions    int64
	PagedIn                     int64 // memories embedded by page-ins
	PageInTime, PageInEmbedTime time.Duration
}

// WatchVectorCache exports the vector cache (ENGRAM_VECTOR_CACHE_BYTES):
// lookups that found the tenant resident and those that paged it in,
// evictions, what it holds (bytes, tenants, against the budget) and what
// page-ins cost. No label names a tenant: the series are fixed, however
// many tenants pass through. A scrape reads counters the cache keeps
// anyway.
func (t *T) WatchVectorCache(stats func() VectorCacheStats) error {
	counter := func(name, help string, val func(VectorCacheStats) float64) error {
		return t.Registry.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
			func() float64 { return val(stats()) }))
	}
	gauge := func(name, help string, val func(VectorCacheStats) float64) error {
		return t.Registry.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help},
			func() float64 { return val(stats()) }))
	}
	return errors.Join(
		counter("engram_vector_cache_hits_total", "Vector index lookups (search, centroid) of a tenant already in the budgeted cache.",
			func(s VectorCacheStats) float64 { return float64(s.Hits) }),
		counter("engram_vector_cache_page_ins_total", "Vector index lookups that paged their tenant in from the store (the cache's misses).",
			func(s VectorCacheStats) float64 { return float64(s.PageIns) }),
		counter("engram_vector_cache_evictions_total", "Tenants dropped from the vector cache to keep it within ENGRAM_VECTOR_CACHE_BYTES.",
			func(s VectorCacheStats) float64 { return float64(s.Evictions) }),
		counter("engram_vector_cache_paged_in_memories_total", "Memories embedded again by vector cache page-ins (the store keeps no vectors).",
			func(s VectorCacheStats) float64 { return float64(s.PagedIn) }),
		counter("engram_vector_cache_page_in_seconds_total", "Time vector cache page-ins took: listing the tenant's memories, embedding and indexing them.",
			func(s VectorCacheStats) float64 { return s.PageInTime.Seconds() }),
		counter("engram_vector_cache_page_in_embed_seconds_total", "The part of page-in time spent embedding.",
			func(s VectorCacheStats) float64 { return s.PageInEmbedTime.Seconds() }),
		gauge("engram_vector_cache_bytes", "Estimated bytes of vectors the cache holds.",
			func(s VectorCacheStats) float64 { return float64(s.Bytes) }),
		gauge("engram_vector_cache_budget_bytes", "The vector cache's budget, ENGRAM_VECTOR_CACHE_BYTES.",
			func(s VectorCacheStats) float64 { return float64(s.BudgetBytes) }),
		gauge("engram_vector_cache_tenants", "Tenants whose vectors the cache holds.",
			func(s VectorCacheStats) float64 { return float64(s.Tenants) }),
	)
}
