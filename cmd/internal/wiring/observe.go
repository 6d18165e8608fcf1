package wiring

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/engram-memory/engram/adapters/resilience"
	"github.com/engram-memory/engram/adapters/telemetry"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/ports"
)

// Decoration hooks: Build passes every port through these right after the
// adapter is opened, so tracing, metrics and failsafe-go policies wrap each
// dependency in one place instead of living inside each adapter. The order
// is telemetry(resilience(adapter)): spans and metrics see what the caller
// got, an open breaker included.

// observed is a System's telemetry and its per-dependency policies. It
// lives beside System, keyed by it, so System needs no field for it.
type observed struct {
	tel      *telemetry.T
	policies map[string]*resilience.Policy
}

var (
	observedMu sync.Mutex
	observedBy = map[*System]*observed{}
)

// obs returns s's telemetry, creating it on first use (the first port
// opened) and releasing it when s closes, after the backends.
func (s *System) obs() *observed {
	observedMu.Lock()
	defer observedMu.Unlock()
	if o, ok := observedBy[s]; ok {
		return o
	}
	tel, err := telemetry.New(context.Background(), telemetry.Config{OTLPEndpoint: s.Config.OTLPEndpoint, Logger: s.Logger})
	if err != nil {
		// New only fails on a malformed endpoint; tracing off is better
		// than refusing to serve, and the operator is told.
		s.Logger.Error("tracing disabled: bad ENGRAM_OTLP_ENDPOINT", "err", err)
		tel, _ = telemetry.New(context.Background(), telemetry.Config{})
	}
	o := &observed{tel: tel, policies: map[string]*resilience.Policy{}}
	observedBy[s] = o
	// Registered first, so it runs last: spans of the final writes flush.
	s.closers = append([]func() error{func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		observedMu.Lock()
		delete(observedBy, s)
		observedMu.Unlock()
		return tel.Shutdown(ctx)
	}}, s.closers...)
	return o
}

// Telemetry is the System's tracer provider and metric registry.
func (s *System) Telemetry() *telemetry.T { return s.obs().tel }

// policy is the one breaker of dependency dep, shared by every port it
// serves (valkey's replay cache, limiter and sessions trip together).
func (s *System) policy(dep string, o resilience.Options) *resilience.Policy {
	ob := s.obs()
	observedMu.Lock()
	defer observedMu.Unlock()
	if p, ok := ob.policies[dep]; ok {
		return p
	}
	o.OnRetry = ob.tel.RecordRetry
	o.OnStateChange = func(dep string, st resilience.State) {
		ob.tel.SetBreakerState(dep, int(st))
		s.Logger.Warn("circuit breaker changed state", "dependency", dep, "state", st.String())
	}
	p := resilience.NewPolicy(dep, o)
	ob.tel.SetBreakerState(dep, int(resilience.Closed))
	ob.policies[dep] = p
	return p
}

// Per-dependency deadlines: the store's generous enough for a bulk write
// under load; caches sit on every request's path and must fail fast.
var (
	storePolicy = resilience.Options{Timeout: 10 * time.Second}
	cachePolicy = resilience.Options{Timeout: time.Second}
	indexPolicy = resilience.Options{Timeout: 5 * time.Second}
	embedPolicy = resilience.Options{Timeout: 15 * time.Second, Retries: 2}
)

func (s *System) decorateStore(name string, st Store) Store {
	tel := s.obs().tel
	if d, ok := st.(interface{ DB() *sqlx.DB }); ok {
		if err := tel.WatchDB(name, d.DB().DB); err != nil {
			s.Logger.Warn("pool metrics not registered", "dependency", name, "err", err)
		}
	}
	return tel.Store(name, resilience.NewStore(st, s.policy(name, storePolicy)))
}

func (s *System) decorateReplay(name string, r ports.ReplayCache) ports.ReplayCache {
	return s.obs().tel.ReplayCache(name, resilience.NewReplayCache(r, s.policy(name, cachePolicy)))
}

func (s *System) decorateLimiter(name string, l ports.RateLimiter) ports.RateLimiter {
	return s.obs().tel.RateLimiter(name, resilience.NewRateLimiter(l, s.policy(name, cachePolicy)))
}

func (s *System) decorateSessions(name string, ss ports.SessionStore) ports.SessionStore {
	return s.obs().tel.SessionStore(name, resilience.NewSessionStore(ss, s.policy(name, cachePolicy)))
}

// decorateIdempotency guards the Idempotency-Key store (Valkey shares its
// breaker with the replay cache and limiter: one server).
func (s *System) decorateIdempotency(name string, st ports.IdempotencyStore) ports.IdempotencyStore {
	return s.obs().tel.IdempotencyStore(name, resilience.NewIdempotencyStore(st, s.policy(name, cachePolicy)))
}

func (s *System) decorateText(name string, t ports.TextIndex) ports.TextIndex {
	return s.obs().tel.TextIndex(name, resilience.NewTextIndex(t, s.policy(name, indexPolicy)))
}

func (s *System) decorateEmbedder(name string, e ports.Embedder) ports.Embedder {
	return s.obs().tel.Embedder(name, resilience.NewEmbedder(e, s.policy(name, embedPolicy)))
}

// observeIndexer exports the indexer's backlog as engram_index_pending.
func (s *System) observeIndexer(ix *app.Indexer) {
	if err := s.obs().tel.WatchIndexLag(ix.Pending); err != nil {
		s.Logger.Warn("index lag metric not registered", "err", err)
	}
}

// ObservedHandler is h traced and counted per route (engram_http_*), with
// the caller's traceparent continued.
func (s *System) ObservedHandler(h http.Handler) http.Handler { return s.obs().tel.HTTP(h) }
