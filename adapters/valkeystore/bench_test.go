package valkeystore_test

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/engram-memory/engram/adapters/valkeystore"
	"github.com/engram-memory/engram/contracttest"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// The latency benchmarks run one call at a time, as a request handler does,
// and report p50 and p99 beside ns/op: the target compares the
// replay and rate-limit p99 with a bare PING's, measured the same way.

func benchLatency(b *testing.B, op func(i int) error) {
	lat := make([]time.Duration, 0, b.N)
	i := 0
	for b.Loop() {
		start := time.Now()
		if err := op(i); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
		i++
	}
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Nanoseconds()) / 1e3 }
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
}

func BenchmarkPing(b *testing.B) {
	s := newStore(b, valkeystore.Options{})
	ctx := context.Background()
	benchLatency(b, func(int) error { return s.Ping(ctx) })
}

func BenchmarkReplayRemember(b *testing.B) {
	s := newStore(b, valkeystore.Options{})
	ctx := context.Background()
	until := time.Now().Add(time.Minute)
	run := fmt.Sprint(time.Now().UnixNano())
	benchLatency(b, func(i int) error {
		fresh, err := s.Remember(ctx, run+"-"+fmt.Sprint(i), until)
		if err == nil && !fresh {
			err = fmt.Errorf("key %d not fresh", i)
		}
		return err
	})
}

func BenchmarkRateAllow(b *testing.B) {
	s := newStore(b, valkeystore.Options{})
	ctx := context.Background()
	lim := ports.RateLimit{Burst: 1 << 30, Period: time.Second}
	benchLatency(b, func(int) error {
		d, err := s.Allow(ctx, "bench", lim, 1)
		if err == nil && !d.Allowed {
			err = fmt.Errorf("refused")
		}
		return err
	})
}

// BenchmarkSessionAppendPipelined sends batches of 100 events per round trip
// (DoMulti) from several goroutines, 10 sessions each, and reports events/s.
func BenchmarkSessionAppendPipelined(b *testing.B) {
	s := newStore(b, valkeystore.Options{MaxEvents: 1_000})
	ctx := context.Background()
	tn := domain.Tenant{OrgID: "bench", UserID: "u"}
	const batch = 100
	var events, worker atomic.Int64
	b.SetParallelism(4)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		w := worker.Add(1)
		es := make([]domain.SessionEvent, batch)
		for j := 0; pb.Next(); j++ {
			now := time.Now()
			for k := range es {
				es[k] = domain.SessionEvent{ID: domain.NewID(now), Role: domain.RoleUser, Text: "the quick brown fox jumps over the lazy dog", CreatedAt: now}
			}
			sid := domain.SessionID(fmt.Sprintf("s-%d-%d", w, j%10))
			if err := s.AppendBatch(ctx, tn, sid, es); err != nil {
				b.Error(err)
				return
			}
			events.Add(batch)
		}
	})
	b.ReportMetric(float64(events.Load())/time.Since(start).Seconds(), "events/s")
}

// BenchmarkSessionAppendConcurrent is Append one event per call from many
// goroutines: valkey-go pipelines the concurrent calls on its own.
func BenchmarkSessionAppendConcurrent(b *testing.B) {
	s := newStore(b, valkeystore.Options{MaxEvents: 1_000})
	ctx := context.Background()
	tn := domain.Tenant{OrgID: "bench", UserID: "u"}
	var events, worker atomic.Int64
	b.SetParallelism(32)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		sid := domain.SessionID(fmt.Sprintf("c-%d", worker.Add(1)))
		for pb.Next() {
			e, err := domain.NewSessionEvent(domain.RoleUser, "the quick brown fox jumps over the lazy dog", nil, time.Now())
			if err == nil {
				_, err = s.Append(ctx, tn, sid, e)
			}
			if err != nil {
				b.Error(err)
				return
			}
			events.Add(1)
		}
	})
	b.ReportMetric(float64(events.Load())/time.Since(start).Seconds(), "events/s")
}

// BenchmarkLatencyInterleaved runs PING, a replay check and a rate-limit
// decision in turn, so that load from elsewhere on the machine hits all
// three alike, and reports each p99 and the ratios the issue targets
// (replay and rate p99 within 1.5x of PING p99).
func BenchmarkLatencyInterleaved(b *testing.B) {
	s := newStore(b, valkeystore.Options{})
	ctx := context.Background()
	until := time.Now().Add(time.Minute)
	lim := ports.RateLimit{Burst: 1 << 30, Period: time.Second}
	run := fmt.Sprint(time.Now().UnixNano())
	var ping, replay, rate []time.Duration
	timed := func(into *[]time.Duration, op func() error) {
		start := time.Now()
		if err := op(); err != nil {
			b.Fatal(err)
		}
		*into = append(*into, time.Since(start))
	}
	i := 0
	for b.Loop() {
		timed(&ping, func() error { return s.Ping(ctx) })
		timed(&replay, func() error { _, err := s.Remember(ctx, run+"-"+fmt.Sprint(i), until); return err })
		timed(&rate, func() error { _, err := s.Allow(ctx, "bench", lim, 1); return err })
		i++
	}
	p99 := func(lat []time.Duration) float64 {
		slices.Sort(lat)
		return float64(lat[int(0.99*float64(len(lat)-1))].Nanoseconds()) / 1e3
	}
	pp, rp, lp := p99(ping), p99(replay), p99(rate)
	b.ReportMetric(pp, "ping-p99-µs")
	b.ReportMetric(rp, "replay-p99-µs")
	b.ReportMetric(lp, "rate-p99-µs")
	b.ReportMetric(rp/pp, "replay/ping")
	b.ReportMetric(lp/pp, "rate/ping")
}

// BenchmarkSessionSealing compares Append and Recent with events stored as
// written and sealed (contracttest.BenchSessionSealing).
func BenchmarkSessionSealing(b *testing.B) {
	contracttest.BenchSessionSealing(b, func(b *testing.B, keys ports.SessionKeys) ports.SessionStore {
		return newStore(b, valkeystore.Options{SessionKeys: keys, MaxBytesPerUser: 1 << 40})
	})
}
