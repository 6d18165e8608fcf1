package valkeystore_test

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/engram-memory/engram/adapters/valkeystore"
	"github.com/engram-memory/engram/ports"
)

// BenchmarkClusterVersusSingle times replay checks and rate-limit
// decisions on the single server (ENGRAM_TEST_VALKEY_ADDR) and on the
// cluster (ENGRAM_TEST_VALKEY_CLUSTER_ADDRS) in one loop, one call after
// the other, so the machine's noise hits both alike. Keys vary, so the
// cluster's calls land on all its primaries. It reports p50 and p99 of each
// and the cluster's p99 over the single server's (issue 20: within 1.5×).
func BenchmarkClusterVersusSingle(b *testing.B) {
	single := newStore(b, valkeystore.Options{})
	cluster := newClusterStore(b, valkeystore.Options{})
	ctx := context.Background()
	run := fmt.Sprint(time.Now().UnixNano())
	var seq atomic.Int64 // b.Run calls each sub-benchmark more than once: keys never repeat
	lim := ports.RateLimit{Burst: 1 << 30, Period: time.Second}
	ops := map[string]func(s *valkeystore.Store, i int) error{
		"replay": func(s *valkeystore.Store, i int) error {
			fresh, err := s.Remember(ctx, run+"-"+fmt.Sprint(seq.Add(1)), time.Now().Add(time.Minute))
			if err == nil && !fresh {
				err = fmt.Errorf("key not fresh")
			}
			return err
		},
		"ratelimit": func(s *valkeystore.Store, i int) error {
			d, err := s.Allow(ctx, fmt.Sprint("bench-", i%64), lim, 1)
			if err == nil && !d.Allowed {
				err = fmt.Errorf("refused")
			}
			return err
		},
	}
	for _, name := range []string{"replay", "ratelimit"} {
		op := ops[name]
		b.Run(name, func(b *testing.B) {
			var ls, lc []time.Duration
			i := 0
			for b.Loop() {
				for k, s := range []*valkeystore.Store{single, cluster} {
					if i%2 == 1 { // alternate which goes first
						s = []*valkeystore.Store{cluster, single}[k]
					}
					start := time.Now()
					if err := op(s, i); err != nil {
						b.Fatal(err)
					}
					if s == single {
						ls = append(ls, time.Since(start))
					} else {
						lc = append(lc, time.Since(start))
					}
				}
				i++
			}
			ps50, ps99 := percentiles(ls)
			pc50, pc99 := percentiles(lc)
			b.ReportMetric(ps50, "single-p50-µs")
			b.ReportMetric(ps99, "single-p99-µs")
			b.ReportMetric(pc50, "cluster-p50-µs")
			b.ReportMetric(pc99, "cluster-p99-µs")
			b.ReportMetric(pc50/ps50, "p50-ratio")
			b.ReportMetric(pc99/ps99, "p99-ratio")
		})
	}
}

func percentiles(lat []time.Duration) (p50, p99 float64) {
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Nanoseconds()) / 1e3 }
	return pct(0.50), pct(0.99)
}
