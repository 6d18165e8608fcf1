package wiring

import (
	"context"
	"log/slog"
	"time"

	"github.com/engram-memory/engram/adapters/httpapi"
	"github.com/engram-memory/engram/adapters/pgstore"
	"github.com/engram-memory/engram/adapters/resilience"
	"github.com/engram-memory/engram/adapters/telemetry"
	"github.com/engram-memory/engram/cmd/internal/config"
	"github.com/engram-memory/engram/ports"
	"github.com/engram-memory/engram/ports/intercept"
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
	case kindLLM:
		// openaichat retries itself, as the embedder does; the deadline
		// covers a slow answer and its retries (a 429's Retry-After
		// included), and the breaker stops calling a model that is down.
		return resilience.Options{Timeout: 3 * time.Minute, Retries: -1}
	default: // kindIndex
		return resilience.Options{Timeout: 5 * time.Second}
	}
}

const (
	kindStore    = "store"
	kindCache    = "cache"
	kindIndex    = "index"
	kindEmbedder = "embedder"
	kindLLM      = "llm"
)

// decorator wraps every port through package intercept as
// telemetry(resilience(adapter)): spans and metrics see what the caller got,
// an open breaker included. Each dependency name gets one breaker, shared by
// every port that dependency serves (the store's memories, feedback and
// experiments; Valkey's replay cache, limiter and sessions), because they
// fail together.
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

// interceptor is dependency dep's chain: telemetry outside its policy.
func (d *decorator) interceptor(dep, kind string) intercept.Interceptor {
	p, ok := d.policies[dep]
	if !ok {
		o := policyOptions(kind)
		o.OnRetry = d.tel.RecordRetry
		o.OnStateChange = func(dep string, st resilience.State) {
			d.tel.SetBreakerState(dep, int(st))
			d.log.Warn("circuit breaker changed state", "dependency", dep, "state", st.String())
		}
		p = resilience.NewPolicy(dep, o)
		d.tel.SetBreakerState(dep, int(resilience.Closed))
		d.policies[dep] = p
	}
	return intercept.Chain(d.tel.Intercept, p.Intercept)
}

// storePorts lets the three core ports of the store go through one wrapper.
type storePorts struct {
	ports.MemoryStore
	ports.AppStore
	ports.AccessLog
}

// backend decorates every port of b; its capabilities stay as opened.
func (d *decorator) backend(b Backend) Backend {
	if b.DB != nil {
		if err := d.tel.WatchDB(b.Name, b.DB); err != nil {
			d.log.Warn("pool metrics not registered", "dependency", b.Name, "err", err)
		}
	}
	if b.Replicas != nil {
		names, read := replicaReadings(b.Replicas)
		if err := d.tel.WatchReplicas(names, read); err != nil {
			d.log.Warn("replica metrics not registered", "err", err)
		}
	}
	ic := d.interceptor(b.Name, kindStore)
	st := intercept.WrapStore(storePorts{b.Memories, b.Apps, b.Access}, b.Name, ic)
	b.Memories, b.Apps, b.Access = st, st, st
	b.Feedback = intercept.WrapFeedback(b.Feedback, b.Name, ic)
	b.QueryLog = intercept.WrapQueryLog(b.QueryLog, b.Name, ic)
	b.Experiments = intercept.WrapExperiments(b.Experiments, b.Name, ic)
	b.Keys = intercept.WrapKeys(b.Keys, b.Name, ic)
	b.Owners = intercept.WrapOwners(b.Owners, b.Name, ic)
	b.Inference = intercept.WrapInference(b.Inference, b.Name, ic)
	b.Entities = intercept.WrapEntities(b.Entities, b.Name, ic)
	b.Check = probeThrough(d.policies[b.Name], b.Check)
	return b
}

// probeThrough runs a readiness check through the dependency's breaker, so
// /readyz and the breaker agree (open is "down") and, once half-open, the
// probe is the trial call that closes it.
func probeThrough(p *resilience.Policy, c httpapi.Check) httpapi.Check {
	if probe := c.Probe; probe != nil {
		c.Probe = func(ctx context.Context) error { return p.Probe(ctx, probe) }
	}
	return c
}

func (d *decorator) caches(c Caches) Caches {
	ic := d.interceptor(c.Name, kindCache)
	if c.ReplayName == "" {
		c.Replay = intercept.WrapReplay(c.Replay, c.Name, ic)
	} else {
		c.Replay = intercept.WrapReplay(c.Replay, c.ReplayName, d.interceptor(c.ReplayName, kindCache))
	}
	c.Limiter = d.tel.CountDecisions(c.Name, intercept.WrapLimiter(c.Limiter, c.Name, ic))
	c.Sessions = intercept.WrapSessions(c.Sessions, c.Name, ic)
	c.Idempotency = intercept.WrapIdempotency(c.Idempotency, c.Name, ic)
	for i, chk := range c.Checks {
		if chk.Name == c.Name || (c.ReplayName != "" && chk.Name == c.ReplayName) {
			c.Checks[i] = probeThrough(d.policies[chk.Name], chk)
		}
	}
	return c
}

// search decorates the remote parts of s, each under its own name and so
// its own breaker. The in-process vector index and local embedder have no
// network to time out or break (and search reads the in-process index's
// centroids, which a decorator would hide); their cost shows in the
// search spans.
func (d *decorator) search(s Search) Search {
	if s.EmbedderName != "" {
		s.Embedder = intercept.WrapEmbedder(s.Embedder, s.EmbedderName, d.interceptor(s.EmbedderName, kindEmbedder))
	}
	if s.VectorsName != "" {
		s.Vectors = intercept.WrapVectors(s.Vectors, s.VectorsName, d.interceptor(s.VectorsName, kindIndex))
	}
	s.Text = intercept.WrapText(s.Text, s.TextName, d.interceptor(s.TextName, kindIndex))
	// Qdrant's and Elasticsearch's readiness probes go through their
	// breakers too, as the store's and Valkey's do.
	for i, chk := range s.Checks {
		if p := d.policies[chk.Name]; p != nil && (chk.Name == s.VectorsName || chk.Name == s.TextName) {
			s.Checks[i] = probeThrough(p, chk)
		}
	}
	return s
}

func replicaReadings(status func() []pgstore.ReplicaStatus) ([]string, func() []telemetry.ReplicaReading) {
	var names []string
	for _, r := range status() {
		names = append(names, r.Name)
	}
	return names, func() []telemetry.ReplicaReading {
		st := status()
		out := make([]telemetry.ReplicaReading, len(st))
		for i, r := range st {
			out[i] = telemetry.ReplicaReading{Up: r.Up, Lag: r.Lag, LagBytes: r.LagBytes}
		}
		return out
	}
}
