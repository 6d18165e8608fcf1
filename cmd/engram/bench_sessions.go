package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/engram-memory/engram/cmd/internal/config"
	"github.com/engram-memory/engram/cmd/internal/wiring"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

func init() {
	register("bench-sessions", command{
		summary: "measure Valkey replay/rate-limit latency against PING, session append throughput and context assembly",
		run:     runBenchSessions,
	})
}

type benchSessionsFlags struct {
	valkeyURL      string
	ops            int
	appendEvents   int
	batch, workers int
	sessionEvents  int
	memories       int
	contextRuns    int
	skipContext    bool
}

func runBenchSessions(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var f benchSessionsFlags
	fs := flag.NewFlagSet("bench-sessions", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cc := config.ForCommand(fs, getenv, "valkey-url")
	fs.IntVar(&f.ops, "ops", 20000, "latency samples of each of PING, replay check and rate decision")
	fs.IntVar(&f.appendEvents, "append-events", 200000, "events to append in the throughput run")
	fs.IntVar(&f.batch, "batch", 100, "events per pipelined round trip")
	fs.IntVar(&f.workers, "workers", 4, "concurrent appenders")
	fs.IntVar(&f.sessionEvents, "session-events", 1000, "events in the session used for context assembly")
	fs.IntVar(&f.memories, "memories", 100000, "long-term memories (SQLite + FTS5 in a temp dir) for context assembly")
	fs.IntVar(&f.contextRuns, "context-runs", 500, "context assemblies to time")
	fs.BoolVar(&f.skipContext, "skip-context", false, "skip the context assembly run (it loads the memories first)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if f.ops < 100 || f.batch < 1 || f.workers < 1 || f.appendEvents < f.batch {
		return fmt.Errorf("bench-sessions: need --ops >= 100, --batch >= 1, --workers >= 1, --append-events >= --batch")
	}
	cfg, err := loadCommandConfig(cc)
	if err != nil {
		return fmt.Errorf("bench-sessions: %w", err)
	}
	if cfg.ValkeyURL == "" {
		cfg.ValkeyURL = "redis://127.0.0.1:6379"
	}
	f.valkeyURL = cfg.ValkeyURL
	var b [6]byte
	_, _ = rand.Read(b[:])
	cfg.ValkeyPrefix = "engram-bench-" + hex.EncodeToString(b[:])
	s, err := wiring.OpenCaches(ctx, cfg, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		return err
	}
	defer s.Close()
	defer func() {
		n, err := s.Admin.DeletePrefixed(context.WithoutCancel(ctx))
		if err != nil {
			fmt.Fprintf(stderr, "bench-sessions: cleanup of %s:* failed: %v\n", cfg.ValkeyPrefix, err)
			return
		}
		fmt.Fprintf(stdout, "cleanup: deleted %d keys under %s:*\n", n, cfg.ValkeyPrefix)
	}()
	if policy, err := s.Admin.MaxMemoryPolicy(ctx); err == nil {
		fmt.Fprintf(stdout, "valkey %s  maxmemory-policy=%s\n\n", f.valkeyURL, policy)
	}
	if err := benchLatencies(ctx, s, f, stdout); err != nil {
		return err
	}
	if err := benchAppend(ctx, s, f, stdout); err != nil {
		return err
	}
	if f.skipContext {
		return nil
	}
	return benchContext(ctx, s, f, stdout)
}

// benchLatencies interleaves PING, replay check and rate decision so that
// whatever else loads the machine affects the three alike.
func benchLatencies(ctx context.Context, s wiring.Caches, f benchSessionsFlags, w io.Writer) error {
	ping := make([]time.Duration, 0, f.ops)
	replay := make([]time.Duration, 0, f.ops)
	rate := make([]time.Duration, 0, f.ops)
	until := time.Now().Add(5 * time.Minute)
	lim := ports.RateLimit{Burst: 1 << 30, Period: time.Second}
	// Warm up: connections, script cache.
	for range 200 {
		if err := s.Admin.Ping(ctx); err != nil {
			return err
		}
		if _, err := s.Limiter.Allow(ctx, "warm", lim, 1); err != nil {
			return err
		}
	}
	for i := range f.ops {
		t0 := time.Now()
		if err := s.Admin.Ping(ctx); err != nil {
			return err
		}
		t1 := time.Now()
		if _, err := s.Replay.Remember(ctx, fmt.Sprintf("jti-%d", i), until); err != nil {
			return err
		}
		t2 := time.Now()
		if _, err := s.Limiter.Allow(ctx, "bench", lim, 1); err != nil {
			return err
		}
		t3 := time.Now()
		ping, replay, rate = append(ping, t1.Sub(t0)), append(replay, t2.Sub(t1)), append(rate, t3.Sub(t2))
	}
	pp := summarize(ping)
	fmt.Fprintf(w, "latency, %d sequential calls each, interleaved (µs)\n", f.ops)
	fmt.Fprintf(w, "  %-22s %8s %8s %8s %8s  %s\n", "operation", "p50", "p95", "p99", "mean", "p99/ping p99")
	for _, r := range []struct {
		name string
		lat  []time.Duration
	}{{"PING", ping}, {"replay SET NX PXAT", replay}, {"rate limit (Lua)", rate}} {
		st := summarize(r.lat)
		fmt.Fprintf(w, "  %-22s %8.1f %8.1f %8.1f %8.1f  %.2f\n", r.name, us(st.p50), us(st.p95), us(st.p99), us(st.mean), float64(st.p99)/float64(pp.p99))
	}
	fmt.Fprintln(w)
	return nil
}

func benchAppend(ctx context.Context, s wiring.Caches, f benchSessionsFlags, w io.Writer) error {
	tn := domain.Tenant{OrgID: "bench", UserID: "appender"}
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, f.workers)
	batches := int64(f.appendEvents / f.batch)
	start := time.Now()
	for wk := range f.workers {
		wg.Go(func() {
			es := make([]domain.SessionEvent, f.batch)
			for {
				j := next.Add(1) - 1
				if j >= batches {
					return
				}
				now := time.Now()
				for k := range es {
					es[k] = domain.SessionEvent{ID: domain.NewID(now), Role: domain.RoleUser, Text: "the quick brown fox jumps over the lazy dog", CreatedAt: now}
				}
				if err := s.Admin.AppendBatch(ctx, tn, domain.SessionID(fmt.Sprintf("append-%d-%d", wk, j%16)), es); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	n := batches * int64(f.batch)
	fmt.Fprintf(w, "session append, pipelined: %d events in batches of %d from %d workers: %.0f events/s (%s)\n\n",
		n, f.batch, f.workers, float64(n)/took.Seconds(), took.Round(time.Millisecond))
	return nil
}

type latencySummary struct{ p50, p95, p99, mean time.Duration }

func summarize(lat []time.Duration) latencySummary {
	l := slices.Clone(lat)
	slices.Sort(l)
	var sum time.Duration
	for _, d := range l {
		sum += d
	}
	at := func(p float64) time.Duration { return l[int(p*float64(len(l)-1))] }
	return latencySummary{p50: at(0.50), p95: at(0.95), p99: at(0.99), mean: sum / time.Duration(len(l))}
}

func us(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
