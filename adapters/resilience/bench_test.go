package resilience_test

import (
	"context"
	"testing"
	"time"

	"github.com/engram-memory/engram/adapters/inproc"
	"github.com/engram-memory/engram/adapters/resilience"
	"github.com/engram-memory/engram/ports"
)

// BenchmarkPolicyOverhead is what the policies add to one call of a fast
// in-process port (the floor; a network backend adds its round trip).
func BenchmarkPolicyOverhead(b *testing.B) {
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
	b.Run("breaker+deadline", func(b *testing.B) {
		run(b, newRateLimiter(l, resilience.NewPolicy("bench", resilience.Options{})))
	})
	c := inproc.NewSessionStore(inproc.SessionOptions{})
	defer c.Close()
	b.Run("retry+breaker+deadline", func(b *testing.B) {
		s := newSessionStore(c, resilience.NewPolicy("bench", resilience.Options{}))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Recent(ctx, tenant, "s1", 10); err != nil {
				b.Fatal(err)
			}
		}
	})
}
