package wiring

import (
	"context"
	"log/slog"
	"time"

	"github.com/engram-memory/engram/adapters/resilience"
	"github.com/engram-memory/engram/adapters/telemetry"
	"github.com/engram-memory/engram/cmd/internal/config"
	"github.com/engram-memory/engram/ports"
)

// Every dependency's deadline, retries and breaker, in one place. The store
// is generous enough for a bulk write under load; caches sit on every
// request's path and must fail fast; the remote embedder may be slow.
// Breaker settings (thresholds, open delays) per kind belong here too.
func policyOptions(kind string) resilience.Options {
	switch kind {
	case kindStore:
		return resilience.Options{Timeout: 10 * time.Second}
	case kindCache:
		return resilience.Options{Timeout: time.Second}
	case kindEmbedder:
		// openaiembed retries each batch itself (429, 5xx, timeouts,
		// with backoff): the policy adds a deadline over all of them and
		// the breaker, and no retries of its own, which would multiply
		// with the adapter's.
		return resilience.Options{Timeout: 15 * time.Second, Retries: -1}
	default: // kindIndex
		return resilience.Options{Timeout: 5 * time.Second}
	}
}

const (
	kindStore    = "store"
	kindCache    = "cache"
	kindIndex    = "index"
	kindEmbedder = "embedder"
)

// decorator wraps ports as telemetry(resilience(adapter)): spans and metrics
// see what the caller got, an open breaker included. Each dependency name
// gets one breaker, shared by every port that dependency serves (Valkey's
// replay cache, limiter and sessions trip together, being one server).
type decorator struct {
	tel      *telemetry.T
	log      *slog.Logger
	policies map[string]*resilience.Policy
}

func newDecorator(cfg config.Config, log *slog.Logger) *decorator {
	tel, err := telemetry.New(context.Background(), telemetry.Config{OTLPEndpoint: cfg.OTLPEndpoint, Logger: log})
	if err != nil {
		// New only fails on a malformed endpoint; tracing off is better
		// than refusing to serve, and the operator is told.
		log.Error("tracing disabled: bad ENGRAM_OTLP_ENDPOINT", "err", err)
		tel, _ = telemetry.New(context.Background(), telemetry.Config{})
	}
	return &decorator{tel: tel, log: log, policies: map[string]*resilience.Policy{}}
}

func (d *decorator) policy(dep, kind string) *resilience.Policy {
	if p, ok := d.policies[dep]; ok {
		return p
	}
	o := policyOptions(kind)
	o.OnRetry = d.tel.RecordRetry
	o.OnStateChange = func(dep string, st resilience.State) {
		d.tel.SetBreakerState(dep, int(st))
		d.log.Warn("circuit breaker changed state", "dependency", dep, "state", st.String())
	}
	p := resilience.NewPolicy(dep, o)
	d.tel.SetBreakerState(dep, int(resilience.Closed))
	d.policies[dep] = p
	return p
}

// storePorts lets the three system-of-record ports go through the store
// decorators, which take them together.
type storePorts struct {
	ports.MemoryStore
	ports.AppStore
	ports.AccessLog
}

// backend decorates b's ports; its capabilities stay as opened.
func (d *decorator) backend(b Backend) Backend {
	if b.DB != nil {
		if err := d.tel.WatchDB(b.Name, b.DB); err != nil {
			d.log.Warn("pool metrics not registered", "dependency", b.Name, "err", err)
		}
	}
	st := d.tel.Store(b.Name, resilience.NewStore(storePorts{b.Memories, b.Apps, b.Access}, d.policy(b.Name, kindStore)))
	b.Memories, b.Apps, b.Access = st, st, st
	return b
}

func (d *decorator) caches(c Caches) Caches {
	p := d.policy(c.Name, kindCache)
	c.Replay = d.tel.ReplayCache(c.Name, resilience.NewReplayCache(c.Replay, p))
	c.Limiter = d.tel.RateLimiter(c.Name, resilience.NewRateLimiter(c.Limiter, p))
	c.Sessions = d.tel.SessionStore(c.Name, resilience.NewSessionStore(c.Sessions, p))
	c.Idempotency = d.tel.IdempotencyStore(c.Name, resilience.NewIdempotencyStore(c.Idempotency, p))
	return c
}

// search decorates the remote parts of s, each under its own name and so
// its own breaker. The in-process vector index and local embedder have no
// network to time out or break (and search reads the in-process index's
// centroids, which a decorator would hide); their cost shows in the
// search spans.
func (d *decorator) search(s Search) Search {
	if s.EmbedderName != "" {
		s.Embedder = d.tel.Embedder(s.EmbedderName, resilience.NewEmbedder(s.Embedder, d.policy(s.EmbedderName, kindEmbedder)))
	}
	if s.VectorsName != "" {
		s.Vectors = d.tel.VectorIndex(s.VectorsName, resilience.NewVectorIndex(s.Vectors, d.policy(s.VectorsName, kindIndex)))
	}
	s.Text = d.tel.TextIndex(s.TextName, resilience.NewTextIndex(s.Text, d.policy(s.TextName, kindIndex)))
	return s
}
