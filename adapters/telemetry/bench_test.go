package telemetry_test

import (
	"context"
	"testing"
	"time"

	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/adapters/telemetry"
	"github.com/engram-memory/engram/ports"
)

// BenchmarkDecoratorOverhead is what a span and the metrics add to one
// call of a fast in-process port, with tracing off (no-op) and on (an
// exporter batching to a collector that is never reached).
func BenchmarkDecoratorOverhead(b *testing.B) {
	l := inproc.NewRateLimiter(inproc.RateLimiterOptions{})
	defer l.Close()
	limit := ports.RateLimit{Burst: 1 << 30, Period: time.Second}
	ctx := context.Background()
	run := func(b *testing.B, rl ports.RateLimiter) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := rl.Allow(ctx, "k", limit, 1); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("bare", func(b *testing.B) { run(b, l) })
	for _, tc := range []struct{ name, endpoint string }{{"noop-tracer", ""}, {"otlp-tracer", "127.0.0.1:1"}} {
		b.Run(tc.name, func(b *testing.B) {
			tel, err := telemetry.New(ctx, telemetry.Config{OTLPEndpoint: tc.endpoint})
			if err != nil {
				b.Fatal(err)
			}
			defer func() {
				sctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
				defer cancel()
				_ = tel.Shutdown(sctx)
			}()
			run(b, limiterOf(tel, "bench", l))
		})
	}
}
