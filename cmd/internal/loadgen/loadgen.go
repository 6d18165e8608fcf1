// Package loadgen is the small closed-loop load generator behind `engram
// bench`: N workers call an operation back to back for a bounded time (and a
// bounded count), and latencies are summarised as percentiles.
package loadgen

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Op is one request; worker is the worker index, i the worker's call count.
type Op func(ctx context.Context, worker, i int) error

// Result summarises one run.
type Result struct {
	Name        string
	Concurrency int
	Count       int
	Errors      int
	FirstErr    error
	Elapsed     time.Duration
	P50         time.Duration
	P95         time.Duration
	P99         time.Duration
	Max         time.Duration
}

// PerSecond is the throughput of successful calls.
func (r Result) PerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Count-r.Errors) / r.Elapsed.Seconds()
}

func (r Result) String() string {
	return fmt.Sprintf("%-28s c=%-2d n=%-7d err=%-3d %9.0f/s  p50=%-9s p95=%-9s p99=%-9s max=%s",
		r.Name, r.Concurrency, r.Count, r.Errors, r.PerSecond(), ms(r.P50), ms(r.P95), ms(r.P99), ms(r.Max))
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3fms", float64(d)/float64(time.Millisecond)) }

// Run calls op from concurrency workers until duration has passed or
// maxCount calls were made (0: no count bound), and summarises latencies.
func Run(ctx context.Context, name string, concurrency int, duration time.Duration, maxCount int, op Op) Result {
	ctx, cancel := context.WithTimeout(ctx, duration)
	defer cancel()
	var (
		mu       sync.Mutex
		all      []time.Duration
		errs     int
		firstErr error
		wg       sync.WaitGroup
	)
	perWorker := 0
	if maxCount > 0 {
		perWorker = max(1, maxCount/concurrency)
	}
	start := time.Now()
	for w := 0; w < concurrency; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			lat := make([]time.Duration, 0, 4096)
			werrs := 0
			var werr error
			for i := 0; ctx.Err() == nil && (perWorker == 0 || i < perWorker); i++ {
				t0 := time.Now()
				err := op(ctx, w, i)
				d := time.Since(t0)
				if err != nil {
					if ctx.Err() != nil {
						break // the deadline cut this call short; not a failure
					}
					werrs++
					if werr == nil {
						werr = err
					}
					continue
				}
				lat = append(lat, d)
			}
			mu.Lock()
			all = append(all, lat...)
			errs += werrs
			if firstErr == nil {
				firstErr = werr
			}
			mu.Unlock()
		}(w)
	}
	wg.Wait()
	r := Result{Name: name, Concurrency: concurrency, Count: len(all) + errs, Errors: errs, FirstErr: firstErr, Elapsed: time.Since(start)}
	if len(all) > 0 {
		slices.Sort(all)
		r.P50, r.P95, r.P99, r.Max = Percentile(all, 0.50), Percentile(all, 0.95), Percentile(all, 0.99), all[len(all)-1]
	}
	return r
}

// Percentile reads the q-quantile (0..1) of sorted latencies (nearest rank).
func Percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	i = min(max(i, 0), len(sorted)-1)
	return sorted[i]
}
